"""The batched Neo4j projection (ADR 0018): many graphs per statement give exactly what a rebuild
gives, re-applying a batch changes nothing, and a graph's old statements are found again through
its GujiGraph node (edits, retractions and drops inside one batch)."""

from pathlib import Path

import pytest

from annotation.model import Category
from annotation.rdf import to_triples
from bench.projections.generate import annotations, juan_texts, write_approved
from kg.graphs import annotation_graph, is_public
from kg.ingest_kanripo import find_works, ingest_work
from kg.package import ingest_package
from kg.store import OxigraphStore
from projections import neo4j as neo4j_module
from projections.neo4j import Neo4jProjection

pytestmark = pytest.mark.neo4j
ROOT = Path(__file__).resolve().parents[3]
SAMPLE_PACKAGE = ROOT / "samples" / "package" / "guji-sample-2026-001"


@pytest.fixture
def store(tmp_path):
    s = OxigraphStore(tmp_path / "store")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(s, w)
    ingest_package(s, SAMPLE_PACKAGE, agent="t")
    return s


@pytest.fixture
def projection(neo4j_uri):
    p = Neo4jProjection(neo4j_uri)
    yield p
    p.close()


def dump(projection):
    nodes = {(r["iri"], tuple(sorted(r["labels"])), repr(sorted(r["props"].items())))
             for r in projection._run("MATCH (n:Resource) RETURN n.iri AS iri, labels(n) AS labels, "
                                      "properties(n) AS props")}
    rels = {(r["s"], r["t"], r["o"], r["g"]) for r in projection._run(
        "MATCH (a)-[r]->(b) RETURN a.iri AS s, type(r) AS t, b.iri AS o, r.graph AS g")}
    return nodes, rels


def test_one_batch_of_many_graphs_equals_a_rebuild_and_reapplying_it_changes_nothing(store, projection, monkeypatch):
    monkeypatch.setattr(neo4j_module, "ROWS", 7)  # several statements per batch, rows of many graphs in each
    monkeypatch.setattr(neo4j_module, "GRAPHS_PER_STEP", 9)
    juans = juan_texts(store)
    first = list(annotations(juans, 30, seed=1, prefix="A"))
    write_approved(store, iter(first), per_transaction=10)
    projection.sync(store, rebuild=True)
    assert projection.check(store)["in_sync"]
    since = projection.checkpoint(store)

    # one batch: new approvals, edits (another category), retractions (the public graph goes), a drop
    write_approved(store, annotations(juans, 40, seed=2, prefix="B"), per_transaction=10)
    edited = {}
    for a in first[:5]:
        a.readings[0].category = Category.PLACE if a.readings[0].category != Category.PLACE else Category.OFFICE
        edited[annotation_graph(a.id, public=True)] = to_triples(a.public())
    store.replace_graphs(edited, agent="t")
    store.replace_graphs({annotation_graph(a.id, public=True): [] for a in first[5:10]}, agent="t")
    changes = store.changes_since(since)
    assert len(changes) > 80
    out = projection.apply(store, changes)
    assert out["graphs"] == len({c.graph for c in changes if is_public(c.graph)})  # private graphs: nothing to do
    report = projection.check(store)
    assert report["in_sync"], report["drift"]
    assert report["labels"]["Annotation"] == 30 + 40 - 5
    incremental = dump(projection)
    edited_iri = first[0].iri
    assert any(iri == edited_iri and first[0].readings[0].category.value.replace("-", "") in props.replace("-", "")
               for iri, _, props in incremental[0])
    assert not any(iri == first[7].iri for iri, _, _ in incremental[0])  # retracted: gone

    projection.apply(store, changes)  # at least once delivery: the same batch again
    assert dump(projection) == incremental
    assert projection.check(store)["in_sync"]

    projection.sync(store, rebuild=True)
    assert dump(projection) == incremental


def test_a_projection_of_the_older_format_is_rebuilt(store, projection):
    projection.sync(store, rebuild=True)
    assert projection.checkpoint(store) == store.last_sequence()
    projection._run("MATCH (c:GujiCheckpoint {name: 'neo4j'}) REMOVE c.format")  # written before GujiGraph nodes
    assert projection.checkpoint(store) is None
    assert projection.sync(store)["from"] is None  # rebuilt, not trusted
    assert projection.checkpoint(store) == store.last_sequence()


def test_a_graph_larger_than_one_record_is_recorded_in_parts_and_removed_whole(store, projection, monkeypatch):
    # a 100,000-book package graph states millions of IRIs: its GujiGraph record is split into
    # GujiGraphPart nodes so no node or statement grows with one graph (here: parts of 4 IRIs)
    monkeypatch.setattr(neo4j_module, "PART", 4)
    monkeypatch.setattr(neo4j_module, "WEIGHT", 30)
    projection.sync(store, rebuild=True)
    assert projection.check(store)["in_sync"]
    parted = [r["g"] for r in projection._run(
        "MATCH (p:GujiGraphPart) RETURN p.graph AS g, count(*) AS n ORDER BY n DESC")]
    assert parted, "the sample package graph states more than 4 IRIs"
    big = parted[0]
    whole = projection._marks([big])[0]
    assert whole["parts"] >= 1 and len(whole["nodes"]) > 4
    assert len(whole["nodes"]) == projection._run("MATCH (n:Resource) WHERE $g IN n.graphs RETURN count(n) AS n", g=big)[0]["n"]

    since = projection.checkpoint(store)
    store.replace_graphs({big: []}, agent="t")  # the package graph is withdrawn
    changes = store.changes_since(since)
    projection.apply(store, changes)
    assert projection._run("MATCH (p:GujiGraphPart {graph: $g}) RETURN count(p) AS n", g=big)[0]["n"] == 0
    assert projection._run("MATCH (n:Resource) WHERE $g IN n.graphs RETURN count(n) AS n", g=big)[0]["n"] == 0
    assert projection._run("MATCH ()-[r]->() WHERE r.graph = $g RETURN count(r) AS n", g=big)[0]["n"] == 0
    report = projection.check(store)
    assert report["in_sync"], report["drift"]
    after = dump(projection)
    projection.apply(store, changes)  # again: nothing changes
    assert dump(projection) == after
    projection.sync(store, rebuild=True)
    assert dump(projection) == after


def test_a_statement_over_neo4js_transaction_memory_limit_is_sent_again_in_halves(projection):
    limit = projection._run("SHOW SETTINGS YIELD name, value WHERE name = 'dbms.memory.transaction.total.max' "
                            "RETURN value")[0]["value"]
    if limit in ("0", "0B", "0b"):
        pytest.skip("this Neo4j has no transaction memory limit (scripts/services sets 256m)")
    # each row makes Neo4j hold a list of a million integers (several MB of transaction state)
    query = "UNWIND $rows AS row CREATE (n:GujiMemoryProbe {k: row.k, v: range(1, 1000000)})"
    rows = [{"k": i} for i in range(40)]
    try:
        with pytest.raises(neo4j_module._TransactionTooLarge):
            projection._run(query, rows=rows)  # the premise: all at once is refused ...
        projection._unwind(query, rows)  # ... so the projection sends it in halves
        assert projection._run("MATCH (n:GujiMemoryProbe) RETURN count(n) AS n")[0]["n"] == 40
        assert projection._row_cap[query] < 40  # learned: the next statements start smaller
    finally:
        projection._unwind("UNWIND $rows AS row MATCH (n:GujiMemoryProbe {k: row.k}) DELETE n", rows)
    assert projection._run("MATCH (n:GujiMemoryProbe) RETURN count(n) AS n")[0]["n"] == 0

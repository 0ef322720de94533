"""`guji sync --check` for Neo4j samples (ADR 0025): label and relationship-type counts stay exact
(counted by SPARQL inside the store, equal to what every graph's model gives), every graph is
checked against its GujiGraph record, and only a sample of graphs is modelled and compared node
by node. Drift anywhere is still reported, sampled or not."""

from collections import Counter
from pathlib import Path

import pytest

from bench.projections.generate import annotations, juan_texts, write_approved
from kg.ingest_kanripo import find_works, ingest_work
from kg.package import ingest_package
from kg.store import OxigraphStore
from projections.neo4j import Neo4jProjection, expected_counts, model_of, projected_graphs, typed_nodes

pytestmark = pytest.mark.neo4j
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def store(tmp_path):
    s = OxigraphStore(tmp_path / "store")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(s, w)
    ingest_package(s, ROOT / "samples" / "package" / "guji-sample-2026-001", agent="t")
    ingest_package(s, ROOT / "samples" / "package" / "guji-sample-2026-v2", agent="t")
    write_approved(s, annotations(juan_texts(s), 20, seed=3, prefix="K"))
    approve_one_with_an_entity(s)
    return s


def approve_one_with_an_entity(store):
    """An approved annotation naming a (provisional) person: IDENTIFIES and the category label."""
    from annotation.model import AnnotationCreate, Category, Reading, TextSelection
    from annotation.policies import Identity, Role
    from annotation.service import AnnotationService

    juan = "https://w3id.org/guji/id/text/GJ4a0002/master/001"
    text = next(iter(store.query(f"SELECT ?t WHERE {{ GRAPH ?g {{ <{juan}> <https://w3id.org/guji/ontology#text> ?t }} }}")))["t"].value
    svc = AnnotationService(store)
    annotator, reviewer = Identity("alice", Role.ANNOTATOR), Identity("rita", Role.REVIEWER)
    start = text.index("滕子京")
    a = svc.create(annotator, AnnotationCreate(
        target=TextSelection(source=juan, start=start, end=start + 3, exact="滕子京"),
        readings=[Reading(category=Category.PERSON, authority="https://w3id.org/guji/id/entity/滕宗諒", label="滕宗諒",
                          provisional=True)])).annotation
    svc.submit(annotator, a.id)
    svc.review(reviewer, a.id, "approve")


@pytest.fixture
def projection(neo4j_uri, store):
    p = Neo4jProjection(neo4j_uri)
    p.sync(store, rebuild=True)
    yield p
    p.close()


def test_the_counts_by_sparql_equal_the_counts_of_every_graphs_model(store):
    graphs = projected_graphs(store)
    known = typed_nodes(store, graphs)
    nodes: dict[str, set[str]] = {}
    rels = set()
    for g in graphs:
        m = model_of(store, g, known)
        for iri, labels in m.nodes.items():
            nodes.setdefault(iri, set()).update(labels)
        rels |= {(s, t, o, g) for s, t, o in m.rels}
    labels, types = expected_counts(store, graphs)
    assert labels == Counter(lab for ls in nodes.values() for lab in ls)
    assert types == Counter(t for _, t, _, _ in rels)
    assert {"TARGETS", "IDENTIFIES", "ITEM_OF"} <= set(types) and {"Annotation", "Serial", "Juan"} <= set(labels)


def test_in_sync_after_a_rebuild_with_any_sample(store, projection):
    for sample in (0, 5, 10_000):
        report = projection.check(store, sample=sample)
        assert report["in_sync"], report["drift"]
    assert report["sampled_graphs"] == report["graphs"] == len(projected_graphs(store))


def test_a_relationship_removed_outside_the_sample_is_reported(store, projection):
    projection._run("MATCH ()-[r:ITEM_OF]->() WITH r LIMIT 1 DELETE r")
    report = projection.check(store, sample=0)
    assert not report["in_sync"]
    assert {"kind": "relationship", "name": "ITEM_OF", "store": report["relationships"]["ITEM_OF"],
            "projection": report["relationships"]["ITEM_OF"] - 1} in report["drift"]


def test_a_node_removed_outside_the_sample_is_reported_with_its_graph(store, projection):
    row = projection._run("MATCH (n:Resource:Reel) WITH n LIMIT 1 RETURN n.iri AS iri, n.graphs AS graphs")[0]
    projection._run("MATCH (n:Resource {iri: $iri}) DETACH DELETE n", iri=row["iri"])
    drift = projection.check(store, sample=0)["drift"]
    assert any(d["kind"] == "label" and d["name"] == "Reel" and d["projection"] == d["store"] - 1 for d in drift)
    assert {d["name"] for d in drift if d["kind"] == "graph-nodes"} == set(row["graphs"])


def test_a_missing_graph_record_and_a_changed_property_are_reported(store, projection):
    g = next(g for g in projected_graphs(store) if "/annotation/" in g)
    projection._run("MATCH (m:GujiGraph {iri: $g}) DELETE m", g=g)
    drift = projection.check(store, sample=0)["drift"]
    assert {"kind": "graph", "name": g, "store": "projected", "projection": "missing"} in drift
    projection.sync(store, rebuild=True)
    # a property changed: the counts cannot see it, a sample holding its graph does
    row = projection._run("MATCH (n:Resource:Work) WHERE size(n.graphs) = 1 WITH n LIMIT 1 SET n.label = 'changed' "
                          "RETURN n.iri AS iri, n.graphs[0] AS g")[0]
    assert projection.check(store, sample=0)["in_sync"]
    report = projection.check(store, sample=len(projected_graphs(store)))
    assert [d["name"] for d in report["drift"] if d["kind"] == "node-properties"] == [row["iri"]]


def test_the_counts_hold_for_annotations_of_every_shape(tmp_path):
    """Competing readings, image regions, relations, provisional records (bench.projections.decode_ab's shapes)."""
    from bench.projections.decode_ab import build

    store, *_ = build(tmp_path, 64)
    graphs = projected_graphs(store)
    known = typed_nodes(store, graphs)
    nodes: dict[str, set[str]] = {}
    rels = set()
    for g in graphs:
        m = model_of(store, g, known)
        for iri, labels in m.nodes.items():
            nodes.setdefault(iri, set()).update(labels)
        rels |= {(s, t, o, g) for s, t, o in m.rels}
    labels, types = expected_counts(store, graphs)
    assert types == Counter(t for _, t, _, _ in rels)
    assert labels == Counter(lab for ls in nodes.values() for lab in ls)


def test_a_graph_larger_than_the_kept_triples_is_modelled_the_same(tmp_path, monkeypatch):
    """``model_of`` keeps a graph's quads only up to ``KEEP_TRIPLES`` (a package graph is never held
    whole); an annotation graph past that limit is read again for the decoder: same model."""
    import projections.neo4j as neo
    from bench.projections.decode_ab import build

    store, *_ = build(tmp_path, 16)
    graphs = projected_graphs(store)
    known = typed_nodes(store, graphs)
    kept = {g: model_of(store, g, known) for g in graphs}
    monkeypatch.setattr(neo, "KEEP_TRIPLES", 3)
    annotated = 0
    for g in graphs:
        m = model_of(store, g, known)
        assert (m.nodes, m.props, m.rels) == (kept[g].nodes, kept[g].props, kept[g].rels), g
        annotated += any(t == "TARGETS" for _, t, _ in m.rels) and len(list(store.triples(g))) > 3
    assert annotated >= 8  # premise: annotation graphs past the limit were modelled (read again)

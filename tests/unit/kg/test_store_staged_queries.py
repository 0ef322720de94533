"""A package loading behind its staging marker (ADR 0017) is invisible to every store query, not only
to ``graphs()``: ``GRAPH ?g``, a union default graph and explicit graph lists leave it out until it
is published, and nothing else changes."""

import pyoxigraph as ox

from kg.namespaces import GG
from kg.store import OxigraphStore

N = ox.NamedNode
P = N("http://example.org/p")
PUBLISHED, STAGED = GG + "catalog/published", GG + "catalog/staged"
MARKER = GG + "private/ingest/test-batch"


def _subjects(store, query, **kw):
    return sorted(r["s"].value for r in store.query(query, **kw))


def _store(tmp_path):
    store = OxigraphStore(tmp_path / "store")
    store.replace_graph(PUBLISHED, [ox.Triple(N("http://example.org/a"), P, ox.Literal("甲"))], agent="test")
    store.stage(MARKER, [STAGED], "digest-1", agent="test")
    nq = tmp_path / "staged.nq"
    nq.write_text(f'<http://example.org/b> <http://example.org/p> "乙" <{STAGED}> .\n', encoding="utf-8")
    store.bulk_load_staged(nq, [STAGED])
    return store


def test_staged_graphs_are_out_of_every_query_until_published(tmp_path):
    store = _store(tmp_path)
    a, b = "http://example.org/a", "http://example.org/b"
    assert _subjects(store, "SELECT ?s WHERE { GRAPH ?g { ?s <http://example.org/p> ?o } }") == [a]
    assert _subjects(store, "SELECT ?s WHERE { ?s <http://example.org/p> ?o }", use_default_graph_as_union=True) == [a]
    assert _subjects(store, f"SELECT ?s WHERE {{ GRAPH <{STAGED}> {{ ?s ?p ?o }} }}") == []
    assert _subjects(store, "SELECT ?s WHERE { ?s ?p ?o }", default_graph=[N(PUBLISHED), N(STAGED)]) == [a]
    assert _subjects(store, "SELECT ?s WHERE { GRAPH ?g { ?s ?p ?o } }", named_graphs=[N(STAGED)]) == []
    assert not bool(store.query(f"ASK {{ GRAPH ?g {{ <{b}> ?p ?o }} }}"))
    # the triples are there, hidden: the store's own lower-level reads still see them (publishing counts them)
    assert store.count(STAGED) == 1

    store.publish_staged(MARKER, agent="test")
    assert _subjects(store, "SELECT ?s WHERE { GRAPH ?g { ?s <http://example.org/p> ?o } }") == [a, b]
    assert _subjects(store, "SELECT ?s WHERE { ?s <http://example.org/p> ?o }", use_default_graph_as_union=True) == [a, b]


def test_a_write_while_staged_is_seen_at_once(tmp_path):
    store = _store(tmp_path)
    before = _subjects(store, "SELECT ?s WHERE { GRAPH ?g { ?s <http://example.org/p> ?o } }")
    store.replace_graph(GG + "catalog/other", [ox.Triple(N("http://example.org/c"), P, ox.Literal("丙"))], agent="test")
    after = _subjects(store, "SELECT ?s WHERE { GRAPH ?g { ?s <http://example.org/p> ?o } }")
    assert before == ["http://example.org/a"] and after == ["http://example.org/a", "http://example.org/c"]


def test_writes_go_on_while_a_staged_graph_is_bulk_loaded(tmp_path):
    """A bulk load into a hidden graph does not hold the writer lock (a 10,000-book package loads
    in ten such loads): an annotator's write commits while it runs, and both end up in the store."""
    import threading
    import time

    store = OxigraphStore(tmp_path / "store")
    store.stage(MARKER, [STAGED], "digest-big", agent="test")
    nq = tmp_path / "big.nq"
    with nq.open("w", encoding="utf-8") as f:
        for i in range(400_000):
            f.write(f'<http://example.org/s{i}> <http://example.org/p> "值{i}" <{STAGED}> .\n')
    load = threading.Thread(target=store.bulk_load_staged, args=(nq, [STAGED]))
    load.start()
    deadline = time.monotonic() + 10
    while not store._bulk_lock.locked() and time.monotonic() < deadline:
        time.sleep(0.001)
    assert store._bulk_lock.locked(), "the load never started"
    change = store.replace_graph(PUBLISHED, [ox.Triple(N("http://example.org/a"), P, ox.Literal("甲"))], agent="test")
    assert load.is_alive(), "the write waited for the whole bulk load"
    load.join(60)
    assert change is not None and change.sequence == store.last_sequence()  # logged as usual
    assert store.count(PUBLISHED) == 1 and store.count(STAGED) == 400_000
    assert PUBLISHED in store.graphs() and STAGED not in store.graphs()  # the loaded graph stays hidden

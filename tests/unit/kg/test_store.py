import pyoxigraph as ox
import pytest

from kg.errors import StoreError
from kg.store import CHANGELOG, OxigraphStore

N, L, T = ox.NamedNode, ox.Literal, ox.Triple
G = "https://w3id.org/guji/graph/test/a"


def triples(n, start=0):
    return [T(N(f"http://example.org/s{i}"), N("http://example.org/p"), L(f"值{i}")) for i in range(start, start + n)]


@pytest.fixture
def store(tmp_path):
    return OxigraphStore(tmp_path / "store")


def test_replace_graph_writes_triples_and_one_change(store):
    change = store.replace_graph(G, triples(10), agent="tester")
    assert (change.sequence, change.graph, change.action, change.added, change.removed, change.agent) == (1, G, "replace", 10, 0, "tester")
    assert store.count(G) == 10
    assert store.changes_since(0) == [change]


def test_replacing_with_the_same_triples_is_a_no_op(store):
    store.replace_graph(G, triples(10), agent="t")
    assert store.replace_graph(G, triples(10), agent="t") is None
    assert store.last_sequence() == 1
    assert store.count(G) == 10


def test_replace_applies_the_difference(store):
    store.replace_graph(G, triples(10), agent="t")
    change = store.replace_graph(G, triples(8, start=4), agent="t")
    assert (change.added, change.removed) == (2, 4)
    assert {t.subject.value for t in store.triples(G)} == {f"http://example.org/s{i}" for i in range(4, 12)}
    assert [c.sequence for c in store.changes_since(1)] == [2]


def test_other_graphs_are_untouched(store):
    other = G + "-other"
    store.replace_graph(other, triples(3), agent="t")
    store.replace_graph(G, triples(5), agent="t")
    store.replace_graph(G, [], agent="t")
    assert store.count(other) == 3 and store.count(G) == 0


def test_blank_nodes_replace_the_graph_whole(store):
    def doc(value):
        b = ox.BlankNode()
        return [T(N("http://example.org/x"), N("http://example.org/has"), b), T(b, N("http://example.org/v"), L(value))]

    store.replace_graph(G, doc("1"), agent="t")
    assert store.replace_graph(G, doc("1"), agent="t") is None  # same shape, fresh labels
    change = store.replace_graph(G, doc("2"), agent="t")
    assert (change.added, change.removed) == (2, 2)
    assert store.count(G) == 2


def test_drop_graph_logs_the_removal(store):
    store.replace_graph(G, triples(4), agent="t")
    change = store.drop_graph(G, agent="t")
    assert (change.action, change.removed) == ("drop", 4)
    assert store.count(G) == 0
    assert store.drop_graph(G, agent="t") is None


def test_change_log_lives_in_its_own_graph(store):
    store.replace_graph(G, triples(1), agent="t")
    assert CHANGELOG.value in store.graphs()
    assert store.count(G) == 1  # no log triples leak into the data graph


def test_read_only_store_refuses_writes_and_sees_data(tmp_path):
    path = tmp_path / "s"
    rw = OxigraphStore(path)
    rw.replace_graph(G, triples(2), agent="t")
    rw.close()
    ro = OxigraphStore.open_read_only(path)
    assert ro.count(G) == 2
    with pytest.raises(StoreError, match="read-only"):
        ro.replace_graph(G, triples(1), agent="t")


def test_second_writer_gets_a_clear_error(tmp_path):
    path = tmp_path / "s"
    first = OxigraphStore(path)
    with pytest.raises(StoreError, match="cannot open the RDF store"):
        OxigraphStore(path)
    first.close()


def test_rdflib_api_sees_the_same_store(store):
    import rdflib

    store.replace_graph(G, triples(3), agent="t")
    ds = store.rdflib_dataset()
    g = ds.graph(rdflib.URIRef(G))
    assert len(g) == 3
    assert (rdflib.URIRef("http://example.org/s1"), rdflib.URIRef("http://example.org/p"), rdflib.Literal("值1")) in g


def test_replace_graphs_is_one_transaction_with_one_change_per_graph(store):
    a, b = G + "/private", G + "/public"
    store.replace_graph(a, triples(3), agent="t")
    changes = store.replace_graphs({a: [], b: triples(3)}, agent="reviewer")
    assert [(c.graph, c.action, c.added, c.removed) for c in changes] == [(a, "drop", 0, 3), (b, "replace", 3, 0)]
    assert store.count(a) == 0 and store.count(b) == 3
    assert [c.sequence for c in store.changes_since(0)] == [1, 2, 3]


def test_a_failed_multi_graph_write_leaves_everything_as_it_was(store, monkeypatch):
    a, b = G + "/a", G + "/b"
    store.replace_graph(a, triples(3), agent="t")
    before = store.count()
    # the failure is made for real by Oxigraph: a SPARQL Update with an unparseable second half
    store._store = _FailingUpdate(store.oxigraph)
    with pytest.raises(StoreError, match="nothing was written"):
        store.replace_graphs({a: triples(2), b: triples(5, start=10)}, agent="t")
    store._store = store._store.inner
    assert store.count() == before and store.count(b) == 0 and store.last_sequence() == 1


class _FailingUpdate:
    """Passes everything through but appends an operation that fails at execution time
    (a non-silent DROP of a graph that does not exist) to the real update request."""

    def __init__(self, inner):
        self.inner = inner

    def update(self, request):
        return self.inner.update(request + " ;\nDROP GRAPH <https://w3id.org/guji/graph/does-not-exist>")

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("micro", [280_000, 0, 100_000, 5_000, 123_000])
def test_change_timestamps_are_kept_as_written(micro):
    """The store keeps xsd:dateTime in canonical form; the change log writes that form itself, so
    a change read back equals the one returned (it differed when the milliseconds ended in 0)."""
    from datetime import datetime, timezone

    from kg.store import canonical_timestamp

    moment = datetime(2026, 12, 4, 14, 56, 23, micro, tzinfo=timezone.utc)
    text = canonical_timestamp(moment)
    lit = ox.Literal(text, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#dateTime"))
    memory = ox.Store()
    memory.add(ox.Quad(ox.NamedNode("http://e/a"), ox.NamedNode("http://e/at"), lit))
    assert next(iter(memory)).object.value == text
    assert datetime.fromisoformat(text) == moment.replace(microsecond=micro // 1000 * 1000)

"""The public SPARQL dataset contract: what every engine holding it must do (embedded Oxigraph,
Oxigraph server, Fuseki).

A backend's test module subclasses :class:`PublicDatasetContract` and overrides:

- the fixture ``dataset``: a new projection of that engine, with an empty state (a server's data
  may be left over from another test: the first catch-up is a rebuild, which drops it);
- ``select(dataset, text, **dataset_params) -> list[dict]``: run a public query the way the
  endpoint runs it (union default graph), answer the JSON bindings as ``{var: value}``;
- ``delete_behind(dataset, graph)``: delete a graph on the engine without the projection knowing.
"""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.graphs import CHANGELOG, annotation_graph, kanripo_graph
from kg.namespaces import GG, ID
from kg.store import OxigraphStore
from projections import Projector

EX = ID + "test/"
TEXT = kanripo_graph("KR1a0001")
OTHER = kanripo_graph("KR1a0002")
APPROVED = annotation_graph("a1", public=True)
DRAFT = annotation_graph("a2", public=False)
PRESERVATION = GG + "preservation/package/b1"
PRIVATE = GG + "private/notes"
BLANK = GG + "load/with-blank-nodes"
NON_PUBLIC = (DRAFT, PRESERVATION, PRIVATE, CHANGELOG)


def t(s: str, p: str, o: str | ox.Literal | ox.BlankNode) -> ox.Triple:
    obj = o if isinstance(o, (ox.Literal, ox.BlankNode)) else ox.NamedNode(EX + o)
    subj = s if isinstance(s, ox.BlankNode) else ox.NamedNode(EX + s)
    return ox.Triple(subj, ox.NamedNode(EX + p), obj)


def text_triples(title: str = "周易") -> list[ox.Triple]:
    return [t("work1", "title", ox.Literal(title, language="zh")), t("work1", "a", "Work"),
            t("work1", "juan", ox.Literal("3", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")))]


def secret_triples(word: str) -> list[ox.Triple]:
    return [t("secret-" + word, "note", ox.Literal(f"secret {word}")), t("secret-" + word, "a", "Secret")]


class PublicDatasetContract:
    @pytest.fixture
    def dataset(self, tmp_path):  # pragma: no cover - every backend overrides it
        raise NotImplementedError

    def select(self, dataset, text: str, **params) -> list[dict[str, str]]:  # pragma: no cover
        raise NotImplementedError

    def delete_behind(self, dataset, graph: str) -> None:  # pragma: no cover
        raise NotImplementedError

    # -- helpers ---------------------------------------------------------------------------------
    @pytest.fixture
    def store(self, tmp_path):
        s = OxigraphStore(tmp_path / "store")
        s.replace_graph(TEXT, text_triples(), agent="test")
        s.replace_graph(APPROVED, [t("ann1", "body", ox.Literal("approved body"))], agent="test")
        s.replace_graph(DRAFT, secret_triples("draft"), agent="test")
        s.replace_graph(PRESERVATION, secret_triples("master"), agent="test")
        s.replace_graph(PRIVATE, secret_triples("private"), agent="test")
        b = ox.BlankNode()
        s.replace_graph(BLANK, [t(b, "label", ox.Literal("blank")), t("work1", "part", b)], agent="test")
        yield s
        s.close()

    def sync(self, store, dataset, *, rebuild: bool = False) -> dict:
        """What the projector does: rebuild when the checkpoint says so, then apply the rest."""
        projector = Projector(store, [dataset])
        out = projector.catch_up(dataset.name, rebuild=rebuild)[dataset.name]
        assert dataset.checkpoint(store) == store.last_sequence()
        return out

    def graphs(self, dataset) -> set[str]:
        return {r["g"] for r in self.select(dataset, "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")}

    def titles(self, dataset) -> set[str]:
        return {r["title"] for r in self.select(dataset, f"SELECT ?title WHERE {{ ?w <{EX}title> ?title }}")}

    def dump(self, dataset) -> set[tuple]:
        rows = self.select(dataset, "SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
        blank = lambda v: "_:" if v.startswith("_:") else v  # noqa: E731 - labels differ after a copy
        return {(r["g"], blank(r["s"]), r["p"], blank(r["o"])) for r in rows}

    # -- the contract ----------------------------------------------------------------------------
    def test_a_new_projection_must_be_built(self, store, dataset):
        assert dataset.checkpoint(store) is None

    def test_applied_write_is_visible_in_the_union_default_graph(self, store, dataset):
        self.sync(store, dataset)
        assert self.titles(dataset) == {"周易"}
        change = store.replace_graph(TEXT, text_triples("周易正義"), agent="test")
        dataset.apply(store, [change])
        assert dataset.checkpoint(store) == change.sequence
        assert self.titles(dataset) == {"周易正義"}
        new = store.replace_graph(OTHER, text_triples("尚書"), agent="test")
        dataset.apply(store, [new])
        assert self.titles(dataset) == {"周易正義", "尚書"}

    def test_non_public_graphs_never_appear_even_by_graph_name(self, store, dataset):
        self.sync(store, dataset)
        changes = [store.replace_graph(g, secret_triples("later"), agent="test") for g in (DRAFT, PRESERVATION, PRIVATE)]
        dataset.apply(store, changes)
        seen = self.graphs(dataset)
        assert seen == {TEXT, APPROVED, BLANK}
        assert not self.select(dataset, f"SELECT ?s WHERE {{ ?s a <{EX}Secret> }}")
        assert not self.select(dataset, f"SELECT ?s WHERE {{ GRAPH ?g {{ ?s a <{EX}Secret> }} }}")
        for g in NON_PUBLIC:
            assert not self.select(dataset, f"SELECT * WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"), g
        # the protocol's dataset parameters cannot name them into view either
        assert not self.select(dataset, "SELECT * WHERE { ?s ?p ?o }", default_graph=[PRIVATE, DRAFT], named_graphs=[PRIVATE])
        report = dataset.check(store)
        assert report["in_sync"], report["drift"]

    def test_reapplying_the_same_changes_is_harmless(self, store, dataset):
        self.sync(store, dataset)
        before = self.dump(dataset)
        changes = store.changes_since(0)
        for _ in range(2):
            dataset.apply(store, changes)
        assert self.dump(dataset) == before
        assert dataset.checkpoint(store) == store.last_sequence()
        report = dataset.check(store)
        assert report["in_sync"], report["drift"]

    def test_a_dropped_graph_is_removed(self, store, dataset):
        self.sync(store, dataset)
        change = store.drop_graph(APPROVED, agent="test")
        dataset.apply(store, [change])
        assert APPROVED not in self.graphs(dataset)
        assert not self.select(dataset, f"SELECT * WHERE {{ ?s <{EX}body> ?o }}")
        report = dataset.check(store)
        assert report["in_sync"], report["drift"]

    def test_a_graph_that_turns_private_leaves_the_dataset(self, store, dataset):
        """An approved annotation retracted: its public graph goes, its private one never shows."""
        self.sync(store, dataset)
        body = list(store.triples(APPROVED))
        changes = store.replace_graphs({APPROVED: [], annotation_graph("a1", public=False): body}, agent="test")
        dataset.apply(store, changes)
        assert not self.select(dataset, f"SELECT * WHERE {{ ?s <{EX}body> ?o }}")
        report = dataset.check(store)
        assert report["in_sync"], report["drift"]

    def test_rebuild_equals_incremental(self, store, dataset):
        self.sync(store, dataset)
        store.replace_graph(TEXT, text_triples("周易正義"), agent="test")
        store.replace_graph(OTHER, text_triples("尚書"), agent="test")
        store.drop_graph(APPROVED, agent="test")
        self.sync(store, dataset)  # incremental
        incremental = self.dump(dataset)
        self.sync(store, dataset, rebuild=True)
        assert self.dump(dataset) == incremental
        assert len(incremental) == sum(store.count(g) for g in (TEXT, OTHER, BLANK))
        report = dataset.check(store)
        assert report["in_sync"], report["drift"]

    def test_an_interrupted_rebuild_is_seen_as_needing_a_rebuild(self, store, dataset, monkeypatch):
        self.sync(store, dataset)
        assert dataset.checkpoint(store) == store.last_sequence()

        def broken():
            raise RuntimeError("the process died half-way through the rebuild")

        monkeypatch.setattr(store, "graphs", broken)
        with pytest.raises(RuntimeError):
            dataset.rebuild(store)
        monkeypatch.undo()
        assert dataset.checkpoint(store) is None
        out = self.sync(store, dataset)  # the projector rebuilds it
        assert out.get("rebuilt")
        assert self.titles(dataset) == {"周易"}

    def test_check_finds_a_graph_deleted_behind_its_back(self, store, dataset):
        self.sync(store, dataset)
        report = dataset.check(store)
        assert report["in_sync"], report["drift"]
        self.delete_behind(dataset, TEXT)
        report = dataset.check(store)
        assert not report["in_sync"]
        assert any((d["kind"], d["name"], d["store"], d["projection"]) == ("graph", TEXT, 3, 0) for d in report["drift"])

    def test_check_compares_content_not_only_counts(self, store, dataset):
        self.sync(store, dataset)
        # same number of triples, other content, not applied yet
        store.replace_graph(TEXT, text_triples("尚書"), agent="test")
        report = dataset.check(store, sample=10)
        assert {(d["kind"], d["name"]) for d in report["drift"]} >= {("graph-content", TEXT), ("checkpoint", "change log")}

    def test_a_graph_with_blank_nodes_is_copied_whole(self, store, dataset):
        self.sync(store, dataset)
        rows = self.select(dataset, f"SELECT ?l WHERE {{ <{EX}work1> <{EX}part> ?b . ?b <{EX}label> ?l }}")
        assert [r["l"] for r in rows] == ["blank"]
        b = ox.BlankNode()
        change = store.replace_graph(BLANK, [t(b, "label", ox.Literal("other")), t("work1", "part", b)], agent="test")
        dataset.apply(store, [change])
        rows = self.select(dataset, f"SELECT ?l WHERE {{ <{EX}work1> <{EX}part> ?b . ?b <{EX}label> ?l }}")
        assert [r["l"] for r in rows] == ["other"]
        report = dataset.check(store)
        assert report["in_sync"], report["drift"]

    def test_literals_arrive_exactly(self, store, dataset):
        self.sync(store, dataset)
        odd = ['say "曰"', "back\\slash", "line\nbreak\r\ttab", "ctl\x01\x7f", "列𫝊 🀄", "", "'''\"\"\""]
        lits = [ox.Literal(v) for v in odd] + [ox.Literal("爲", language="zh-Hant"),
                                              ox.Literal("0042", datatype=ox.NamedNode(EX + "code"))]
        change = store.replace_graph(OTHER, [t(f"odd{i}", "value", lit) for i, lit in enumerate(lits)], agent="test")
        dataset.apply(store, [change])
        rows = self.select(dataset, f"SELECT ?v WHERE {{ ?s <{EX}value> ?v }}")
        assert sorted(r["v"] for r in rows) == sorted(lit.value for lit in lits)
        report = dataset.check(store, sample=10)
        assert report["in_sync"], report["drift"]

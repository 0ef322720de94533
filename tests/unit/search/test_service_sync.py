"""The index follows the store's change log: build records a checkpoint, sync applies what came after."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.store import OxigraphStore
from search.backends.tantivy import TantivyIndex
from search.service import SearchService
from tests.contract import search_data as data


def graph_triples(graph: str) -> list[ox.Triple]:
    full = data.build_store()
    return [q.triple for q in full.quads_for_pattern(None, None, None, ox.NamedNode(graph))]


@pytest.fixture()
def store():
    s = OxigraphStore()
    for g in (f"{data.GG}vocab", f"{data.GG}kanripo/KR2b0003", f"{data.GG}submission/nlc-1"):
        s.replace_graph(g, graph_triples(g), agent="test")
    return s


def test_build_records_the_checkpoint_and_sync_catches_up(store, tmp_path):
    svc = SearchService(TantivyIndex(tmp_path / "idx"), store=store)
    assert svc.pending(store)  # nothing built: everything is pending
    svc.build_index(store)
    assert svc.index.checkpoint() == store.last_sequence()
    assert svc.pending(store) == []
    assert svc.search("楊涉").total == 0

    kr2a = f"{data.GG}kanripo/KR2a0031"
    store.replace_graph(kr2a, graph_triples(kr2a), agent="test")
    assert [c.graph for c in svc.pending(store)] == [kr2a]
    assert svc.sync(store) == 3
    assert svc.search("楊涉").total > 0 and svc.pending(store) == []
    assert svc.sync(store) == 0  # idempotent

    store.drop_graph(kr2a, agent="test")
    svc.sync(store)
    assert svc.search("楊涉").total == 0
    assert svc.search("为之不流").total == 2


def test_a_second_process_sees_a_rebuild(store, tmp_path):
    writer = SearchService(TantivyIndex(tmp_path / "idx"), store=store)
    writer.build_index(store)
    reader = SearchService(TantivyIndex(tmp_path / "idx"), store=store)
    first = reader.search("为之不流").total
    kr2a = f"{data.GG}kanripo/KR2a0031"
    store.replace_graph(kr2a, graph_triples(kr2a), agent="test")
    writer.build_index(store)  # new version; the reader switches on its next search
    assert reader.search("为之不流").total == first
    assert reader.search("楊涉").total > 0
    assert reader.index.version() == writer.index.version()


def test_annotation_workflow_moves_the_entity_in_and_out_of_the_index(store, tmp_path):
    from annotation.model import AnnotationCreate, Category, Reading, TextSelection
    from annotation.policies import Identity, Role
    from annotation.service import AnnotationService

    svc = SearchService(TantivyIndex(tmp_path / "idx"), store=store)
    svc.build_index(store)
    annotations = AnnotationService(store)
    alice, rita = Identity("alice", Role.ANNOTATOR), Identity("rita", Role.REVIEWER)
    juan = f"{data.ID}text/KR2b0003/WYG/002"
    start = data.juan_text(data.WYG_002).index("沛公")
    draft = annotations.create(alice, AnnotationCreate(
        target=TextSelection(source=juan, start=start, end=start + 2, exact="沛公"),
        readings=[Reading(category=Category.PERSON, label="劉邦", provisional=True)])).annotation
    private = f"{data.GG}private/annotation/{draft.id}"
    public = f"{data.GG}annotation/{draft.id}"

    # a draft changes a private graph: its juan's source is re-indexed, the draft is not in it
    assert [c.graph for c in svc.pending(store)] == [private]
    assert svc.sync(store) == 3  # only the targeted juan is re-indexed (its 3 WYG folio sides), not the whole source
    assert svc.search("刘邦").total == 0
    annotations.submit(alice, draft.id)
    svc.sync(store)
    assert svc.search("刘邦").total == 0

    # approval moves it to its public graph, the history the public does not see to a private one
    # (three changes, one transaction): now it is found
    annotations.review(rita, draft.id, "approve")
    assert {c.graph for c in svc.pending(store)} == {public, private, f"{data.GG}private/annotation-history/{draft.id}"}
    svc.sync(store)
    r = svc.search("刘邦", facets=["entity", "entity_category"])
    assert [h.id for h in r.hits] == ["KR2b0003/WYG/002/1a"]
    assert r.hits[0].matched_entities[0].annotation.endswith(draft.id)
    assert {f: [(v.value, v.count) for v in vs] for f, vs in r.facets.items()} == {
        "entity": [("劉邦", 1)], "entity_category": [("person", 1)]}

    # a reviewer retracts it: back to the private graph, out of the index
    annotations.review(rita, draft.id, "reject", "wrong person")
    svc.sync(store)
    assert svc.search("刘邦").total == 0 and svc.search("沛公").total == 2
    assert svc.pending(store) == [] and svc.index.checkpoint() == store.last_sequence()


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

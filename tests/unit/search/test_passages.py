"""Passages from the RDF store: folio sides with their metadata, the head of the next passage."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from search.documents import to_index_doc
from search.index import BRIDGE_MARK
from search.normalise import get_normaliser
from search.passages import (
    HEAD_CHARS, Folio, JuanText, juan_passages, passages_from_store, private_use_equivalents, segments,
    source_graphs, windows,
)
from tests.contract import search_data as data


@pytest.fixture(scope="module")
def store() -> ox.Store:
    return data.build_store()


@pytest.fixture(scope="module")
def passages(store):
    return list(passages_from_store(store, get_normaliser(private_use_equivalents(store))))


def test_one_passage_per_folio_side(passages):
    assert [p.id for p in passages if p.source_id == "KR2b0003" and p.edition == "SBCK"] == [
        "KR2b0003/SBCK/002/1a", "KR2b0003/SBCK/002/1b", "KR2b0003/SBCK/002/8a", "KR2b0003/SBCK/002/8b"]
    assert {p.graph for p in passages} == {f"{data.GG}kanripo/KR2b0003", f"{data.GG}kanripo/KR2a0031", f"{data.GG}kanripo/GJ4a0001"}


def test_passages_tile_the_juan_text_exactly(passages):
    for juan_iri, source in data.JUANS.items():
        text = data.juan_text(source)
        mine = sorted((p for p in passages if p.juan_iri == juan_iri), key=lambda p: p.seq)
        assert "".join(p.text for p in mine) == text
        for p in mine:
            assert text[p.start:p.end] == p.text
        assert mine[0].start == 0 and mine[-1].end == len(text)


def test_each_passage_carries_the_head_of_the_next(passages):
    p1a = next(p for p in passages if p.id == "KR2b0003/SBCK/002/1a")
    assert p1a.text.endswith("合從") and p1a.next_head.startswith("締交相與爲一")
    assert len(get_normaliser().keep(p1a.next_head)) == HEAD_CHARS
    last = next(p for p in passages if p.id == "KR2b0003/SBCK/002/8b")
    assert last.next_head == ""


def test_work_edition_and_copy_metadata(passages):
    p = next(p for p in passages if p.id == "KR2b0003/SBCK/002/8a")
    assert (p.source_id, p.title, p.edition, p.edition_label) == ("KR2b0003", "前漢紀", "SBCK", "四部叢刊")
    assert (p.juan, p.juan_label, p.juan_seq, p.folio) == ("002", "卷2", 1, "8a")
    assert (p.dynasty, p.category) == ("漢", "史部")
    assert p.holdings == ("國家圖書館",)
    assert p.copies == ("digital", "microfilm", "physical")
    assert p.work == f"{data.ID}work/KR2b0003" and p.item == f"{data.ID}item/KR2b0003/SBCK"
    assert p.iri == f"{data.ID}text/KR2b0003/SBCK/002/002-8a"
    q = next(p for p in passages if p.source_id == "KR2a0031")
    assert (q.dynasty, q.holdings, q.copies) == ("宋", (), ("digital",))


def test_private_use_table_and_graphs(store):
    assert private_use_equivalents(store) == {data.KIHAN: "騎"}
    assert source_graphs(store) == [f"{data.GG}kanripo/GJ4a0001", f"{data.GG}kanripo/KR2a0031", f"{data.GG}kanripo/KR2b0003"]


def test_labels_fall_back_without_the_vocabulary():
    store = ox.Store()
    data.add_work(store, "KR1a0001", "周易", "jing", "xianqin", {"tls": ("TLS", "001", {"001": "<pb:KR1a0001_tls_001-1a>乾元亨利貞"})})
    [p] = passages_from_store(store, get_normaliser())
    # the dynasty label comes from the scheme's file when the store lacks the vocabulary (issue 12:
    # the index held "jin" where the page showed 晉, so dynasty=晉 found nothing)
    assert (p.category, p.dynasty) == ("經部", "先秦")


def test_segments_cover_text_before_the_first_side_and_skip_empty_sides():
    text = "序文" + "甲" * 10 + "乙" * 10
    folios = [Folio(2, 12, "1a"), Folio(12, 12, "1b"), Folio(12, None, "2a")]
    assert [(s, e, f.folio if f else None) for s, e, f in segments(text, folios)] == [
        (0, 2, None), (2, 12, "1a"), (12, 22, "2a")]


def test_a_juan_without_folio_sides_is_cut_into_windows():
    text = ("天下之至誠。" * 100)
    cuts = windows(text, 100)
    assert cuts[0][0] == 0 and cuts[-1][1] == len(text)
    assert all(text[e - 1] == "。" for _, e in cuts[:-1])
    juan = JuanText(graph="g", iri=f"{data.ID}text/X/ed/001", text=text, juan="001", juan_seq=1,
                    meta={"source_id": "X", "title": "t", "edition": "ed"})
    ps = juan_passages(juan, get_normaliser())
    assert [p.id for p in ps[:2]] == ["X/ed/001/p1", "X/ed/001/p2"] and ps[0].folio is None
    assert ps[0].next_head and ps[-1].next_head == ""


def test_index_document_bridge_marks_the_boundary(passages):
    norm = get_normaliser()
    p1a = next(p for p in passages if p.id == "KR2b0003/SBCK/002/1a")
    doc = to_index_doc(p1a, norm)
    tokens = doc.bridge_norm.split(" ")
    assert tokens[HEAD_CHARS] == BRIDGE_MARK and len(tokens) == 2 * HEAD_CHARS + 1
    assert "".join(tokens[HEAD_CHARS - 2:HEAD_CHARS + 3]) == norm.fold("合從") + BRIDGE_MARK + norm.fold("締交")
    assert doc.norm.replace(" ", "") == norm.fold(p1a.text)
    assert doc.exact.replace(" ", "") == norm.keep(p1a.text)
    assert doc.keywords["holding"] == ["國家圖書館"] and doc.doc["text"] == p1a.text


def test_real_kanripo_work_through_the_ingest(kanripo_dir: Path):
    from kg.ingest_kanripo import ingest_work
    from kg.store import OxigraphStore

    store = OxigraphStore()
    ingest_work(store, kanripo_dir / "KR2a0031")
    norm = get_normaliser(private_use_equivalents(store))
    ps = list(passages_from_store(store, norm))
    wyg = [p for p in ps if p.edition == "WYG" and p.juan == "001"]
    assert wyg[0].folio == "1a" and wyg[0].title == "五代史纂誤" and wyg[0].category == "史部"
    # 頗為¶ / 　重複 : the phrase runs over a printed line end inside folio 1b
    p1b = next(p for p in wyg if p.folio == "1b")
    assert norm.fold("頗為重複") in norm.fold(p1b.text)
    # every boundary: the end of a side and the head of the next make one continuous text
    for a, b in zip(wyg, wyg[1:]):
        assert a.end == b.start and b.text.startswith(a.next_head[: len(b.text)])


def test_the_editions_dynasty_wins_over_the_works():
    store = data.build_store()
    g = data._Graph(store, f"{data.GG}kanripo/KR2b0003")
    g.add(f"{data.ID}instance/KR2b0003/SBCK", data.GUJI + "dynasty", f"{data.GUJIV}dynasty/ming")
    ps = list(passages_from_store(store, get_normaliser()))
    assert {p.edition: p.dynasty for p in ps if p.source_id == "KR2b0003"} == {"SBCK": "明", "WYG": "漢"}


def test_a_folio_side_too_long_to_be_one_passage_is_cut_but_keeps_its_folio():
    text = "甲" * 10 + "天下之至誠。" * 400  # 史記 master has sides of 27k characters (missing <pb:>)
    juan = JuanText(graph="g", iri=f"{data.ID}text/X/ed/001", text=text, juan="001", juan_seq=1,
                    meta={"source_id": "X", "title": "t", "edition": "ed"},
                    folios=[Folio(0, 10, "1a"), Folio(10, None, "1b")])
    ps = juan_passages(juan, get_normaliser())
    assert ps[0].id == "X/ed/001/1a" and [p.folio for p in ps[1:]] == ["1b"] * (len(ps) - 1)
    assert ps[1].id == "X/ed/001/1b" and ps[2].id == "X/ed/001/1b.2"
    assert max(len(p.text) for p in ps) <= 400 and "".join(p.text for p in ps) == text


def test_copies_and_sources_come_from_public_graphs_only(tmp_path):
    """A preservation master is no digital copy the public can have: 岳陽樓記 of the sample package
    exists digitally at preservation level only, so its facet says physical and microfilm."""
    from kg.package import ingest_package
    from kg.store import OxigraphStore
    from search.passages import _concept_labels, _works

    s = OxigraphStore(tmp_path / "store")
    ingest_package(s, Path(__file__).resolve().parents[3] / "samples" / "package" / "guji-sample-2026-001", agent="t")
    graph = "https://w3id.org/guji/graph/package/guji-sample-2026-001"
    assert source_graphs(s) == [graph]
    works = _works(s, graph, _concept_labels(s))
    # the sample package names its works (books.csv work_id): 岳陽樓記 is GJ4a0002, 桃花源記 GJ4a0001
    assert works["https://w3id.org/guji/id/work/GJ4a0002"]["copies"] == {"physical", "microfilm"}
    assert works["https://w3id.org/guji/id/work/GJ4a0001"]["copies"] == {"physical", "microfilm", "digital"}


def test_one_juan_of_a_package_graph_is_read_with_its_own_works_only(tmp_path, monkeypatch):
    """Re-indexing a juan of a package graph (an approval on it) reads the works of that juan, not
    the graph's thousands: the passages are the same as those of a whole read, metadata included."""
    from kg.package import ingest_package
    from kg.store import OxigraphStore
    from search import passages as P

    s = OxigraphStore(tmp_path / "store")
    ingest_package(s, Path(__file__).resolve().parents[3] / "samples" / "package" / "guji-sample-2026-001", agent="t")
    graph = "https://w3id.org/guji/graph/package/guji-sample-2026-001"
    norm = get_normaliser()
    whole = {p.id: p for p in P.passages_from_store(s, norm, graphs=[graph])}
    juans = sorted({p.juan_iri for p in whole.values()})
    assert len(juans) >= 2 and len({p.work for p in whole.values()}) >= 2  # several works in one graph
    read = []
    real = P._works
    monkeypatch.setattr(P, "_works", lambda *a, **kw: read.append(kw.get("only")) or real(*a, **kw))
    for j in juans:
        one = list(P.passages_from_store(s, norm, graphs=[graph], only={graph: [j]}))
        assert one and all(p == whole[p.id] for p in one)
    assert read and all(only is not None and len(only) == 1 for only in read)  # one work per juan read

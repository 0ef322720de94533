"""Passages carry the entities of approved annotations whose span overlaps them (docs/search.md)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from search.documents import to_index_doc
from search.index import NAME_MARK
from search.normalise import get_normaliser
from search.passages import (
    ANNOTATION_IRIS, Folio, JuanText, PassageEntity, annotation_sources, approved_annotations, juan_passages,
    passages_from_store,
)
from tests.contract import search_data as data

SBCK = f"{data.ID}text/KR2b0003/SBCK/002"
WYG = f"{data.ID}text/KR2b0003/WYG/002"
KR2A = f"{data.ID}text/KR2a0031/WYG/001"


def entity(start: int, end: int, label: str = "名", quote: str = "字", annotation: str = "a") -> PassageEntity:
    return PassageEntity(annotation=annotation, label=label, quote=quote, start=start, end=end, category="person")


def juan(*entities: PassageEntity) -> JuanText:
    text = "甲" * 10 + "乙" * 10 + "丙" * 10
    return JuanText(graph="g", iri=f"{data.ID}text/X/ed/001", text=text, juan="001", juan_seq=1,
                    meta={"source_id": "X", "title": "t", "edition": "ed"},
                    folios=[Folio(0, 10, "1a"), Folio(10, 20, "1b"), Folio(20, None, "2a")], entities=list(entities))


def on(passages, folio: str) -> list[str]:
    return [e.annotation for p in passages if p.folio == folio for e in p.entities]


# -- overlap rules -------------------------------------------------------------------------------
@pytest.mark.parametrize(("span", "where"), [
    ((12, 14), ["1b"]),  # inside one side
    ((10, 20), ["1b"]),  # the whole side, exactly: its neighbours are not touched
    ((8, 12), ["1a", "1b"]),  # over a folio boundary: on both sides
    ((5, 25), ["1a", "1b", "2a"]),  # over a whole side
    ((9, 10), ["1a"]),  # ends where 1b starts (end is exclusive)
    ((10, 11), ["1b"]),  # starts where 1a ends
    ((10, 10), ["1b"]),  # an empty span counts where it stands
    ((29, 30), ["2a"]),  # the last character of the juan
])
def test_an_entity_is_on_every_passage_its_span_overlaps(span, where):
    ps = juan_passages(juan(entity(*span)), get_normaliser())
    assert [p.folio for p in ps if p.entities] == where


def test_several_entities_keep_their_order_of_position():
    ps = juan_passages(juan(entity(15, 17, annotation="b"), entity(11, 12, annotation="a"), entity(3, 4, annotation="c")),
                       get_normaliser())
    assert on(ps, "1a") == ["c"] and on(ps, "1b") == ["a", "b"] and on(ps, "2a") == []


def test_the_name_is_on_every_side_the_quote_only_where_the_span_starts():
    x = entity(8, 12, label="劉邦", quote="沛公")
    assert x.names_at(0) == [("劉邦", "label"), ("沛公", "quote")]
    assert x.names_at(10) == [("劉邦", "label")]  # the next side: the quote is text, found where it starts
    classified = entity(8, 12, label="門下侍郎", quote="門下侍郎")  # no name but the quote
    assert classified.names_at(0) == [("門下侍郎", "label")] and classified.names_at(10) == []


def test_the_index_document_holds_names_facets_and_the_annotation():
    norm = get_normaliser()
    ps = juan_passages(juan(entity(8, 12, label="劉邦", quote="沛公", annotation="A1"),
                            entity(11, 13, label="六國合從", quote="合從", annotation="A2")), norm)
    p1a, p1b = ps[0], ps[1]
    d = to_index_doc(p1a, norm)
    assert d.entity_norm == f"刘 邦 {NAME_MARK} 沛 公" and d.entity_exact == f"劉 邦 {NAME_MARK} 沛 公"
    assert (d.keywords["entity"], d.keywords["entity_category"], d.keywords["annotation"]) == (["劉邦"], ["person"], ["A1"])
    assert d.doc["entities"] == [entity(8, 12, label="劉邦", quote="沛公", annotation="A1").as_dict()]
    d = to_index_doc(p1b, norm)
    assert d.entity_norm == f"刘 邦 {NAME_MARK} 六 国 合 从 {NAME_MARK} 合 从"
    assert d.keywords["entity"] == ["六國合從", "劉邦"] and d.keywords["annotation"] == ["A1", "A2"]
    plain = to_index_doc(ps[2], norm)
    assert (plain.entity_norm, plain.keywords["entity"], "entities" in plain.doc) == ("", [], False)


# -- reading the store: approved only ------------------------------------------------------------
@pytest.fixture(scope="module")
def store() -> ox.Store:
    return data.build_store()


def test_only_approved_annotations_in_public_graphs_are_read(store):
    found = approved_annotations(store, [SBCK, WYG, KR2A])
    labels = {j: sorted(e.label for e in es) for j, es in found.items()}
    # WYG's 沛公 is only a draft (劉季); 朱溫 was rejected; 袁大將軍 is approved but its anchor is orphaned
    assert labels == {SBCK: ["六國合從", "劉邦"], KR2A: ["楊文孫", "楊涉", "貞明", "門下侍郎"]}
    liu = next(e for e in found[SBCK] if e.label == "劉邦")
    text = data.juan_text(data.JUANS[SBCK])
    assert text[liu.start:liu.end] == liu.quote == "沛公"
    assert (liu.category, liu.entity, liu.rank, liu.certainty) == (
        "person", f"{data.ID}authority/person/liu-bang", 1, "certain")
    assert liu.annotation == ANNOTATION_IRIS + "01KSEARCH00000000000000001"


def test_a_private_graph_is_never_read_even_if_it_says_approved():
    store = data.build_store()
    # a draft whose status was (wrongly) written as approved, still in its private graph
    data.add_annotation(store, "01KSEARCH0000000000000000X", WYG, "沛公", readings=[("person", None, "劉季", False)])
    graph = ox.NamedNode(data.annotation_graph("01KSEARCH0000000000000000X", "approved"))
    private = ox.NamedNode(data.annotation_graph("01KSEARCH0000000000000000X", "draft"))
    for q in list(store.quads_for_pattern(None, None, None, graph)):
        store.remove(q)
        store.add(ox.Quad(q.subject, q.predicate, q.object, private))
    assert WYG not in approved_annotations(store, [WYG])
    # and an approved annotation in a public graph whose status is not approved is not read either
    public = data.add_annotation(store, "01KSEARCH0000000000000000Y", WYG, "沛公", readings=[("person", None, "劉季", False)])
    status = ox.NamedNode(data.GUJI + "reviewStatus")
    for q in list(store.quads_for_pattern(None, status, None, ox.NamedNode(public))):
        store.remove(q)
        store.add(ox.Quad(q.subject, status, ox.Literal("submitted"), q.graph_name))
    assert WYG not in approved_annotations(store, [WYG])


def test_the_name_comes_from_the_public_authority_record_else_the_reading_else_the_quote():
    store = data.build_store()
    record = f"{data.ID}authority/person/liu-bang"
    # a label stated for the record in a private graph (another annotator's draft) is never used
    store.add(ox.Quad(ox.NamedNode(record), ox.NamedNode(data.RDFS + "label"), ox.Literal("機密"),
                      ox.NamedNode(f"{data.GG}private/annotation/01KSEARCH0000000000000000Z")))
    # a public authority graph names it, in zh-Hant: that name wins over the annotation's own
    store.add(ox.Quad(ox.NamedNode(record), ox.NamedNode(data.SKOS + "prefLabel"), ox.Literal("漢高祖", language="zh-Hant"),
                      ox.NamedNode(f"{data.GG}authority")))
    found = approved_annotations(store, [SBCK, KR2A])
    # 六國合從 has no record in the store: the reading's label
    assert {e.label for e in found[SBCK]} == {"漢高祖", "六國合從"}
    office = next(e for e in found[KR2A] if e.category == "office")
    assert (office.label, office.entity) == ("門下侍郎", None)  # classifying only: the quote


def test_competing_readings_are_each_an_entity(store):
    yang = sorted((e.rank, e.label) for e in approved_annotations(store, [KR2A])[KR2A] if e.annotation.endswith("6"))
    assert yang == [(1, "楊涉"), (2, "楊文孫")]


def test_passages_from_the_store_carry_their_entities(store):
    ps = {p.id: p for p in passages_from_store(store, get_normaliser())}
    assert [e.label for e in ps["KR2b0003/SBCK/002/1a"].entities] == ["劉邦", "六國合從"]
    assert [e.label for e in ps["KR2b0003/SBCK/002/1b"].entities] == ["六國合從"]  # the span runs over 1a|1b
    assert ps["KR2b0003/WYG/002/1a"].entities == ()
    assert sum(len(p.entities) for p in ps.values()) == 7


def test_a_changed_annotation_is_routed_to_the_source_of_its_juan(store):
    ids = [a[0] for a in data.ANNOTATIONS]
    # public and private graphs alike: a retracted annotation must leave the passages it was on
    assert annotation_sources(store, ids[:2]) == [f"{data.GG}kanripo/KR2b0003"]
    assert annotation_sources(store, ids) == [f"{data.GG}kanripo/KR2a0031", f"{data.GG}kanripo/KR2b0003"]
    assert annotation_sources(store, ["01KNOTHERE0000000000000000"]) == []


@pytest.mark.parametrize("size", [1, 2, None])  # None: slices sized from the time the last one took
def test_a_graph_read_in_slices_gives_the_same_passages_and_entities(store, size):
    """The search projection reads a new source graph in slices of juans (the express lane's safe
    points, ADR 0011 amendment 3): the passages, metadata and entities are those of one read."""
    from search.passages import passage_slices, source_graphs

    norm = get_normaliser()
    for graph in source_graphs(store):
        whole = list(passages_from_store(store, norm, graphs=[graph]))
        parts = list(passage_slices(store, norm, graph, size=size))
        assert sorted((p for part in parts for p in part), key=lambda p: p.id) == sorted(whole, key=lambda p: p.id)
        juans = {p.juan_iri for p in whole}
        if size:
            assert len(parts) == -(-len(juans) // size)  # one slice per `size` juans
    assert any(p.entities for p in passages_from_store(store, norm))  # the comparison covers entities

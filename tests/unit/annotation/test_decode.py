"""The one decoder of annotation graphs (annotation.rdf.decode): what the service, search and Neo4j read."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from annotation.model import (
    Anchor, AnchorState, Annotation, Category, Certainty, HistoryEntry, Reading, Relation, RelationType, Review, Status,
    TextTarget, agent_iri, annotation_iri, new_id, now_iso,
)
from annotation.rdf import (
    SPAN_AND_READING_PREDICATES, SpanNode, annotations_in, decode, from_triples, index, to_triples,
)
from kg.namespaces import GUJI, OA, RDF
from projections.neo4j import GraphModel, _annotations
from search.passages import _readings
from tests.unit.annotation.test_rdf import rich

JUAN = "https://w3id.org/guji/id/text/T/master/001"
N = ox.NamedNode


def entity_annotation(**kw) -> Annotation:
    now = now_iso()
    base = dict(id=new_id(), canonical="urn:x", creator=agent_iri("alice"), created=now, modified=now,
                status=Status.APPROVED,
                target=TextTarget(source=JUAN, start=4, end=7, exact="司馬遷", prefix="太史公", suffix="曰"),
                readings=[Reading(category=Category.PERSON, authority="https://cbdb.example/p/1", label="司馬遷")],
                review=Review(reviewer=agent_iri("rita"), at=now, decision="approved"))
    base.update(kw)
    return Annotation(**base)


def test_every_part_of_a_rich_annotation_is_decoded():
    a = rich()
    d = decode(index(to_triples(a)), a.iri)
    assert (d.iri, d.status, d.certainty, d.anchor_state) == (a.iri, "rejected", "uncertain", "needs_review")
    assert d.spans == (SpanNode(a.iri + "/target", a.target.source, 1, 3, "𫝊\U00100038", "王", "甫字伯玉"),)
    assert d.target == d.spans[0] and d.tail is None
    assert (d.image.source, d.image.xywh) == ("https://iiif.example.org/c/1", "xywh=1,2,30,400")
    assert d.note == "二讀並存" and d.relation is None
    # competing readings: the items of the oa:Choice, in list order, each with its rank
    assert [(r.rank, r.category.rsplit("/", 1)[-1], r.entity, r.label, r.provisional, r.competing) for r in d.readings] == [
        (1, "person", "https://cbdb.example/p/1", "王某", False, True),
        (2, "place", None, None, False, True),
        (3, "person", "https://w3id.org/guji/id/authority/person/X", "王氏", True, True)]
    assert d.readings[0].comment == "據列傳"
    assert (d.review.decision, d.review.reason) == ("rejected", "讀法待考")
    assert [h.sequence for h in d.history] == [1, 2] and d.history[1].reason == "讀法待考"


def test_one_reading_is_not_competing_and_the_graph_may_hold_other_nodes():
    a = entity_annotation()
    props = index(to_triples(a) + [ox.Triple(N(a.iri + "/edition-proposal/WYG"), N(RDF + "type"), N(GUJI + "EditionProposal"))])
    assert annotations_in(props) == [a.iri]
    (r,) = decode(props, a.iri).readings
    assert (r.entity, r.rank, r.competing) == ("https://cbdb.example/p/1", 1, False)
    assert decode(props, annotation_iri(new_id())) is None  # the graph says nothing of it


def test_a_relation_names_its_ends_and_the_statement_once_approved():
    head, tail = entity_annotation(), entity_annotation(target=TextTarget(source=JUAN, start=9, end=12, exact="太史令",
                                                                          prefix="為", suffix="。"))
    rel = Relation(type=RelationType.HELD_OFFICE, head=head.id, tail=tail.id, tail_target=tail.target,
                   head_entity="https://cbdb.example/p/1", tail_entity="https://cbdb.example/o/9")
    a = entity_annotation(target=head.target, readings=[], relation=rel)
    d = decode(index(to_triples(a)), a.iri)
    assert d.readings == () and (d.target.start, d.tail.start) == (4, 9)
    assert d.relation.type == GUJI + "heldOffice" and d.relation.label == RelationType.HELD_OFFICE.label
    assert (d.relation.head, d.relation.tail) == (head.iri, tail.iri)
    assert (d.relation.head_entity, d.relation.tail_entity) == ("https://cbdb.example/p/1", "https://cbdb.example/o/9")
    draft = a.model_copy(update={"status": Status.SUBMITTED, "review": None})
    assert decode(index(to_triples(draft)), a.iri).relation.head_entity is None  # no statement before approval
    assert from_triples(a.id, to_triples(a)) == a


def test_search_reads_only_the_span_and_reading_predicates_and_gets_the_same():
    a = rich()
    full, light = decode(index(to_triples(a)), a.iri), decode(index(to_triples(a), SPAN_AND_READING_PREDICATES), a.iri)
    assert (light.status, light.certainty, light.anchor_state) == (full.status, full.certainty, full.anchor_state)
    assert [(s.source, s.start, s.end, s.exact) for s in light.spans] == [(s.source, s.start, s.end, s.exact) for s in full.spans]
    assert [(r.category, r.entity, r.rank, r.label) for r in light.readings] == [
        (r.category, r.entity, r.rank, r.label) for r in full.readings]
    assert light.history == () and light.review is None  # not read: search does not need them
    content = decode(index(to_triples(a)), a.iri, record=False)  # what the projections ask for
    assert (content.spans, content.readings, content.image, content.note) == (full.spans, full.readings, full.image, full.note)
    assert (content.review, content.history, content.creator) == (None, (), None) and full.review is not None


def test_what_a_hand_loaded_graph_lacks_is_none_not_an_error():
    a = entity_annotation()
    position = N(a.iri + "/target/position")
    triples = [t for t in to_triples(a) if not (t.subject == position and t.predicate.value == OA + "end")]
    triples.append(ox.Triple(N(a.iri), N(GUJI + "reviewStatus"), ox.Literal("submitted")))  # two values: the least
    triples.append(ox.Triple(position, N(OA + "start"), ox.Literal("four")))  # a second, unusable start
    d = decode(index(triples), a.iri)
    assert d.status == "approved" and (d.spans[0].start, d.spans[0].end) == (4, None)
    # search places nothing without a usable span; Neo4j still links the juan and keeps what there is
    assert list(_readings(index(triples, SPAN_AND_READING_PREDICATES), {JUAN})) == []
    m = GraphModel("g", nodes={a.iri: {"Annotation"}})
    _annotations(m, triples, {a.iri: {"Annotation"}, JUAN: {"Juan"}, "https://cbdb.example/p/1": {"Person"}})
    assert m.rels == {(a.iri, "TARGETS", JUAN), (a.iri, "IDENTIFIES", "https://cbdb.example/p/1")}
    assert m.props[a.iri] == {"start": [4], "quote": ["司馬遷"], "category": ["person"]}


def test_a_cyclic_choice_list_ends():
    a = rich()
    cell = N(a.iri + "/choice/list/3")
    triples = [t for t in to_triples(a) if not (t.subject == cell and t.predicate.value == RDF + "rest")]
    triples.append(ox.Triple(cell, N(RDF + "rest"), N(a.iri + "/choice/list/1")))
    assert len(decode(index(triples), a.iri).readings) == 100  # bounded


def test_search_entities_follow_review_and_anchor():
    a = entity_annotation(certainty=Certainty.UNCERTAIN)
    got = list(_readings(index(to_triples(a), SPAN_AND_READING_PREDICATES), {JUAN}))
    assert got == [{"juan": JUAN, "annotation": a.iri, "start": 4, "end": 7, "quote": "司馬遷", "certainty": "uncertain",
                    "category": "person", "rank": 1, "entity": "https://cbdb.example/p/1", "reading_label": "司馬遷"}]
    for other in (entity_annotation(status=Status.SUBMITTED, review=None),
                  entity_annotation(anchor=Anchor(state=AnchorState.ORPHANED)),
                  entity_annotation(history=[HistoryEntry(sequence=1, at=now_iso(), agent=agent_iri("a"), action="create")],
                                    anchor=Anchor(state=AnchorState.NEEDS_REVIEW))):
        assert list(_readings(index(to_triples(other), SPAN_AND_READING_PREDICATES), {JUAN})) == []
    assert list(_readings(index(to_triples(a), SPAN_AND_READING_PREDICATES), {JUAN + "x"})) == []  # another juan


def test_a_category_is_parsed_from_each_of_its_spellings_and_only_those():
    from annotation.model import _ALIASES, CATEGORY_BASE

    spellings = [(s, c) for c in Category for s in (c.value, c.notation, c.iri, f" {c.iri} ", *_ALIASES[c])]
    assert all(Category.parse(s) is c for s, c in spellings)
    assert len({s.strip().removeprefix(CATEGORY_BASE) for s, _ in spellings}) == sum(
        2 + len(_ALIASES[c]) for c in Category)  # no spelling names two categories
    for bad in ("", "per", CATEGORY_BASE, CATEGORY_BASE + "人名x", "https://example.org/person"):
        with pytest.raises(ValueError, match="unknown category"):
            Category.parse(bad)

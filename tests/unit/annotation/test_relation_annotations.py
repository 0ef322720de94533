"""Relation annotations (issue 14 item 4, ADR 0022): a relation between two entity annotations,
its W3C shape, its RDF (the statement only when approved), the review workflow and what happens
to relations when an entity annotation they link is rejected, corrected or deleted."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from annotation.errors import AnnotationInUseError, InvalidAnnotationError, InvalidTransitionError, TargetMismatchError
from annotation.model import (
    AnnotationCreate,
    AnnotationUpdate,
    Category,
    Reading,
    RelationCreate,
    RelationType,
    Status,
    TextSelection,
    annotation_iri,
)
from annotation.presenters import annotation_jsonld, export_csv
from annotation.rdf import from_triples, to_triples
from annotation.schemas import parse_annotation, parse_stored
from annotation.service import PRIVATE_GRAPH_BASE, PUBLIC_GRAPH_BASE, AnnotationService, graphs_of
from kg.namespaces import GUJI
from tests.unit.annotation.test_service import ALICE, CAROL, J, RITA, ROOT, TEXT, VERA, put_text  # noqa: F401

FAN = "https://w3id.org/guji/id/entity/fan"
BALING = "https://w3id.org/guji/id/entity/baling"
OTHER_J = "https://w3id.org/guji/id/text/GJ9a0002/master/001"
ANNO = "http://www.w3.org/ns/anno.jsonld"


@pytest.fixture
def store(tmp_path):
    from kg.store import OxigraphStore

    s = OxigraphStore(tmp_path / "store")
    put_text(s, TEXT)
    put_text(s, "巴陵郡范仲淹", OTHER_J)
    return s


@pytest.fixture
def svc(store):
    return AnnotationService(store)


def entity(svc, exact, category, authority=None, *, who=ALICE, approve=True, juan=J):
    text = TEXT if juan == J else svc.text_of(juan)
    start = text.index(exact)
    a = svc.create(who, AnnotationCreate(
        target=TextSelection(source=juan, start=start, end=start + len(exact), exact=exact),
        readings=[Reading(category=category, authority=authority, label=exact if authority else None)])).annotation
    if approve:
        svc.submit(who, a.id)
        a = svc.review(RITA, a.id, "approve").annotation
    return a


def relation(head, tail, rtype="管理", **sel) -> AnnotationCreate:
    return AnnotationCreate(target=TextSelection(source=head.target.source, **sel),
                            relation=RelationCreate(type=rtype, head=head.id, tail=tail.id,
                                                    tail_target=TextSelection(source=tail.target.source)))


def statements(store, graph):
    return {(t.subject.value, t.predicate.value, t.object.value) for t in store.triples(graph)
            if t.predicate.value.startswith(GUJI) and t.predicate.value.rsplit("#", 1)[1] in {x.value for x in RelationType}}


@pytest.fixture
def ends(svc):
    """范仲淹 (a person, approved, identified) and 巴陵郡 (a place, approved, identified)."""
    return entity(svc, "范仲淹", Category.PERSON, FAN), entity(svc, "巴陵郡", Category.PLACE, BALING)


# -- model and shapes ---------------------------------------------------------------------------------

def test_relation_types_are_the_chisiec_names(shared_dir):
    import json

    names = list(json.loads((shared_dir / "corpus" / "chisiec" / "re_types.json").read_text(encoding="utf-8"))["relations"])
    assert sorted(t.label for t in RelationType) == sorted(names)
    assert RelationType.parse("任職") is RelationType.parse("任职") is RelationType.parse(GUJI + "heldOffice")
    with pytest.raises(ValueError, match="unknown relation type"):
        RelationType.parse("朋友")


def test_an_annotation_is_either_readings_or_a_relation():
    with pytest.raises(ValueError, match="at least one reading"):
        AnnotationCreate(target=TextSelection(source=J))
    with pytest.raises(ValueError, match="no readings"):
        AnnotationCreate(target=TextSelection(source=J), readings=[Reading(category=Category.PERSON)],
                         relation=RelationCreate(type="任职", head="A" * 26, tail="B" * 26, tail_target=TextSelection(source=J)))


def test_create_copies_the_spans_and_round_trips_through_rdf_and_jsonld(svc, store, ends):
    fan, baling = ends
    rel = svc.create(ALICE, relation(fan, baling)).annotation
    assert rel.status is Status.DRAFT and rel.readings == []
    assert (rel.target.exact, rel.relation.tail_target.exact) == ("范仲淹", "巴陵郡")
    assert (rel.relation.tail_target.start, rel.relation.tail_target.end) == (baling.target.start, baling.target.end)
    stored = svc.get(ALICE, rel.id).annotation
    assert stored == rel
    assert from_triples(rel.id, to_triples(rel)) == rel
    doc = annotation_jsonld(rel, "http://x/")
    assert doc["motivation"] == "linking"
    assert doc["body"]["source"] == GUJI + "governed" and doc["body"]["label"] == "管理"
    assert [(t["guji:role"], t["guji:annotation"]) for t in doc["target"]] == [
        ("head", annotation_iri(fan.id)), ("tail", annotation_iri(baling.id))]
    assert parse_stored(doc) == rel  # an export restores without loss
    again = parse_annotation(doc)
    assert again.relation.type is RelationType.GOVERNED and again.relation.head == fan.id
    assert "管理" in export_csv([rel], "http://x/") and baling.id in export_csv([rel], "http://x/")


def test_jsonld_input_names_the_ends_by_url_canonical_or_id(ends):
    fan, baling = ends
    doc = {"@context": ANNO, "type": "Annotation", "motivation": "linking", "body": {"type": "SpecificResource", "source": "任職"},
           "target": [{"type": "SpecificResource", "source": J, "guji:role": "tail", "guji:annotation": f"http://h/annotations/{baling.id}"},
                      {"type": "SpecificResource", "source": J, "guji:role": "head", "guji:annotation": {"id": annotation_iri(fan.id)}}]}
    parsed = parse_annotation(doc)
    assert (parsed.relation.head, parsed.relation.tail, parsed.relation.type) == (fan.id, baling.id, RelationType.HELD_OFFICE)
    for broken, field in (
            ({**doc, "target": doc["target"][:1]}, "target"),
            ({**doc, "body": {"type": "SpecificResource", "source": "朋友"}}, "body.source"),
            ({**doc, "target": [doc["target"][0], {**doc["target"][1], "guji:role": "tail"}]}, "target[1].guji:role"),
            ({**doc, "target": [doc["target"][0], {**doc["target"][1], "guji:annotation": "http://h/annotations/nope"}]},
             "target[1].guji:annotation")):
        with pytest.raises(InvalidAnnotationError) as exc:
            parse_annotation(broken)
        assert exc.value.details["field"] == field


# -- bad ends: a clear 4xx, nothing written ------------------------------------------------------------

def test_ends_must_be_visible_entity_annotations_of_one_juan_with_their_spans(svc, store, ends):
    fan, baling = ends
    before = sorted(store.graphs())
    other = entity(svc, "范仲淹", Category.PERSON, FAN, juan=OTHER_J)
    carols_draft = entity(svc, "滕子京", Category.PERSON, who=CAROL, approve=False)
    rel = svc.create(ALICE, relation(fan, baling)).annotation
    before = sorted(store.graphs())
    cases = [
        (relation(fan, fan), "two different"),
        (relation(fan, other), "both ends of a relation are on one juan"),
        (relation(fan, carols_draft), "no annotation"),  # another annotator's draft is invisible
        (relation(fan, rel), "is itself a relation"),
        (relation(fan, baling, start=0, end=3), "must be the span"),
        (AnnotationCreate(target=TextSelection(source=J), relation=RelationCreate(
            type="管理", head=fan.id, tail="0" * 26, tail_target=TextSelection(source=J))), "no annotation"),
    ]
    for data, message in cases:
        with pytest.raises(TargetMismatchError, match=message):
            svc.create(ALICE, data)
    assert sorted(store.graphs()) == before


# -- review: the statement exists only while approved ---------------------------------------------------

def test_approval_needs_approved_identified_ends_then_states_the_edge(svc, store):
    fan = entity(svc, "范仲淹", Category.PERSON, FAN)
    baling = entity(svc, "巴陵郡", Category.PLACE, approve=False)  # a draft with no authority record yet
    rel = svc.create(ALICE, relation(fan, baling)).annotation
    svc.submit(ALICE, rel.id)
    with pytest.raises(InvalidTransitionError, match="tail annotation .* is draft"):
        svc.review(RITA, rel.id, "approve")
    svc.update(ALICE, baling.id, AnnotationUpdate(target=TextSelection(source=J, exact="巴陵郡"),
                                                  readings=[Reading(category=Category.PLACE)]), if_match="*")
    svc.submit(ALICE, baling.id)
    svc.review(RITA, baling.id, "approve")
    with pytest.raises(InvalidTransitionError, match="identifies no authority record"):
        svc.review(RITA, rel.id, "approve")
    assert statements(store, PRIVATE_GRAPH_BASE + rel.id) == set()
    svc.update(RITA, baling.id, AnnotationUpdate(target=TextSelection(source=J, exact="巴陵郡"),
                                                 readings=[Reading(category=Category.PLACE, authority=BALING)]), if_match="*")
    approved = svc.review(RITA, rel.id, "approve").annotation
    assert (approved.relation.head_entity, approved.relation.tail_entity) == (FAN, BALING)
    assert statements(store, PUBLIC_GRAPH_BASE + rel.id) == {(FAN, GUJI + "governed", BALING)}
    # what the public graph holds is a subset of everything stored (one graph set, two views)
    assert set(graphs_of(approved)[PUBLIC_GRAPH_BASE + rel.id]) <= set(to_triples(approved))


def test_rejecting_an_entity_annotation_retracts_the_relations_that_link_it(svc, store, ends):
    fan, baling = ends
    rel = svc.create(ALICE, relation(fan, baling)).annotation
    svc.submit(ALICE, rel.id)
    svc.review(RITA, rel.id, "approve")
    last = store.last_sequence()
    svc.review(VERA, baling.id, "reject", "巴陵郡 is a commandery, but this span is wrong")
    changes = store.changes_since(last)  # one transaction (one time stamp): the entity and its relation together
    assert {c.at for c in changes} == {changes[0].at}
    assert {PUBLIC_GRAPH_BASE + rel.id, PUBLIC_GRAPH_BASE + baling.id} <= {c.graph for c in changes}
    after = svc.get(ROOT, rel.id).annotation
    assert after.status is Status.REJECTED
    assert after.history[-1].action == "reject" and f"tail annotation {baling.id} is rejected" in after.history[-1].reason
    assert list(store.triples(PUBLIC_GRAPH_BASE + rel.id)) == []
    assert not any(statements(store, g) for g in store.graphs())


def test_correcting_an_entity_annotation_restates_the_edge(svc, store, ends):
    fan, baling = ends
    rel = svc.create(ALICE, relation(fan, baling, "到达")).annotation
    svc.submit(ALICE, rel.id)
    svc.review(RITA, rel.id, "approve")
    yueyang = "https://w3id.org/guji/id/entity/baling-jun"
    svc.update(RITA, baling.id, AnnotationUpdate(target=TextSelection(source=J, exact="巴陵郡"),
                                                 readings=[Reading(category=Category.PLACE, authority=yueyang)]), if_match="*")
    assert statements(store, PUBLIC_GRAPH_BASE + rel.id) == {(FAN, GUJI + "arrivedAt", yueyang)}
    assert svc.get(ROOT, rel.id).annotation.history[-1].reason == f"entity annotation {baling.id} changed"


def test_an_entity_annotation_linked_by_a_relation_is_not_deleted(svc, store):
    fan = entity(svc, "范仲淹", Category.PERSON, FAN, approve=False)
    baling = entity(svc, "巴陵郡", Category.PLACE, BALING, approve=False)
    rel = svc.create(ALICE, relation(fan, baling)).annotation
    with pytest.raises(AnnotationInUseError, match=rel.id) as exc:
        svc.delete(ALICE, fan.id, if_match="*")
    assert exc.value.details["relations"] == [rel.id]
    assert svc.get(ALICE, fan.id).annotation.status is Status.DRAFT
    svc.delete(ALICE, rel.id, if_match="*")
    assert svc.delete(ALICE, fan.id, if_match="*").annotation.status is Status.DELETED


def test_a_relation_stays_a_relation(svc, ends):
    fan, baling = ends
    rel = svc.create(ALICE, relation(fan, baling)).annotation
    with pytest.raises(TargetMismatchError, match="stays what it is"):
        svc.update(ALICE, rel.id, AnnotationUpdate(target=TextSelection(source=J, exact="范仲淹"),
                                                   readings=[Reading(category=Category.PERSON)]), if_match="*")
    changed = svc.update(ALICE, rel.id, AnnotationUpdate(**relation(fan, baling, "驻守").model_dump()), if_match="*").annotation
    assert changed.relation.type is RelationType.GARRISONED
    assert changed.history[-1].before["relation"]["type"] == "governed"


def test_every_guji_term_a_relation_writes_is_declared_in_the_ontology(svc, store, ends):
    import rdflib

    from kg.ontology import load_ontology_graph

    fan, baling = ends
    used = set()
    for rtype in RelationType:
        rel = svc.create(ALICE, relation(fan, baling, rtype.label)).annotation
        svc.submit(ALICE, rel.id)
        rel = svc.review(RITA, rel.id, "approve").annotation
        used |= {t.predicate.value for t in to_triples(rel) if t.predicate.value.startswith(GUJI)}
    declared = {str(s) for s in load_ontology_graph().subjects(rdflib.RDF.type, None)}
    assert {GUJI + "relationHead", GUJI + "relationTail"} | {t.iri for t in RelationType} <= used
    assert sorted(used - declared) == []


def test_a_relation_follows_its_ends_span_in_the_same_write(svc, store):
    fan = entity(svc, "范仲淹", Category.PERSON, FAN, approve=False)
    teng = entity(svc, "滕子京", Category.PERSON, approve=False)
    rel = svc.create(ALICE, relation(fan, teng, "同僚")).annotation
    moved = svc.update(ALICE, teng.id, AnnotationUpdate(target=TextSelection(source=J, exact="滕宗諒"),
                                                        readings=[Reading(category=Category.PERSON)]), if_match="*").annotation
    after = svc.get(ALICE, rel.id).annotation
    assert after.relation.tail_target == moved.target and after.relation.tail_target.exact == "滕宗諒"
    assert after.history[-1].reason == f"entity annotation {teng.id} changed"
    assert after.history[-1].before["relation"]["tail_target"]["exact"] == "滕子京"
    assert after.target == rel.target  # the head did not move


def test_a_bad_selector_on_the_tail_names_the_tail(ends):
    fan, baling = ends
    doc = {"@context": ANNO, "type": "Annotation", "motivation": "linking", "body": {"type": "SpecificResource", "source": "管理"},
           "target": [{"type": "SpecificResource", "source": J, "guji:role": "head", "guji:annotation": fan.id},
                      {"type": "SpecificResource", "source": J, "guji:role": "tail", "guji:annotation": baling.id,
                       "selector": {"type": "TextQuoteSelector", "exact": ""}}]}
    with pytest.raises(InvalidAnnotationError) as exc:
        parse_annotation(doc)
    assert exc.value.details["field"] == "target[1].selector[0].exact"

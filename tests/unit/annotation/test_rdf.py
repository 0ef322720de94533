"""Annotations as RDF: a lossless, deterministic, blank-node-free graph that the store keeps as written."""

from __future__ import annotations

import pyoxigraph as ox

from annotation.model import (
    Anchor,
    AnchorState,
    Annotation,
    Category,
    Certainty,
    HistoryEntry,
    ImageRegion,
    Reading,
    Review,
    Status,
    TextTarget,
    agent_iri,
    annotation_iri,
    new_id,
    now_iso,
)
from annotation.rdf import digest, from_triples, to_triples
from kg.namespaces import OA
from kg.store import OxigraphStore


def rich() -> Annotation:
    i, now = new_id(), now_iso()
    return Annotation(
        id=i, canonical="urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427", creator=agent_iri("alice"), created=now, modified=now,
        status=Status.REJECTED, revision=4,
        target=TextTarget(source="https://w3id.org/guji/id/text/T/master/001", start=1, end=3, exact="𫝊\U00100038",
                          prefix="王", suffix="甫字伯玉"),
        image=ImageRegion(source="https://iiif.example.org/c/1", xywh="xywh=1,2,30,400"),
        readings=[Reading(category=Category.PERSON, authority="https://cbdb.example/p/1", label="王某", note="據列傳"),
                  Reading(category=Category.PLACE),
                  Reading(category=Category.PERSON, authority="https://w3id.org/guji/id/authority/person/X", label="王氏",
                          provisional=True)],
        note="二讀並存", certainty=Certainty.UNCERTAIN,
        review=Review(reviewer=agent_iri("rita"), at=now, decision="rejected", reason="讀法待考"),
        anchor=Anchor(state=AnchorState.NEEDS_REVIEW, reason="the quote occurs 2 times", at=now),
        history=[HistoryEntry(sequence=1, at=now, agent=agent_iri("alice"), action="create", after={"note": "二讀並存"}),
                 HistoryEntry(sequence=2, at=now, agent=agent_iri("rita"), action="reject", before={"status": "submitted"},
                              after={"status": "rejected"}, reason="讀法待考")])


def test_round_trip_is_lossless():
    a = rich()
    assert from_triples(a.id, to_triples(a)) == a


def test_deterministic_and_without_blank_nodes():
    a = rich()
    t1, t2 = to_triples(a), to_triples(a.model_copy(deep=True))
    assert t1 == t2 and digest(t1) == digest(reversed(t2))
    assert not any(isinstance(x, ox.BlankNode) for t in t1 for x in (t.subject, t.object))
    assert all(t.subject.value.startswith(annotation_iri(a.id)) or t.subject.value.startswith(("https://w3id.org/guji/id/agent/",
               "https://w3id.org/guji/id/authority/")) for t in t1)


def test_competing_readings_are_an_ordered_choice():
    t = to_triples(rich())
    bodies = [x.object.value for x in t if x.predicate.value == OA + "hasBody"]
    assert sorted(b.rsplit("/", 1)[-1] for b in bodies) == ["choice", "note"]
    firsts = [x.object.value for x in t if x.predicate.value.endswith("#first")]
    assert [f.rsplit("/", 1)[-1] for f in firsts] == ["1", "2", "3"]


def test_what_the_store_keeps_is_what_was_written(tmp_path):
    """Literals are written in the store's canonical form, so diffs and ETags are stable."""
    store = OxigraphStore(tmp_path / "s")
    a = rich()
    g = "https://w3id.org/guji/graph/private/annotation/" + a.id
    store.replace_graph(g, to_triples(a), agent="t")
    assert set(store.triples(g)) == set(to_triples(a))
    assert store.replace_graph(g, to_triples(a), agent="t") is None  # nothing to write the second time
    a2 = a.model_copy(deep=True)
    a2.note = "改"
    change = store.replace_graph(g, to_triples(a2), agent="t")
    assert (change.added, change.removed) == (1, 1)  # a small diff, not a rewrite

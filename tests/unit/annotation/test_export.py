"""Exports: our W3C JSON-LD round-trips without loss; the CSV keeps every field."""

from __future__ import annotations

import csv
import io
import json

import pytest

from annotation.model import AnnotationCreate, Category, Certainty, ImageRegion, Reading, Status, TextSelection
from annotation.policies import ANONYMOUS
from annotation.presenters import CSV_COLUMNS, annotation_jsonld, export_csv, export_jsonld
from annotation.schemas import parse_annotation, parse_collection, parse_stored
from annotation.service import AnnotationService
from kg.store import OxigraphStore
from tests.unit.annotation.test_rdf import rich
from tests.unit.annotation.test_service import ALICE, J, RITA, ROOT, TEXT, put_text

BASE = "http://guji.example/"
OTHER = "https://w3id.org/guji/id/text/GJ9b0001/master/001"


@pytest.fixture
def svc(tmp_path):
    store = OxigraphStore(tmp_path / "a")
    put_text(store, TEXT)
    put_text(store, "甲乙丙丁戊己庚辛壬癸", OTHER)
    return AnnotationService(store)


def populate(svc: AnnotationService) -> list[str]:
    """Annotations in every state, with every kind of field."""
    ids = []
    a = svc.create(ALICE, AnnotationCreate(
        target=TextSelection(source=J, exact="滕子京"), image=ImageRegion(source="https://iiif.example.org/c/1", xywh="xywh=1,2,3,4"),
        readings=[Reading(category=Category.PERSON, authority="https://cbdb.example/p/1027", label="滕宗諒", note="字子京"),
                  Reading(category=Category.PERSON, label="滕子京(另)", provisional=True)],
        note="二說並存", certainty=Certainty.UNCERTAIN)).annotation
    svc.submit(ALICE, a.id)
    svc.review(RITA, a.id, "approve")
    ids.append(a.id)
    b = svc.create(ALICE, AnnotationCreate(target=TextSelection(source=J, start=25, end=28),
                                           readings=[Reading(category=Category.PLACE)])).annotation
    svc.submit(ALICE, b.id)
    svc.review(RITA, b.id, "reject", "巴陵郡當連下文")
    ids.append(b.id)
    c = svc.create(ALICE, AnnotationCreate(target=TextSelection(source=OTHER, exact="丙丁"),
                                           readings=[Reading(category="年號")])).annotation
    ids.append(c.id)
    svc.reanchor(RITA, J, TEXT, TEXT.replace("岳陽樓記", "岳陽樓之記"))  # gives a re-anchor history entry
    return ids


def test_one_annotation_round_trips_through_json_ld():
    a = rich()
    doc = json.loads(json.dumps(annotation_jsonld(a, BASE), ensure_ascii=False))
    assert parse_stored(doc) == a
    # the same document is also valid input for create/update (server-managed keys ignored)
    created = parse_annotation(doc)
    assert created.readings == a.readings and created.target.exact == a.target.exact and created.image == a.image


def test_export_restore_export_is_identical(svc, tmp_path):
    ids = populate(svc)
    everything = svc.export(ROOT, status=list(Status)[:4])
    assert [a.id for a in everything] == ids
    doc = json.loads(json.dumps(export_jsonld(everything, BASE, collection_id=BASE + "api/annotations/export", label="all")))
    # a fresh server
    store2 = OxigraphStore(tmp_path / "b")
    put_text(store2, TEXT)
    put_text(store2, "甲乙丙丁戊己庚辛壬癸", OTHER)
    svc2 = AnnotationService(store2)
    assert svc2.restore(ROOT, parse_collection(doc)) == {"created": 3, "replaced": 0, "unchanged": 0}
    again = svc2.export(ROOT, status=list(Status)[:4])
    assert again == everything  # every field, history included
    assert export_jsonld(again, BASE, collection_id=BASE + "api/annotations/export", label="all") == doc
    assert svc2.restore(ROOT, parse_collection(doc)) == {"created": 0, "replaced": 0, "unchanged": 3}  # idempotent
    # ETags agree too: the stored graphs are the same
    assert [svc2.get(ROOT, i).etag for i in ids] == [svc.get(ROOT, i).etag for i in ids]
    # status decides the graph again on restore: only the approved one is public
    assert [s.annotation.id for s in svc2.list(ANONYMOUS).items] == [ids[0]]


def test_export_scopes(svc):
    ids = populate(svc)
    assert [a.id for a in svc.export(ROOT, J, status=list(Status)[:4])] == ids[:2]
    assert [a.id for a in svc.export(ROOT, "https://w3id.org/guji/id/work/GJ9b0001", status=list(Status)[:4])] == []  # no work triples here
    assert [a.id for a in svc.export(ROOT, OTHER, status=[Status.DRAFT])] == [ids[2]]
    assert [a.id for a in svc.export(ANONYMOUS)] == [ids[0]]  # the public: approved only


def test_csv_keeps_every_field(svc):
    ids = populate(svc)
    annotations = svc.export(ROOT, status=list(Status)[:4])
    text = export_csv(annotations, BASE)
    assert text.startswith("\ufeff")  # spreadsheets read UTF-8 Chinese correctly
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert list(rows[0]) == CSV_COLUMNS
    assert [(r["id"], r["reading"]) for r in rows] == [(ids[0], "1"), (ids[0], "2"), (ids[1], "1"), (ids[2], "1")]
    first, second = rows[0], rows[1]
    assert (first["exact"], first["authority"], first["label"], first["reading_note"]) == ("滕子京", "https://cbdb.example/p/1027", "滕宗諒", "字子京")
    assert second["provisional"] == "true" and second["authority"].startswith("https://w3id.org/guji/id/authority/person/")
    assert (first["certainty"], first["note"], first["image_xywh"], first["status"], first["reviewer"]) == ("uncertain", "二說並存", "xywh=1,2,3,4", "approved", "rita")
    assert rows[2]["review_reason"] == "巴陵郡當連下文" and rows[3]["category_label"] == "年號"
    assert int(first["start"]) == TEXT.index("滕子京") + 1  # after the re-anchoring shift
    history = json.loads(first["history"])
    assert [h["action"] for h in history] == ["create", "submit", "approve", "reanchor"]

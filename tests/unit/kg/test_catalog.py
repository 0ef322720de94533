"""The catalogue's neighbourhood reaches into approved annotations (not drafts), and catalogue reads
stay fast however many annotation graphs the store holds."""

import time
from pathlib import Path

import pyoxigraph as ox

from kg.catalog import Catalog
from kg.ingest_kanripo import find_works, ingest_work
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[3]
JUAN = "https://w3id.org/guji/id/text/GJ4a0002/master/001"
ENTITY = "https://w3id.org/guji/id/entity/teng"


def annotated_store(tmp_path, n_private=300):
    from annotation.model import AnnotationCreate, Category, Reading, TextSelection
    from annotation.policies import Identity, Role
    from annotation.service import AnnotationService

    store = OxigraphStore(tmp_path / "s")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(store, w)
    svc = AnnotationService(store)
    text = svc.text_of(JUAN)
    at = text.index("滕子京")
    alice, rita = Identity("alice", Role.ANNOTATOR), Identity("rita", Role.REVIEWER)
    a = svc.create(alice, AnnotationCreate(target=TextSelection(source=JUAN, start=at, end=at + 3, exact="滕子京"),
                                           readings=[Reading(category=Category.PERSON, authority=ENTITY, label="滕宗諒", provisional=True)])).annotation
    svc.submit(alice, a.id)
    svc.review(rita, a.id, "approve")
    draft_at = text.index("巴陵郡")
    for _ in range(n_private):  # many drafts: many private graphs
        svc.create(alice, AnnotationCreate(target=TextSelection(source=JUAN, start=draft_at, end=draft_at + 3, exact="巴陵郡"),
                                           readings=[Reading(category=Category.PLACE)]))
    return store


def test_neighbourhood_of_an_entity_sees_approved_annotations_only(tmp_path):
    store = annotated_store(tmp_path, n_private=5)
    hood = Catalog(store).neighbourhood(ENTITY)
    assert hood["label"] == "滕宗諒"
    assert any(not e["out"] and "/annotation/" in e["iri"] for e in hood["edges"])
    juan = Catalog(store).neighbourhood(JUAN)
    sources = [e for e in juan["edges"] if not e["out"] and e["predicate"].endswith("hasSource")]
    assert len(sources) == 1  # the approved annotation's target, none of the five drafts


def test_catalogue_reads_leave_annotation_graphs_out(tmp_path):
    store = annotated_store(tmp_path, n_private=300)
    assert sum(1 for g in store.graphs() if "/annotation/" in g) >= 301
    started = time.perf_counter()
    text = Catalog(store).juan_text(JUAN)
    assert text["text"].startswith("岳陽樓記")
    assert time.perf_counter() - started < 2.0  # 301 graphs in the default dataset made this seconds

"""Manifests and collections from the sample package: valid IIIF Presentation 3 (the consortium's
JSON Schema from ../shared), canvases in reading order linked in RDF to folio sides and frames,
and nothing of the preservation level anywhere."""

from __future__ import annotations

import json

import pytest

from images.service import ImageService
from images.store import PyramidStore
from kg.package import ingest_package
from kg.store import OxigraphStore
from tests._images import SAMPLE

BOOK = "110000-0001-0000001"  # 桃花源記: images scanned from the service copy R1-S


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    d = tmp_path_factory.mktemp("iiif")
    store = OxigraphStore(d / "store")
    assert ingest_package(store, SAMPLE, agent="test", pyramids=PyramidStore(d / "pyr")).report.valid
    return ImageService(store, PyramidStore(d / "pyr"), base_url="http://guji.test/")


@pytest.fixture(scope="module")
def schema(shared_dir):
    from tests.conftest import require

    path = shared_dir / "conformance" / "iiif" / "iiif_3_0.json"
    require(path.is_file(), f"IIIF Presentation 3 schema not found at {path}")
    import jsonschema

    doc = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(doc)


def test_the_schema_tells_broken_from_valid(schema, shared_dir):
    fixtures = shared_dir / "conformance" / "iiif" / "fixtures"
    assert not list(schema.iter_errors(json.loads((fixtures / "full_example.json").read_text())))
    assert list(schema.iter_errors(json.loads((fixtures / "broken_simple_image.json").read_text())))


def test_every_manifest_and_collection_is_valid_presentation_3(svc, schema):
    docs = [svc.book_manifest(BOOK), svc.book_manifest("110000-0001-0000002"), svc.reel_manifest("R1-S"),
            svc.book_collection(BOOK), svc.work_collection(f"census/{BOOK}")]
    for doc in docs:
        errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in schema.iter_errors(doc)]
        assert not errors, (doc["id"], errors[:5])


def test_the_book_manifest_reads_right_to_left_in_folio_order_with_a_toc(svc):
    m = svc.book_manifest(BOOK)
    assert m["viewingDirection"] == "right-to-left"
    assert [c["label"]["zh"][0] for c in m["items"]] == ["卷一 第1a葉", "卷一 第1b葉", "卷一 第2a葉", "卷一 第2b葉"]
    assert [c["label"]["en"][0] for c in m["items"]][0] == "juan 1, folio 1a"
    assert m["items"][0]["items"][0]["items"][0]["body"]["service"][0]["id"].endswith("/iiif/image/guji-sample-2026-001~B1-IMG-1")
    assert [r["label"]["zh"][0] for r in m["structures"]] == ["卷一"]
    assert [i["id"] for i in m["structures"][0]["items"]] == [c["id"] for c in m["items"]]
    assert m["rights"] == "http://creativecommons.org/licenses/by/4.0/"
    assert m["requiredStatement"]["value"]["zh"] == ["guji 示例图书馆"]
    assert m["rendering"][0]["id"].startswith("http://guji.test/api/texts?iri=")
    assert m["seeAlso"][0]["format"] == "text/turtle"


def test_the_reel_manifest_is_in_frame_order(svc):
    m = svc.reel_manifest("R1-S")
    assert [c["label"]["en"][0] for c in m["items"]] == ["frame 1", "frame 2", "frame 3", "frame 4"]
    assert m["items"][2]["label"]["zh"][0] == "画幅 3（卷一 第2a葉）"


def test_collections_list_the_copy_and_the_reel(svc):
    c = svc.book_collection(BOOK)
    assert [i["id"] for i in c["items"]] == [f"http://guji.test/iiif/books/{BOOK}/manifest", "http://guji.test/iiif/reels/R1-S/manifest"]
    w = svc.work_collection(f"census/{BOOK}")
    assert [i["id"] for i in w["items"]] == [f"http://guji.test/iiif/books/{BOOK}/collection"]


def test_sparql_goes_text_folio_canvas_frame(svc):
    rows = svc.select("""
        SELECT ?folio ?start ?end ?canvas ?frameNo ?reelId WHERE {
          ?canvas a iiif:Canvas ; guji:showsFolio ?side ; guji:showsFrame ?frame .
          ?side guji:startOffset ?start ; guji:endOffset ?end ; dcterms:isPartOf/guji:text ?text ; guji:pageId ?folio .
          ?frame guji:frameNumber ?frameNo ; guji:onReel/dcterms:identifier ?reelId ; guji:showsFolio ?side .
        } ORDER BY ?frameNo""")
    assert [(r["folio"], r["reelId"], int(r["frameNo"])) for r in rows] == [
        ("B1_MING_001-1a", "R1-S", 1), ("B1_MING_001-1b", "R1-S", 2), ("B1_MING_001-2a", "R1-S", 3), ("B1_MING_001-2b", "R1-S", 4)]


def test_nothing_of_the_preservation_level_reaches_a_manifest(svc):
    text = json.dumps([svc.book_manifest(BOOK), svc.book_manifest("110000-0001-0000002"), svc.reel_manifest("R1-S")])
    assert "TIF" not in text and "preservation" not in text
    from images.errors import ImageNotFoundError

    for image_id in ("guji-sample-2026-001~B2-TIF-1", "guji-sample-2026-001~B3-TIF-1", "guji-sample-2026-001~B1-TXT-1"):
        with pytest.raises(ImageNotFoundError):
            svc.info(image_id)
    with pytest.raises(ImageNotFoundError):
        svc.book_manifest("110000-0001-0000003")  # 岳陽樓記: preservation masters only

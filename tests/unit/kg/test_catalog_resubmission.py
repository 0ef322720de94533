"""A unit resubmits a corrected batch that describes the same physical books again (the acceptance
workflow's "revise"): the book's record is the newest submission's, and the page still answers
(the union of both package graphs made the book's joins grow as 2^patterns)."""

import json
import shutil

import pytest

from api.context import SAMPLE_DIR
from kg.catalog import Catalog
from kg.package import ingest_package
from kg.store import OxigraphStore

SAMPLE = SAMPLE_DIR / "package" / "guji-sample-2026-001"


def resubmission(tmp_path, batch: str):
    import bagit

    dst = tmp_path / batch
    shutil.copytree(SAMPLE, dst)
    sub = json.loads((dst / "data/submission.json").read_text(encoding="utf-8"))
    sub["batch"] = batch
    (dst / "data/submission.json").write_text(json.dumps(sub, ensure_ascii=False), encoding="utf-8")
    books = dst / "data/books.csv"
    books.write_text(books.read_text(encoding="utf-8").replace("善 001", "善 001（修订）"), encoding="utf-8")
    bag = bagit.Bag(str(dst))
    bag.info["External-Identifier"] = batch
    bag.save(manifests=True)
    return dst


@pytest.mark.timeout(60)
def test_the_newest_submission_is_the_record(tmp_path):
    store = OxigraphStore(tmp_path / "ox")
    try:
        ingest_package(store, SAMPLE, agent="t")
        assert ingest_package(store, resubmission(tmp_path, "guji-sample-2026-001-r1"), agent="t").report.valid
        book = Catalog(store).book("110000-0001-0000001")
        assert book["call_number"] == "善 001（修订）"
        assert len(book["digital"]) == 1 and len(book["microfilm"]) == 3
        admin = Catalog(store).book("110000-0001-0000001", include_preservation=True)
        assert admin["call_number"] == "善 001（修订）"
    finally:
        store.close()

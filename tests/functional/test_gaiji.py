"""外字 shown (issue 12): a private-use character is drawn as its glyph image (or its nearest
character, marked) with the IDS as a tooltip, in the reading view's data and in search snippets;
the stored text and its offsets never change."""

import base64
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.context import SAMPLE_DIR
from api.settings import Settings
from kg.ingest_kanripo import find_works, ingest_work
from kg.package import ingest_package, validate_package
from kg.package.reader import glyph_data_uri
from kg.store import OxigraphStore

PACKAGE = SAMPLE_DIR / "package" / "guji-sample-2026-001"
JUAN = "https://w3id.org/guji/id/item/census/110000-0001-0000002/digital/service/text/001"
PUA = "\ue000"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = tmp_path_factory.mktemp("gaiji")
    store = OxigraphStore(home / "oxigraph")
    for w in find_works([SAMPLE_DIR / "kanripo"]):
        ingest_work(store, w)
    assert ingest_package(store, PACKAGE, agent="t").report.valid
    store.close()
    with TestClient(create_app(Settings(home=home, environment="test"))) as c:
        c.app.state.context.sync_projections()
        yield c


def test_the_reading_data_carries_the_glyph_its_ids_and_nearest_character(client):
    r = client.get("/api/reading", params={"iri": JUAN}).json()
    assert PUA in r["text"]  # the text itself is untouched
    (g,) = r["gaiji"]
    assert (g["char"], g["code_point"], g["ids"], g["nearest"]) == (PUA, "U+E000", "⿰言⿱亠口", "諳")
    png = (PACKAGE / "data" / "gaiji" / "GJ0001.png").read_bytes()
    assert g["image"] == "data:image/png;base64," + base64.b64encode(png).decode()


def test_a_snippet_draws_the_glyph_with_the_ids_as_tooltip(client):
    page = client.get("/search", params={"q": "结为霜"}).text
    assert '<span class="gaiji gi" title="⿰言⿱亠口 · U+E000 · ≈ 諳"><img src="data:image/png;base64,' in page
    api = client.get("/api/search", params={"q": "结为霜"}).json()
    assert any(PUA in h["snippet"] for h in api["hits"])  # the API keeps the character itself


def test_a_glyph_image_outside_the_package_is_never_read(tmp_path):
    assert glyph_data_uri(PACKAGE, "../../../../etc/passwd") is None
    assert glyph_data_uri(PACKAGE, "gaiji/GJ0001.png").startswith("data:image/png;base64,")


def test_a_package_naming_a_file_outside_data_is_refused(tmp_path):
    import shutil

    import bagit

    pkg = tmp_path / "p"
    shutil.copytree(PACKAGE, pkg)
    csv = pkg / "data" / "gaiji.csv"
    csv.write_text(csv.read_text(encoding="utf-8").replace("gaiji/GJ0001.png", "../bagit.txt"), encoding="utf-8")
    bagit.Bag(str(pkg)).save(manifests=True)
    report = validate_package(pkg).report
    assert not report.valid
    assert any(p.code == "file_not_in_package" and p.field == "glyph_image" for p in report.violations)

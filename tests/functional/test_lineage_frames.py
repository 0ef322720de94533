"""Lineage that never breaks at a hidden step, and frames that name their folio side (issue 12)."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from kg.catalog import frame_folio
from kg.ingest_kanripo import find_works, ingest_work
from kg.package import ingest_package
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[2]
BOOK = "https://w3id.org/guji/id/item/census/"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = tmp_path_factory.mktemp("lineage")
    store = OxigraphStore(home / "oxigraph")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(store, w)
    assert ingest_package(store, ROOT / "samples" / "package" / "guji-sample-2026-001", agent="t").report.valid
    store.close()
    with TestClient(create_app(Settings(home=home, environment="test"))) as c:
        c.app.state.context.sync_projections()
        yield c


def chain_to_book(book: dict, start: str) -> list[str]:
    parent = {d["from"]: d["to"] for d in book["derivations"]}
    path, cur = [start], start
    while cur in parent and len(path) < 10:
        cur = parent[cur]
        path.append(cur)
    return path


def test_service_copy_made_from_a_hidden_master_traces_back_to_the_book(client):
    book = client.get("/api/books/110000-0001-0000002").json()
    (service,) = book["digital"]
    assert service["derivedFrom"] == BOOK + "110000-0001-0000002/digital/preservation"
    assert chain_to_book(book, service["iri"])[-1] == BOOK + "110000-0001-0000002"
    (hidden,) = book["hidden"]
    assert hidden["public"] is False and hidden["derivedFrom"] == BOOK + "110000-0001-0000002"
    assert set(hidden) == {"iri", "public", "kind", "level", "derivedFrom", "method"}  # no label, files, checksums, places
    assert "B2-TIF-1" not in str(book) and "preservation://" not in str(book)


def test_film_written_from_a_hidden_master_traces_back_to_the_book(client):
    book = client.get("/api/books/110000-0001-0000003").json()
    (film,) = book["microfilm"]
    assert chain_to_book(book, film["iri"])[-1] == BOOK + "110000-0001-0000003"
    page = client.get("/books/110000-0001-0000003").text
    assert "No digital copy" not in page and "it is not public" in page


def test_book_page_draws_the_unbroken_chain(client):
    page = client.get("/books/110000-0001-0000002").text
    assert 'class="node hidden"' in page and "不公开 not public" in page
    assert page.count('class="edge"') == 2  # book → preservation master → service copy


def test_admin_sees_the_master_itself_not_a_hidden_step(client):
    ctx = client.app.state.context
    key = ctx.users.add("admin-1", "admin")[1]
    book = client.get("/api/books/110000-0001-0000002", headers={"authorization": f"Bearer {key}"}).json()
    assert book["hidden"] == [] and len(book["digital"]) == 2


@pytest.mark.parametrize("frame, folio", [(1, "1a"), (2, "1b"), (3, "2a"), (4, "2b")])
def test_frame_names_its_folio_side(client, frame, folio):
    r = client.get(f"/api/reels/R1-S/frames/{frame}")
    assert r.status_code == 200, r.text
    assert r.json()["folio"] == folio and r.json()["folio_exact"] is True


def test_interpolated_folio_says_so():
    assert frame_folio(2, 1, 3, "1a", "2b") == {"folio": "1b", "folio_exact": False}
    assert frame_folio(5, 1, 4, "1a", "2b") == {"folio": None, "folio_exact": False}
    assert frame_folio(1, 1, 2, None, None) == {"folio": None, "folio_exact": False}
    assert frame_folio(3, 3, 6, "2", "3") == {"folio": "2a", "folio_exact": True}  # bare leaves: 2a..3b


def test_book_page_links_frame_to_folio_and_back(client):
    page = client.get("/books/110000-0001-0000001").text
    assert 'id="frame-R1-S-2" href="#folio-1b"' in page
    assert 'id="folio-1b"' in page and 'href="#frame-R1-S-2"' in page
    assert "#f-1b" in page  # the folio opens the reading view at that side

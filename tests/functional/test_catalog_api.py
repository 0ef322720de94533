"""Book pages over HTTP: a physical book with all its copies, reel frames, works, items, texts, search."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from kg.ingest_kanripo import find_works, ingest_work
from kg.package import ingest_package
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = tmp_path_factory.mktemp("catalog")
    store = OxigraphStore(home / "oxigraph")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(store, w)
    result = ingest_package(store, ROOT / "samples" / "package" / "guji-sample-2026-001", agent="t")
    assert result.report.valid, result.report.to_text()
    store.close()
    app = create_app(Settings(home=home, environment="test"))
    with TestClient(app) as c:
        c.app.state.context.sync_projections()
        yield c


def test_book_page_lists_every_copy_and_the_derivation_chain(client):
    r = client.get("/api/books/110000-0001-0000001")
    assert r.status_code == 200
    book = r.json()
    assert book["title"] == "桃花源記" and book["call_number"] == "善 001"
    assert book["holding_library"]["name"] == "guji 示例图书馆"
    gens = sorted(c["generation"].rsplit("/", 1)[1] for c in book["microfilm"])
    assert gens == ["master", "print-master", "service-copy"]
    master = next(c for c in book["microfilm"] if c["generation"].endswith("/master"))
    assert [r["reel_id"] for r in master["reels"]] == ["R1-M"]
    assert [(f["start"], f["end"]) for f in master["reels"][0]["frames"]] == [(1, 2), (3, 4)]
    assert [i["level"].rsplit("/", 1)[1] for i in master["inspections"]] == ["level-0"]
    (digital,) = book["digital"]
    assert digital["level"].endswith("/service")
    assert [t["juan"] for t in digital["texts"]] == ["001"]
    assert {f["fileId"] for f in digital["files"]} == {"B1-IMG-1", "B1-IMG-2", "B1-IMG-3", "B1-IMG-4", "B1-TXT-1"}
    assert len(book["derivations"]) == 4  # digital ← service ← print master ← master ← book


def test_book_page_never_shows_preservation_files(client):
    r = client.get("/api/books/110000-0001-0000002")
    book = r.json()
    assert [d["level"].rsplit("/", 1)[1] for d in book["digital"]] == ["service"]
    assert "preservation://" not in r.text and "B2-TIF-1" not in r.text and "sample@example.org" not in r.text


def test_unknown_book_is_404_in_the_error_shape(client):
    r = client.get("/api/books/999999-9999-9999999")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_reel_frame(client):
    r = client.get("/api/reels/R1-S/frames/3")
    assert r.status_code == 200
    body = r.json()
    assert (body["census_no"], body["juan"], body["folios"], body["frames"]) == (
        "110000-0001-0000001", "001", {"start": "2a", "end": "2b"}, {"start": 3, "end": 4})
    r = client.get("/api/reels/R1-S/frames/99")
    assert r.status_code == 404 and "1-2, 3-4" in r.json()["error"]["message"]


def test_work_item_and_text(client):
    w = client.get("/api/works/GJ4a0002").json()
    assert {c["code"]: c["folios"] for c in w["copies"]} == {"master": 2, "QING": 3}
    item = client.get("/api/items/GJ4a0002/QING").json()
    assert [t["label"] for t in item["toc"]] == ["岳陽樓記"]
    (juan,) = item["juans"]
    text = client.get("/api/texts", params={"iri": juan["iri"]}).json()
    assert text["text"].startswith("岳陽樓記") and len(text["text"]) == juan["chars"]
    assert [f["page"] for f in text["folios"]] == ["GJ4a0002_QING_001-1a", "GJ4a0002_QING_001-1b", "GJ4a0002_QING_001-2a"]


def test_neighbourhood_from_sparql_when_no_neo4j(client):
    r = client.get("/api/graph/neighbourhood", params={"iri": "https://w3id.org/guji/id/item/census/110000-0001-0000001"})
    body = r.json()
    assert body["source"] == "sparql"
    assert any(e["predicate"].endswith("heldBy") and e["label"] == "guji 示例图书馆" for e in body["edges"])
    assert any(not e["out"] and e["predicate"].endswith("wasDerivedFrom") for e in body["edges"])


def test_search_api(client):
    r = client.get("/api/search", params={"q": "为业"})
    assert r.status_code == 200
    body = r.json()
    assert body["total"] >= 2
    assert all("source_id" in h and h["snippet"] for h in body["hits"])
    assert client.get("/api/search", params={"q": "为业", "exact": True}).json()["total"] == 0
    assert client.get("/api/search", params={"q": ""}).status_code == 422


@pytest.fixture(scope="module")
def annotated(tmp_path_factory):
    """The sample texts with two approved annotations and a draft, made over HTTP by real users."""
    from tests.functional._annotations import JUAN, PERSON, PLACE, annotation, created, make_users, path

    home = tmp_path_factory.mktemp("annotated")
    store = OxigraphStore(home / "oxigraph")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(store, w)
    store.close()
    with TestClient(create_app(Settings(home=home, environment="test"))) as c:
        c.app.state.context.sync_projections()
        h = make_users(c)
        text = c.get("/api/texts", params={"iri": JUAN}).json()["text"]

        def at(quote: str) -> tuple[str, int, int]:
            start = text.index(quote)
            return quote, start, start + len(quote)

        for quote, category, name, approve in (("滕子京", PERSON, "滕宗諒", True), ("巴陵郡", PLACE, "岳州", True),
                                               ("范仲淹", PERSON, "范文正", False)):
            url, _, _ = created(c, h["alice"], annotation(*at(quote), category=category, label=name,
                                                          authority=f"https://w3id.org/guji/id/authority/test/{name}"))
            if approve:
                assert c.post(path(url) + "/submit", headers=h["alice"]).status_code == 200
                r = c.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"})
                assert r.status_code == 200, r.text
        c.app.state.context.sync_projections()
        yield c


def test_search_api_finds_entities_of_approved_annotations(annotated):
    # 巴陵郡 is annotated as the place 岳州: the name finds the passage that writes 巴陵郡
    body = annotated.get("/api/search", params={"q": "岳州"}).json()
    assert body["total"] == 1
    (hit,) = body["hits"]
    assert hit["source_id"] == "GJ4a0002" and hit["edition"] == "master"
    (m,) = hit["matched_entities"]
    assert (m["name"], m["via"], m["category"]) == ("岳州", "label", "place")
    assert "<mark>巴陵郡</mark>" in hit["snippet"]
    assert {(e["label"], e["quote"]) for e in hit["entities"]} == {("滕宗諒", "滕子京"), ("岳州", "巴陵郡")}
    # the draft (范仲淹 as 范文正) is private: not searchable, not in any facet
    assert annotated.get("/api/search", params={"q": "范文正"}).json()["total"] == 0

    # 巴陵 is in both copies; the facets count the annotated entities, the filter keeps their passages
    both = annotated.get("/api/search", params={"q": "巴陵"}).json()
    assert {h["edition"] for h in both["hits"]} == {"master", "QING"}
    facets = {f: {v["value"]: v["count"] for v in vs} for f, vs in both["facets"].items()}
    assert facets["entity_category"] == {"person": 1, "place": 1}
    assert facets["entity"] == {"滕宗諒": 1, "岳州": 1}
    people = annotated.get("/api/search", params={"q": "巴陵", "entity_category": "person"}).json()
    assert [h["id"] for h in people["hits"]] == [hit["id"]]
    named = annotated.get("/api/search", params=[("q", "巴陵"), ("entity", "滕宗諒"), ("entity", "岳州")]).json()
    assert named["total"] == 1

"""The web pages and their JSON reads over HTTP (no browser): every page answers, the SPARQL
examples run, the display map keeps one character per character, spans and authorities."""

from __future__ import annotations

import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.context import SAMPLE_DIR
from api.routes import pages
from api.settings import Settings
from api.web import display
from kg.ingest_kanripo import find_works, ingest_work
from kg.package import ingest_package
from kg.store import OxigraphStore

JUAN = "https://w3id.org/guji/id/text/GJ4a0001/MING/001"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    """The bundled samples (texts and package), indexed for search."""
    home = tmp_path_factory.mktemp("web")
    store = OxigraphStore(home / "oxigraph")
    for w in find_works([SAMPLE_DIR / "kanripo"]):
        ingest_work(store, w)
    assert ingest_package(store, SAMPLE_DIR / "package" / "guji-sample-2026-001", agent="t").report.valid
    store.close()
    with TestClient(create_app(Settings(home=home, environment="test"))) as c:
        c.app.state.context.sync_projections()
        yield c


@pytest.mark.parametrize("path", ["/", "/search?q=%E6%A1%83%E8%8A%B1", "/works/GJ4a0001", "/books/110000-0001-0000001",
                                  "/entity?iri=https%3A%2F%2Fw3id.org%2Fguji%2Fid%2Fagent%2Fperson%2F%25E9%2599%25B6%25E6%25BD%259B", f"/annotate?iri={quote(JUAN, safe='')}",
                                  "/annotate", "/review", "/login", "/sparql-console", "/sparql-console?editor=plain"])
def test_pages_answer_html(client, path):
    r = client.get(path)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-Hans">' in r.text
    assert "http://" not in r.text.split("<body", 1)[0].replace("http://www.w3.org", "")  # no CDN in the head


def test_missing_book_is_an_html_404(client):
    r = client.get("/books/no-such-book")
    assert r.status_code == 404 and "text/html" in r.headers["content-type"]
    assert "no-such-book" in r.text


def test_static_files_are_served_and_contained(client):
    r = client.get("/static/js/reader.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "Array.from(textData.text)" in r.text
    assert client.get("/static/../api/app.py").status_code == 404
    assert client.get("/static/%2e%2e/%2e%2e/pyproject.toml").status_code == 404
    assert client.get("/static/vendor/yasgui/package.json").status_code == 404


def test_search_page_shows_hits_facets_and_why(client):
    r = client.get("/search", params={"q": "为业"})
    assert "<mark>爲業</mark>" in r.text and "<mark>為業</mark>" in r.text
    assert "匹配说明" in r.text and "异体字" in r.text
    assert 'name="edition"' in r.text


def test_search_page_reports_a_bad_query(client):
    r = client.get("/search", params={"q": "("})
    assert r.status_code == 200 and 'role="alert"' in r.text


@pytest.mark.parametrize("example", pages.EXAMPLES, ids=lambda e: e["id"])
def test_sparql_examples_run(client, example):
    r = client.post("/sparql", data={"query": example["query"]}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    assert "results" in r.json()


def test_console_without_the_bundle_says_how_to_install(client, monkeypatch):
    monkeypatch.setattr(pages, "yasgui_available", lambda: False)
    r = client.get("/sparql-console")
    assert 'data-editor="plain"' in r.text and "npm ci --prefix api/web" in r.text and "yasgui.min.js" not in r.text


def test_display_map_is_one_character_each(client):
    r = client.post("/api/display", json={"to": "hans", "chars": "爲業後髮陶潛𫝊"})
    assert r.status_code == 200
    m = r.json()["map"]
    assert m["爲"] == "为" and m["後"] == "后" and m["潛"] == "潜"
    assert all(len(v) == 1 for v in m.values())
    assert "𫝊" not in m or len(m["𫝊"]) == 1
    assert client.post("/api/display", json={"to": "xx", "chars": "爲"}).status_code == 422


def test_display_never_changes_the_number_of_characters():
    chars = "乾隆皇帝於後宮發髮爲為會㑹衞"
    for to in ("hans", "hant"):
        m = display.char_map(chars, to)
        assert len("".join(m.get(c, c) for c in chars)) == len(chars)


def test_spans_are_empty_without_approved_annotations(client):
    r = client.get("/api/spans", params={"iri": JUAN})
    assert r.status_code == 200 and r.json() == {"iri": JUAN, "total": 0, "spans": []}


def test_authorities_needs_a_query(client):
    assert client.get("/api/authorities", params={"q": ""}).status_code == 422
    r = client.get("/api/authorities", params={"q": "陶", "category": "nonsense"})
    assert r.status_code == 422


def test_suggest_on_a_juan_gives_offsets_into_the_juan(client):
    text = client.get("/api/texts", params={"iri": JUAN}).json()["text"]
    r = client.post("/api/suggest", json={"source": JUAN})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["mode"] in ("model", "rules", "patterns")
    assert body["spans"], body
    for s in body["spans"]:
        assert text[s["start"]:s["end"]] == s["text"]
    one = client.post("/api/suggest", json={"text": "開元二十三年"}).json()
    assert any(s["label"] == "DATE" for s in one["spans"])
    assert client.post("/api/suggest", json={"text": "a", "source": JUAN}).status_code == 422


def test_lineage_columns_follow_the_derivations():
    from api.web.lineage import build

    book = {"iri": "b", "holding_library": {"name": "L"}, "call_number": "1",
            "microfilm": [{"iri": "m", "generation": None, "reels": [], "derivedFrom": "b"},
                          {"iri": "s", "generation": None, "reels": [{"reel_id": "R", "frames": [{"start": 1, "end": 9}], "base": None}]}],
            "digital": [{"iri": "d", "level": None, "files": [], "texts": []}],
            "derivations": [{"from": "m", "to": "b", "method": None}, {"from": "s", "to": "m", "method": None},
                            {"from": "d", "to": "s", "method": None}]}
    lin = build(book)
    cols = {b.iri: b.col for b in lin.boxes}
    assert cols == {"b": 0, "m": 1, "s": 2, "d": 3}
    assert len(lin.arrows) == 3 and "R 帧 1–9" in json.dumps([b.lines for b in lin.boxes], ensure_ascii=False)


def test_lineage_shows_a_source_the_public_does_not_see():
    from api.web.lineage import build

    book = {"iri": "b", "microfilm": [{"iri": "f", "generation": None, "reels": []}], "digital": [],
            "derivations": [{"from": "f", "to": "b/digital/preservation", "method": None}]}
    lin = build(book)
    hidden = [b for b in lin.boxes if b.kind == "hidden"]
    assert [h.iri for h in hidden] == ["b/digital/preservation"] and hidden[0].col == 0
    assert [b.col for b in lin.boxes if b.iri == "f"] == [1] and len(lin.arrows) == 1

"""The search page and API as a reader meets them (issue 12): commentary shown as commentary and
searched on request, hits found through an annotated entity say so and get entity facets, an
over-long query gets a message in words, one limit everywhere."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.context import SAMPLE_DIR
from api.settings import Settings
from kg.ingest_kanripo import find_works, ingest_work
from kg.package import ingest_package
from kg.store import OxigraphStore
from search.errors import SearchQueryError
from search.service import MAX_QUERY_LENGTH
from tests.functional._annotations import annotation, created, make_users, path


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = tmp_path_factory.mktemp("searchpage")
    store = OxigraphStore(home / "oxigraph")
    for w in find_works([SAMPLE_DIR / "kanripo"]):
        ingest_work(store, w)
    assert ingest_package(store, SAMPLE_DIR / "package" / "guji-sample-2026-001", agent="t").report.valid
    store.close()
    with TestClient(create_app(Settings(home=home, environment="test"))) as c:
        c.app.state.context.sync_projections()
        yield c


def test_a_phrase_across_a_note_finds_every_edition_and_shows_the_note_apart(client):
    r = client.get("/api/search", params={"q": "缤纷渔人"}).json()
    editions = {(h["source_id"], h["edition"]) for h in r["hits"]}
    # both Kanripo editions (繽紛(繽紛亂貌/一作繽翻)漁人) and the package text (繽¶紛漁人)
    assert {("GJ4a0001", "MING"), ("GJ4a0001", "master")} <= editions and len(editions) == 3
    kanripo = next(h for h in r["hits"] if h["edition"] == "MING")
    assert [h["text"] for h in kanripo["highlights"]] == ["繽紛", "漁人"]
    assert '<small class="note">繽紛亂貌一作繽翻</small>' in kanripo["snippet"]
    assert "繽紛繽紛亂貌" not in re.sub(r"<[^>]+>", "", kanripo["snippet"]).replace("繽紛亂貌一作繽翻", "")
    page = client.get("/search", params={"q": "缤纷渔人"}).text
    assert page.count('<small class="note">') >= 2 and 'id="commentary"' in page


def test_commentary_is_searched_with_the_toggle(client):
    assert client.get("/api/search", params={"q": "乱貌"}).json()["total"] == 0
    r = client.get("/api/search", params={"q": "乱貌", "commentary": "true"}).json()
    assert r["total"] == 2 and r["commentary"] is True and all(h["in_commentary"] for h in r["hits"])
    page = client.get("/search", params={"q": "乱貌", "commentary": "true"}).text
    assert "见于注文" in page and 'name="commentary" value="true" id="commentary" checked' in page


def test_an_over_long_query_gets_a_message_not_json(client):
    q = "桃" * (MAX_QUERY_LENGTH + 1)
    page = client.get("/search", params={"q": q})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "检索词过长" in page.text and f"at most {MAX_QUERY_LENGTH} characters" in page.text
    api = client.get("/api/search", params={"q": q})
    assert api.status_code == 422 and api.json()["error"]["code"] == "validation_error"
    with pytest.raises(SearchQueryError, match=f"at most {MAX_QUERY_LENGTH}"):  # the CLI calls the service
        client.app.state.context.search.search(q)
    assert client.get("/api/search", params={"q": "桃" * MAX_QUERY_LENGTH}).status_code == 200


def test_a_hit_through_an_annotated_entity_says_why_and_gets_entity_facets(client):
    h = make_users(client)
    url, _, _ = created(client, h["alice"], annotation(authority="https://example.org/person/fan-zhongyan", label="范文正公"))
    assert client.post(path(url) + "/submit", headers=h["alice"]).status_code == 200
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"})
    assert r.status_code == 200, r.text
    api = client.get("/api/search", params={"q": "范文正"}).json()
    assert api["total"] >= 1 and api["hits"][0]["matched_entities"][0]["name"] == "范文正公"
    page = client.get("/search", params={"q": "范文正"}).text
    assert "经标引实体匹配" in page and "范文正公" in page
    assert "the characters as typed" not in page  # it was not found by the characters typed
    assert 'data-field="entity"' in page and 'data-field="entity_category"' in page
    filtered = client.get("/search", params={"q": "范文正", "entity_category": "person"}).text
    assert 'name="entity_category" value="person" checked' in filtered

"""Search hits carry the record read from the sources (issue 12): author and dynasty from the
Kanripo byline; facet filters accept a concept's IRI, notation or any label."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from kg.ingest_kanripo import find_works, ingest_work
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = tmp_path_factory.mktemp("records")
    store = OxigraphStore(home / "oxigraph")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(store, w)
    store.close()
    with TestClient(create_app(Settings(home=home, environment="test"))) as c:
        c.app.state.context.sync_projections()
        yield c


def test_kanripo_hits_carry_author_and_dynasty(client):
    hits = client.get("/api/search", params={"q": "桃花源"}).json()["hits"]
    assert hits and {(h["author"], h["dynasty"]) for h in hits} == {("陶潛", "晉")}


@pytest.mark.parametrize("value", ["晉", "晋", "jin", "Jin", "https://w3id.org/guji/vocab/dynasty/jin"])
def test_dynasty_filter_accepts_iri_notation_and_any_label(client, value):
    r = client.get("/api/search", params={"q": "桃花", "dynasty": value})
    assert r.status_code == 200 and r.json()["total"] >= 1
    assert {h["dynasty"] for h in r.json()["hits"]} == {"晉"}


def test_dynasty_filter_still_filters(client):
    assert client.get("/api/search", params={"q": "桃花", "dynasty": "song"}).json()["total"] == 0
    assert client.get("/api/search", params={"q": "岳陽", "dynasty": "宋"}).json()["total"] >= 1


def test_category_filter_accepts_notation_and_label(client):
    a = client.get("/api/search", params={"q": "桃花", "category": "ji"}).json()["total"]
    b = client.get("/api/search", params={"q": "桃花", "category": "集部"}).json()["total"]
    assert a == b >= 1


def test_works_per_dynasty_has_no_unrecorded_sample_work(client):
    q = """PREFIX bf: <http://id.loc.gov/ontologies/bibframe/> PREFIX guji: <https://w3id.org/guji/ontology#>
        SELECT (COUNT(DISTINCT ?w) AS ?n) WHERE { ?w a bf:Work FILTER NOT EXISTS { ?w guji:dynasty ?d } }"""
    r = client.get("/sparql", params={"query": q}, headers={"accept": "application/sparql-results+json"})
    assert r.json()["results"]["bindings"][0]["n"]["value"] == "0"

"""Nothing non-public leaks (issue 11): public reads see public graphs only, an authority record
created in a draft stays with its creator and the reviewers until an annotation defining it is
approved, and an approved annotation shows the public its approved states only — never the
reviewers' reasons nor the earlier drafts.

Driven over HTTP as the public, as another annotator, as the creator and as a reviewer."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings
from kg.ingest_kanripo import find_works, ingest_work
from kg.package import ingest_package
from kg.store import OxigraphStore
from tests.functional._annotations import JUAN, PERSON, annotation, created, make_users, path

ROOT = Path(__file__).resolve().parents[2]
PRESERVATION_LABEL = "数字化（保存级）"  # the label of every preservation-level digital copy in the sample package
FILM_FROM_PRESERVATION = "https://w3id.org/guji/id/item/census/110000-0001-0000003/film/master"  # 数转模: film written from the master
ALL_QUADS = "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = tmp_path_factory.mktemp("leaks")
    store = OxigraphStore(home / "oxigraph")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(store, w)
    result = ingest_package(store, ROOT / "samples" / "package" / "guji-sample-2026-001", agent="t")
    assert result.report.valid, result.report.to_text()
    store.close()
    app = create_app(Settings(home=home, environment="test", sparql_timeout=10))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="module")
def h(client):
    return make_users(client)


def public_quads(client) -> str:
    r = client.get("/sparql", params={"query": ALL_QUADS}, headers={"Accept": "application/sparql-results+json"})
    assert r.status_code == 200, r.text
    return r.text


def neighbourhood(client, iri: str) -> str:
    r = client.get("/api/graph/neighbourhood", params={"iri": iri})
    assert r.status_code == 200, r.text
    return r.text


def submit_and_approve(client, h, url: str, *, creator: str = "alice", reviewer: str = "rita") -> dict:
    assert client.post(path(url) + "/submit", headers=h[creator]).status_code == 200
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h[reviewer], "If-Match": "*"})
    assert r.status_code == 200, r.text
    return r.json()


def provisional(exact: str, start: int, end: int, name: str) -> dict:
    """An annotation that creates an authority record on the spot (a name, no IRI)."""
    doc = annotation(exact, start, end)
    doc["body"] = {"type": "SpecificResource", "purpose": "identifying", "guji:category": PERSON, "source": {"label": name}}
    return doc


def authority_names(client, q: str, who: dict | None = None) -> list[str]:
    r = client.get("/api/authorities", params={"q": q}, headers=who or {})
    assert r.status_code == 200, r.text
    return [a["label"] for a in r.json()["results"]]


# -- 1. public reads see public graphs only ------------------------------------------------------

def test_neighbourhood_never_shows_a_preservation_label(client):
    # the master film was written from the preservation master: the edge is public, its label is not
    body = neighbourhood(client, FILM_FROM_PRESERVATION)
    assert "/digital/preservation" in body
    assert PRESERVATION_LABEL not in body
    assert PRESERVATION_LABEL not in neighbourhood(client, "https://w3id.org/guji/id/item/census/110000-0001-0000002/digital/service")
    for census in ("110000-0001-0000002", "110000-0001-0000003"):
        assert PRESERVATION_LABEL not in neighbourhood(client, f"https://w3id.org/guji/id/item/census/{census}")
        assert PRESERVATION_LABEL not in client.get(f"/api/books/{census}").text
        page = client.get(f"/books/{census}")
        assert page.status_code == 200 and PRESERVATION_LABEL not in page.text
    page = client.get("/entity", params={"iri": FILM_FROM_PRESERVATION})
    assert page.status_code == 200 and PRESERVATION_LABEL not in page.text


def test_an_approved_annotation_does_not_publish_the_name_a_private_draft_gives_its_target(client, h):
    # carol's draft creates a record on the spot; alice links her approved annotation to it by IRI
    _, _, draft = created(client, h["carol"], provisional("巴陵郡", 25, 28, "卡羅草稿人名"))
    record = draft["body"]["source"]["id"]
    url, _, _ = created(client, h["alice"], annotation("滕子京", 20, 23, authority=record))
    submit_and_approve(client, h, url)
    reading = "https://w3id.org/guji/id/annotation/" + url.rsplit("/", 1)[1] + "/reading/1"
    assert record in neighbourhood(client, reading)
    assert "卡羅草稿人名" not in neighbourhood(client, reading)
    assert "卡羅草稿人名" not in neighbourhood(client, record)
    page = client.get("/entity", params={"iri": record})
    assert page.status_code == 200 and "卡羅草稿人名" not in page.text
    assert "卡羅草稿人名" not in public_quads(client)


# -- 2. authority records created in a draft -------------------------------------------------------

def test_a_record_created_in_a_draft_is_found_by_its_creator_and_the_reviewers_only_until_approved(client, h):
    name = "滕氏新立條目"
    url, _, draft = created(client, h["carol"], provisional("滕子京", 20, 23, name))
    record = draft["body"]["source"]["id"]

    # a draft: carol and the admins; not the public, not another annotator, not yet the reviewers
    assert authority_names(client, "滕氏新立", h["carol"]) == [name]
    assert authority_names(client, "滕氏新立", h["root"]) == [name]
    for who in (None, h["alice"], h["rita"], h["lib"]):
        assert authority_names(client, "滕氏新立", who) == []
    assert name not in public_quads(client)
    r = client.get("/api/graph/neighbourhood", params={"iri": record})
    assert r.status_code == 404 and name not in r.text  # nothing public states it yet

    # submitted: the reviewers see it (they review it), other annotators still do not
    assert client.post(path(url) + "/submit", headers=h["carol"]).status_code == 200
    assert authority_names(client, "滕氏新立", h["rita"]) == [name]
    for who in (None, h["alice"]):
        assert authority_names(client, "滕氏新立", who) == []

    # approved: everybody
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"})
    assert r.status_code == 200, r.text
    for who in (None, h["alice"], h["carol"], h["rita"]):
        assert authority_names(client, "滕氏新立", who) == [name]
    assert name in public_quads(client)
    assert name in neighbourhood(client, record)
    page = client.get("/entity", params={"iri": record})
    assert page.status_code == 200 and name in page.text


def test_a_record_of_a_rejected_annotation_stays_with_its_creator_and_the_reviewers(client, h):
    name = "郡名待考"
    url, _, _ = created(client, h["carol"], provisional("巴陵郡", 25, 28, name))
    assert client.post(path(url) + "/submit", headers=h["carol"]).status_code == 200
    r = client.post(path(url) + "/review", json={"decision": "reject", "reason": "此非人名"}, headers={**h["rita"], "If-Match": "*"})
    assert r.status_code == 200, r.text
    assert authority_names(client, "郡名待", h["carol"]) == [name]
    assert authority_names(client, "郡名待", h["vera"]) == [name]
    for who in (None, h["alice"]):
        assert authority_names(client, "郡名待", who) == []
    assert name not in public_quads(client)


# -- 3. the history of an approved annotation --------------------------------------------------------

REASON = "此處當標其字，理由甲乙丙"
DRAFT_NOTE = "初稿附記：未定之說"


def test_an_approved_annotation_shows_the_public_its_approved_states_only(client, h):
    doc = annotation("滕子京", 20, 23, authority="https://cbdb.fas.harvard.edu/cbdbapi/person.php?id=1027", label="滕宗諒",
                     note=DRAFT_NOTE)
    url, _, _ = created(client, h["alice"], doc)
    assert client.post(path(url) + "/submit", headers=h["alice"]).status_code == 200
    r = client.post(path(url) + "/review", json={"decision": "reject", "reason": REASON}, headers={**h["rita"], "If-Match": "*"})
    assert r.status_code == 200, r.text
    mine = client.get(path(url), headers=h["alice"])
    fixed = annotation("滕子京", 20, 23, authority="https://cbdb.fas.harvard.edu/cbdbapi/person.php?id=1027", label="滕宗諒")
    r = client.put(path(url), json=fixed, headers={**h["alice"], "Content-Type": "application/ld+json", "If-Match": mine.headers["etag"]})
    assert r.status_code == 200, r.text
    approved = submit_and_approve(client, h, url, reviewer="vera")
    assert approved["guji:status"] == "approved"
    aid = url.rsplit("/", 1)[1]

    # the public and another annotator: the approved annotation and its approval, nothing earlier
    for who in ({}, h["carol"], h["lib"]):
        for accept in ("application/ld+json", "text/turtle"):
            r = client.get(path(url), headers={**who, "Accept": accept})
            assert r.status_code == 200 and "滕宗諒" in r.text
            assert REASON not in r.text and DRAFT_NOTE not in r.text
        body = client.get(path(url), headers=who).json()
        assert [e["guji:action"] for e in body["guji:history"]] == ["approve"]
        assert body["guji:review"]["guji:decision"] == "approved" and "guji:reason" not in body["guji:review"]
        history = client.get(path(url) + "/history", headers=who).json()["history"]
        assert [(e["action"], e["agent_name"]) for e in history] == [("approve", "vera")]
        listed = client.get("/annotations/", params={"target": JUAN}, headers=who).text
        assert aid in listed and REASON not in listed and DRAFT_NOTE not in listed
        for fmt in ("jsonld", "csv"):
            exported = client.get("/api/annotations/export", params={"scope": JUAN, "format": fmt}, headers=who).text
            assert aid in exported and REASON not in exported and DRAFT_NOTE not in exported
    quads = public_quads(client)
    assert aid in quads and REASON not in quads and DRAFT_NOTE not in quads

    # the creator and the reviewers: all of it
    for who in (h["alice"], h["rita"], h["vera"], h["root"]):
        body = client.get(path(url), headers=who).json()
        assert [e["guji:action"] for e in body["guji:history"]] == ["create", "submit", "reject", "update", "submit", "approve"]
        text = json.dumps(body, ensure_ascii=False)
        assert REASON in text and DRAFT_NOTE in text
        history = client.get(path(url) + "/history", headers=who).json()["history"]
        assert history[2]["reason"] == REASON
    exported = client.get("/api/annotations/export", params={"scope": JUAN, "format": "csv"}, headers=h["rita"]).text
    assert REASON in exported and DRAFT_NOTE in exported

    # a reviewer's correction of the approved version is public in full (both sides were public)
    current = client.get(path(url), headers=h["rita"])
    corrected = annotation("滕子京", 20, 23, authority="https://cbdb.fas.harvard.edu/cbdbapi/person.php?id=1027", label="滕宗諒（子京）")
    r = client.put(path(url), json=corrected, headers={**h["rita"], "Content-Type": "application/ld+json", "If-Match": current.headers["etag"]})
    assert r.status_code == 200, r.text
    history = client.get(path(url) + "/history").json()["history"]
    assert [e["action"] for e in history] == ["approve", "update"]
    assert history[1]["before"]["readings"][0]["label"] == "滕宗諒" and history[1]["after"]["readings"][0]["label"] == "滕宗諒（子京）"
    quads = public_quads(client)
    assert REASON not in quads and DRAFT_NOTE not in quads and "滕宗諒（子京）" in quads

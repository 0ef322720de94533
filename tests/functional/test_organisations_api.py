"""Organisations and annotation projects over HTTP (issue 15, item 1), with real users and the real
store: the global admin creates organisations and projects; a project admin invites, a user
requests and is approved; an annotator's annotations carry their project and organisation; a
reviewer of that project — and not of another — reviews; statistics and credit; who sees what
(401/403/404 in the one JSON error shape)."""

from __future__ import annotations

import csv
import io

import pytest

from tests.functional._annotations import JUAN, MEDIA, OTHER_JUAN, PASSWORD, PERSON, PLACE, annotation, created, path

ORG = "https://w3id.org/guji/id/agent/org/nlc"
PROJECT = "https://w3id.org/guji/id/project/yueyang"
FAN = "https://cbdb.fas.harvard.edu/cbdbapi/person.php?id=1384"
PEOPLE = {"root": "admin", "pam": "annotator", "ann": "annotator", "amy": "annotator", "rev": "annotator",
          "oscar": "annotator", "olga": "annotator", "carl": "annotator", "rita": "reviewer"}


@pytest.fixture(scope="module")
def h(client):
    users = client.app.state.context.users
    out = {}
    for name, role in PEOPLE.items():
        _, key = users.add(name, role, password=PASSWORD)
        out[name] = {"Authorization": f"Bearer {key}"}
    return out


def error(r, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"]), body
    return body["error"]


@pytest.fixture(scope="module")
def world(client, h):
    """Two organisations, a project each (on different texts), with their members."""
    nlc = {"id": "nlc", "name": "中国国家图书馆", "name_en": "National Library of China", "authority": "CN-110000-NLC"}
    pku = {"id": "pku", "name": "北京大学图书馆", "authority": "http://viaf.org/viaf/139230693"}
    error(client.post("/api/organisations", json=nlc), 401)
    assert "admin role" in error(client.post("/api/organisations", json=nlc, headers=h["pam"]), 403)["message"]
    bad = error(client.post("/api/organisations", json=nlc | {"authority": "not an id"}, headers=h["root"]), 422)
    assert "ISIL" in str(bad["details"])
    error(client.post("/api/organisations", json=nlc | {"id": "NLC!"}, headers=h["root"]), 422)
    assert client.get("/api/organisations").json() == []  # nothing was written by the refused requests
    assert client.post("/api/organisations", json=nlc, headers=h["root"]).status_code == 201
    assert client.post("/api/organisations", json=pku, headers=h["root"]).status_code == 201
    error(client.post("/api/organisations", json=nlc, headers=h["root"]), 409)

    pa = {"id": "yueyang", "organisation": "nlc", "name": "岳陽樓記人名標引", "guideline": "人名標全名；字號另立。",
          "guideline_url": "https://example.org/guide", "scope": [JUAN], "admins": ["pam"]}
    pb = {"id": "taohua", "organisation": "pku", "name": "桃花源記", "scope": [OTHER_JUAN], "admins": ["olga"]}
    error(client.post("/api/projects", json=pa, headers=h["pam"]), 403)
    bad = error(client.post("/api/projects", json=pa | {"scope": ["https://w3id.org/guji/id/text/NOPE"]}, headers=h["root"]), 422)
    assert bad["details"]["field"] == "scope[0]"
    error(client.post("/api/projects", json=pa | {"organisation": "nobody"}, headers=h["root"]), 404)
    assert client.get("/api/projects").json() == []
    assert client.post("/api/projects", json=pa, headers=h["root"]).status_code == 201
    assert client.post("/api/projects", json=pb, headers=h["root"]).status_code == 201

    # project admins invite; the invited accept; a user asks and the project admin approves
    error(client.post("/api/projects/yueyang/invitations", json={"user": "ann"}), 401)
    error(client.post("/api/projects/yueyang/invitations", json={"user": "ann"}, headers=h["carl"]), 403)
    error(client.post("/api/projects/yueyang/invitations", json={"user": "ann"}, headers=h["olga"]), 403)  # admin elsewhere
    error(client.post("/api/projects/yueyang/invitations", json={"user": "ghost"}, headers=h["pam"]), 404)
    r = client.post("/api/projects/yueyang/invitations", json={"user": "ann"}, headers=h["pam"])
    assert r.status_code == 201 and r.json()["state"] == "invited"
    assert client.get("/auth/me", headers=h["ann"]).json()["projects"] == []  # not a member until accepted
    error(client.post("/api/projects/yueyang/accept", headers=h["carl"]), 409)  # nothing to accept
    assert client.post("/api/projects/yueyang/accept", headers=h["ann"]).json()["state"] == "active"
    error(client.post("/api/projects/yueyang/invitations", json={"user": "ann"}, headers=h["pam"]), 409)
    client.post("/api/projects/yueyang/invitations", json={"user": "amy"}, headers=h["pam"])
    client.post("/api/projects/yueyang/accept", headers=h["amy"])
    assert client.post("/api/projects/yueyang/requests", json={"role": "reviewer"}, headers=h["rev"]).json()["state"] == "requested"
    error(client.post("/api/projects/yueyang/members/rev/approve", headers=h["rev"]), 403)  # not by oneself
    assert client.post("/api/projects/yueyang/members/rev/approve", headers=h["pam"]).json()["state"] == "active"
    client.post("/api/projects/taohua/invitations", json={"user": "oscar", "role": "reviewer"}, headers=h["olga"])
    client.post("/api/projects/taohua/accept", headers=h["oscar"])
    return {"pa": pa, "pb": pb}


def test_members_and_who_sees_them(client, h, world):
    me = client.get("/auth/me", headers=h["rev"]).json()
    assert me["projects"] == [{"project": PROJECT, "role": "reviewer"}]
    members = client.get("/api/projects/yueyang/members", headers=h["ann"]).json()
    assert {(m["user"], m["role"], m["state"]) for m in members} == {
        ("pam", "admin", "active"), ("ann", "annotator", "active"), ("amy", "annotator", "active"), ("rev", "reviewer", "active")}
    error(client.get("/api/projects/yueyang/members"), 401)
    error(client.get("/api/projects/yueyang/members", headers=h["oscar"]), 403)
    assert client.get("/api/projects/yueyang/members", headers=h["root"]).status_code == 200
    # public: the organisation, its projects and the guideline; memberships are not public RDF
    org = client.get("/api/organisations/nlc").json()
    assert org["authority"] == "CN-110000-NLC" and [p["id"] for p in org["projects"]] == ["yueyang"]
    assert client.get("/api/projects/yueyang").json()["guideline"] == "人名標全名；字號另立。"
    error(client.get("/api/projects/nope"), 404)
    rows = client.get("/sparql", params={"query": f"SELECT ?p ?o WHERE {{ <{ORG}> ?p ?o }}"}).json()["results"]["bindings"]
    assert {"value": "CN-110000-NLC", "type": "literal"} in [b["o"] for b in rows]
    rows = client.get("/sparql", params={"query": f"SELECT ?s WHERE {{ ?s <https://w3id.org/guji/ontology#organisation> <{ORG}> }}"}).json()
    assert [b["s"]["value"] for b in rows["results"]["bindings"]] == [PROJECT]
    assert "pam" not in client.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o FILTER(CONTAINS(STR(?o), 'pam')) }"}).text


def test_project_annotation_reviewed_within_the_project_and_credited(client, h, world):
    url, etag, body = created(client, h["ann"], annotation("范仲淹", 10, 13, authority=FAN, label="范仲淹"))
    assert body["guji:project"] == PROJECT and body["creator"]["prov:actedOnBehalfOf"] == ORG
    assert client.post(path(url) + "/submit", headers=h["ann"]).status_code == 200
    # a reviewer of another project neither sees nor reviews it; a plain annotator may not review
    assert client.get(path(url), headers=h["oscar"]).status_code == 404
    error(client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["oscar"], "If-Match": "*"}), 404)
    error(client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["carl"], "If-Match": "*"}), 403)
    # the project's reviewer sees the queue and approves; the global reviewer would too
    queue = client.get("/annotations/", params={"status": "submitted"}, headers={**h["rev"], "Accept": MEDIA}).text
    assert url.rsplit("/", 1)[1] in queue
    etag = client.get(path(url), headers=h["rev"]).headers["etag"]
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rev"], "If-Match": etag})
    assert r.status_code == 200, r.text
    # credited: public JSON-LD, public SPARQL, CSV export, the organisation's public page
    public = client.get(path(url)).json()
    assert public["creator"]["prov:actedOnBehalfOf"] == ORG
    q = f"""PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dcterms: <http://purl.org/dc/terms/>
            SELECT ?a WHERE {{ ?a dcterms:creator ?c . ?c prov:actedOnBehalfOf <{ORG}> }}"""
    found = [b["a"]["value"] for b in client.get("/sparql", params={"query": q}).json()["results"]["bindings"]]
    assert any(a.endswith(url.rsplit("/", 1)[1]) for a in found)
    rows = list(csv.DictReader(io.StringIO(client.get("/api/annotations/export", params={"format": "csv"}).text.lstrip("\ufeff"))))
    assert [(r["organisation"], r["project"]) for r in rows if r["id"] == url.rsplit("/", 1)[1]] == [(ORG, PROJECT)]
    credit = client.get("/api/organisations/nlc/credit").json()
    assert credit["approved"] == 1 and credit["annotations"][0]["exact"] == "范仲淹"
    page = client.get("/organisations/nlc").text
    assert "中国国家图书馆" in page and "范仲淹" in page and "CN-110000-NLC" in page
    entity = client.get("/entity", params={"iri": FAN}).text  # the entity's public page credits the organisation
    assert 'href="/organisations/nlc">中国国家图书馆</a>' in entity


def test_project_choice_and_scope(client, h, world):
    # a project the annotator is not in: 403; a text outside the project: 422; outside any project: no credit
    error(client.post("/annotations/", json=annotation(**{"guji:project": "taohua"}), headers={**h["ann"], "Content-Type": MEDIA}), 403)
    doc = annotation("桃花源記", None, None, source=OTHER_JUAN, **{"guji:project": "yueyang"})
    e = error(client.post("/annotations/", json=doc, headers={**h["ann"], "Content-Type": MEDIA}), 422)
    assert e["details"]["field"] == "target.source"
    _, _, body = created(client, h["carl"], annotation("范仲淹", 10, 13))
    assert "guji:project" not in body and "prov:actedOnBehalfOf" not in body["creator"]


def test_statistics_and_agreement(client, h, world):
    # two annotators of the project on the same span: one agrees on the category, one pair disagrees
    for who, category in (("ann", PERSON), ("amy", PLACE)):
        url, _, _ = created(client, h[who], annotation("滕子京", 20, 23, category=category))
        client.post(path(url) + "/submit", headers=h[who])
    error(client.get("/api/projects/yueyang/stats"), 401)
    error(client.get("/api/projects/yueyang/stats", headers=h["oscar"]), 403)
    s = client.get("/api/projects/yueyang/stats", headers=h["ann"]).json()
    assert s["by_status"]["approved"] >= 1 and s["by_status"]["submitted"] >= 2
    assert s["agreement"]["spans"] >= 1 and s["agreement"]["pairs"] >= 1
    assert s["agreement"]["category"]["agreed"] < s["agreement"]["pairs"]
    assert sum(w["approved"] for w in s["reviewed_per_week"]) == s["by_status"]["approved"]
    assert client.get("/api/projects/yueyang/stats", headers=h["rita"]).status_code == 200  # global reviewer
    o = client.get("/api/organisations/nlc/stats", headers=h["pam"]).json()
    assert o["by_status"] == s["by_status"] and o["projects"][0]["project"] == "yueyang"
    error(client.get("/api/organisations/nlc/stats", headers=h["oscar"]), 403)


def test_leaving_and_last_admin(client, h, world):
    error(client.delete("/api/projects/yueyang/members/pam", headers=h["pam"]), 409)  # the last admin
    error(client.delete("/api/projects/yueyang/members/ann", headers=h["carl"]), 403)
    e = error(client.post("/api/projects/taohua/requests", json={"role": "admin"}, headers=h["carl"]), 422)
    assert e["details"]["field"] == "role"
    client.post("/api/projects/taohua/requests", json={}, headers=h["carl"])
    assert client.delete("/api/projects/taohua/members/carl", headers=h["carl"]).status_code == 204  # withdrawn
    assert client.post("/api/projects/yueyang/requests", json={"role": "annotator"}, headers=h["carl"]).status_code == 201
    assert client.delete("/api/projects/yueyang/members/carl", headers=h["pam"]).status_code == 204  # declined
    error(client.delete("/api/projects/yueyang/members/carl", headers=h["pam"]), 404)


@pytest.mark.parametrize("name", ["a b", "<x>", "x%0Ay", "%E5%B2%B3", "a" * 300, "nlc\"}"])
def test_odd_ids_in_addresses_are_404_in_the_error_shape(client, h, world, name):
    for url in (f"/api/organisations/{name}", f"/api/projects/{name}", f"/api/projects/{name}/stats", f"/organisations/{name}"):
        r = client.get(url, headers=h["root"])
        assert r.status_code == 404, (url, r.status_code, r.text[:200])
    error(client.post(f"/api/projects/{name}/invitations", json={"user": "ann"}, headers=h["pam"]), 404)
    doc = annotation(**{"guji:project": name})
    e = error(client.post("/annotations/", json=doc, headers={**h["ann"], "Content-Type": MEDIA}), 422)
    assert e["details"]["field"] == "guji:project"


def test_project_admin_edits_the_project(client, h, world):
    edit = {"name": "岳陽樓記人名標引", "guideline": "人名標全名；字號另立；官名另標。", "scope": [JUAN]}
    error(client.put("/api/projects/yueyang", json=edit), 401)
    error(client.put("/api/projects/yueyang", json=edit, headers=h["ann"]), 403)
    error(client.put("/api/projects/yueyang", json=edit | {"scope": []}, headers=h["pam"]), 422)
    r = client.put("/api/projects/yueyang", json=edit, headers=h["pam"])
    assert r.status_code == 200 and r.json()["guideline"] == edit["guideline"]
    assert client.get("/api/projects/yueyang").json()["guideline"] == edit["guideline"]
    rows = client.get("/sparql", params={"query": f"SELECT ?g WHERE {{ <{PROJECT}> <https://w3id.org/guji/ontology#guideline> ?g }}"}).json()
    assert [b["g"]["value"] for b in rows["results"]["bindings"]] == [edit["guideline"]]  # replaced, not added

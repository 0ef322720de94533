"""The review workflow end to end over HTTP, with real users:
annotator creates → submits → reviewer rejects with a reason → annotator corrects → resubmits →
another reviewer approves → the public sees it (HTTP and SPARQL) — and everybody else is kept out."""

from __future__ import annotations

import csv
import io

import pytest

from tests.functional._annotations import JUAN, MEDIA, PERSON, PLACE, annotation, created, error_code, make_users, path

COUNT_PUBLIC = """PREFIX oa: <http://www.w3.org/ns/oa#> PREFIX guji: <https://w3id.org/guji/ontology#>
SELECT ?a ?status WHERE { ?a a oa:Annotation ; guji:reviewStatus ?status }"""


@pytest.fixture(scope="module")
def h(client):
    return make_users(client)


def public_sparql(client) -> dict[str, str]:
    r = client.get("/sparql", params={"query": COUNT_PUBLIC})
    assert r.status_code == 200, r.text
    return {b["a"]["value"].rsplit("/", 1)[1]: b["status"]["value"] for b in r.json()["results"]["bindings"]}


def put(client, who, url, doc, etag):
    return client.put(path(url), json=doc, headers={**who, "Content-Type": MEDIA, "If-Match": etag})


def test_review_round_trip(client, h):
    doc = annotation("滕子京", 20, 23, authority="https://cbdb.fas.harvard.edu/cbdbapi/person.php?id=1027", label="滕宗諒")
    url, etag, body = created(client, h["alice"], doc)
    aid = url.rsplit("/", 1)[1]

    # a draft is the creator's alone: not the public's, not a reviewer's, not another annotator's
    assert client.get(path(url)).status_code == 404
    assert client.get(path(url), headers=h["rita"]).status_code == 404
    assert client.get(path(url), headers=h["carol"]).status_code == 404
    assert aid not in public_sparql(client)

    # nobody but alice can submit it; alice can
    assert client.post(path(url) + "/submit", headers=h["carol"]).status_code == 404
    r = client.post(path(url) + "/submit", headers=h["alice"])
    assert r.status_code == 200 and r.json()["guji:status"] == "submitted"

    # reviewers see it now; annotators can not review; a rejection needs a reason
    assert client.get(path(url), headers=h["rita"]).status_code == 200
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["carol"], "If-Match": "*"})
    assert r.status_code == 403 and "reviewer role" in r.json()["error"]["message"]
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["alice"], "If-Match": "*"})
    assert r.status_code == 403
    r = client.post(path(url) + "/review", json={"decision": "reject"}, headers={**h["rita"], "If-Match": "*"})
    assert r.status_code == 422 and "needs a reason" in r.json()["error"]["message"]
    r = client.post(path(url) + "/review", json={"decision": "reject", "reason": "當標全名「滕子京」之字，另立滕宗諒條"},
                    headers={**h["rita"], "If-Match": "*"})
    assert r.status_code == 200
    rejected = r.json()
    assert rejected["guji:status"] == "rejected"
    assert rejected["guji:review"]["guji:reviewer"].endswith("/rita")
    assert rejected["guji:review"]["guji:reason"] == "當標全名「滕子京」之字，另立滕宗諒條"
    assert client.get(path(url)).status_code == 404  # rejected: still not public

    # alice sees the reason, edits (If-Match), and it is hers again as a draft; she resubmits
    mine = client.get(path(url), headers=h["alice"])
    assert mine.json()["guji:review"]["guji:decision"] == "rejected"
    doc["body"]["source"]["label"] = "滕子京"
    r = put(client, h["alice"], url, doc, mine.headers["etag"])
    assert r.status_code == 200 and r.json()["guji:status"] == "draft"
    assert client.post(path(url) + "/submit", headers=h["alice"]).status_code == 200

    # another reviewer approves; the public sees it over HTTP, in the container and in SPARQL
    r = client.post(path(url) + "/review", json={"decision": "approve", "reason": "可"}, headers={**h["vera"], "If-Match": "*"})
    assert r.status_code == 200 and r.json()["guji:status"] == "approved"
    public = client.get(path(url))
    assert public.status_code == 200 and public.json()["body"]["source"]["label"] == "滕子京"
    assert aid in [a["id"].rsplit("/", 1)[1] for a in client.get("/annotations/").json()["first"]["items"]]
    assert public_sparql(client)[aid] == "approved"

    # the history says who did what, when, and what changed — to the creator and the reviewers
    hist = client.get(path(url) + "/history", headers=h["rita"]).json()["history"]
    assert client.get(path(url) + "/history", headers=h["alice"]).json()["history"] == hist
    assert [(e["action"], e["agent_name"]) for e in hist] == [
        ("create", "alice"), ("submit", "alice"), ("reject", "rita"), ("update", "alice"), ("submit", "alice"), ("approve", "vera")]
    assert hist[2]["reason"] == "當標全名「滕子京」之字，另立滕宗諒條"
    assert hist[3]["before"]["readings"][0]["label"] == "滕宗諒" and hist[3]["after"]["readings"][0]["label"] == "滕子京"
    assert hist[3]["before"]["status"] == "rejected" and hist[3]["after"]["status"] == "draft"
    assert all(e["at"].endswith("Z") for e in hist)
    # ... the same history is in the annotation itself
    full = client.get(path(url), headers=h["alice"]).json()
    assert [e["guji:action"] for e in full["guji:history"]] == [e["action"] for e in hist]
    # the public sees the approval only: not the rejection, its reason, nor the earlier draft (test_leaks.py)
    assert [(e["action"], e["agent_name"]) for e in client.get(path(url) + "/history").json()["history"]] == [("approve", "vera")]
    assert [e["guji:action"] for e in public.json()["guji:history"]] == ["approve"]


def test_edit_permissions(client, h):
    url, etag, body = created(client, h["alice"], annotation("巴陵郡", 25, 28, category=PLACE))
    changed = annotation("巴陵", 25, 27, category=PLACE)
    # a reviewer can not edit someone else's draft (they do not even see it)
    assert put(client, h["rita"], url, changed, etag).status_code == 404
    # nor a submitted one: reviewing is approve/reject, not rewriting
    etag = client.post(path(url) + "/submit", headers=h["alice"]).headers["etag"]
    r = put(client, h["rita"], url, changed, etag)
    assert r.status_code == 403
    # the creator can not edit while it awaits review...
    r = put(client, h["alice"], url, changed, etag)
    assert r.status_code == 409 and error_code(r) == "invalid_transition" and "withdraw" in r.json()["error"]["message"]
    # ...but can withdraw it, edit, resubmit
    etag = client.post(path(url) + "/withdraw", headers=h["alice"]).headers["etag"]
    r = put(client, h["alice"], url, changed, etag)
    assert r.status_code == 200 and r.json()["target"]["selector"][0]["exact"] == "巴陵"
    client.post(path(url) + "/submit", headers=h["alice"]).raise_for_status()
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"})
    etag = r.headers["etag"]
    # once approved, the annotator no longer edits it; a reviewer corrects it and it stays public
    r = put(client, h["alice"], url, annotation("巴陵郡", 25, 28, category=PLACE), etag)
    assert r.status_code == 403 and "after approval a reviewer or admin" in r.json()["error"]["message"]
    r = put(client, h["rita"], url, annotation("巴陵郡", 25, 28, category=PLACE), etag)
    assert r.status_code == 200 and r.json()["guji:status"] == "approved"
    assert client.get(path(url)).json()["target"]["selector"][0]["exact"] == "巴陵郡"
    assert client.get(path(url) + "/history").json()["history"][-1]["agent_name"] == "rita"
    # an annotator can not delete an approved annotation; an admin can, and it leaves the public view
    etag = r.headers["etag"]
    assert client.delete(path(url), headers={**h["alice"], "If-Match": etag}).status_code == 403
    assert client.delete(path(url), headers={**h["root"], "If-Match": etag}).status_code == 204
    assert client.get(path(url)).status_code == 410
    assert url.rsplit("/", 1)[1] not in public_sparql(client)


def test_approving_needs_a_submission_and_four_eyes(client, h):
    url, _, _ = created(client, h["rita"], annotation("范仲淹", 10, 13, category=PERSON))  # a reviewer annotating
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["root"], "If-Match": "*"})
    assert r.status_code == 409 and "it is draft" in r.json()["error"]["message"]
    client.post(path(url) + "/submit", headers=h["rita"]).raise_for_status()
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"})
    assert r.status_code == 403 and "does not review their own" in r.json()["error"]["message"]
    assert client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["vera"], "If-Match": "*"}).status_code == 200
    # a reviewer can retract an approval (with a reason): it leaves the public view, nothing is lost
    r = client.post(path(url) + "/review", json={"decision": "reject", "reason": "重複標注"}, headers={**h["vera"], "If-Match": "*"})
    assert r.status_code == 200 and client.get(path(url)).status_code == 404
    assert client.get(path(url), headers=h["rita"]).json()["guji:status"] == "rejected"


def test_reviewer_queue_and_admin_view(client, h):
    url, _, _ = created(client, h["carol"], annotation("岳陽樓", 0, 3, category=PLACE))
    queue = lambda who: {a["id"] for a in (client.get("/annotations/?status=submitted&limit=1000", headers=h[who]).json().get("first") or {}).get("items", [])}  # noqa: E731
    assert url not in queue("rita")
    client.post(path(url) + "/submit", headers=h["carol"]).raise_for_status()
    assert url in queue("rita") and url in queue("root")
    assert url not in queue("alice")  # annotators do not see others' submissions
    assert url in queue("carol")
    drafts = client.get("/annotations/?status=draft&creator=carol", headers=h["root"]).json()
    assert drafts["total"] == 0


def test_exports_over_http(client, h):
    url, _, _ = created(client, h["alice"], annotation("慶曆四年", 15, 19, category="年號"))
    client.post(path(url) + "/submit", headers=h["alice"]).raise_for_status()
    client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"}).raise_for_status()
    draft, _, _ = created(client, h["alice"], annotation("宋", 8, 9, category="年號"))
    r = client.get("/api/annotations/export", params={"scope": "GJ4a0002"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/ld+json")
    ids = [a["id"] for a in r.json()["first"]["items"]]
    assert url in ids and draft not in ids and all(a["guji:status"] == "approved" for a in r.json()["first"]["items"])
    assert client.get("/api/annotations/export", params={"scope": JUAN, "status": "draft"}).status_code == 401
    assert client.get("/api/annotations/export", params={"status": "draft"}, headers=h["alice"]).status_code == 403
    mine = client.get("/api/annotations/export", params={"scope": JUAN, "status": "draft,approved"}, headers=h["root"]).json()
    assert draft in [a["id"] for a in mine["first"]["items"]]
    csv_r = client.get("/api/annotations/export", params={"scope": JUAN, "format": "csv"})
    assert csv_r.headers["content-type"].startswith("text/csv") and "attachment" in csv_r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(csv_r.text.lstrip("\ufeff"))))
    assert url.rsplit("/", 1)[1] in {r["id"] for r in rows} and draft.rsplit("/", 1)[1] not in {r["id"] for r in rows}
    assert {r["status"] for r in rows} == {"approved"} and "慶曆四年" in {r["exact"] for r in rows}
    # restore is for admins
    r = client.post("/api/annotations/import", json=mine, headers={**h["alice"], "Content-Type": MEDIA})
    assert r.status_code == 403
    r = client.post("/api/annotations/import", json=mine, headers={**h["root"], "Content-Type": MEDIA})
    assert r.status_code == 200 and r.json()["unchanged"] == mine["total"] and r.json()["created"] == 0

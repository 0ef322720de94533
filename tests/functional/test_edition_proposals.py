"""One text, many editions, over HTTP with the live projector: an approved annotation on the master
edition is proposed on the other edition at the aligned place; reviewers accept (one or in bulk) or
reject; an accepted copy is an approved annotation derived from its origin (JSON-LD and public
SPARQL), re-anchored when its own text changes and flagged when its origin is retracted.

The sample work GJ4a0002 (岳陽樓記) has a master and a QING edition; the test's QING differs from
the master: two characters inserted at the head, 岳陽樓 printed 岳阳楼 once, 於 printed 于."""

from __future__ import annotations

import csv
import io
import shutil

import pytest
from fastapi.testclient import TestClient

from api import operations
from api.app import create_app
from api.context import SAMPLE_DIR
from api.settings import Settings
from tests.functional._annotations import JUAN, PLACE, annotation, created, error_code, make_users, path

QING = "https://w3id.org/guji/id/text/GJ4a0002/QING/001"
QING_FILE = "GJ4a0002/QING/GJ4a0002_001.txt"


def qing_variant(src: str) -> str:
    return (src.replace("岳陽樓記¶", "重刊岳陽樓記¶", 1).replace("乃重修岳陽樓", "乃重修岳阳楼", 1)
            .replace("詩賦於其上", "詩賦于其上", 1))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(SAMPLE_DIR / "kanripo" / "GJ4a0002", root / "GJ4a0002")
    f = root / QING_FILE
    f.write_text(qing_variant(f.read_text(encoding="utf-8")), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def client(tmp_path_factory, corpus):
    home = tmp_path_factory.mktemp("home")
    app = create_app(Settings(home=home, environment="test", sparql_timeout=5))
    with TestClient(app) as c:
        operations.ingest(c.app.state.context, [corpus / "GJ4a0002"])
        assert c.app.state.context.projector.wait_until(timeout=20)
        yield c


@pytest.fixture(scope="module")
def h(client):
    return make_users(client)


@pytest.fixture(scope="module")
def ctx(client):
    return client.app.state.context


def approved(client, h, exact, *, nth=0, who="alice", reviewer="rita", category=PLACE):
    text = client.app.state.context.annotations.text_of(JUAN)
    start = -1
    for _ in range(nth + 1):
        start = text.index(exact, start + 1)
    url, _, _ = created(client, h[who], annotation(exact, start, start + len(exact), category=category))
    assert client.post(path(url) + "/submit", headers=h[who]).status_code == 200
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h[reviewer], "If-Match": "*"})
    assert r.status_code == 200, r.text
    return url.rsplit("/", 1)[1], start


def queue(client, who, **params):
    r = client.get("/api/editions/proposals", params={"work": "GJ4a0002", **params}, headers=who)
    assert r.status_code == 200, r.text
    return {p["id"]: p for p in r.json()["items"]}


def public_derivations(client) -> dict[str, str]:
    q = """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX oa: <http://www.w3.org/ns/oa#>
           SELECT ?a ?o WHERE { ?a a oa:Annotation ; prov:wasDerivedFrom ?o }"""
    r = client.get("/sparql", params={"query": q})
    assert r.status_code == 200, r.text
    return {b["a"]["value"].rsplit("/", 1)[1]: b["o"]["value"] for b in r.json()["results"]["bindings"]}


def test_an_approved_annotation_is_proposed_at_the_aligned_place_and_accepted_as_a_derived_copy(client, h, ctx):
    origin, start = approved(client, h, "范仲淹", category="https://w3id.org/guji/vocab/entity-category/person")
    proposals = queue(client, h["vera"])
    p = proposals[f"{origin}.QING"]  # proposed by the live projector by the time the approval answered
    qing = ctx.annotations.text_of(QING)
    assert (p["source"], p["start"], p["end"], p["exact"]) == (QING, start + 2, start + 5, "范仲淹")
    assert qing[p["start"]:p["end"]] == "范仲淹" and p["from_edition"] == "master" and p["to_edition"] == "QING"
    assert p["alignment"] == "identical" and p["origin_annotation"]["exact"] == "范仲淹"

    r = client.post(f"/api/editions/proposals/{origin}.QING/accept", headers=h["vera"])
    assert r.status_code == 200, r.text
    copy_id = r.json()["items"][0]["annotation"]
    doc = client.get(f"/annotations/{copy_id}").json()  # public: an approved annotation
    assert doc["guji:status"] == "approved"
    assert doc["prov:wasDerivedFrom"] == f"https://w3id.org/guji/id/annotation/{origin}"
    assert doc["target"]["source"] == QING
    assert doc["target"]["selector"][1] == {"type": "TextPositionSelector", "start": start + 2, "end": start + 5}
    assert doc["creator"]["nickname"] == "alice" and doc["guji:review"]["guji:reviewer"].endswith("/vera")
    assert public_derivations(client)[copy_id] == f"https://w3id.org/guji/id/annotation/{origin}"
    # exports keep the link: JSON-LD (re-importable) and CSV
    export = client.get("/api/annotations/export", params={"scope": "GJ4a0002"}).json()
    exported = {i["id"].rsplit("/", 1)[1]: i for i in export["first"]["items"]}
    assert exported[copy_id]["prov:wasDerivedFrom"] == f"https://w3id.org/guji/id/annotation/{origin}"
    assert "prov:wasDerivedFrom" not in exported[origin]
    rows = client.get("/api/annotations/export", params={"scope": "GJ4a0002", "format": "csv"}).text.lstrip("\ufeff")
    assert {r["id"]: r["derived_from"] for r in csv.DictReader(io.StringIO(rows))}[copy_id].endswith(origin)
    # decided: out of the pending queue, in the accepted one; accepting again is a conflict
    assert f"{origin}.QING" not in queue(client, h["vera"])
    assert queue(client, h["vera"], status="accepted")[f"{origin}.QING"]["copy"] == copy_id
    r = client.post(f"/api/editions/proposals/{origin}.QING/accept", headers=h["vera"])
    assert r.status_code == 409 and error_code(r) == "edition_proposal_conflict"
    # the copy is not proposed back onto the master
    assert not any(k.startswith(copy_id) for k in queue(client, h["vera"], status=["proposed", "accepted", "rejected"]))


def test_proposals_never_reach_the_public(client, h):
    ask = "PREFIX guji: <https://w3id.org/guji/ontology#> ASK { ?p a guji:EditionProposal }"
    r = client.get("/sparql", params={"query": ask})
    assert r.status_code == 200 and r.json()["boolean"] is False
    # ... though the store holds them (so the check above can fail)
    assert any(g.startswith("https://w3id.org/guji/graph/private/edition-proposals/") for g in client.app.state.context.store.graphs())


def test_a_second_refresh_writes_nothing(client, h, ctx):
    origin, _ = approved(client, h, "政通人和", category="https://w3id.org/guji/vocab/entity-category/event")
    last = ctx.store.last_sequence()
    assert ctx.editions.refresh([origin]) == {"proposed": 0, "withdrawn": 0, "flagged": 0}
    assert ctx.store.last_sequence() == last


def test_a_place_already_annotated_in_the_other_edition_is_not_proposed_again(client, h, ctx):
    qing = ctx.annotations.text_of(QING)
    at = qing.index("巴陵郡")
    url, _, _ = created(client, h["carol"], annotation("巴陵郡", at, at + 3, source=QING, category=PLACE))
    assert client.post(path(url) + "/submit", headers=h["carol"]).status_code == 200
    origin, _ = approved(client, h, "巴陵郡")  # the same place on the master, approved after carol's QING one
    assert f"{origin}.QING" not in queue(client, h["rita"], status=["proposed", "accepted", "rejected"])
    # another category at the same place is still proposed
    other, _ = approved(client, h, "巴陵郡", category="https://w3id.org/guji/vocab/entity-category/office")
    assert f"{other}.QING" in queue(client, h["rita"])


def test_variant_forms_are_proposed_with_the_other_editions_own_characters(client, h):
    origin, _ = approved(client, h, "岳陽樓", nth=1)  # 重修岳陽樓: 岳阳楼 in QING
    p = queue(client, h["rita"], edition="QING")[f"{origin}.QING"]
    assert (p["exact"], p["alignment"]) == ("岳阳楼", "variant")


def test_bulk_accept_and_reject_and_all_or_nothing(client, h):
    a, _ = approved(client, h, "吞長江")
    b, _ = approved(client, h, "洞庭")
    c, _ = approved(client, h, "長江")
    # one unknown id in a bulk request: nothing is accepted
    r = client.post("/api/editions/proposals/accept", json={"ids": [f"{a}.QING", f"{b}.MING"]}, headers=h["rita"])
    assert r.status_code == 404 and error_code(r) == "edition_proposal_not_found"
    assert f"{a}.QING" in queue(client, h["rita"])
    r = client.post("/api/editions/proposals/accept", json={"ids": [f"{a}.QING", f"{b}.QING"]}, headers=h["rita"])
    assert r.status_code == 200, r.text
    copies = [i["annotation"] for i in r.json()["items"]]
    assert len(copies) == 2 and all(client.get(f"/annotations/{x}").status_code == 200 for x in copies)
    r = client.post("/api/editions/proposals/reject", json={"ids": [f"{c}.QING"], "reason": "清本此處作「大江」"},
                    headers=h["rita"])
    assert r.status_code == 200
    assert f"{c}.QING" not in queue(client, h["rita"])
    rejected = queue(client, h["rita"], status="rejected")[f"{c}.QING"]
    assert rejected["reason"] == "清本此處作「大江」" and rejected["decided_by_name"] == "rita"


def test_who_may_see_and_decide(client, h):
    origin, _ = approved(client, h, "滕子京", who="vera", reviewer="rita",
                         category="https://w3id.org/guji/vocab/entity-category/person")
    pid = f"{origin}.QING"
    assert client.get("/api/editions/proposals").status_code == 401
    r = client.get("/api/editions/proposals", headers=h["alice"])
    assert r.status_code == 403 and "error" in r.json()
    assert client.post(f"/api/editions/proposals/{pid}/accept", headers=h["alice"]).status_code == 403
    # four eyes: vera annotated the origin, so vera does not accept its copies; rita does
    r = client.post(f"/api/editions/proposals/{pid}/accept", headers=h["vera"])
    assert r.status_code == 403
    assert pid in queue(client, h["rita"])
    assert client.post(f"/api/editions/proposals/{pid}/accept", headers=h["rita"]).status_code == 200


def test_bad_requests_get_the_json_error_shape(client, h):
    r = client.post("/api/editions/proposals/not-an-id/accept", headers=h["rita"])
    assert r.status_code == 422 and error_code(r) == "invalid_edition_proposal_request"
    r = client.post("/api/editions/proposals/01ARZ3NDEKTSV4RRFFQ69G5FAV.QING/accept", headers=h["rita"])
    assert r.status_code == 404
    r = client.post("/api/editions/proposals/accept", json={"ids": []}, headers=h["rita"])
    assert r.status_code == 422 and set(r.json()["error"]) == {"code", "message", "details"}
    r = client.get("/api/editions/proposals", params={"status": "maybe"}, headers=h["rita"])
    assert r.status_code == 422 and "status" in r.json()["error"]["message"]
    r = client.get("/api/editions/coverage/KR9z9999", headers=h["rita"])
    assert r.status_code == 404
    r = client.get("/api/editions/coverage/GJ4a0002", headers=h["rita"])
    pair = r.json()["pairs"][0]
    assert (pair["a"], pair["b"]) == ("master", "QING") and pair["share_a"] == 1.0 and pair["substituted"] == 0


def test_text_changes_re_anchor_copies_move_proposals_and_a_retracted_origin_flags_its_copies(client, h, ctx, corpus):
    origin, start = approved(client, h, "巴陵", nth=1)  # 巴陵勝狀
    pending, _ = approved(client, h, "湯湯")
    r = client.post(f"/api/editions/proposals/{origin}.QING/accept", headers=h["rita"])
    copy_id = r.json()["items"][0]["annotation"]
    before = queue(client, h["rita"])[f"{pending}.QING"]

    # the QING text is corrected: three characters inserted near its head (a re-ingest, the live path)
    f = corpus / QING_FILE
    f.write_text(f.read_text(encoding="utf-8").replace("慶曆四年春", "慶曆四年（甲申）春", 1), encoding="utf-8")
    operations.ingest(ctx, [corpus / "GJ4a0002"])
    assert ctx.projector.wait_until(timeout=20)
    copy = client.get(f"/annotations/{copy_id}").json()
    sel = copy["target"]["selector"]
    assert sel[0]["exact"] == "巴陵" and sel[1]["start"] == start + 2 + 4  # "（甲申）": 4 code points
    assert copy["guji:anchor"]["guji:state"] == "ok"  # carried: the quote itself is untouched
    after = queue(client, h["rita"])[f"{pending}.QING"]
    assert after["start"] == before["start"] + 4 and after["exact"] == "湯湯"  # the pending proposal followed

    # the origin is retracted: its pending proposals go, its accepted copy is flagged for a person
    r = client.post(f"/annotations/{origin}/review", json={"decision": "reject", "reason": "非地名"},
                    headers={**h["vera"], "If-Match": "*"})
    assert r.status_code == 200, r.text
    r = client.post(f"/annotations/{pending}/review", json={"decision": "reject", "reason": "非地名"},
                    headers={**h["vera"], "If-Match": "*"})
    assert r.status_code == 200
    assert f"{pending}.QING" not in queue(client, h["rita"])
    copy = client.get(f"/annotations/{copy_id}").json()
    assert copy["guji:anchor"]["guji:state"] == "needs_review"
    assert "no longer approved" in copy["guji:anchor"]["guji:reason"]


def test_an_origin_that_loses_its_place_in_a_corrected_master_flags_its_copy(client, h, ctx, corpus):
    origin, _ = approved(client, h, "謫守", category="https://w3id.org/guji/vocab/entity-category/office")
    copy_id = client.post(f"/api/editions/proposals/{origin}.QING/accept", headers=h["rita"]).json()["items"][0]["annotation"]
    # the master is corrected where the origin stands: its quote no longer occurs, the origin is
    # flagged by re-anchoring, and the copy carried from it is flagged too (never silently kept or moved)
    f = corpus / "GJ4a0002" / "master" / "GJ4a0002_001.txt"
    f.write_text(f.read_text(encoding="utf-8").replace("謫守", "出守", 1), encoding="utf-8")
    operations.ingest(ctx, [corpus / "GJ4a0002"])
    assert ctx.projector.wait_until(timeout=20)
    assert client.get(f"/annotations/{origin}").json()["guji:anchor"]["guji:state"] in ("needs_review", "orphaned")
    copy = client.get(f"/annotations/{copy_id}").json()
    assert copy["guji:anchor"]["guji:state"] == "needs_review"
    assert "lost its place" in copy["guji:anchor"]["guji:reason"]
    assert copy["target"]["selector"][0]["exact"] == "謫守"  # the copy's own text did not change: kept where it is

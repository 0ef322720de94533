"""前漢紀 (KR2b0003) from ../shared: an entity annotated in the master edition is proposed on the SBCK
and WYG editions at the aligned place, over HTTP with the live projector; the accepted copies
re-anchor when their text changes; the coverage of both edition pairs is high."""

from __future__ import annotations

import shutil

import pytest
from fastapi.testclient import TestClient

from api import operations
from api.app import create_app
from api.settings import Settings
from tests.functional._annotations import annotation, created, make_users, path

pytestmark = [pytest.mark.shared, pytest.mark.slow]

WORK = "KR2b0003"
MASTER = "https://w3id.org/guji/id/text/KR2b0003/master/001"
PERSON = "https://w3id.org/guji/vocab/entity-category/person"


@pytest.fixture(scope="module")
def corpus(kanripo_dir, tmp_path_factory):
    """A scratch copy of KR2b0003 (so a correction can be ingested; ../shared is never written)."""
    root = tmp_path_factory.mktemp("kr")
    shutil.copytree(kanripo_dir / WORK, root / WORK)
    return root


@pytest.fixture(scope="module")
def client(corpus, tmp_path_factory):
    app = create_app(Settings(home=tmp_path_factory.mktemp("home"), environment="test", sparql_timeout=10))
    with TestClient(app) as c:
        operations.ingest(c.app.state.context, [corpus / WORK])
        assert c.app.state.context.projector.wait_until(timeout=60)
        yield c


def test_master_annotation_is_proposed_on_sbck_and_wyg_and_accepted_copies_re_anchor(client, corpus):
    h = make_users(client)
    ctx = client.app.state.context
    text = ctx.annotations.text_of(MASTER)
    start = text.index("賈誼")  # 其後張蒼謂漢爲水德而賈誼公孫弘以爲土德: SBCK prints a 外字 for 誼, WYG 誼
    assert text.count("賈誼") >= 1
    url, _, _ = created(client, h["alice"], annotation("賈誼", start, start + 2, source=MASTER, category=PERSON))
    origin = url.rsplit("/", 1)[1]
    assert client.post(path(url) + "/submit", headers=h["alice"]).status_code == 200
    r = client.post(path(url) + "/review", json={"decision": "approve"}, headers={**h["rita"], "If-Match": "*"})
    assert r.status_code == 200, r.text

    r = client.get("/api/editions/proposals", params={"work": WORK}, headers=h["vera"])
    props = {p["to_edition"]: p for p in r.json()["items"] if p["origin"] == origin}
    assert set(props) == {"SBCK", "WYG"}
    for code, p in props.items():
        juan_text = ctx.annotations.text_of(p["source"])
        assert p["source"].endswith(f"/{code}/001")
        assert juan_text[p["start"]:p["end"]] == p["exact"]
        # the aligned place: the same neighbourhood as in the master (張蒼謂漢…水德而 before it)
        assert "張蒼" in juan_text[max(0, p["start"] - 12):p["start"]]
    assert props["WYG"]["exact"] == "賈誼" and props["WYG"]["alignment"] in ("identical", "variant")
    assert props["SBCK"]["exact"][0] == "賈" and props["SBCK"]["alignment"] == "substituted"  # 外字 for 誼

    r = client.post("/api/editions/proposals/accept", json={"ids": [f"{origin}.SBCK", f"{origin}.WYG"]}, headers=h["vera"])
    assert r.status_code == 200, r.text
    copies = {i["id"].split(".")[1]: i for i in r.json()["items"]}
    for code, item in copies.items():
        doc = client.get(f"/annotations/{item['annotation']}").json()
        assert doc["prov:wasDerivedFrom"].endswith(origin) and doc["guji:status"] == "approved"

    # WYG's juan 1 is corrected before the passage: the copy re-anchors (offsets shift, quote untouched)
    f = corpus / WORK / "WYG" / f"{WORK}_001.txt"
    src = f.read_text(encoding="utf-8")
    assert "永世作典" in src
    wyg = copies["WYG"]["source"]
    old_len = len(ctx.annotations.text_of(wyg))
    f.write_text(src.replace("永世作典", "永世（校）作典", 1), encoding="utf-8")
    operations.ingest(ctx, [corpus / WORK])
    assert ctx.projector.wait_until(timeout=60)
    inserted = len(ctx.annotations.text_of(wyg)) - old_len
    assert inserted > 0
    doc = client.get(f"/annotations/{copies['WYG']['annotation']}").json()
    quote, position = doc["target"]["selector"]
    assert quote["exact"] == "賈誼" and position["start"] == copies["WYG"]["start"] + inserted
    assert ctx.annotations.text_of(doc["target"]["source"])[position["start"]:position["end"]] == "賈誼"
    assert doc["guji:anchor"]["guji:state"] == "ok"


def test_alignment_coverage_of_both_edition_pairs(client):
    h = {"Authorization": "Bearer " + client.app.state.context.users.add("cov", "reviewer", password="correct horse battery")[1]}
    r = client.get(f"/api/editions/coverage/{WORK}", headers=h)
    assert r.status_code == 200, r.text
    pairs = {p["b"]: p for p in r.json()["pairs"]}
    assert set(pairs) == {"SBCK", "WYG"}
    assert pairs["SBCK"]["share_a"] > 0.99 and pairs["SBCK"]["share_b"] > 0.99
    assert pairs["WYG"]["share_a"] > 0.95  # WYG's juan 30 file repeats the whole book: its own share is low

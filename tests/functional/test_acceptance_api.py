"""The acceptance workflow over HTTP: roles, who sees what, bad input with nothing stored, and the
private records never reaching the public SPARQL dataset or search."""

import io
import json
import zipfile
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "package" / "guji-sample-2026-001"
UNIT = "guji 示例图书馆"
UNITS = f"承建单位,省份,联系人,联系电话,电子邮箱\n{UNIT},北京市,张三,010-1,unit@example.org\n另一馆,浙江省,李四,0571-1,other@example.org\n"
PLAN = (f"承建单位,省份,题名,版本,普查登记编号,计划卷数,计划册数,计划影像数\n"
        f"{UNIT},北京市,桃花源記,明刻本（示例）,110000-0001-0000001,1,1,4\n"
        f"{UNIT},北京市,論語,宋刻本,,20,4,300\n"
        f"另一馆,浙江省,楚辭,明刻本,,17,2,200\n")


def zipped(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            zf.write(f, Path(folder.name) / f.relative_to(folder))
    return buf.getvalue()


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    app = create_app(Settings(home=home, environment="test", max_table_bytes=200_000))
    users = app.state.context.users
    keys = {n: users.add(n, role)[1] for n, role in (("staff", "acceptance"), ("lib", "submitter"), ("other", "submitter"),
                                                      ("coord", "coordinator"), ("ann", "annotator"), ("admin", "admin"))}
    h = {n: {"authorization": f"Bearer {k}"} for n, k in keys.items()}
    with TestClient(app) as c:
        r = c.post("/api/submissions", content=zipped(SAMPLE), headers={**h["lib"], "content-type": "application/zip"})
        assert r.status_code == 201, r.text
        r = c.post("/api/acceptance/units", content=UNITS.encode("gb18030"), headers={**h["staff"], "content-type": "text/csv"},
                   params={"filename": "units.csv"})
        assert r.status_code == 201, r.text
        for user, body in (("lib", {"unit": UNIT}), ("other", {"unit": "另一馆"}), ("coord", {"province": "浙江省"})):
            assert c.put(f"/api/acceptance/members/{user}", json=body, headers=h["staff"]).status_code == 200
        r = c.post("/api/acceptance/plan", files={"file": ("plan.csv", PLAN.encode(), "text/csv")}, headers=h["staff"],
                   params={"year": 2026, "first_deadline": "2026-10-25", "final_deadline": "2027-01-10"})
        assert r.status_code == 201, r.text
        yield c, h


def test_the_stable_lookups_are_public(world):
    c, _ = world
    r = c.get("/api/acceptance/sampling-plan", params={"lot_size": 5000, "aql": "1.0"})
    assert (r.status_code, r.json()["code_letter"], r.json()["sample_size"], r.json()["accept"], r.json()["reject"]) == (200, "L", 200, 5, 6)
    assert c.get("/api/acceptance/due", params={"month": "2026-02"}).json()["due"] == "2026-02-28"
    r = c.get("/api/acceptance/sampling-plan", params={"lot_size": 5000, "aql": "3"})
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "aql"


def test_who_sees_the_progress(world):
    c, h = world
    assert c.get("/api/acceptance/progress").status_code == 401
    assert [u["unit"] for u in c.get("/api/acceptance/progress", headers=h["staff"]).json()["units"]] == [UNIT, "另一馆"]
    assert [u["unit"] for u in c.get("/api/acceptance/progress", headers=h["lib"]).json()["units"]] == [UNIT]
    assert [u["unit"] for u in c.get("/api/acceptance/progress", headers=h["coord"]).json()["units"]] == ["另一馆"]
    assert c.get("/api/acceptance/progress", headers=h["ann"]).json()["units"] == []
    me = c.get("/api/acceptance/progress", headers=h["lib"]).json()["units"][0]
    assert (me["planned"], me["submitted"]) == (2, 1)
    r = c.get(f"/api/acceptance/plan/{UNIT}", headers=h["other"])
    assert r.status_code == 403 and set(r.json()["error"]) == {"code", "message", "details"}
    csv_text = c.get("/api/acceptance/progress", params={"format": "csv"}, headers=h["lib"]).text
    assert "桃花源記" in csv_text and "楚辭" not in csv_text


def test_only_staff_import_and_bad_plans_store_nothing(world):
    c, h = world
    before = c.get("/healthz").json()["quads"]
    r = c.post("/api/acceptance/plan", content=PLAN.encode(), headers={**h["lib"], "content-type": "text/csv"})
    assert r.status_code == 403
    bad = f"承建单位,省份,题名,版本\n无名馆,北京市,史記,宋刻本\n{UNIT},北京市,史記,\n"
    r = c.post("/api/acceptance/plan", content=bad.encode("gb18030"), headers={**h["staff"], "content-type": "text/csv"},
               params={"filename": "plan.csv"})
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "import_rejected"
    assert [(p["row"], p["column_letter"], p["code"]) for p in err["details"]["problems"]] == [(2, "A", "unknown_unit"), (3, "D", "empty_cell")]
    assert all(p["message_zh"] and p["message_en"] and p["file"] == "plan.csv" for p in err["details"]["problems"])
    r = c.post("/api/acceptance/plan", content=b"x" * 300_000, headers={**h["staff"], "content-type": "text/csv"})
    assert r.status_code == 413 and r.json()["error"]["code"] == "payload_too_large"
    assert c.get("/healthz").json()["quads"] == before


def test_sample_opinions_are_for_the_unit_and_staff_only(world):
    c, h = world
    batch = "guji-sample-2026-001"
    assert c.post(f"/api/acceptance/samples/{batch}", headers=h["other"]).status_code == 403
    assert c.post(f"/api/acceptance/samples/{batch}", headers=h["lib"]).status_code == 201
    assert c.post(f"/api/acceptance/samples/{batch}/reviews", json={"decision": "approved"}, headers=h["lib"]).status_code == 403
    r = c.post(f"/api/acceptance/samples/{batch}/reviews", headers=h["staff"], json={
        "decision": "revise", "opinions": [{"file": "data/books.csv", "row": 3, "field": "year", "message": "清抄本请补著录年代"}]})
    assert r.status_code == 201, r.text
    got = c.get(f"/api/acceptance/samples/{batch}", headers=h["lib"]).json()
    assert got["decision"] == "revise" and got["reviews"][0]["opinions"][0]["message"] == "清抄本请补著录年代"
    for who in ("other", "coord", "ann"):
        assert c.get(f"/api/acceptance/samples/{batch}", headers=h[who]).status_code == 403
    assert c.get(f"/api/acceptance/samples/{batch}").status_code == 401
    # never public: not in the public SPARQL dataset, not in search
    r = c.get("/sparql", params={"query": 'SELECT ?o WHERE { ?s ?p ?o FILTER(CONTAINS(STR(?o), "清抄本请补")) }'},
              headers={"accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.json()["results"]["bindings"] == []
    r = c.get("/sparql", params={"query": "ASK { GRAPH ?g { ?s ?p ?o } FILTER(CONTAINS(STR(?g), 'private/acceptance')) }"},
              headers={"accept": "application/sparql-results+json"})
    assert r.json()["boolean"] is False
    assert c.get("/api/search", params={"q": "清抄本请补著录年代"}).json()["total"] == 0
    # the public sees the units (credit), nothing private about them
    r = c.get("/sparql", params={"query": f'ASK {{ ?u <http://www.w3.org/2000/01/rdf-schema#label> "{UNIT}" ; <https://w3id.org/guji/ontology#province> "北京市" }}'},
              headers={"accept": "application/sparql-results+json"})
    assert r.json()["boolean"] is True
    r = c.get("/sparql", params={"query": 'ASK { ?s ?p "unit@example.org" }'}, headers={"accept": "application/sparql-results+json"})
    assert r.json()["boolean"] is False


def test_catalogue_form_spot_check_and_acceptance(world):
    c, h = world
    rows = {"rows": [{"title": "桃花源記", "unit": UNIT, "contact": "张三", "phone": "010-1"}]}
    for bad in (b"{", b'{"rows": [{"title": 1}]}', b"[]"):
        r = c.post("/api/acceptance/catalogues/2026-10", content=bad, headers={**h["lib"], "content-type": "application/json"})
        assert r.status_code == 422 and r.json()["error"]["code"] == "validation_error", r.text
    r = c.post("/api/acceptance/catalogues/2099-01", json=rows, headers=h["lib"])
    assert r.status_code == 422 and r.json()["error"]["details"]["field"] == "month"
    r = c.post("/api/acceptance/catalogues/2026-10", json={"rows": [{**rows["rows"][0], "unit": "另一馆"}]}, headers=h["lib"])
    assert r.status_code == 422 and r.json()["error"]["details"]["problems"][0]["code"] == "not_your_unit"
    r = c.post("/api/acceptance/catalogues/2026-10", json=rows, headers=h["lib"])
    assert r.status_code == 201 and r.json()["late"] is True  # sent after 2026-10-30
    st = c.get("/api/acceptance/catalogues/2026-10", headers=h["staff"]).json()
    assert {u["unit"]: u["state"] for u in st["units"]} == {UNIT: "late", "另一馆": "missing"}
    assert [u["unit"] for u in c.get("/api/acceptance/catalogues/2026-10", headers=h["coord"]).json()["units"]] == ["另一馆"]
    r = c.post("/api/acceptance/reminders/2026-10", headers=h["staff"])
    assert [m["unit"] for m in r.json()["reminders"]] == ["另一馆"] and r.json()["outbox"].endswith("reminders-2026-10.mbox")
    # spot check of the batch
    assert c.post("/api/acceptance/checks", json={"kind": "batch", "ref": "guji-sample-2026-001", "aql": "2.5"}, headers=h["lib"]).status_code == 403
    r = c.post("/api/acceptance/checks", json={"kind": "batch", "ref": "guji-sample-2026-001", "aql": "2.5", "seed": 11}, headers=h["staff"])
    assert r.status_code == 201, r.text
    chk = r.json()
    assert (chk["lot_size"], chk["sample_size"], chk["accept"], chk["reject"], chk["seed"]) == (3, 3, 0, 1, 11)
    r = c.post(f"/api/acceptance/checks/{chk['id']}/defects", json={"defects": []}, headers=h["staff"])
    assert r.json()["decision"] == "accepted"
    assert c.get(f"/api/acceptance/checks/{chk['id']}", headers=h["lib"]).status_code == 200
    assert c.get(f"/api/acceptance/checks/{chk['id']}", headers=h["other"]).status_code == 403
    status = c.get("/api/acceptance/batches/guji-sample-2026-001", headers=h["lib"]).json()
    # every month from the first submission (2026-11) whose due day has passed needs its catalogue
    if status["missing_catalogues"]:
        r = c.post("/api/acceptance/batches/guji-sample-2026-001/acceptance", json={}, headers=h["staff"])
        assert r.status_code == 409 and r.json()["error"]["details"]["reasons"][0]["code"] == "catalogue_missing"
        for month in status["missing_catalogues"]:
            assert c.post(f"/api/acceptance/catalogues/{month}", json=rows, headers=h["lib"]).status_code == 201
    r = c.post("/api/acceptance/batches/guji-sample-2026-001/acceptance", json={}, headers=h["staff"])
    assert r.status_code == 201 and r.json()["accepted"] is True, r.text
    r = c.post("/api/acceptance/batches/guji-sample-2026-001/acceptance", json={}, headers=h["staff"])
    assert r.status_code == 409
    rep = c.get("/api/acceptance/report", headers=h["staff"])
    assert rep.status_code == 200 and rep.headers["content-type"].startswith("text/html") and "<svg" in rep.text
    rep = c.get("/api/acceptance/report", params={"format": "csv"}, headers=h["coord"])
    assert UNIT not in rep.text and "另一馆" in rep.text


def test_credit_is_public_and_statistics_count_use(world):
    c, h = world
    before = c.get(f"/api/acceptance/units/{UNIT}/statistics", headers=h["lib"]).json()
    assert before["totals"]["records"] == 3 and before["totals"]["images"] == 3 and before["totals"]["juan"] == 2
    book = c.get("/api/books/110000-0001-0000001").json()
    service = [d for d in book["digital"] if d["credit"]]
    assert service and service[0]["credit"]["unit"] == UNIT and "非商业" in service[0]["terms"]["zh"]
    assert [x["name"] for x in book["contributed_by"]] == [UNIT]  # the record credits its unit too
    page = c.get("/books/110000-0001-0000001").text
    assert "提供单位" in page and 'id="contributed-by"' in page and UNIT in page and "non-commercial" in page
    hits = c.get("/api/search", params={"q": "桃花"}).json()
    assert hits["total"] >= 1
    juan = service[0]["texts"][0]["iri"] if service[0]["texts"] else None
    if juan:
        assert c.get("/api/texts", params={"iri": juan}).status_code == 200
    after = c.get(f"/api/acceptance/units/{UNIT}/statistics", headers=h["lib"]).json()["totals"]
    assert after["views"] == before["totals"]["views"] + 2
    assert after["searches"] == before["totals"]["searches"] + 1
    assert after["downloads"] == before["totals"]["downloads"] + (1 if juan else 0)
    # who sees the statistics
    assert c.get(f"/api/acceptance/units/{UNIT}/statistics", headers=h["other"]).status_code == 403
    assert c.get(f"/api/acceptance/units/{UNIT}/statistics").status_code == 401
    assert c.get(f"/api/acceptance/units/{UNIT}/statistics", headers=h["staff"]).status_code == 200
    csv_text = c.get(f"/api/acceptance/units/{UNIT}/statistics", params={"format": "csv"}, headers=h["lib"]).text
    assert csv_text.splitlines()[0] == "\ufeffmonth 月份,records 著录,images 影像,juan 卷,views 浏览,searches 检索命中,downloads 下载"
    cr = c.get(f"/api/acceptance/units/{UNIT}/credit").json()
    assert cr["province"] == "北京市" and {b["title"] for b in cr["books"]} >= {"桃花源記"}
    # the public credit says nothing private
    assert "unit@example.org" not in json.dumps(cr, ensure_ascii=False)

"""The acceptance workflow's service on a real embedded store holding the bundled sample package."""

import io

import pytest

from accounts.errors import AuthenticationRequiredError, PermissionDeniedError
from accounts.identity import ANONYMOUS, Identity, Role
from acceptance.errors import AcceptanceConflictError, AcceptanceInputError, ImportRejectedError
from acceptance.service import AcceptanceService
from kg.graphs import is_public
from kg.package import ingest_package

from .packages import UNIT, Clock, second_batch

STAFF = Identity("staff", Role.ACCEPTANCE)
UNIT_USER = Identity("lib", Role.SUBMITTER)
OTHER_USER = Identity("other", Role.SUBMITTER)
COORD = Identity("coord", Role.COORDINATOR)
ANNOTATOR = Identity("ann", Role.ANNOTATOR)

UNITS_CSV = f"承建单位,省份,联系人,联系电话,电子邮箱\n{UNIT},北京市,张三,010-1,unit@example.org\n另一馆,浙江省,李四,0571-1,other@example.org\n"
PLAN_CSV = (f"承建单位,省份,题名,版本,普查登记编号,计划卷数,计划册数,计划影像数\n"
            f"{UNIT},北京市,桃花源記,明刻本（示例）,110000-0001-0000001,1,1,4\n"
            f"{UNIT},北京市,千字文,清抄本（示例）,110000-0001-0000002,1,1,2\n"
            f"{UNIT},北京市,論語,宋刻本,,20,4,300\n"
            f"另一馆,浙江省,楚辭,明刻本,,17,2,200\n")


def service(store, at="2026-11-26T02:00:00"):
    return AcceptanceService(store, clock=Clock(at))


@pytest.fixture
def svc(store, tmp_path):
    s = AcceptanceService(store, outbox=tmp_path / "outbox", clock=Clock("2026-11-26T02:00:00"))
    s.register_units(STAFF, "units.csv", UNITS_CSV.encode("gb18030"))
    s.set_member(STAFF, "lib", unit=UNIT)
    s.set_member(STAFF, "other", unit="另一馆")
    s.set_member(STAFF, "coord", province="浙江省")
    s.import_plan(STAFF, "plan.csv", PLAN_CSV.encode("utf-8"), year=2026, first_deadline="2026-10-25", final_deadline="2027-01-10")
    return s


def graphs_and_quads(store):
    return sorted(store.graphs()), store.count()


def test_units_are_public_everything_else_private(svc, store):
    acc = [g for g in store.graphs() if "/acceptance/" in g]
    assert [g for g in acc if is_public(g)] == ["https://w3id.org/guji/graph/acceptance/units"]
    assert any("private/acceptance/plan/" in g for g in acc) and any("private/acceptance/members" in g for g in acc)


def test_progress_per_unit_and_province(svc):
    p = svc.progress(STAFF)
    u = {x["unit"]: x for x in p["units"]}
    me = u[UNIT]
    assert (me["planned"], me["submitted"], me["accepted"], me["sample_approved"]) == (3, 2, 0, False)
    assert [e["submitted_in"] for e in me["entries"]] == ["guji-sample-2026-001", "guji-sample-2026-001", None]
    assert u["另一馆"]["first_deadline_missed"] is True and u["另一馆"]["submitted"] == 0
    assert {x["province"]: x["planned"] for x in p["provinces"]} == {"北京市": 3, "浙江省": 1}
    # the final deadline passed: the titles not submitted are overdue
    late = service(svc.store, at="2027-01-12T02:00:00").progress(STAFF)
    assert {x["unit"]: x["overdue"] for x in late["units"]} == {UNIT: 1, "另一馆": 1}


def test_who_sees_what(svc):
    assert [u["unit"] for u in svc.progress(UNIT_USER)["units"]] == [UNIT]
    assert [u["unit"] for u in svc.progress(COORD)["units"]] == ["另一馆"]
    assert svc.progress(Identity("nobody", Role.SUBMITTER))["units"] == []
    assert svc.progress(ANNOTATOR)["units"] == []
    with pytest.raises(AuthenticationRequiredError):
        svc.progress(ANONYMOUS)
    with pytest.raises(PermissionDeniedError):
        svc.plan(OTHER_USER, UNIT)
    with pytest.raises(PermissionDeniedError):
        svc.import_plan(UNIT_USER, "plan.csv", PLAN_CSV.encode())


def _problems(exc):
    return [(p.get("sheet"), p.get("row"), p.get("column_letter"), p["code"]) for p in exc.value.details["problems"]]


def test_bad_plans_store_nothing(svc, store):
    before = graphs_and_quads(store)
    bad = (f"承建单位,省份,题名,版本,计划卷数\n"
           f"无名馆,北京市,史記,宋刻本,1\n"            # unknown unit
           f"{UNIT},浙江省,史記,宋刻本,1\n"            # wrong province
           f"{UNIT},北京市,史記,宋刻本,-3\n"           # a count that is not one; duplicate of row 3's title
           f"{UNIT},北京市,,宋刻本,1\n")               # empty title
    with pytest.raises(ImportRejectedError) as e:
        svc.import_plan(STAFF, "plan.csv", bad.encode("utf-8"))
    assert _problems(e) == [(None, 2, "A", "unknown_unit"), (None, 3, "B", "province_mismatch"), (None, 4, "C", "duplicate_title"),
                            (None, 4, "E", "not_a_count"), (None, 5, "C", "empty_cell")]
    p = e.value.details["problems"][0]
    assert "无名馆" in p["message_zh"] and "unknown submitting unit" in p["message_en"]
    assert graphs_and_quads(store) == before


def test_plan_encodings(svc, store):
    text = PLAN_CSV.replace("論語", "论语")
    r = svc.import_plan(STAFF, "plan.csv", text.encode("gbk"), year=2026)
    assert r["encoding"] == "gb18030" and r["titles"] == 4
    assert [e["title"] for e in svc.plan(STAFF, UNIT)["entries"]] == ["桃花源記", "千字文", "论语"]
    before = graphs_and_quads(store)
    with pytest.raises(ImportRejectedError) as e:
        svc.import_plan(STAFF, "plan.csv", "承建单位,省份,题名,版本\n".encode("utf-16"))
    assert e.value.details["problems"][0]["code"] == "encoding"
    assert "GB18030" in e.value.details["problems"][0]["message_en"]
    assert graphs_and_quads(store) == before


def test_xlsx_plan_and_merged_cells(svc, store):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "审定目录"
    for row in [line.split(",") for line in PLAN_CSV.strip().splitlines()]:
        ws.append([int(c) if c.isdigit() and len(c) < 6 else c for c in row])
    buf = io.BytesIO()
    wb.save(buf)
    r = svc.import_plan(STAFF, "plan.xlsx", buf.getvalue(), year=2026)
    assert (r["sheet"], r["titles"]) == ("审定目录", 4)
    assert svc.plan(STAFF, UNIT)["entries"][2]["planned_images"] == 300
    ws.merge_cells("A2:A4")
    buf = io.BytesIO()
    wb.save(buf)
    before = graphs_and_quads(store)
    with pytest.raises(ImportRejectedError) as e:
        svc.import_plan(STAFF, "plan.xlsx", buf.getvalue())
    assert ("审定目录", 2, "A", "merged_cells") in _problems(e)
    assert graphs_and_quads(store) == before


def test_sample_review_and_profile(svc, store, tmp_path):
    with pytest.raises(PermissionDeniedError):
        svc.mark_sample(OTHER_USER, "guji-sample-2026-001")
    s = svc.mark_sample(UNIT_USER, "guji-sample-2026-001")
    assert s["decision"] == "pending"
    with pytest.raises(PermissionDeniedError):
        svc.review_sample(UNIT_USER, "guji-sample-2026-001", "approved", [])
    with pytest.raises(AcceptanceInputError):
        svc.review_sample(STAFF, "guji-sample-2026-001", "revise", [])
    svc.review_sample(STAFF, "guji-sample-2026-001", "revise",
                      [{"file": "data/books.csv", "row": 2, "field": "edition_statement", "message": "版本项请依原书著录"}])
    svc.clock = Clock("2026-11-26T03:00:00")
    s = svc.review_sample(STAFF, "guji-sample-2026-001", "approved", [])
    assert [r["decision"] for r in s["reviews"]] == ["revise", "approved"] and s["decision"] == "approved"
    assert svc.sample(UNIT_USER, "guji-sample-2026-001")["reviews"][0]["opinions"] == \
        [{"file": "data/books.csv", "row": 2, "field": "edition_statement", "message": "版本项请依原书著录"}]
    with pytest.raises(PermissionDeniedError):
        svc.sample(OTHER_USER, "guji-sample-2026-001")
    assert svc.progress(UNIT_USER)["units"][0]["sample_approved"] is True
    assert ingest_package(store, second_batch(tmp_path), agent="lib").report.valid
    diff = svc.compare_with_sample(UNIT_USER, "guji-sample-2026-002")
    assert diff["sample"] == "guji-sample-2026-001" and not diff["same_profile"]
    assert any(d["in_sample"] and not d["in_batch"] for d in diff["differences"])
    assert svc.compare_with_sample(STAFF, "guji-sample-2026-001")["same_profile"] is True
    st = svc.acceptance_status(STAFF, "guji-sample-2026-002")  # reported with what acceptance needs
    assert st["sample_profile"]["sample"] == "guji-sample-2026-001" and st["sample_profile"]["same_profile"] is False


def test_monthly_catalogue_late_missing_and_reminders(svc, store, tmp_path):
    cat = f"题名,承建单位,联系人,联系电话,完成日期\n桃花源記,{UNIT},张三,010-1,2026-10-12\n"
    svc.clock = Clock("2026-11-02T02:00:00")  # after 2026-10-30, the last working day of October
    r = svc.submit_catalogue(UNIT_USER, "2026-10", "oct.csv", cat.encode("utf-8"))
    assert (r["due"], r["late"]) == ("2026-10-30", True)
    st = {u["unit"]: u["state"] for u in svc.catalogue_status(STAFF, "2026-10")["units"]}
    assert st == {UNIT: "late", "另一馆": "missing"}
    rem = svc.reminders(STAFF, "2026-10")
    assert [m["unit"] for m in rem["reminders"]] == ["另一馆"] and rem["reminders"][0]["to"] == "other@example.org"
    text = (tmp_path / "outbox" / "reminders-2026-10.mbox").read_text(encoding="utf-8")
    assert "To: other@example.org" in text
    svc.clock = Clock("2026-11-27T02:00:00")
    on_time = svc.submit_catalogue(UNIT_USER, "2026-11", "nov.csv", cat.replace("2026-10-12", "2026-11-20").encode())
    assert on_time["late"] is False
    before = graphs_and_quads(store)
    with pytest.raises(AcceptanceInputError):
        svc.submit_catalogue(UNIT_USER, "2026-12", "dec.csv", cat.encode())  # a month in the future
    bad = f"题名,承建单位,联系人,联系电话,完成日期\n桃花源記,{UNIT},张三,010-1,2026-02-30\n千字文,另一馆,李四,0571,2026-11-03\n"
    with pytest.raises(ImportRejectedError) as e:
        svc.submit_catalogue(UNIT_USER, "2026-11", "nov.csv", bad.encode())
    assert _problems(e) == [(None, 2, "E", "impossible_date"), (None, 3, "B", "not_your_unit")]
    assert graphs_and_quads(store) == before
    # a coordinator submits for a unit of their province
    ok = svc.submit_catalogue(COORD, "2026-11", "zj.csv", "题名,承建单位,联系人,联系电话\n楚辭,另一馆,李四,0571-1\n".encode())
    assert ok["units"] == ["另一馆"]


def test_spot_check_is_reproducible_and_decided_by_the_plan(svc, store, tmp_path):
    c = svc.create_check(STAFF, "batch", "guji-sample-2026-001", "2.5", seed=7)
    assert (c["lot_size"], c["code_letter"], c["sample_size"], c["accept"], c["reject"]) == (3, "A", 3, 0, 1)
    c2 = svc.create_check(STAFF, "batch", "guji-sample-2026-001", "2.5", seed=7)
    assert c2["sampled"] == c["sampled"] and c2["id"] != c["id"]
    with pytest.raises(PermissionDeniedError):
        svc.record_defects(UNIT_USER, c["id"], [])
    with pytest.raises(AcceptanceInputError):
        svc.record_defects(STAFF, c["id"], [{"item": "https://example.org/not-sampled", "category": "image_defect"}])
    with pytest.raises(AcceptanceInputError):
        svc.record_defects(STAFF, c["id"], [{"item": c["sampled"][0], "category": "smudge"}])
    done = svc.record_defects(STAFF, c["id"], [{"item": c["sampled"][0], "category": "missing_page", "note": "缺第3叶"}])
    assert (done["defective_items"], done["decision"]) == (1, "rejected")
    assert svc.record_defects(STAFF, c2["id"], [])["decision"] == "accepted"
    with pytest.raises(AcceptanceConflictError):
        svc.record_defects(STAFF, c2["id"], [])
    assert sorted(x["id"] for x in svc.checks(UNIT_USER)) == sorted([c["id"], c2["id"]])
    assert svc.checks(OTHER_USER) == []


def test_a_month_of_completions_as_the_lot_draws_the_same_items_for_the_same_seed(svc):
    rows = "".join(f"书{i:02d},{UNIT},张三,010-1\n" for i in range(40))
    svc.submit_catalogue(UNIT_USER, "2026-11", "nov.csv", ("题名,承建单位,联系人,联系电话\n" + rows).encode())
    a = svc.create_check(STAFF, "month", f"{UNIT}/2026-11", "2.5", seed=2024)
    b = svc.create_check(STAFF, "month", f"{UNIT}/2026-11", "2.5", seed=2024)
    c = svc.create_check(STAFF, "month", f"{UNIT}/2026-11", "2.5", seed=2025)
    assert (a["lot_size"], a["code_letter"], a["sample_size"], a["accept"], a["reject"]) == (40, "D", 5, 0, 1)  # D/2.5 ↑ C
    assert a["sampled"] == b["sampled"] and len(set(a["sampled"])) == 5 and a["seed"] == 2024
    assert c["sampled"] != a["sampled"]


def test_batch_acceptance_needs_checks_and_catalogues(svc, store):
    st = svc.acceptance_status(STAFF, "guji-sample-2026-001")
    assert {r["code"] for r in st["reasons"]} == {"no_spot_check"}
    assert st["missing_catalogues"] == []  # November's catalogue is not due before 2026-11-30
    with pytest.raises(AcceptanceConflictError):
        svc.accept_batch(STAFF, "guji-sample-2026-001")
    c = svc.create_check(STAFF, "batch", "guji-sample-2026-001", "2.5", seed=1)
    svc.record_defects(STAFF, c["id"], [])
    svc.clock = Clock("2026-12-02T02:00:00")  # November's catalogue (due 2026-11-30) is now needed
    assert svc.acceptance_status(STAFF, "guji-sample-2026-001")["missing_catalogues"] == ["2026-11"]
    svc.submit_catalogue(UNIT_USER, "2026-11", "nov.csv", f"题名,承建单位,联系人,联系电话\n桃花源記,{UNIT},张三,010-1\n".encode())
    with pytest.raises(PermissionDeniedError):
        svc.accept_batch(UNIT_USER, "guji-sample-2026-001")
    st = svc.accept_batch(STAFF, "guji-sample-2026-001", deadline="2027-01-10")
    assert st["accepted"] and st["ready"]
    assert svc.progress(UNIT_USER)["units"][0]["accepted"] == 2
    with pytest.raises(AcceptanceConflictError):
        svc.accept_batch(STAFF, "guji-sample-2026-001")


def test_acceptance_report_html_and_csv(svc):
    from acceptance.reports import acceptance_csv, acceptance_html

    c = svc.create_check(STAFF, "batch", "guji-sample-2026-001", "2.5", seed=3)
    svc.record_defects(STAFF, c["id"], [{"item": c["sampled"][0], "category": "image_defect"}])
    data = svc.report(STAFF)
    me = next(u for u in data["units"] if u["unit"] == UNIT)
    assert (me["planned"], me["submitted"], me["checks"], me["checks_rejected"], me["defects"]) == (3, 2, 1, 1, 1)
    html = acceptance_html(data)
    assert "<svg" in html and UNIT in html and "<script" not in html
    csv_text = acceptance_csv(data)
    assert csv_text.startswith("\ufeffunit 承建单位,province 省份,planned 计划")
    assert f"{UNIT},北京市,3,no,2,0,0,1,0,1,1" in csv_text
    assert [u["unit"] for u in svc.report(COORD)["units"]] == ["另一馆"]


def test_an_xlsx_bomb_is_refused_before_it_is_unpacked(svc, store):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", b"<" + b" " * 50_000_000 + b">")
    before = graphs_and_quads(store)
    with pytest.raises(ImportRejectedError) as e:
        svc.import_plan(STAFF, "plan.xlsx", buf.getvalue())
    assert e.value.details["problems"][0]["code"] == "xlsx_too_large"
    assert graphs_and_quads(store) == before
    with pytest.raises(ImportRejectedError) as e:
        svc.import_plan(STAFF, "plan.xlsx", b"PK\x03\x04 not really a zip")
    assert e.value.details["problems"][0]["code"] == "invalid_xlsx"


def test_a_malformed_month_in_a_path_is_a_clear_error(svc):
    with pytest.raises(AcceptanceInputError):
        svc.catalogue(STAFF, UNIT, "2026-10>")

"""The acceptance workflow's whole story in a real browser against a real ``guji serve`` (issue 13):
staff import a plan; a unit submits its sample; staff record opinions; the unit submits a batch; a
monthly catalogue arrives late and is flagged; staff run a spot check (sample drawn, defects
recorded, lot decided by the plan); the batch is accepted; the unit sees its statistics and its
credit on public pages."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.unit.acceptance.packages import second_batch

from .conftest import CHROMIUM_ARGS, PageWatch, Server, _guji
from .test_pages import assert_labelled, shot, wait_for, wait_text

UNIT = "guji 示例图书馆"
PEOPLE = {"stella": ("acceptance", "stella-password-1"), "lin": ("submitter", "lin-password-1")}
UNITS = f"承建单位,省份,联系人,联系电话,电子邮箱\n{UNIT},北京市,张三,010-1,unit@example.org\n"
PLAN = (f"承建单位,省份,题名,版本,普查登记编号,计划卷数,计划册数,计划影像数\n"
        f"{UNIT},北京市,桃花源記,明刻本（示例）,110000-0001-0000001,1,1,4\n"
        f"{UNIT},北京市,千字文,清抄本（示例）,110000-0001-0000002,1,1,2\n"
        f"{UNIT},北京市,論語,宋刻本,,20,4,300\n")


@pytest.fixture(scope="module")
def acc_server(tmp_path_factory, chromium):
    home = tmp_path_factory.mktemp("acceptance-home")
    srv = Server(home, home / "serve.log")
    srv.start("--sample")  # the sample package of guji 示例图书馆 is batch guji-sample-2026-001
    for name, (role, password) in PEOPLE.items():
        _guji(home, "users", "add", name, "--role", role, "--password-stdin", "--json", stdin=password + "\n")
    yield srv
    srv.stop()


@pytest.fixture
def page_as(browser, acc_server):
    contexts, watches = [], []

    def make(user: str):
        ctx = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
        watch = PageWatch(acc_server.url)

        def guard(route):
            if route.request.url.startswith(acc_server.url) or route.request.url.startswith(("data:", "blob:")):
                route.continue_()
            else:
                watch.external.append(route.request.url)
                route.abort()

        ctx.route("**/*", guard)
        page = ctx.new_page()
        page.on("pageerror", lambda e: watch.errors.append(f"pageerror: {e}"))
        page.set_default_timeout(30_000)
        contexts.append(ctx)
        watches.append(watch)
        page.goto(f"{acc_server.url}/login?next=/acceptance")
        page.fill("#username", user)
        page.fill("#password", PEOPLE[user][1])
        with page.expect_navigation():
            page.press("#password", "Enter")
        wait_for(page, "(u) => document.getElementById('who').textContent.includes(u)", arg=user)
        wait_for(page, "() => document.getElementById('main').dataset.ready === 'true'")
        return page

    yield make
    for ctx in contexts:
        ctx.close()
    for w in watches:
        w.check()


def zipped(folder: Path) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for f in sorted(folder.rglob("*")):
            zf.write(f, Path(folder.name) / f.relative_to(folder))
    return buf.getvalue()


def upload(page, selector: str, name: str, data: bytes, mime: str = "text/csv") -> None:
    page.set_input_files(selector, files=[{"name": name, "mimeType": mime, "buffer": data}])


def test_the_whole_acceptance_story(page_as, acc_server, screenshots, tmp_path):
    staff = page_as("stella")
    assert_labelled(staff)
    # staff register the unit, refuse a broken plan (nothing stored), import the real one
    upload(staff, "#units-file", "units.csv", UNITS.encode("gb18030"))
    staff.click("#units-form button[type=submit]")
    wait_text(staff, "#acc-status", "已登记")
    staff.fill("#member-user", "lin")
    staff.fill("#member-unit", UNIT)
    staff.click("#member-form button[type=submit]")
    wait_text(staff, "#acc-status", "lin")
    upload(staff, "#plan-file", "plan.csv", f"承建单位,省份,题名,版本\n无名馆,北京市,史記,宋刻本\n".encode())
    staff.click("#plan-form button[type=submit]")
    wait_text(staff, "#problems", "unknown submitting unit")
    assert "无名馆" in staff.inner_text("#problems table")
    staff.fill("#plan-first", "2026-10-25")
    staff.fill("#plan-final", "2027-01-10")
    upload(staff, "#plan-file", "plan.csv", PLAN.encode("gb18030"))
    staff.click("#plan-form button[type=submit]")
    wait_text(staff, "#acc-status", "已导入")
    wait_text(staff, f'#progress tr[data-unit="{UNIT}"] .planned', "3")
    shot(staff, screenshots, "acceptance-1-plan")

    # the unit marks its package as its sample
    unit = page_as("lin")
    assert unit.is_hidden("#setup-section") and unit.is_hidden("#check-section") and unit.is_hidden("#review-form")
    assert unit.is_hidden("#batch-accept") and unit.is_visible("#sample-mark")
    wait_text(unit, f'#progress tr[data-unit="{UNIT}"] .submitted', "2")
    unit.fill("#sample-batch", "guji-sample-2026-001")
    unit.click("#sample-mark")
    wait_text(unit, "#sample-view", "pending")

    # staff record opinions (revise), the unit sees them; then staff approve
    staff.fill("#sample-batch", "guji-sample-2026-001")
    staff.select_option("#review-decision", "revise")
    staff.fill("#op-row", "3")
    staff.fill("#op-field", "year")
    staff.fill("#op-message", "清抄本请补著录年代")
    staff.click("#review-form button[type=submit]")
    wait_text(staff, "#sample-view", "清抄本请补著录年代")
    unit.click("#sample-show")
    wait_text(unit, "#sample-view .opinion", "清抄本请补著录年代")
    assert "revise" in unit.inner_text("#sample-view .decision")
    staff.select_option("#review-decision", "approved")
    staff.click("#review-form button[type=submit]")
    wait_text(staff, "#sample-view .decision", "approved")

    # the unit submits its next batch; it is compared with the approved sample
    upload(unit, "#package-file", "batch-002.zip", zipped(second_batch(tmp_path)), "application/zip")
    unit.click("#package-form button[type=submit]")
    wait_text(unit, "#acc-status", "guji-sample-2026-002")
    unit.fill("#sample-batch", "guji-sample-2026-002")
    unit.click("#sample-compare")
    wait_text(unit, "#sample-view", "有差异")  # the batch left the collation table empty
    shot(unit, screenshots, "acceptance-2-unit")

    # the monthly catalogue of November arrives after its due day (2026-11-30) and is flagged late
    unit.fill("#cat-month", "2026-11")
    unit.fill("#cat-unit", UNIT)
    unit.fill("#cat-title", "桃花源記")
    unit.fill("#cat-contact", "张三")
    unit.fill("#cat-phone", "010-1")
    unit.click("#catalogue-form button[type=submit]")
    wait_text(unit, "#acc-status", "逾期 late")
    staff.fill("#cat-month", "2026-11")
    staff.click("#cat-status")
    wait_text(staff, f'#catalogue-status tr[data-unit="{UNIT}"] .state', "逾期")

    # staff draw a spot check of the new batch by GB/T 2828.1; a defect on one item rejects the lot (Ac 0)
    staff.fill("#check-batch", "guji-sample-2026-002")
    staff.fill("#check-aql", "2.5")
    staff.fill("#check-seed", "20261204")
    staff.click("#check-form button[type=submit]")
    wait_text(staff, "#check-view .plan", "Ac 0")
    assert "种子 seed 20261204" in staff.inner_text("#check-view .plan")
    staff.select_option("#defect-0", "missing_page")
    staff.click("#check-decide")
    wait_text(staff, "#check-view .decision", "rejected")
    staff.fill("#batch-id", "guji-sample-2026-002")
    staff.click("#batch-status-btn")
    wait_text(staff, "#batch-view", "抽检不合格")
    # the corrected batch is checked again and passes; the batch is accepted (catalogues complete)
    staff.fill("#check-batch", "guji-sample-2026-001")
    staff.click("#check-form button[type=submit]")
    wait_text(staff, "#check-view .plan", "Ac 0")
    staff.click("#check-decide")
    wait_text(staff, "#check-view .decision", "accepted")
    staff.fill("#batch-id", "guji-sample-2026-001")
    staff.click("#batch-status-btn")
    missing = staff.inner_text("#batch-view")
    for month in [m for m in ("2026-12", "2027-01", "2027-02") if m in missing]:  # only when the test runs later
        unit.fill("#cat-month", month)
        unit.click("#catalogue-form button[type=submit]")
        wait_text(unit, "#acc-status", month)
    staff.click("#batch-accept")
    wait_text(staff, "#batch-view .accepted", "是")
    wait_text(staff, f'#progress tr[data-unit="{UNIT}"] .accepted', "2")
    shot(staff, screenshots, "acceptance-3-accepted")
    staff.goto(f"{acc_server.url}/acceptance/report")
    wait_for(staff, "() => !!document.querySelector('#report svg')")
    assert UNIT in staff.inner_text("#report #units")
    shot(staff, screenshots, "acceptance-4-report")

    # the public book page credits the unit; the unit sees its statistics
    unit.goto(f"{acc_server.url}/books/110000-0001-0000001")
    credit = unit.inner_text(".credit")
    assert UNIT in credit and "non-commercial" in credit
    unit.click(".credit a.credit-unit")
    wait_text(unit, "#unit-books", "桃花源記")
    unit.goto(f"{acc_server.url}/acceptance")
    wait_for(unit, "() => document.getElementById('main').dataset.ready === 'true'")
    unit.fill("#stats-unit", UNIT)
    unit.click("#stats-form button[type=submit]")
    wait_for(unit, "() => !!document.querySelector('#stats-view svg')")
    views = int(unit.inner_text("#stats-view tr.total .views"))
    assert views >= 1  # the book page just opened
    assert int(unit.inner_text("#stats-view tr.total .records")) == 6  # two batches of three books
    shot(unit, screenshots, "acceptance-5-statistics")

"""The stable interface of `guji acceptance plan` and `guji acceptance due`, run as a real process."""

import json
import os
import subprocess
import sys


def guji(tmp_path, *args):
    env = {**os.environ, "GUJI_HOME": str(tmp_path / "home")}
    return subprocess.run([sys.executable, "-m", "api", *args], env=env, capture_output=True, text=True, timeout=120)


def test_plan_json(tmp_path):
    r = guji(tmp_path, "acceptance", "plan", "--lot-size", "5000", "--aql", "1.0", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {k: out[k] for k in ("code_letter", "sample_size", "accept", "reject")} == \
        {"code_letter": "L", "sample_size": 200, "accept": 5, "reject": 6}
    r = guji(tmp_path, "acceptance", "plan", "--lot-size", "1000", "--aql", "0.40", "--level", "II", "--json")
    out = json.loads(r.stdout)
    assert (out["code_letter"], out["sample_size"], out["accept"], out["reject"], out["arrow"]) == ("J", 125, 1, 2, "down")


def test_plan_refuses_an_aql_outside_the_standard(tmp_path):
    r = guji(tmp_path, "acceptance", "plan", "--lot-size", "100", "--aql", "3", "--json")
    assert r.returncode == 1
    err = json.loads(r.stdout)["error"]
    assert err["code"] == "invalid_acceptance_input" and err["details"]["field"] == "aql"


def test_due_json(tmp_path):
    r = guji(tmp_path, "acceptance", "due", "--month", "2025-01", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert (out["month"], out["due"]) == ("2025-01", "2025-01-27")
    r = guji(tmp_path, "acceptance", "due", "--month", "2026-02", "--json")
    assert json.loads(r.stdout)["due"] == "2026-02-28"
    r = guji(tmp_path, "acceptance", "due", "--month", "2026-2", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["error"]["details"]["field"] == "month"


def test_progress_and_report_read_the_store(tmp_path):
    from accounts.identity import Identity, Role
    from api.context import SAMPLE_DIR, Context
    from api.settings import Settings
    from kg.package import ingest_package

    home = tmp_path / "home"
    ctx = Context(Settings(home=home, environment="test"))
    ingest_package(ctx.store, SAMPLE_DIR / "package" / "guji-sample-2026-001", agent="test")
    staff = Identity("staff", Role.ACCEPTANCE)
    ctx.acceptance.register_units(staff, "u.csv", "承建单位,省份\nguji 示例图书馆,北京市\n".encode())
    ctx.acceptance.import_plan(staff, "p.csv", "承建单位,省份,题名,版本,普查登记编号\nguji 示例图书馆,北京市,桃花源記,明刻本,110000-0001-0000001\n"
                               "guji 示例图书馆,北京市,論語,宋刻本,\n".encode(), final_deadline="2026-01-10")
    ctx.close()
    r = guji(tmp_path, "acceptance", "progress", "--json")
    assert r.returncode == 0, r.stderr
    u = json.loads(r.stdout)["units"][0]
    assert (u["unit"], u["planned"], u["submitted"], u["overdue"]) == ("guji 示例图书馆", 2, 1, 1)
    r = guji(tmp_path, "acceptance", "report", "--format", "csv")
    assert r.returncode == 0 and "guji 示例图书馆,北京市,2,no,1,0,1" in r.stdout

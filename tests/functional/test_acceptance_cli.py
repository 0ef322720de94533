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

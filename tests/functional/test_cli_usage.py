"""The CLI as a user types it (issue 12): GUJI_HOME defaults to a per-user data directory (the same
from any working directory), a query may start with ``-``, and under ``--json`` even a usage error
is the JSON error shape."""

import json
import os
import subprocess
import sys
from pathlib import Path

from api.context import SAMPLE_DIR
from api.settings import Settings, default_home

ROOT = Path(__file__).resolve().parents[2]


def run(*args, cwd=None, env=None):
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run([sys.executable, "-m", "api", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_home_defaults_to_a_per_user_data_directory(monkeypatch, tmp_path):
    monkeypatch.delenv("GUJI_HOME", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    assert default_home() == tmp_path / "xdg" / "guji"
    assert Settings(_env_file=None).home == tmp_path / "xdg" / "guji"
    monkeypatch.setenv("GUJI_HOME", str(tmp_path / "mine"))
    assert Settings(_env_file=None).home == tmp_path / "mine"
    for empty in ("", "  "):  # set but empty (GUJI_HOME=$UNSET): the default, never the current directory
        monkeypatch.setenv("GUJI_HOME", empty)
        assert Settings(_env_file=None).home == tmp_path / "xdg" / "guji"


def test_the_same_home_from_any_directory(tmp_path):
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    env_no_home = {k: v for k, v in os.environ.items() if k != "GUJI_HOME"}
    a = tmp_path / "a"
    b = tmp_path / "b"
    a.mkdir()
    b.mkdir()
    r = subprocess.run([sys.executable, "-m", "api", "ingest", str(SAMPLE_DIR / "kanripo")], cwd=a, capture_output=True,
                       text=True, timeout=300, env={**env_no_home, "PYTHONPATH": str(ROOT), **env})
    assert r.returncode == 0, r.stderr
    found = subprocess.run([sys.executable, "-m", "api", "search", "桃花源", "--json"], cwd=b, capture_output=True,
                           text=True, timeout=120, env={**env_no_home, "PYTHONPATH": str(ROOT), **env})
    assert found.returncode == 0, found.stdout + found.stderr
    assert json.loads(found.stdout)["total"] >= 1
    assert (tmp_path / "xdg" / "guji" / "oxigraph").is_dir() and not (a / "var").exists()


def test_a_query_may_start_with_a_minus_and_be_several_words(tmp_path):
    env = {"GUJI_HOME": str(tmp_path / "home")}
    assert run("ingest", str(SAMPLE_DIR / "kanripo"), env=env).returncode == 0
    both = run("search", "桃花", "--json", env=env)
    minus_first = run("search", "-漁人", "桃花", "--json", env=env)
    assert minus_first.returncode == 0, minus_first.stdout + minus_first.stderr
    total = json.loads(both.stdout)["total"]
    without = json.loads(minus_first.stdout)
    assert without["query"] == "-漁人 桃花" and 0 <= without["total"] < total
    assert json.loads(run("search", "--json", "-n", "1", "桃花", env=env).stdout)["size"] == 1  # options still work


def test_usage_errors_are_json_under_json(tmp_path):
    env = {"GUJI_HOME": str(tmp_path / "home")}
    for args, field in ((("search", "桃", "--json", "--limit", "0"), "limit"), (("search", "桃", "--json", "--filter", "bad"), None),
                        (("sparql", "--json", "--bogus", "ASK{}"), None)):
        r = run(*args, env=env)
        assert r.returncode == 2, r.stdout + r.stderr
        err = json.loads(r.stdout)["error"]
        assert err["code"] == "usage_error" and err["message"]
        if field:
            assert err["details"]["field"] == field
    plain = run("search", "桃", "--limit", "0", env=env)
    assert plain.returncode == 2 and "Usage" in plain.stderr  # without --json: the usual text

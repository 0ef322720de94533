"""``guji index`` and ``guji search`` (api/cli_search.py) on a store under a temporary $GUJI_HOME."""

from __future__ import annotations

import json

import pytest
import typer
from typer.testing import CliRunner

from api.cli_search import register
from kg.store import OxigraphStore
from tests.contract.search_data import build_store


@pytest.fixture()
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("GUJI_HOME", str(tmp_path))
    monkeypatch.delenv("GUJI_ES_URL", raising=False)
    monkeypatch.delenv("GUJI_SEARCH_BACKEND", raising=False)
    store = OxigraphStore(tmp_path / "oxigraph")
    store.oxigraph.extend(list(build_store()))
    store.close()
    app = typer.Typer()
    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_index_then_search_json(cli):
    r = cli("index", "--quiet")
    assert r.exit_code == 0, r.output
    r = cli("search", "为之不流", "--json", "--limit", "5")
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout)
    assert out["total"] == 2
    assert {h["source_id"] for h in out["hits"]} == {"KR2b0003"}
    hit = out["hits"][0]
    assert set(hit) >= {"source_id", "title", "edition", "juan", "folio", "snippet", "matched_by"}
    assert hit["matched_by"][0]["steps"][0].keys() == {"source", "target", "kind", "table"}


def test_search_exact_filters_and_text_output(cli):
    assert cli("index", "-q").exit_code == 0
    r = cli("search", "爲之不流", "--exact", "--json")
    assert [h["edition"] for h in json.loads(r.stdout)["hits"]] == ["SBCK"]
    r = cli("search", "之", "--json", "--filter", "dynasty=宋")
    assert {h["source_id"] for h in json.loads(r.stdout)["hits"]} == {"KR2a0031"}
    r = cli("search", "为之不流")
    assert r.exit_code == 0 and "2 passage(s)" in r.stdout and "为→爲 variant" in r.stdout


def test_errors_exit_1_with_a_message(cli):
    r = cli("search", "史記")
    assert r.exit_code == 1 and "guji index" in " ".join(r.output.split())  # nothing indexed yet
    assert cli("index", "-q").exit_code == 0
    r = cli("search", "「未閉")
    assert r.exit_code == 1 and "unclosed quote" in " ".join(r.output.split())
    assert cli("search", "史", "--filter", "nonsense").exit_code == 2

"""``guji suggest`` as the CLI author will register it (api/cli_suggest.register)."""

import json

import pytest
import typer
from typer.testing import CliRunner

from api.cli_suggest import register


@pytest.fixture()
def cli(monkeypatch, tmp_path):
    # no shared data, no model: fast and the same everywhere
    monkeypatch.setenv("GUJI_SHARED", str(tmp_path / "no-shared"))
    monkeypatch.setenv("GUJI_HOME", str(tmp_path / "home"))
    app = typer.Typer()
    register(app)

    @app.command("version")  # a second command so that typer keeps "suggest" as a sub-command
    def version() -> None:
        pass

    return app


def test_json_one_object_per_input_line_from_stdin(cli):
    text = "𫝊作《史記》\n\n開元二十三年\r\n無"
    result = CliRunner().invoke(cli, ["suggest", "--json"], input=text.encode("utf-8"))
    assert result.exit_code == 0, result.output
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(lines) == 4
    assert lines[0]["spans"][0] == {"start": 3, "end": 5, "label": "BOOK", "text": "史記", "source": "pattern"}
    assert lines[1] == {"spans": []}
    assert lines[2]["spans"][0]["dates"][0]["year"] == 735
    assert lines[3] == {"spans": []}


def test_dash_and_file_argument(cli, tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("《論語》\n", encoding="utf-8")
    from_file = CliRunner().invoke(cli, ["suggest", str(path), "--json"])
    from_dash = CliRunner().invoke(cli, ["suggest", "-", "--json"], input=path.read_bytes())
    assert from_file.exit_code == from_dash.exit_code == 0
    assert from_file.stdout == from_dash.stdout
    assert json.loads(from_file.stdout)["spans"][0]["text"] == "論語"


def test_mode_is_said_on_stderr(cli):
    result = CliRunner().invoke(cli, ["suggest", "--json"], input="《論語》".encode())
    assert "mode=patterns" in result.stderr


def test_invalid_utf8_names_the_line(cli):
    data = "《論語》\n".encode() + b"\xff\xfe bad\n" + "《孟子》\n".encode()
    result = CliRunner().invoke(cli, ["suggest", "--json"], input=data)
    assert result.exit_code == 1
    assert "line 2" in result.stderr and "UTF-8" in result.stderr
    assert result.stdout == ""  # nothing half-done


def test_missing_file(cli, tmp_path):
    result = CliRunner().invoke(cli, ["suggest", str(tmp_path / "nope.txt"), "--json"])
    assert result.exit_code == 1
    assert "not found" in result.stderr

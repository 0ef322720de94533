"""``guji suggest`` and ``POST /api/suggest`` on awkward input: empty lines, a whole juan on one
line, a large file (streamed, bounded memory), bodies over the limit (413, the JSON error shape)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.settings import Settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLAUSE = "開元二十三年冬十月甲子，以范仲淹為參知政事。"  # a date, a person, an office


def run_suggest(tmp_path, args, stdin_path=None, shared=None):
    """``guji suggest`` in a child process; returns (exit code, stdout lines, stderr, peak RSS MiB)."""
    env = dict(os.environ, GUJI_HOME=str(tmp_path / "home"), GUJI_SHARED=str(shared or tmp_path / "no-shared"),
               PYTHONPATH=ROOT)
    code = ("import resource, sys; from api.cli import app; sys.argv = ['guji', 'suggest', *sys.argv[1:]]\n"
            "try:\n    app()\nfinally:\n"
            "    print('rss', next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')), file=sys.stderr)")  # VmHWM (kB): this process's own peak (ru_maxrss survives exec: a big parent's peak)
    with open(stdin_path or os.devnull, "rb") as stdin:
        p = subprocess.run([sys.executable, "-c", code, *args], stdin=stdin, capture_output=True, cwd=ROOT, env=env,
                           timeout=600)
    rss = [int(x.split()[1]) for x in p.stderr.decode().splitlines() if x.startswith("rss ")]
    return p.returncode, p.stdout.decode().splitlines(), p.stderr.decode(), (rss[0] / 1024 if rss else None)


def test_empty_lines_give_empty_spans(tmp_path):
    path = tmp_path / "in.txt"
    path.write_text("\n\n" + CLAUSE + "\n\n", encoding="utf-8")
    code, out, err, _ = run_suggest(tmp_path, [str(path), "--json"], stdin_path=None)
    assert code == 0, err
    assert [json.loads(x) for x in out[:2]] == [{"spans": []}, {"spans": []}]
    assert json.loads(out[3]) == {"spans": []}
    assert len(out) == 4


def test_a_whole_juan_on_one_line_and_a_large_file_stream_with_bounded_memory(tmp_path):
    one_line = tmp_path / "juan.txt"
    one_line.write_text(CLAUSE * (300_000 // len(CLAUSE) + 1) + "\n", encoding="utf-8")
    small = tmp_path / "small.txt"
    small.write_text(CLAUSE + "\n", encoding="utf-8")
    many = tmp_path / "many.txt"
    with open(many, "w", encoding="utf-8") as fh:  # ≈ 8 MB, 120,000 lines
        for i in range(120_000):
            fh.write(CLAUSE + "\n")
    code, out, err, rss_small = run_suggest(tmp_path, [str(small), "--json"])
    assert code == 0, err
    code, out, err, rss_juan = run_suggest(tmp_path, ["-", "--json"], stdin_path=one_line)
    assert code == 0, err
    (line,) = out
    spans = json.loads(line)["spans"]
    n = 300_000 // len(CLAUSE) + 1
    assert sum(s["label"] == "DATE" for s in spans) == n
    assert all(s["dates"][0]["year"] == 735 for s in spans if s["label"] == "DATE")
    code, out, err, rss_many = run_suggest(tmp_path, [str(many), "--json"])
    assert code == 0, err
    assert len(out) == 120_000 and json.loads(out[-1]) == json.loads(out[0])
    # streamed: the 8 MB file costs little more memory than one line (not the whole input's worth)
    assert rss_many < rss_small + 120, (rss_small, rss_juan, rss_many)
    assert rss_juan < rss_small + 400, (rss_small, rss_juan)


def test_invalid_utf8_late_in_a_large_input_prints_nothing(tmp_path):
    path = tmp_path / "bad.txt"
    path.write_bytes((CLAUSE + "\n").encode() * 5000 + b"\xff bad\n")
    code, out, err, _ = run_suggest(tmp_path, ["-", "--json"], stdin_path=path)
    assert code == 1 and out == []
    assert "line 5001" in err and "UTF-8" in err


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    home = tmp_path_factory.mktemp("home")
    app = create_app(Settings(home=home, environment="test", max_json_bytes=64 * 1024))
    with TestClient(app) as c:
        yield c


def _error(r, status, code):
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code and set(err) == {"code", "message", "details"}
    return err


def test_api_body_over_the_limit_is_413_before_parsing(client):
    body = json.dumps({"lines": [CLAUSE] * 4000}, ensure_ascii=False).encode()
    assert len(body) > 64 * 1024
    err = _error(client.post("/api/suggest", content=body, headers={"content-type": "application/json"}), 413,
                 "payload_too_large")
    assert "max_json_bytes" in err["message"] or "limit" in err["message"]

    def chunked():
        for i in range(0, len(body), 8192):
            yield body[i : i + 8192]

    _error(client.post("/api/suggest", content=chunked(), headers={"content-type": "application/json"}), 413,
           "payload_too_large")


def test_api_empty_text_gives_empty_spans(client):
    r = client.post("/api/suggest", json={"text": ""})
    assert r.status_code == 200, r.text
    assert r.json()["spans"] == []
    r = client.post("/api/suggest", json={"lines": ["", CLAUSE]})
    assert r.status_code == 200 and r.json()["lines"][0] == {"spans": []}
    assert any(s["label"] == "DATE" for s in r.json()["lines"][1]["spans"])


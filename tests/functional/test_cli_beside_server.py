"""Every writing CLI command beside a real running ``guji serve`` (ADR 0009): the server holds the
store, the commands find its run files and send their work to ``/api/operator/...``.

One server subprocess on a free port for the module (always stopped by the fixture's finalizer);
the CLI runs as separate processes, exactly as an operator would run it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from api.context import SAMPLE_DIR
from tests.conftest import ROOT

pytestmark = pytest.mark.slow

TIMINGS: dict[str, float] = {}


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUJI_")}  # only this home's settings
    return {**env, "GUJI_HOME": str(home), "GUJI_ENVIRONMENT": "test", "PYTHONPATH": str(ROOT),
            "GUJI_WRITE_VISIBILITY_SECONDS": "10"}


def guji(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "api", *args], cwd=ROOT, env=_env(home), capture_output=True,
                          text=True, timeout=timeout)


def flat(text: str) -> str:
    """Output with rich's line wrapping undone (it wraps at 80 columns when not on a terminal)."""
    return " ".join(text.split())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home.parent / f"serve-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> "Server":
        self._out = open(self.log, "w", encoding="utf-8")
        self.proc = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(self.port)], cwd=ROOT,
                                     env=_env(self.home), stdout=self._out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"guji serve exited with {self.proc.returncode}:\n{self.log.read_text()[-4000:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"guji serve did not answer within {timeout:.0f} s:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> int | None:
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(30)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(10)
            code = self.proc.returncode
            self.proc = None
            self._out.close()
        return code

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict]:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def get(self, path: str, **params: str) -> dict:
        return self.request("GET", path + ("?" + urllib.parse.urlencode(params) if params else ""))[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("beside") / "home")
    try:
        yield srv.start()
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def ingested(server):
    """The sample texts ingested by `guji ingest` beside the running server."""
    started = time.monotonic()
    r = guji(server.home, "ingest", str(SAMPLE_DIR / "kanripo"))
    TIMINGS["ingest command (3 sample works, process start to exit)"] = time.monotonic() - started
    done = time.monotonic()
    while server.get("/api/search", q="滕子京")["total"] == 0 and time.monotonic() - done < 2:
        time.sleep(0.05)
    TIMINGS["command exit to searchable on the server"] = time.monotonic() - done
    return r


def test_the_server_publishes_its_url_and_a_private_token(server):
    run = server.home / "run"
    info = json.loads((run / "server.json").read_text())
    assert info["url"] == server.url and info["pid"] == server.proc.pid and info["started"]
    assert stat.S_IMODE((run / "operator.token").stat().st_mode) == 0o600
    assert stat.S_IMODE(run.stat().st_mode) == 0o700
    assert len((run / "operator.token").read_text().strip()) >= 40


def test_ingest_beside_the_server_is_searchable_there_at_once(server, ingested):
    assert ingested.returncode == 0, ingested.stderr
    assert "cannot open the RDF store" not in ingested.stderr
    assert f"the store is held by the guji server at {server.url}: ingesting there" in ingested.stderr
    assert "GJ4a0002: 2 juan, 5 folio sides, 248 characters, 158 triples (+158 -0)" in ingested.stderr
    hits = server.get("/api/search", q="滕子京")
    assert hits["total"] >= 1 and {h["source_id"] for h in hits["hits"]} == {"GJ4a0002"}
    assert TIMINGS["command exit to searchable on the server"] < 2
    again = guji(server.home, "ingest", str(SAMPLE_DIR / "kanripo"))
    assert again.returncode == 0 and again.stderr.count("(unchanged)") == 3, again.stderr


def test_a_broken_source_beside_the_server_fails_as_without_it(server, ingested, tmp_path):
    bad = tmp_path / "corpus"
    shutil.copytree(SAMPLE_DIR / "kanripo" / "GJ4a0002", bad / "GJ4a0002")
    f = bad / "GJ4a0002" / "QING" / "GJ4a0002_001.txt"
    f.write_bytes(f.read_bytes().replace("慶曆".encode(), b"\xe6\x85"))
    r = guji(server.home, "ingest", str(bad))
    assert r.returncode == 1
    assert "error:" in r.stderr and f"file={f}" in flat(r.stderr).replace(" ", "")
    package = ROOT / "tests" / "fixtures" / "packages" / "missing-mandatory-field"
    r = guji(server.home, "ingest", str(package))
    assert r.returncode == 1, r.stderr
    assert "不通过 INVALID" in r.stdout and "is invalid; nothing was written" in flat(r.stderr)


def test_relative_paths_are_sent_as_absolute(server, ingested):
    r = subprocess.run([sys.executable, "-m", "api", "ingest", "GJ3a0001"], cwd=SAMPLE_DIR / "kanripo",
                       env=_env(server.home), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "GJ3a0001: same files as the last ingest, not read (unchanged)" in r.stderr, r.stderr  # the relative path reached the server: it found the work (and skipped it by digest)


def test_load_beside_the_server_is_visible_in_sparql(server, tmp_path):
    ttl = tmp_path / "extra.ttl"
    ttl.write_text('@prefix ex: <http://example.org/> .\nex:thing ex:says "loaded beside the server" .\n', encoding="utf-8")
    r = guji(server.home, "load", str(ttl))
    assert r.returncode == 0, r.stderr
    assert "1 triples into <https://w3id.org/guji/graph/load/extra> (+1 -0)" in flat(r.stderr)
    query = 'SELECT ?o WHERE { <http://example.org/thing> <http://example.org/says> ?o }'
    req = urllib.request.Request(server.url + "/sparql?" + urllib.parse.urlencode({"query": query}),
                                 headers={"Accept": "application/sparql-results+json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        rows = json.loads(resp.read())["results"]["bindings"]
    assert [b["o"]["value"] for b in rows] == ["loaded beside the server"]


def test_sync_check_beside_the_server_reports_every_projection_in_sync(server, ingested):
    r = guji(server.home, "sync", "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert "search: in sync" in lines and "sparql: in sync" in lines
    r = guji(server.home, "sync", "--check", "--json")
    assert r.returncode == 0
    report = json.loads(r.stdout)
    assert report["in_sync"] is True and report["search"]["in_sync"] and report["sparql"]["in_sync"]
    assert report["search"]["drift"] == [] and report["sparql"]["graphs"] >= 3


def test_sync_beside_the_server(server, ingested):
    r = guji(server.home, "sync")
    assert r.returncode == 0, r.stdout + r.stderr
    assert {line.split(":")[0] for line in r.stdout.splitlines()} == {"search", "sparql", "editions"}
    r = guji(server.home, "sync", "--json")
    outcome = json.loads(r.stdout)
    assert outcome["search"]["changes"] == 0 and outcome["search"]["to"] == outcome["sparql"]["to"]


def test_annotations_import_beside_the_server(server, ingested, tmp_path):
    from tests.functional.test_annotations_cli import home_with_annotations

    home_with_annotations(tmp_path / "a")  # three annotations, two of them approved, in another home
    export = guji(tmp_path / "a", "annotations", "export", "--status", "draft,submitted,approved,rejected")
    (tmp_path / "all.jsonld").write_text(export.stdout, encoding="utf-8")
    r = guji(server.home, "annotations", "import", str(tmp_path / "all.jsonld"))
    assert r.returncode == 0 and "3 created" in r.stderr, r.stderr
    public = json.loads(guji(server.home, "annotations", "export").stdout)  # reads beside the server
    assert public["total"] == 2
    r = guji(server.home, "annotations", "check-anchors", "--json")
    assert r.returncode == 0, r.stderr
    assert all(rep["checked"] >= 1 for rep in json.loads(r.stdout))


def test_operator_endpoints_need_the_operator_token(server):
    status, body = server.request("POST", "/api/operator/sync", {})
    assert status == 401
    assert body["error"]["message"] == "operator endpoints need Authorization: Bearer <the token in $GUJI_HOME/run/operator.token>"
    status, body = server.request("GET", "/api/operator/sync/check", headers={"Authorization": "Bearer not-the-token"})
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    assert body["error"]["message"] == "the operator token is not valid (guji serve writes a new one each time it starts)"
    token = (server.home / "run" / "operator.token").read_text().strip()
    status, body = server.request("GET", "/api/operator/sync/check",
                                  headers={"Authorization": f"Bearer {token}", "X-Forwarded-For": "203.0.113.9"})
    assert (status, body["error"]["code"]) == (403, "forbidden")
    status, body = server.request("POST", "/api/operator/ingest", {"paths": ["relative/path"]},
                                  headers={"Authorization": f"Bearer {token}"})
    assert status == 422 and "absolute" in body["error"]["message"]
    assert "/api/operator" not in json.dumps(server.get("/openapi.json")["paths"])


def test_a_stale_server_file_is_ignored_and_the_lock_holder_named(tmp_path):
    home = tmp_path / "home"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    run = home / "run"
    run.mkdir(parents=True)
    (run / "server.json").write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": dead.pid, "started": "x"}))
    (run / "operator.token").write_text("stale\n")
    # nothing holds the store: the stale file is ignored and the command runs here
    r = guji(home, "sync")
    assert r.returncode == 0, r.stderr
    # something that is not a server holds the store: a clear error naming it, and no request sent
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from kg.store import OxigraphStore; "
                               "s = OxigraphStore(sys.argv[1]); print('open', flush=True); time.sleep(120)",
                               str(home / "oxigraph")], cwd=ROOT, env=_env(home), stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        r = guji(home, "ingest", str(SAMPLE_DIR / "kanripo"))
        assert r.returncode == 1
        message = flat(r.stderr)
        assert f"is in use by process {holder.pid}" in message
        assert f"is stale: the server it names (pid {dead.pid}) is not running" in message
        assert "stop" not in message
    finally:
        holder.kill()
        holder.wait()


def test_a_clean_shutdown_removes_the_run_files(tmp_path):
    srv = Server(tmp_path / "home")
    try:
        srv.start()
        assert (srv.home / "run" / "operator.token").exists()
    finally:
        srv.stop()
    assert not (srv.home / "run" / "operator.token").exists() and not (srv.home / "run" / "server.json").exists()
    r = guji(srv.home, "sync", "--check")  # no server now: in-process, as before
    assert r.returncode == 0, r.stdout + r.stderr


def teardown_module(module):
    if TIMINGS:
        print("\n" + "\n".join(f"{k}: {v:.2f} s" for k, v in TIMINGS.items()))


def test_a_url_with_raw_chinese_gets_the_json_error_shape_from_the_running_server(server):
    """curl sends Chinese typed into a URL as raw UTF-8, which HTTP/1.1 does not allow in the
    request line: uvicorn answered it in plain text before the application saw it."""
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        s.sendall("GET /api/search?q=缤纷渔人 HTTP/1.1\r\nHost: x\r\n\r\n".encode("utf-8"))
        raw = b""
        while chunk := s.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    assert lines[0].startswith("HTTP/1.1 400")
    assert headers["content-type"] == "application/json" and headers["x-content-type-options"] == "nosniff"
    error = json.loads(body)["error"]
    assert error["code"] == "bad_request" and "percent-encode" in error["message"]
    # the same query percent-encoded reaches the application and is answered
    assert server.get("/api/search", q="缤纷渔人")["query"] == "缤纷渔人"

"""Live or not done: with a real ``guji serve`` running (a subprocess on 127.0.0.1, the embedded
defaults), an annotation created, submitted and approved over HTTP is found by /api/search and
answered by /sparql within 2 s, without a restart or an operator command; /healthz shows every
projection caught up, /metrics says the same."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.functional._annotations import JUAN, MEDIA, PERSON

ROOT = Path(__file__).resolve().parents[2]
LABEL = "范希文"  # 范仲淹's courtesy name: not in the text, only in the annotation


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("live")
    port = _free_port()
    env = {**os.environ, "GUJI_HOME": str(home), "GUJI_ENVIRONMENT": "test", "PYTHONPATH": str(ROOT)}
    for k in ("GUJI_NEO4J_URI", "GUJI_ES_URL"):
        env.pop(k, None)
    log = open(home / "server.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "api", "serve", "--sample", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError((home / "server.log").read_text()[-3000:])
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        raise AssertionError("the server did not come up: " + (home / "server.log").read_text()[-3000:])

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "api", *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)

    yield base, cli, proc
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
    log.close()


def _key(cli, name: str, role: str) -> dict[str, str]:
    r = cli("users", "add", name, "--role", role, "--json")
    assert r.returncode == 0, r.stderr
    return {"Authorization": f"Bearer {json.loads(r.stdout)['api_key']}"}


def test_an_approval_reaches_search_and_sparql_while_the_server_runs(server):
    base, cli, proc = server
    alice, rita = _key(cli, "alice", "annotator"), _key(cli, "rita", "reviewer")
    http = httpx.Client(base_url=base, timeout=30)
    ask = f'ASK {{ GRAPH ?g {{ ?b <http://www.w3.org/2000/01/rdf-schema#label> "{LABEL}" }} }}'
    assert http.get("/api/search", params={"q": LABEL}).json()["total"] == 0

    doc = {"@context": "http://www.w3.org/ns/anno.jsonld", "type": "Annotation",
           "body": {"type": "SpecificResource", "guji:category": PERSON, "purpose": "identifying",
                    "source": {"id": "https://cbdb.fas.harvard.edu/cbdbapi/person.php?id=1011", "label": LABEL}},
           "target": {"type": "SpecificResource", "source": JUAN,
                      "selector": [{"type": "TextQuoteSelector", "exact": "范仲淹"},
                                   {"type": "TextPositionSelector", "start": 10, "end": 13}]}}
    r = http.post("/annotations/", json=doc, headers={**alice, "Content-Type": MEDIA})
    assert r.status_code == 201, r.text
    url = httpx.URL(r.headers["location"]).path
    assert http.post(url + "/submit", headers=alice).status_code == 200
    # a draft or a submitted annotation is not public: neither search nor SPARQL shows it
    assert http.get("/api/search", params={"q": LABEL}).json()["total"] == 0
    assert http.get("/sparql", params={"query": ask}).json()["boolean"] is False

    etag = http.get(url, headers=rita).headers["etag"]
    t0 = time.monotonic()
    r = http.post(url + "/review", json={"decision": "approve"}, headers={**rita, "If-Match": etag})
    assert r.status_code == 200, r.text
    found = None
    while time.monotonic() - t0 < 2.0:
        hits = http.get("/api/search", params={"q": LABEL}).json()
        if hits["total"]:
            found = time.monotonic() - t0
            break
        time.sleep(0.05)
    assert found is not None, "the approved annotation was not found by search within 2 s"
    assert hits["hits"][0]["matched_entities"][0]["label"] == LABEL
    assert http.get("/sparql", params={"query": ask}).json()["boolean"] is True
    assert time.monotonic() - t0 < 2.0

    health = http.get("/healthz").json()
    assert {p["name"] for p in health["projections"]} >= {"search", "sparql"}
    assert all(p["pending"] == 0 and p["state"] == "ok" for p in health["projections"]), health
    assert "store" not in health  # no file-system paths for the public
    metrics = http.get("/metrics").text
    assert 'guji_projection_pending_changes{projection="search"} 0.0' in metrics
    assert 'guji_projection_up{projection="sparql"} 1.0' in metrics

    # the operator's content check, beside the running server: every projection in sync
    check = cli("sync", "--check", "--json")
    assert check.returncode == 0, check.stdout + check.stderr
    report = json.loads(check.stdout)
    assert report["in_sync"] and report["search"]["in_sync"] and report["sparql"]["in_sync"]

    # a retraction takes it out again, live
    etag = http.get(url, headers=rita).headers["etag"]
    r = http.post(url + "/review", json={"decision": "reject", "reason": "字非名"}, headers={**rita, "If-Match": etag})
    assert r.status_code == 200
    assert http.get("/api/search", params={"q": LABEL}).json()["total"] == 0
    assert http.get("/sparql", params={"query": ask}).json()["boolean"] is False
    assert proc.poll() is None


def test_a_crashing_query_does_not_take_the_server_down(server):
    base, _, proc = server
    deep = "SELECT * WHERE " + "{" * 3000 + " ?s ?p ?o " + "}" * 3000
    r = httpx.post(base + "/sparql", data={"query": deep}, timeout=30)
    assert r.status_code == 413 and r.json()["error"]["code"] == "query_too_long"
    r = httpx.get(base + "/sparql", params={"query": "SELECT * WHERE " + "{" * 3000}, timeout=30)
    assert 400 <= r.status_code < 500
    assert httpx.get(base + "/healthz", timeout=10).status_code == 200 and proc.poll() is None

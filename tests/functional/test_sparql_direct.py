"""Direct SPARQL workers (ADR 0026) on a real ``guji serve``: a connection that opens with /sparql
is answered by a worker process itself; a request for anything else on it goes back to the server;
a query past its limit gets the timeout error and its worker is replaced; one client's queries
count against its limit wherever they run; a worker that dies mid-query still answers in JSON."""

from __future__ import annotations

import os
import signal
import threading
import time

import httpx
import pytest

from tests._live import LiveServer

HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    server = LiveServer(tmp_path_factory.mktemp("direct"), sample=True, GUJI_SPARQL_TIMEOUT="2",
                        GUJI_SPARQL_PER_CLIENT="1", GUJI_SPARQL_DIRECT_WORKERS="2")
    yield server
    server.stop()
    assert "Traceback" not in server.log(), server.log()[-3000:]


def _wait_ready(live: LiveServer) -> None:
    live.wait_direct_ready(2)


def test_a_connection_opening_with_sparql_is_answered_by_a_direct_worker(live):
    _wait_ready(live)
    handed, answered = live.metric("guji_sparql_direct_connections_total"), live.metric("guji_sparql_direct_answered_total")
    with live.fresh() as c:
        r = c.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}, headers={"accept": "application/sparql-results+json"})
    assert r.status_code == 200 and r.json() == {"head": {}, "boolean": True}
    assert r.headers["x-frame-options"] == "DENY" and r.headers["vary"] == "Accept"
    assert live.metric("guji_sparql_direct_connections_total") == handed + 1
    assert live.metric("guji_sparql_direct_answered_total") == answered + 1


def test_other_requests_on_a_handed_connection_go_back_to_the_server(live):
    _wait_ready(live)
    back = live.metric("guji_sparql_direct_sent_back_total")
    with httpx.Client(base_url=live.base) as c:  # one keep-alive connection throughout
        for i in range(3):
            assert c.get("/sparql", params={"query": f"ASK {{ ?s ?p ?o }} # {i}"}).json()["boolean"] is True
            health = c.get("/healthz")
            assert health.status_code == 200 and health.json()["status"] == "ok"
            r = c.post("/sparql", content="SELEC nothing", headers={"content-type": "application/sparql-query"})
            assert r.status_code == 400 and r.json()["error"]["code"] == "query_syntax_error"
    assert live.metric("guji_sparql_direct_sent_back_total") == back + 1  # sent back once; the server keeps it


def test_errors_from_a_direct_worker_have_the_json_shape(live):
    _wait_ready(live)
    with live.fresh() as c:
        cases = [
            (c.post("/sparql", content=b"x" * 200_000, headers={"content-type": "application/sparql-query"}), 413, "payload_too_large"),
            (c.post("/sparql", content=b"ASK {}", headers={"content-type": "text/plain"}), 415, "unsupported_media_type"),
            (c.get("/sparql", params={"query": "ASK {}"}, headers={"accept": "image/png"}), 406, "not_acceptable"),
            (c.post("/sparql", data={"update": "INSERT DATA { <a> <b> <c> }"}), 403, "query_refused"),
            (c.get("/sparql", params={"query": "SELECT * WHERE { ?s ?p }"}), 400, "query_syntax_error"),
        ]
    for r, status, code in cases:
        assert r.status_code == status, r.text
        assert r.json()["error"]["code"] == code and r.headers["x-content-type-options"] == "nosniff"


def test_a_query_past_its_limit_gets_the_timeout_error_and_its_worker_is_replaced(live):
    _wait_ready(live)
    replaced, timeouts = live.metric("guji_sparql_direct_workers_replaced_total"), live.metric("guji_sparql_direct_timeouts_total")
    with live.fresh(timeout=30) as c:
        started = time.monotonic()
        r = c.post("/sparql", data={"query": HEAVY})
        took = time.monotonic() - started
    assert r.status_code == 503 and r.json()["error"]["code"] == "query_timeout", r.text
    assert r.headers["retry-after"] and 1.9 < took < 5
    assert live.metric("guji_sparql_direct_timeouts_total") == timeouts + 1
    assert live.metric("guji_sparql_direct_workers_replaced_total") == replaced + 1
    _wait_ready(live)  # the replacement serves
    with live.fresh() as c:
        assert c.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True


def test_one_client_runs_one_query_at_a_time_across_workers(live):
    _wait_ready(live)
    results: list[tuple[int, str]] = []

    def heavy() -> None:
        with live.fresh(timeout=30) as c:
            r = c.post("/sparql", data={"query": HEAVY})
            results.append((r.status_code, r.json()["error"]["code"]))

    threads = [threading.Thread(target=heavy) for _ in range(2)]
    for t in threads:
        t.start()
        time.sleep(0.3)  # the first is running when the second arrives
    for t in threads:
        t.join()
    assert sorted(results) == [(429, "query_busy"), (503, "query_timeout")]


def _children(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                out.append(int(entry))
    return out


def test_a_worker_killed_mid_query_still_answers_its_client_in_json(live):
    """A real failure (SIGKILL to every query process while the query runs), not a mock."""
    _wait_ready(live)
    failures = live.metric("guji_sparql_direct_failures_total")
    result: list[httpx.Response] = []

    def heavy() -> None:
        with live.fresh(timeout=30) as c:
            result.append(c.post("/sparql", data={"query": HEAVY}))

    t = threading.Thread(target=heavy)
    t.start()
    time.sleep(0.8)
    for pid in _children(live.proc.pid):
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
            if b"multiprocessing" in cmdline and b"resource_tracker" not in cmdline:  # the query processes
                os.kill(pid, signal.SIGKILL)
    t.join()
    (r,) = result
    assert r.status_code == 422 and r.json()["error"]["code"] == "query_failed", r.text
    assert live.metric("guji_sparql_direct_failures_total") == failures + 1
    _wait_ready(live)
    with live.fresh() as c:
        assert c.post("/sparql", data={"query": "ASK { ?s ?p ?o }"}).json()["boolean"] is True

"""Direct SPARQL workers (ADR 0026) on a real ``guji serve``: a connection that opens with /sparql
is answered by a worker process itself; a request for anything else on it goes back to the server;
a query past its limit gets the timeout error and its worker is replaced; one client's queries
count against its limit wherever they run; a worker that dies mid-query still answers in JSON."""

from __future__ import annotations

import json
import os
import socket
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


# -- the worker's own HTTP/1.1 (api.sparql_direct.DirectHttp): raw bytes on one socket -------------

ASK = b"query=ASK+%7B+%3Fs+%3Fp+%3Fo+%7D"


def _post(body: bytes = ASK, extra: bytes = b"") -> bytes:
    return (b"POST /sparql HTTP/1.1\r\nhost: t\r\ncontent-type: application/x-www-form-urlencoded\r\n"
            b"accept: application/sparql-results+json\r\ncontent-length: " + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def _read_responses(sock, n: int, timeout: float = 10) -> list[tuple[int, dict[str, str], bytes]]:
    """``n`` whole responses from ``sock`` (content-length framed), then whatever ended the read."""
    sock.settimeout(timeout)
    buf, out = b"", []
    while len(out) < n:
        while b"\r\n\r\n" not in buf:
            chunk = sock.recv(65536)
            assert chunk, f"connection closed after {len(out)} responses: {buf!r}"
            buf += chunk
        head, _, buf = buf.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers["content-length"])
        while len(buf) < length:
            chunk = sock.recv(65536)
            assert chunk, "connection closed mid-body"
            buf += chunk
        out.append((status, headers, buf[:length]))
        buf = buf[length:]
        if status == 100:
            n += 1
    return out


def _closed(sock, timeout: float) -> bool:
    sock.settimeout(timeout)
    try:
        return sock.recv(1) == b""
    except (socket.timeout, TimeoutError):
        return False
    except ConnectionResetError:
        return True


def _connect(live):
    return socket.create_connection(("127.0.0.1", live.port))


def test_pipelined_sparql_requests_are_answered_in_order_on_one_connection(live):
    _wait_ready(live)
    handed = live.metric("guji_sparql_direct_connections_total")
    queries = [f"SELECT ?n WHERE {{ VALUES ?n {{ {i} }} }}".encode() for i in range(5)]
    with _connect(live) as s:
        s.sendall(b"".join(_post(q, b"") .replace(b"application/x-www-form-urlencoded", b"application/sparql-query") for q in queries))
        got = _read_responses(s, 5)
    assert [r[0] for r in got] == [200] * 5
    assert [json.loads(b)["results"]["bindings"][0]["n"]["value"] for _, _, b in got] == [str(i) for i in range(5)]
    assert all(h["x-frame-options"] == "DENY" and h["server"] and h["date"] for _, h, _ in got)
    assert live.metric("guji_sparql_direct_connections_total") == handed + 1


def test_a_pipelined_request_for_another_path_gets_421_and_the_connection_closes(live):
    _wait_ready(live)
    with _connect(live) as s:
        s.sendall(_post() + b"GET /healthz HTTP/1.1\r\nhost: t\r\n\r\n")
        (s1, _, b1), (s2, h2, b2) = _read_responses(s, 2)
        assert s1 == 200 and json.loads(b1)["boolean"] is True
        assert s2 == 421 and json.loads(b2)["error"]["code"] == "misdirected_request" and h2["connection"] == "close"
        assert _closed(s, 5)


def test_expect_100_continue_is_answered_before_the_body(live):
    _wait_ready(live)
    with _connect(live) as s:
        head, _, body = _post(extra=b"expect: 100-continue\r\n").partition(b"\r\n\r\n")
        s.sendall(head + b"\r\n\r\n")
        s.settimeout(10)
        interim = s.recv(65536)
        assert interim.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"), interim
        s.sendall(body)
        rest = interim[len(b"HTTP/1.1 100 Continue\r\n\r\n"):]
        status = _read_responses(_Prefixed(s, rest), 1)[0][0]
    assert status == 200


class _Prefixed:
    """A socket whose first bytes were already read."""

    def __init__(self, sock, first: bytes) -> None:
        self.sock, self.first = sock, first

    def settimeout(self, t) -> None:
        self.sock.settimeout(t)

    def recv(self, n: int) -> bytes:
        if self.first:
            data, self.first = self.first, b""
            return data
        return self.sock.recv(n)


def test_an_oversized_declared_body_is_refused_without_reading_it_and_the_connection_closes(live):
    _wait_ready(live)
    with _connect(live) as s:
        s.sendall(b"POST /sparql HTTP/1.1\r\nhost: t\r\ncontent-type: application/sparql-query\r\n"
                  b"expect: 100-continue\r\ncontent-length: 50000000\r\n\r\n")
        status, headers, body = _read_responses(s, 1)[0]
        assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"
        assert headers["connection"] == "close" and headers["x-content-type-options"] == "nosniff"


def test_request_headers_beyond_the_limit_are_refused_with_the_json_shape(live):
    _wait_ready(live)
    with _connect(live) as s:
        s.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nhost: t\r\n" + b"x-pad: " + b"a" * 800_000 + b"\r\n\r\n")
        status, headers, body = _read_responses(s, 1)[0]
    assert status == 413 and json.loads(body)["error"]["code"] == "payload_too_large"


def test_bytes_that_are_not_http_get_the_json_400_and_the_connection_closes(live):
    _wait_ready(live)
    with _connect(live) as s:
        s.sendall(b"GET /sparql?query=ASK HTTP/1.1\r\nhost: t\r\n\r\nGET /sparql?query=\xe7\xbc\xa4 HTTP/1.1\r\n\r\n")
        (s1, _, _), (s2, h2, b2) = _read_responses(s, 2)
        assert s2 == 400 and json.loads(b2)["error"]["code"] == "bad_request" and h2["connection"] == "close"
        assert _closed(s, 5)


def test_connection_close_and_http_1_0_end_the_connection_after_the_answer(live):
    _wait_ready(live)
    for request in (_post(extra=b"connection: close\r\n"), _post().replace(b"HTTP/1.1", b"HTTP/1.0", 1)):
        with _connect(live) as s:
            s.sendall(request)
            status, headers, _ = _read_responses(s, 1)[0]
            assert status == 200 and headers.get("connection") == "close"
            assert _closed(s, 5)


def test_an_idle_keep_alive_connection_is_closed_and_frees_its_worker(live):
    _wait_ready(live)
    with _connect(live) as a, _connect(live) as b:
        for s in (a, b):  # both direct workers held by idle keep-alive clients
            s.sendall(_post())
            assert _read_responses(s, 1)[0][0] == 200
        assert _closed(a, 10) and _closed(b, 10)  # uvicorn's keep-alive timeout, 5 s
    handed = live.metric("guji_sparql_direct_connections_total")
    with live.fresh() as c:
        assert c.post("/sparql", data={"query": "ASK {}"}).status_code == 200
    assert live.metric("guji_sparql_direct_connections_total") == handed + 1  # a worker was free again

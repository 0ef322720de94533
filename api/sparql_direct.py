"""Public SPARQL answered by the process that evaluates it (ADR 0026).

A light query costs the engine ~0.1 ms; handing it from the server process to a query worker and
back cost 0.3–0.6 ms more on a 2-core machine (two processes woken per query), which kept light
queries at ~1.8× the Oxigraph server's time. So a connection whose first request is
``GET /sparql`` or ``POST /sparql`` is handed over whole: the server passes the socket itself
(``SCM_RIGHTS``) with the bytes it has read to an idle *direct worker*, a process that holds the
public dataset read-only and speaks HTTP/1.1 itself (httptools, :class:`DirectHttp`) through
the same SPARQL handler as the server (:func:`api.routes.sparql.answer`), with the server's body
limit, security headers and error shape. It answers that connection's SPARQL requests in process, one at
a time. A request for anything else on the connection sends the connection back to the server with
its bytes, where it goes on as if never handed. With every direct worker busy (or disabled), a
connection stays with the server and its queries take the worker pool as before.

The limits stay: a query past its time limit ends its worker (``SIGALRM``, :class:`_Guard`: ending
the process is the only way to stop the engine; the CPU stops with it) and the server answers the
client with the timeout error; the server keeps a duplicate of every handed socket, so a worker that dies in a query for any other
reason (memory, a crash in the engine) still gets its client the JSON error; per-client limits
count in shared memory across the server and all its query processes; body and query limits are
the server's own middleware and checks.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing as mp
import os
import socket
import time

from kg.errors import QueryFailedError
from kg.sparql import InProcessRunner, QueryRunner, SharedClients, _limit_memory

log = logging.getLogger("guji.sparql")

_PREFIXES = (b"GET /sparql ", b"GET /sparql?", b"POST /sparql ", b"POST /sparql?")
# what one control message may carry: a connection's first bytes (uvloop reads at most 256 KiB at a time)
MAX_HANDED_BYTES = 192 * 1024
_BUFFER = 1 << 20

# control messages, worker -> server (server -> worker: the first bytes, with the socket)
READY, IDLE, BACK = b"R", b"I", b"B"
# a worker's shared state: evaluating (0/1), the client key it counts a query for, requests answered,
# the running query's deadline (time.monotonic_ns: one clock for every process) and its limit
EVALUATING, HELD_CLIENT, ANSWERED, DEADLINE_NS, LIMIT_MS = range(5)

POOL: "DirectPool | None" = None  # the running server's pool (one server per process); read by api.protocol


def is_sparql_request(data: bytes) -> bool:
    """The bytes start a ``GET``/``POST`` request for ``/sparql``."""
    return data.startswith(_PREFIXES)


def raw_response(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes:
    from uvicorn.protocols.http.httptools_impl import STATUS_LINE

    lines = [STATUS_LINE[status]]
    for name, value in headers:
        lines.extend([name, b": ", value, b"\r\n"])
    lines.extend([b"content-length: " + str(len(body)).encode("ascii") + b"\r\n", b"connection: close\r\n\r\n", body])
    return b"".join(lines)


def error_bytes(exc) -> bytes:
    """The whole HTTP response for a typed error, as the server would send it (JSON shape, security
    headers), closing the connection: for the moments no ASGI app can answer (a worker past its
    limit or gone)."""
    from api.errors import response_for
    from api.middleware import SECURITY_HEADERS

    response = response_for(exc)
    headers = [(k, v) for k, v in response.raw_headers if k != b"content-length"]
    present = {k for k, _ in headers}
    headers += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()
                if k.lower().encode("latin-1") not in present]
    return raw_response(response.status_code, headers, bytes(response.body))


def _send_all(fd: int, data: bytes) -> None:
    """Write ``data`` to a (possibly non-blocking) socket, waiting a little when its buffer is full."""
    deadline = time.monotonic() + 5
    view = memoryview(data)
    while view and time.monotonic() < deadline:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            time.sleep(0.001)
        except OSError:
            return


# -- the server's side -----------------------------------------------------------------------------

class _Worker:
    def __init__(self, pool: "DirectPool") -> None:
        self.ctrl, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        for s in (self.ctrl, child):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _BUFFER)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _BUFFER)
        self.state = pool.mp.RawArray("q", 5)
        self.process = pool.mp.Process(target=worker_main, args=(child, pool.spec, self.state, pool.clients),
                                       daemon=True, name="guji-sparql-direct")
        self.process.start()
        child.close()
        self.ctrl.setblocking(False)
        self.ready = False
        self.conn_fd: int | None = None  # the server's duplicate of the socket this worker serves


class DirectPool:
    """The server's direct SPARQL workers: hands connections to idle ones, takes back the ones that
    ask for something else, and answers for a worker that died in a query."""

    def __init__(self, runner: QueryRunner, settings, size: int) -> None:
        self.mp = mp.get_context("spawn")
        self.clients = SharedClients()
        runner.share_clients(self.clients)  # one client's queries count the same wherever they run
        self.spec = {"store_path": runner.store_path, "options": runner.options(),
                     "settings": settings.model_dump(mode="json"), "access_log": settings.access_log}
        self.size = size
        self.workers: list[_Worker] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._protocol: tuple | None = None  # how to build the server's own protocol for a connection sent back
        self.handed = self.sent_back = self.replaced = self.failed_for = self.timed_out = 0
        self._answered_by_gone = 0  # requests answered by workers that have ended since
        self.closed = False

    # lifecycle
    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        for _ in range(self.size):
            self._spawn()

    async def wait_ready(self, timeout: float = 60) -> bool:
        """Until every worker has opened the dataset (so the first connections already go direct)."""
        deadline = time.monotonic() + timeout
        while not all(w.ready for w in self.workers) and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return all(w.ready for w in self.workers)

    def _spawn(self) -> None:
        w = _Worker(self)
        self.workers.append(w)
        self._loop.add_reader(w.ctrl.fileno(), self._on_message, w)

    def close(self) -> None:
        self.closed = True
        for w in list(self.workers):
            self._retire(w)
        for w in self.workers:
            w.process.join(2)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(2)
        self.workers.clear()

    def _retire(self, w: _Worker) -> None:
        try:
            self._loop.remove_reader(w.ctrl.fileno())
        except (ValueError, OSError):
            pass
        w.ctrl.close()  # the worker sees the end of its control socket and stops
        if w.conn_fd is not None:
            os.close(w.conn_fd)
            w.conn_fd = None

    def stats(self) -> dict[str, int]:
        return {"workers": len(self.workers), "ready": sum(w.ready for w in self.workers),
                "serving": sum(w.conn_fd is not None for w in self.workers), "handed": self.handed,
                "sent_back": self.sent_back, "answered": sum(w.state[ANSWERED] for w in self.workers) + self._answered_by_gone,
                "replaced": self.replaced, "failed_for": self.failed_for, "timed_out": self.timed_out}


    # connections
    def hand_off(self, protocol, data: bytes) -> bool:
        """Give ``protocol``'s connection, whose first bytes are ``data``, to an idle worker; False
        (nothing changed) when none is idle or the hand-over fails."""
        if self.closed or len(data) > MAX_HANDED_BYTES:
            return False
        w = next((w for w in self.workers if w.ready and w.conn_fd is None), None)
        if w is None:
            return False
        sock = protocol.transport.get_extra_info("socket")
        if sock is None:
            return False
        if self._protocol is None:
            self._protocol = (type(protocol), protocol.config, protocol.server_state, protocol.app_state)
        protocol.transport.pause_reading()  # from here on the worker reads this socket, never the server
        fd = os.dup(sock.fileno())
        try:
            socket.send_fds(w.ctrl, [data], [fd])
        except OSError:
            os.close(fd)
            protocol.transport.resume_reading()
            return False
        w.conn_fd = fd
        self.handed += 1
        protocol.transport.close()  # the server's own descriptor only: the worker's and our duplicate keep the connection
        return True

    def _on_message(self, w: _Worker) -> None:
        try:
            msg, fds, _, _ = socket.recv_fds(w.ctrl, MAX_HANDED_BYTES + 16, 1)
        except BlockingIOError:
            return
        except OSError:
            msg, fds = b"", []
        if not msg:
            self._gone(w)
            return
        tag, data = msg[:1], msg[1:]
        if tag == READY:
            w.ready = True
        elif tag in (IDLE, BACK):
            if w.conn_fd is not None:
                os.close(w.conn_fd)  # after IDLE: the last descriptor of a closed connection (the FIN goes now)
                w.conn_fd = None
            if tag == BACK and fds:
                self.sent_back += 1
                self._loop.create_task(self._adopt(socket.socket(fileno=fds[0]), data))
        for fd in fds[1:]:
            os.close(fd)

    async def _adopt(self, sock: socket.socket, data: bytes) -> None:
        """A connection sent back: served by the server from ``data`` on, as if it had never left."""
        cls, config, server_state, app_state = self._protocol

        def protocol():
            p = cls(config=config, server_state=server_state, app_state=app_state)
            p.direct_checked, p.initial = True, data  # fed in connection_made, before anything newer is read
            return p

        try:
            await self._loop.connect_accepted_socket(protocol, sock)
        except OSError:
            sock.close()

    def _gone(self, w: _Worker) -> None:
        """A worker ended: past a time limit (it answered its client itself) or by a crash or the
        memory limit mid-query (answered here). Its client's count is released, another starts."""
        if w.conn_fd is not None and w.state[EVALUATING]:
            if time.monotonic_ns() >= w.state[DEADLINE_NS] - 50_000_000:  # its limit's alarm (or within 50 ms of it)
                error = QueryRunner._timed_out(w.state[LIMIT_MS] / 1000)
                self.timed_out += 1
            else:
                error = QueryFailedError(
                    "the query stopped its worker and was not answered; it may need more memory than a query may use, "
                    "or hit an engine limit: simplify it")
                self.failed_for += 1
            _send_all(w.conn_fd, error_bytes(error))
        if w.state[HELD_CLIENT]:
            self.clients.leave_key(w.state[HELD_CLIENT])
        self._answered_by_gone += w.state[ANSWERED]
        self._retire(w)
        w.process.join(1)
        self.workers.remove(w)
        if not self.closed:
            self.replaced += 1
            self._spawn()


# -- the worker's side -----------------------------------------------------------------------------

class _Guard:
    """The worker's time limit, kept by the kernel: ``SIGALRM`` at the limit with its default action
    ends the process wherever it is (the engine may hold the interpreter lock for the whole of a
    long evaluation, so no thread of ours could act). The server sees the worker gone past its
    deadline and answers the client with the timeout error."""

    def __init__(self, state) -> None:
        import signal

        self.state = state
        signal.signal(signal.SIGALRM, signal.SIG_DFL)

    def arm(self, limit: float, client_key: int) -> None:
        import signal

        self.state[HELD_CLIENT] = client_key
        self.state[LIMIT_MS] = int(limit * 1000)
        self.state[DEADLINE_NS] = time.monotonic_ns() + int(limit * 1e9)
        self.state[EVALUATING] = 1
        signal.setitimer(signal.ITIMER_REAL, limit)

    def disarm(self) -> None:
        import signal

        signal.setitimer(signal.ITIMER_REAL, 0)
        self.state[EVALUATING] = 0
        self.state[HELD_CLIENT] = 0


_MISDIRECTED = ("misdirected_request", "send this request on a new connection: this connection answers /sparql only")


def _status_line(status: int) -> bytes:
    from http import HTTPStatus

    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = ""
    return f"HTTP/1.1 {status} {phrase}\r\n".encode("latin-1")


class DirectHttp(asyncio.Protocol):
    """HTTP/1.1 for the SPARQL requests of one handed connection, on httptools' parser, answered in
    process and in order, with nothing between the parser and :func:`api.routes.sparql.answer`.

    uvicorn's protocol served here first; measured on the 100,000-annotation dataset (round-robin
    with the Oxigraph server, light queries after heavy ones) its layers — an ASGI task and
    request/response cycle per request, the proxy-headers layer, header re-encoding — cost 0.3 ms
    of a 1.7 ms ASK, most of it in CPU caches cold after a heavy query: what a light query pays is
    how much code it runs. The responses are byte for byte what the server sends (status, the
    ``date``/``server`` headers, the answer's and the security headers, the one JSON error shape).

    Between requests, a request for anything but ``/sparql`` sends the connection back to the
    server (:data:`BACK`); a pipelined one behind a SPARQL request gets 421 (send it on a new
    connection). Keep-alive ends after ``keep_alive`` idle seconds (uvicorn's default, 5 s) so an
    idle client does not hold a worker. Writing pauses reading while the client does not read."""

    def __init__(self, worker: "_DirectWorker", initial: bytes) -> None:
        self.w, self.initial = worker, initial
        self.transport = None
        self.in_message = self.handed_back = self.closing = False
        self.url = b""
        self.head_bytes = 0
        self.accept = self.content_type = self.length = None
        self.body: list[bytes] = []
        self.body_size = 0
        self.idle_timer = None

    # asyncio
    def connection_made(self, transport) -> None:
        import httptools

        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)
        peer = transport.get_extra_info("peername")
        self.client = peer[0] if isinstance(peer, tuple) else None
        data, self.initial = self.initial, b""
        if data:
            self.data_received(data)

    def data_received(self, data: bytes) -> None:
        import httptools

        if self.closing:
            return
        self._stop_idle_timer()
        if not self.in_message and not is_sparql_request(data) and len(data) <= MAX_HANDED_BYTES:
            self._hand_back(data)
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            pass  # an Upgrade (h2c …) is not taken: the request was answered over HTTP/1.1, as uvicorn does
        except httptools.HttpParserError:
            from api.protocol import invalid_request_bytes

            self._write_and_close(invalid_request_bytes(self.w.date_header()))

    def connection_lost(self, exc) -> None:
        self._stop_idle_timer()
        self.closing = True
        if not self.handed_back:
            self.w.idle()

    def pause_writing(self) -> None:
        self.transport.pause_reading()

    def resume_writing(self) -> None:
        if not self.closing:
            self.transport.resume_reading()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.in_message = True
        self.url, self.head_bytes, self.body, self.body_size = b"", 0, [], 0
        self.accept = self.content_type = self.length = None

    def on_url(self, url: bytes) -> None:
        self.url += url
        self._count_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value))
        name = name.lower()
        if name == b"accept":  # the first of each, as the server's Request.headers.get gives
            self.accept = value.decode("latin-1") if self.accept is None else self.accept
        elif name == b"content-type":
            self.content_type = value.decode("latin-1") if self.content_type is None else self.content_type
        elif name == b"content-length":
            self.length = value.decode("latin-1") if self.length is None else self.length
        elif name == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True

    expect_continue = False

    def on_headers_complete(self) -> None:
        from api.middleware import declared_too_large
        from kg.errors import GujiError

        if self.closing:
            return
        if self.length is not None and self.parser.get_method() == b"POST":
            try:
                declared_too_large(self.w.body_limit, self.length)
            except GujiError as exc:
                return self._refuse_now(exc)
        if self.expect_continue:
            self.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.expect_continue = False

    def on_body(self, chunk: bytes) -> None:
        if self.closing:
            return
        self.body_size += len(chunk)
        if self.body_size > self.w.body_limit.limit:
            from api.middleware import too_large

            self.body = []
            return self._refuse_now(too_large(self.w.body_limit))
        self.body.append(chunk)

    def on_message_complete(self) -> None:
        self.in_message = False
        if self.closing:
            return
        method = self.parser.get_method()
        path, _, query = self.url.partition(b"?")
        path = path.partition(b"#")[0]
        keep = self.parser.should_keep_alive()
        if path != b"/sparql" or method not in (b"GET", b"POST"):
            status, headers, body = self.w.error(*_MISDIRECTED, status=421)
            keep = False
        else:
            status, headers, body = self.w.answer(method.decode("ascii"), query, self.accept, self.content_type,
                                                  b"".join(self.body), self.client)
        self.body = []
        self.w.respond(self.transport, status, headers, body, keep)
        if self.w.access_log:
            self.w.log_access(self.client, method, self.url, self.parser.get_http_version(), status)
        if not keep:
            self.closing = True
            self.transport.close()
        else:
            self._start_idle_timer()

    # helpers
    def _count_head(self, n: int) -> None:
        self.head_bytes += n
        if self.head_bytes > self.w.max_head and not self.closing:
            from kg.errors import PayloadTooLargeError

            self._refuse_now(PayloadTooLargeError(
                f"the request line and headers are larger than {self.w.max_head} bytes; send a long query in a POST body",
                limit=self.w.max_head))

    def _refuse_now(self, exc) -> None:
        """A request refused before its end (too large): answered at once, the rest never read, the connection closed."""
        status, headers, body = self.w.refusal(exc)
        self.w.respond(self.transport, status, headers, body, False)
        self.closing = True
        self.transport.close()

    def _hand_back(self, data: bytes) -> None:
        sock = self.transport.get_extra_info("socket")
        self.transport.pause_reading()
        fd = os.dup(sock.fileno())
        try:
            socket.send_fds(self.w.ctrl, [BACK + data], [fd])
            self.handed_back = True
        except OSError:
            pass
        finally:
            os.close(fd)
        self.closing = True
        self.transport.close()

    def _write_and_close(self, data: bytes) -> None:
        self.closing = True
        self.transport.write(data)
        self.transport.close()

    def _start_idle_timer(self) -> None:
        self.idle_timer = asyncio.get_running_loop().call_later(self.w.keep_alive, self._idle_close)

    def _stop_idle_timer(self) -> None:
        if self.idle_timer is not None:
            self.idle_timer.cancel()
            self.idle_timer = None

    def _idle_close(self) -> None:
        self.idle_timer = None
        if not self.in_message and not self.closing:
            self.closing = True
            self.transport.close()


class _DirectWorker:
    """A direct worker's side of the work: its context, its limits, the answer and the bytes of a response."""

    keep_alive = 5.0  # seconds, uvicorn's default keep-alive timeout

    def __init__(self, ctrl: socket.socket, context, body_limit, access_log: bool, state) -> None:
        from api.middleware import SECURITY_HEADERS
        from api.routes.sparql import ANSWER_HEADERS

        self.ctrl, self.context, self.body_limit, self.access_log, self.state = ctrl, context, body_limit, access_log, state
        # a GET carries its query percent-encoded in the URL: up to three bytes a byte, plus headers
        self.max_head = 3 * body_limit.limit + 64 * 1024
        self.security = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in SECURITY_HEADERS.items()]
        answer_headers = b"".join(k.lower().encode("latin-1") + b": " + v.encode("latin-1") + b"\r\n"
                                  for k, v in ANSWER_HEADERS.items())
        self.ok_tail = answer_headers + b"".join(k + b": " + v + b"\r\n" for k, v in self.security)
        self._date = b""
        self.tick()

    def tick(self) -> None:
        """The ``date`` (and ``server``) header block, renewed every second as uvicorn's server loop does."""
        from email.utils import formatdate

        self._date = b"date: " + formatdate(usegmt=True).encode("ascii") + b"\r\nserver: uvicorn\r\n"

    def date_header(self) -> bytes:
        return self._date

    def idle(self) -> None:
        try:
            self.ctrl.send(IDLE)
        except OSError:
            pass

    def answer(self, method: str, query_string: bytes, accept, content_type, body: bytes, client):
        """(status, header block, body) for one SPARQL request: :func:`answer` run to its end here
        (with the in-process runner nothing in it waits), errors in the one JSON shape."""
        from api.errors import http_response, response_for
        from api.routes.sparql import answer
        from kg.errors import GujiError
        from starlette.exceptions import HTTPException as StarletteHTTPException

        coro = answer(self.context, method, query_string, accept=accept, content_type=content_type, body=body, client=client)
        try:
            coro.send(None)
        except StopIteration as done:
            payload, media = done.value
            head = (b"content-length: " + str(len(payload)).encode("ascii") + b"\r\ncontent-type: "
                    + media.encode("latin-1") + b"\r\n" + self.ok_tail)
            self.state[ANSWERED] += 1
            return 200, head, payload
        except GujiError as exc:
            return self._response(response_for(exc))
        except StarletteHTTPException as exc:
            return self._response(http_response(exc))
        else:  # pragma: no cover - the in-process runner never suspends
            coro.close()
            raise RuntimeError("a direct worker's answer suspended: only the in-process runner may serve here")

    def refusal(self, exc):
        from api.errors import response_for

        return self._response(response_for(exc))

    def error(self, code: str, message: str, *, status: int):
        from fastapi.responses import JSONResponse

        from api.errors import error_body

        return self._response(JSONResponse(error_body(code, message), status_code=status))

    def _response(self, response):
        self.state[ANSWERED] += 1
        present = {k for k, _ in response.raw_headers}
        head = b"".join(k + b": " + v + b"\r\n" for k, v in response.raw_headers)
        head += b"".join(k + b": " + v + b"\r\n" for k, v in self.security if k not in present)
        return response.status_code, head, bytes(response.body)

    def respond(self, transport, status: int, head: bytes, body: bytes, keep: bool) -> None:
        transport.write(b"".join((_status_line(status) if status != 200 else b"HTTP/1.1 200 OK\r\n", self._date, head,
                                  b"" if keep else b"connection: close\r\n", b"\r\n", body)))

    def log_access(self, client, method: bytes, url: bytes, version: str, status: int) -> None:
        logging.getLogger("uvicorn.access").info('%s - "%s %s HTTP/%s" %d', client, method.decode("ascii", "replace"),
                                                 url.decode("latin-1"), version, status)


def worker_main(ctrl: socket.socket, spec: dict, state, clients: SharedClients) -> None:  # pragma: no cover - child
    """A direct worker: opens the public dataset read-only, then serves the connections the server
    hands it, one at a time, until its control socket closes."""
    import signal
    import types

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; it closes us
    _limit_memory(spec["options"]["memory_mb"])

    from api.middleware import BodyLimit
    from api.settings import Settings

    if spec["access_log"]:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s:     %(message)s")
    settings = Settings(**spec["settings"])
    guard = _Guard(state)
    runner = InProcessRunner(spec["store_path"], guard=guard, clients=clients, **spec["options"])
    runner.warm()
    context = types.SimpleNamespace(sparql=runner, settings=settings)
    worker = _DirectWorker(ctrl, context, BodyLimit("/sparql", settings.max_sparql_bytes, "GUJI_MAX_SPARQL_BYTES",
                                                    "a SPARQL request"), spec["access_log"], state)
    ctrl.setblocking(False)

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stopped = loop.create_future()

        def tick() -> None:
            worker.tick()
            loop.call_later(1, tick)

        tick()

        def on_ctrl() -> None:
            try:
                msg, fds, _, _ = socket.recv_fds(ctrl, MAX_HANDED_BYTES + 16, 1)
            except BlockingIOError:
                return
            except OSError:
                msg, fds = b"", []
            if not msg or not fds:
                for fd in fds:
                    os.close(fd)
                if not msg and not stopped.done():
                    stopped.set_result(None)
                return
            loop.create_task(adopt(socket.socket(fileno=fds[0]), msg))

        async def adopt(sock: socket.socket, data: bytes) -> None:
            try:
                await loop.connect_accepted_socket(lambda: DirectHttp(worker, data), sock)
            except OSError:
                sock.close()
                worker.idle()

        loop.add_reader(ctrl.fileno(), on_ctrl)
        try:
            ctrl.send(READY)
        except OSError:  # the server closed its pool while this worker started: nothing to serve
            return
        await stopped

    try:
        import uvloop

        uvloop.run(serve())
    except ImportError:
        asyncio.run(serve())


def start(context) -> "DirectPool | None":
    """Start the direct workers for a server (``guji serve``) on the embedded public dataset."""
    global POOL
    settings = context.settings
    if settings.sparql_direct_workers <= 0 or settings.sparql_backend != "embedded":
        return None
    runner = context.sparql
    if not isinstance(runner, QueryRunner):
        return None
    pool = DirectPool(runner, settings, settings.sparql_direct_workers)
    pool.start(asyncio.get_running_loop())
    POOL = pool
    return pool


def stop(pool: "DirectPool | None") -> None:
    global POOL
    if pool is not None:
        pool.close()
    if POOL is pool:
        POOL = None


"""Public SPARQL answered by the process that evaluates it (ADR 0026).

A light query costs the engine ~0.1 ms; handing it from the server process to a query worker and
back cost 0.3–0.6 ms more on a 2-core machine (two processes woken per query), which kept light
queries at ~1.8× the Oxigraph server's time. So a connection whose first request is
``GET /sparql`` or ``POST /sparql`` is handed over whole: the server passes the socket itself
(``SCM_RIGHTS``) with the bytes it has read to an idle *direct worker*, a process that holds the
public dataset read-only and speaks HTTP with uvicorn's own protocol, the same SPARQL handlers and
the same middleware as the server. It answers that connection's SPARQL requests in process, one at
a time. A request for anything else on the connection sends the connection back to the server with
its bytes, where it goes on as if never handed. With every direct worker busy (or disabled), a
connection stays with the server and its queries take the worker pool as before.

The limits stay: a watchdog thread answers a query past its time limit with the timeout error and
ends the worker (ending the process is the only way to stop the engine: the CPU stops with it); the
server keeps a duplicate of every handed socket, so a worker that dies in a query for any other
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


class _NotHere:
    """A pipelined request for another path behind a SPARQL request on a handed connection (HTTP
    pipelining; no browser sends it): refused with the JSON shape, asking for a new connection."""

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        from fastapi.responses import JSONResponse

        from api.errors import error_body

        body = error_body("misdirected_request", "send this request on a new connection: this connection answers /sparql only")
        await JSONResponse(body, status_code=421, headers={"Connection": "close"})(scope, receive, send)


def worker_main(ctrl: socket.socket, spec: dict, state, clients: SharedClients) -> None:  # pragma: no cover - child
    """A direct worker: opens the public dataset read-only, then serves the connections the server
    hands it, one at a time, until its control socket closes."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle; it closes us
    _limit_memory(spec["options"]["memory_mb"])
    import types

    import uvicorn
    from uvicorn.server import ServerState

    from api.middleware import SECURITY_HEADERS, BodyLimit, SecurityHeadersMiddleware
    from api.protocol import http_protocol
    from api.routes.sparql import SparqlFastPath
    from api.settings import Settings

    settings = Settings(**spec["settings"])
    guard = _Guard(state)
    runner = InProcessRunner(spec["store_path"], guard=guard, clients=clients, **spec["options"])
    runner.warm()
    context = types.SimpleNamespace(sparql=runner, settings=settings)
    # the server's body limit and security headers, applied by the fast path itself (no other layer here)
    app = SparqlFastPath(SecurityHeadersMiddleware(_NotHere()), context=context, headers=SECURITY_HEADERS,
                         body_limit=BodyLimit("/sparql", settings.max_sparql_bytes, "GUJI_MAX_SPARQL_BYTES", "a SPARQL request"))
    base = http_protocol()
    config = uvicorn.Config(app, http=base, lifespan="off", access_log=spec["access_log"], log_level="warning")
    config.load()
    server_state = ServerState()
    ctrl.setblocking(False)

    class DirectProtocol(config.http_protocol_class):
        """uvicorn's protocol, but a new request for anything but /sparql goes back to the server."""

        in_message = handed_back = False
        direct_checked = True  # the server's own check (api.protocol): this is where it led

        def on_message_begin(self) -> None:
            self.in_message = True
            super().on_message_begin()

        def on_message_complete(self) -> None:
            self.in_message = False
            super().on_message_complete()

        def data_received(self, data: bytes) -> None:
            between = not self.in_message and not self.pipeline and (self.cycle is None or self.cycle.response_complete)
            if between and not is_sparql_request(data) and len(data) <= MAX_HANDED_BYTES:
                sock = self.transport.get_extra_info("socket")
                self.transport.pause_reading()
                fd = os.dup(sock.fileno())
                try:
                    socket.send_fds(ctrl, [BACK + data], [fd])
                    self.handed_back = True
                finally:
                    os.close(fd)
                self.transport.close()
                return
            super().data_received(data)

        def on_response_complete(self) -> None:
            state[ANSWERED] += 1
            super().on_response_complete()

        def connection_lost(self, exc) -> None:
            super().connection_lost(exc)
            if not self.handed_back:
                try:
                    ctrl.send(IDLE)
                except OSError:
                    pass

    async def serve() -> None:
        loop = asyncio.get_running_loop()
        stopped = loop.create_future()

        def tick() -> None:  # the Date header, as uvicorn's server loop keeps it
            from email.utils import formatdate

            server_state.default_headers = [(b"date", formatdate(usegmt=True).encode())] + config.encoded_headers
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
            def protocol():
                p = DirectProtocol(config=config, server_state=server_state, app_state={})
                p.initial = data  # fed in connection_made, before anything newer is read
                return p

            try:
                await loop.connect_accepted_socket(protocol, sock)
            except OSError:
                sock.close()
                try:
                    ctrl.send(IDLE)
                except OSError:
                    pass

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


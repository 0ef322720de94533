"""Public SPARQL queries answered by a SPARQL 1.1 server (Oxigraph server, Apache Jena Fuseki).

:class:`RemoteQueryRunner` has the signature of :class:`kg.sparql.QueryRunner`: the query is
checked here first (size, nesting, read-only, SERVICE; :func:`kg.sparql.inspect_query`), then
sent to the server with the SPARQL 1.1 Protocol. The answer is parsed as it streams in and
serialised here again, so the rows are counted (``max_results``) and every engine answers in
exactly the embedded endpoint's formats.

Time limits, on both sides:

- the server's own: Oxigraph server has no per-request timeout, so it must be started with
  ``--timeout-s`` (``scripts/services`` does); Fuseki takes the ``timeout`` request parameter
  (seconds), and its configuration sets ``arq:queryTimeout`` as a ceiling. A server-side timeout
  is what stops the engine: neither engine stops evaluating when the client hangs up;
- the client's: the whole exchange must end within the limit plus a small grace
  (:data:`CLIENT_GRACE`), else :class:`QueryTimeoutError` (the connection is closed).

:class:`Endpoints` says where an engine's query, update and Graph Store Protocol services are,
from the one base URL an operator configures (``GUJI_SPARQL_URL``).
"""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import pyoxigraph as ox

from kg.errors import QueryBusyError, QuerySyntaxError, QueryTimeoutError, QueryTooLargeError, StoreError
from kg.sparql import (
    Admission, result_format,
    MAX_QUERY_BYTES, MAX_QUERY_DEPTH, QueryInfo, ResultFormat, inspect_query, serialize_boolean,
    serialize_solutions, serialize_triples,
)

ENGINES = ("oxigraph-server", "fuseki")
CLIENT_GRACE = 2.0  # seconds the client waits past the limit for the server's own timeout answer
EMPTY_GRAPH = "urn:x-guji:no-graph"  # names "no graph at all" where the protocol has no word for it
_OXIGRAPH_CANCELLED = b"The SPARQL operation has been cancelled"
_LINE_COL = (re.compile(r"error at (\d+):(\d+)"), re.compile(r"line (\d+), column (\d+)"))


@dataclass(frozen=True)
class Endpoints:
    """The URLs of one SPARQL server's dataset."""

    engine: str
    query: str
    update: str
    gsp: str  # Graph Store Protocol, ``?graph=<iri>``

    @classmethod
    def of(cls, engine: str, base_url: str) -> "Endpoints":
        """Oxigraph server: ``http://host:7878`` (``/query``, ``/update``, ``/store``); Fuseki:
        the dataset's URL, ``http://host:3030/guji`` (``/query``, ``/update``, ``/data``)."""
        base = base_url.rstrip("/")
        if engine == "oxigraph-server":
            return cls(engine, f"{base}/query", f"{base}/update", f"{base}/store")
        if engine == "fuseki":
            return cls(engine, f"{base}/query", f"{base}/update", f"{base}/data")
        raise ValueError(f"unknown SPARQL engine {engine!r}; one of {', '.join(ENGINES)}")


def http_client(auth: tuple[str, str] | None = None, timeout: float = 60.0) -> httpx.Client:
    return httpx.Client(auth=auth, timeout=httpx.Timeout(timeout, connect=5.0), follow_redirects=False)


def unreachable(url: str, exc: Exception) -> StoreError:
    return StoreError(f"the SPARQL server at {url} cannot be reached ({type(exc).__name__}: {exc})", url=url)


def server_error(url: str, status: int, body: str) -> StoreError:
    text = " ".join(body.split())[:300]
    if status in (401, 403):
        return StoreError(f"the SPARQL server at {url} refused our credentials ({status}): check GUJI_SPARQL_USER/GUJI_SPARQL_PASSWORD",
                          url=url, status=status)
    return StoreError(f"the SPARQL server at {url} answered {status}: {text}", url=url, status=status)


def syntax_error(body: str, *, column_shift: int = 0) -> QuerySyntaxError:
    """A server's parse error, with line and column when it gives them (Oxigraph: ``error at 3:7``;
    Fuseki: ``line 3, column 7``)."""
    text = " ".join(body.split())
    for pattern in _LINE_COL:
        m = pattern.search(text)
        if m:
            line, column = int(m.group(1)), int(m.group(2))
            if line == 1:
                column = max(1, column - column_shift)
            return QuerySyntaxError(f"SPARQL syntax error: {text[:500]}", line=line, column=column)
    return QuerySyntaxError(f"SPARQL error: {text[:500]}")


class _Stream:
    """A file-like reader over a streamed response for pyoxigraph's parsers: stops at the deadline
    and keeps the last bytes read (Oxigraph writes its timeout message into a 200 response)."""

    def __init__(self, response: httpx.Response, deadline: float) -> None:
        self._chunks = response.iter_bytes()  # decoded: a proxy in front may compress
        self._buffer = b""
        self._deadline = deadline
        self.tail = b""

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            if time.monotonic() > self._deadline:
                raise _Deadline()
            try:
                chunk = next(self._chunks)
            except StopIteration:
                break
            self._buffer += chunk
            self.tail = (self.tail + chunk)[-256:]
        if size < 0:
            out, self._buffer = self._buffer, b""
        else:
            out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

    def cancelled(self) -> bool:
        return _OXIGRAPH_CANCELLED in self.tail


class _Deadline(Exception):
    pass


class _NoConnection(Exception):
    def __init__(self, error: StoreError) -> None:
        super().__init__(error.message)
        self.error = error


class RemoteQueryRunner:
    """Runs read-only public queries on a SPARQL 1.1 server; the same ``run``/``inspect`` as QueryRunner.

    The server holds the public graphs only (fed by :class:`projections.remote_sparql.RemoteSparqlDataset`),
    and its default graph is the union of them: Oxigraph server started with ``--union-default-graph``
    (also asked for per query, ``union-default-graph``); Fuseki's TDB2 dataset configured with
    ``tdb2:unionDefaultGraph true``.

    Several servers (read replicas, each fed by the projector): queries go to them in turn, and a
    query whose server cannot be connected to goes to the next one."""

    def __init__(self, endpoints: Endpoints | Sequence[Endpoints], *, timeout: float = 10.0, max_results: int = 10_000,
                 allow_service: bool = False, concurrency: int = 4, per_client: int = 2, queue_wait: float = 2.0,
                 max_query_bytes: int = MAX_QUERY_BYTES, max_query_depth: int = MAX_QUERY_DEPTH,
                 base_iri: str | None = None, auth: tuple[str, str] | None = None,
                 client: httpx.Client | None = None) -> None:
        self.servers = [endpoints] if isinstance(endpoints, Endpoints) else list(endpoints)
        if not self.servers:
            raise ValueError("RemoteQueryRunner needs at least one server")
        self.endpoints = self.servers[0]
        self._turn = itertools.count()
        self.timeout = timeout
        self.max_results = max_results
        self.allow_service = allow_service
        self.max_query_bytes = max_query_bytes
        self.max_query_depth = max_query_depth
        self.base_iri = base_iri
        self._admission = Admission(concurrency, per_client, queue_wait)
        self._http = client or http_client(auth, timeout + CLIENT_GRACE)
        self._own_http = client is None

    def inspect(self, text: str) -> QueryInfo:
        return inspect_query(text, allow_service=self.allow_service, max_bytes=self.max_query_bytes,
                             max_depth=self.max_query_depth)

    def warm(self) -> None:
        """Nothing to start: the server is already running."""

    def run(self, text: str, fmt: ResultFormat | None = None, *, default_graph: list[str] | None = None,
            named_graphs: list[str] | None = None, timeout: float | None = None,
            client: str | None = None, base_iri: str | None = None) -> tuple[bytes, ResultFormat, QueryInfo]:
        info = self.inspect(text)
        fmt = result_format(info, fmt)
        limit = timeout or self.timeout
        self._admission.enter(client, limit)
        try:
            return self._run(text, fmt, info, default_graph, named_graphs, limit, base_iri or self.base_iri), fmt, info
        finally:
            self._admission.leave(client)

    # -- the exchange ----------------------------------------------------------------------------
    def _params(self, engine: str, default_graph: list[str] | None, named_graphs: list[str] | None,
                limit: float) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        if default_graph is None and named_graphs is None:
            if engine == "oxigraph-server":
                params.append(("union-default-graph", ""))
        else:
            # an empty list means "no graph", which the protocol can only say by naming a graph that is not there
            params += [("default-graph-uri", g) for g in (default_graph if default_graph else [EMPTY_GRAPH])]
            params += [("named-graph-uri", g) for g in (named_graphs if named_graphs else [EMPTY_GRAPH])]
        if engine == "fuseki":
            params.append(("timeout", f"{limit:g}"))  # Fuseki's own limit: it stops evaluating
        return params

    def _run(self, text: str, fmt: ResultFormat, info: QueryInfo, default_graph, named_graphs, limit: float,
             base_iri: str | None) -> bytes:
        shift = 0
        if base_iri:  # the protocol has no base parameter: say it in the query, on its first line
            prefix = f"BASE <{base_iri}> "
            text, shift = prefix + text, len(prefix)
        first = next(self._turn) % len(self.servers)
        deadline = time.monotonic() + limit + CLIENT_GRACE
        failures = []
        for server in self.servers[first:] + self.servers[:first]:
            try:
                return self._exchange(server, text, shift, fmt, info, default_graph, named_graphs, limit, deadline)
            except _NoConnection as exc:
                failures.append(exc.error)
        if len(failures) == 1:
            raise failures[0]
        raise StoreError("none of the SPARQL servers can be reached: " + "; ".join(f.message for f in failures),
                         servers=[s.query for s in self.servers])

    def _exchange(self, server: Endpoints, text: str, shift: int, fmt: ResultFormat, info: QueryInfo,
                  default_graph, named_graphs, limit: float, deadline: float) -> bytes:
        accept = "application/n-triples" if info.returns_graph else "application/sparql-results+json"
        url = server.query
        try:
            with self._http.stream(
                "POST", url, params=self._params(server.engine, default_graph, named_graphs, limit),
                content=text.encode("utf-8"),
                headers={"Content-Type": "application/sparql-query; charset=utf-8", "Accept": accept},
                timeout=httpx.Timeout(limit + CLIENT_GRACE, connect=5.0),
            ) as response:
                if response.status_code != 200:
                    body = response.read().decode("utf-8", "replace")
                    raise self._error(url, response.status_code, body, limit, shift)
                stream = _Stream(response, deadline)
                try:
                    return self._serialise(stream, fmt, info)
                except SyntaxError as exc:  # the answer broke off: Oxigraph's timeout, or a dropped connection
                    if stream.cancelled():
                        raise self._timed_out(limit) from None
                    raise StoreError(f"the SPARQL server at {url} sent an answer that does not parse: {exc}", url=url) from None
        except _Deadline:
            raise self._timed_out(limit) from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # nothing was sent: another server may answer
            raise _NoConnection(unreachable(url, exc)) from None
        except httpx.TimeoutException:
            raise self._timed_out(limit) from None
        except httpx.TransportError as exc:
            raise unreachable(url, exc) from None

    def _serialise(self, stream: _Stream, fmt: ResultFormat, info: QueryInfo) -> bytes:
        def too_many(kind: str) -> QueryTooLargeError:
            return QueryTooLargeError(
                f"the result has more than {self.max_results} {kind}; add LIMIT/OFFSET to page through it, or download a dump",
                limit=self.max_results)

        if info.returns_graph:
            triples = []
            for q in ox.parse(stream, format=ox.RdfFormat.N_TRIPLES):
                triples.append(q.triple)
                if len(triples) > self.max_results:
                    raise too_many("triples")
            return serialize_triples(triples, fmt)
        result = ox.parse_query_results(stream, format=ox.QueryResultsFormat.JSON)
        if isinstance(result, ox.QueryBoolean):
            return serialize_boolean(bool(result), fmt)
        variables = [v.value for v in result.variables]
        rows = []
        for solution in result:
            rows.append([solution[v] for v in variables])
            if len(rows) > self.max_results:
                raise too_many("rows")
        return serialize_solutions(variables, rows, fmt)

    def _timed_out(self, limit: float) -> QueryTimeoutError:
        return QueryTimeoutError(
            f"the query ran longer than the {limit:g} s limit and was stopped; narrow it (LIMIT, more specific patterns) or download a dump",
            timeout=limit)

    def _error(self, url: str, status: int, body: str, limit: float, shift: int) -> Exception:
        if status == 503 and "timed out" in body.lower() or _OXIGRAPH_CANCELLED.decode() in body:
            return self._timed_out(limit)
        if status == 400:
            return syntax_error(body, column_shift=shift)
        return server_error(url, status, body)

    def close(self) -> None:
        if self._own_http:
            self._http.close()

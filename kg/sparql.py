"""Read-only SPARQL over the canonical store, with a time limit and a result-size limit.

Queries run in worker processes that open the store read-only, so a query that runs too long is
stopped for real (the worker is killed and replaced) instead of being abandoned while it keeps
burning a core. The public dataset leaves out the change log and every preservation-level graph.

Only the query language lives here; HTTP (the SPARQL 1.1 Protocol, content negotiation) is in
``api/``.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import multiprocessing as mp
import os
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from kg.errors import (
    QueryBusyError, QueryFailedError, QueryRefusedError, QuerySyntaxError, QueryTimeoutError, QueryTooLargeError,
    QueryTooLongError, StoreError,
)
from kg.namespaces import GG, PREFIXES

from kg.graphs import is_public  # noqa: E402


class ResultFormat(str, Enum):
    JSON = "application/sparql-results+json"
    XML = "application/sparql-results+xml"
    CSV = "text/csv"
    TSV = "text/tab-separated-values"
    TURTLE = "text/turtle"
    NTRIPLES = "application/n-triples"
    JSONLD = "application/ld+json"
    RDFXML = "application/rdf+xml"

    @property
    def for_graphs(self) -> bool:
        return self in GRAPH_FORMATS


SOLUTION_FORMATS = (ResultFormat.JSON, ResultFormat.XML, ResultFormat.CSV, ResultFormat.TSV)
GRAPH_FORMATS = (ResultFormat.TURTLE, ResultFormat.NTRIPLES, ResultFormat.JSONLD, ResultFormat.RDFXML)
_OX_RDF = {
    ResultFormat.TURTLE: ox.RdfFormat.TURTLE,
    ResultFormat.NTRIPLES: ox.RdfFormat.N_TRIPLES,
    ResultFormat.JSONLD: ox.RdfFormat.JSON_LD,
    ResultFormat.RDFXML: ox.RdfFormat.RDF_XML,
}

_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD", "WITH"}
_FORM_WORDS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
# strings, IRIs and comments are blanked before looking for keywords, so a literal "SERVICE" is harmless
_LEXICAL = re.compile(r'"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^\'\\]|\\.|\'(?!\'\'))*\'\'\'|"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|<[^<>"{}|^`\\\s]*>|#[^\n]*')
_KEYWORDS = _FORM_WORDS | _UPDATE_WORDS


def _whole_word(words) -> re.Pattern:
    """A word (a maximal run of ASCII letters, any case) that is one of ``words``: the leftmost
    match is the first such word, found in C (a Python loop over a query's prologue cost ~15 µs)."""
    return re.compile(r"(?<![A-Za-z])(?:" + "|".join(sorted(words)) + r")(?![A-Za-z])", re.I | re.A)


_FIRST_KEYWORD = _whole_word(_KEYWORDS)
_SERVICE_WORD = _whole_word({"SERVICE"})
_SYNTAX_AT = re.compile(r"error at (\d+):(\d+)")


@dataclass(frozen=True)
class QueryInfo:
    form: str  # SELECT | ASK | CONSTRUCT | DESCRIBE
    uses_service: bool

    @property
    def returns_graph(self) -> bool:
        return self.form in ("CONSTRUCT", "DESCRIBE")


MAX_QUERY_BYTES = 64 * 1024  # defaults; the endpoint passes its settings
MAX_QUERY_DEPTH = 64
_OPEN, _CLOSE = "{([", "})]"
_NOT_BRACKET = re.compile(r"[^{}()\[\]]+")


def check_limits(text: str, *, max_bytes: int = MAX_QUERY_BYTES, max_depth: int = MAX_QUERY_DEPTH) -> str:
    """Size and nesting of a query, checked before any parser sees it (a query of 3,000 nested
    ``{`` overflowed the parser's stack and killed the process). Returns the text with strings,
    IRIs and comments replaced by a space each, for the keyword checks that follow."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_bytes:
        raise QueryTooLongError(
            f"the query is {size} bytes; this endpoint accepts at most {max_bytes} bytes", limit=max_bytes, size=size)
    blank = _LEXICAL.sub(" ", text)  # one space each (no Python call per token): only the order of what is left matters
    depth = deepest = 0
    for ch in _NOT_BRACKET.sub("", blank):  # the brackets alone, in order (a Python loop over every character cost ~20 µs)
        if ch in _OPEN:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > max_depth:
                    raise QueryTooLongError(
                        f"the query nests groups more than {max_depth} levels deep ({{, ( or [); flatten it",
                        limit=max_depth, field="depth")
        elif ch in _CLOSE:
            depth = max(0, depth - 1)
    return blank


def inspect_query(text: str, *, allow_service: bool = False, max_bytes: int = MAX_QUERY_BYTES,
                  max_depth: int = MAX_QUERY_DEPTH) -> QueryInfo:
    """:func:`classify_query`, remembering the last few answers: the endpoint asks once to negotiate
    the result format and the runner again before its worker (a refusal is raised again, not kept)."""
    if len(text) > max_bytes:  # longer than the limit in characters, so in bytes too: refused, never kept
        return classify_query(text, allow_service=allow_service, max_bytes=max_bytes, max_depth=max_depth)
    return _inspect_cached(text, allow_service, max_bytes, max_depth)


@functools.lru_cache(maxsize=64)  # ≤ 64 × 64 KiB of query text
def _inspect_cached(text: str, allow_service: bool, max_bytes: int, max_depth: int) -> QueryInfo:
    return classify_query(text, allow_service=allow_service, max_bytes=max_bytes, max_depth=max_depth)


def classify_query(text: str, *, allow_service: bool = False, max_bytes: int = MAX_QUERY_BYTES,
                   max_depth: int = MAX_QUERY_DEPTH) -> QueryInfo:
    """Classify a request without parsing it: refuse oversized or too deeply nested text,
    updates and (unless allowed) SERVICE. The query is parsed only inside a worker, under the
    time and memory limits, where a syntax error comes back with its line and column."""
    blank = check_limits(text, max_bytes=max_bytes, max_depth=max_depth)
    first = _FIRST_KEYWORD.search(blank)  # the first word that is a form or an update (after the prologue)
    form = first.group().upper() if first else None
    if form in _UPDATE_WORDS:
        raise QueryRefusedError(
            f"SPARQL Update ({form}) is not allowed: this endpoint is read-only",
            operation=form,
        )
    uses_service = _SERVICE_WORD.search(blank) is not None
    if uses_service and not allow_service:
        raise QueryRefusedError(
            "SERVICE (federated query) is disabled on this endpoint; an operator can enable it with GUJI_SPARQL_ALLOW_SERVICE=true",
        )
    if form is None:
        raise QuerySyntaxError("not a SPARQL query: expected SELECT, ASK, CONSTRUCT or DESCRIBE", line=1, column=1)
    return QueryInfo(form, uses_service)


def syntax_error(exc: SyntaxError) -> QuerySyntaxError:
    message = str(exc)
    m = _SYNTAX_AT.search(message)
    line, column = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    return QuerySyntaxError(f"SPARQL syntax error: {message}", line=line, column=column)


def is_public_graph(iri: str) -> bool:
    return is_public(iri)


# -- serialisation of solutions (pyoxigraph's serialiser cannot stop at a row limit) ------------

def _term_json(t) -> dict:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        out = {"type": "literal", "value": t.value}
        if t.language:
            out["xml:lang"] = t.language
        elif t.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            out["datatype"] = t.datatype.value
        return out
    return {"type": "triple", "value": {"subject": _term_json(t.subject), "predicate": _term_json(t.predicate), "object": _term_json(t.object)}}


def _term_xml(t) -> str:
    if isinstance(t, ox.NamedNode):
        return f"<uri>{escape(t.value)}</uri>"
    if isinstance(t, ox.BlankNode):
        return f"<bnode>{escape(t.value)}</bnode>"
    if isinstance(t, ox.Literal):
        if t.language:
            return f"<literal xml:lang={quoteattr(t.language)}>{escape(t.value)}</literal>"
        if t.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
            return f"<literal datatype={quoteattr(t.datatype.value)}>{escape(t.value)}</literal>"
        return f"<literal>{escape(t.value)}</literal>"
    return f"<literal>{escape(str(t))}</literal>"


def serialize_solutions(variables: list[str], rows: list[list], fmt: ResultFormat) -> bytes:
    if fmt is ResultFormat.JSON:
        bindings = [{v: _term_json(t) for v, t in zip(variables, row) if t is not None} for row in rows]
        return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}}, ensure_ascii=False).encode()
    if fmt is ResultFormat.XML:
        out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head>']
        out += [f"<variable name={quoteattr(v)}/>" for v in variables]
        out.append("</head><results>")
        for row in rows:
            out.append("<result>")
            out += [f"<binding name={quoteattr(v)}>{_term_xml(t)}</binding>" for v, t in zip(variables, row) if t is not None]
            out.append("</result>")
        out.append("</results></sparql>")
        return "".join(out).encode()
    if fmt is ResultFormat.CSV:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\r\n")
        w.writerow(variables)
        for row in rows:
            w.writerow(["" if t is None else (t.value if isinstance(t, (ox.NamedNode, ox.Literal)) else f"_:{t.value}" if isinstance(t, ox.BlankNode) else str(t)) for t in row])
        return buf.getvalue().encode()
    if fmt is ResultFormat.TSV:
        lines = ["\t".join("?" + v for v in variables)]
        for row in rows:
            lines.append("\t".join("" if t is None else str(t).replace("\t", "\\t") for t in row))
        return ("\n".join(lines) + "\n").encode()
    raise QueryRefusedError(f"{fmt.value} is not a format for SELECT results")


def serialize_boolean(value: bool, fmt: ResultFormat) -> bytes:
    if fmt is ResultFormat.XML:
        return f'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/><boolean>{str(value).lower()}</boolean></sparql>'.encode()
    if fmt in (ResultFormat.CSV, ResultFormat.TSV):
        return f"{str(value).lower()}\n".encode()
    return json.dumps({"head": {}, "boolean": value}).encode()


def serialize_triples(triples: list, fmt: ResultFormat) -> bytes:
    if fmt is ResultFormat.TURTLE:
        return ox.serialize(triples, format=ox.RdfFormat.TURTLE, prefixes={k: v for k, v in PREFIXES.items()}) or b""
    return ox.serialize(triples, format=_OX_RDF[fmt]) or b""


def execute(store: ox.Store, text: str, fmt: ResultFormat, *, default_graph: list[str] | None,
            named_graphs: list[str] | None, max_results: int, union_default_graph: bool = False,
            base_iri: str | None = None) -> bytes:
    """Parse, evaluate and serialise, refusing more than ``max_results`` rows or triples.

    ``union_default_graph``: with no ``default_graph`` given, the default graph is the union of
    every named graph (the public dataset holds public graphs only, so this is the whole of it)."""
    kwargs: dict = {}
    if default_graph is not None:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in default_graph] or [ox.DefaultGraph()]
    elif union_default_graph:
        kwargs["use_default_graph_as_union"] = True
    if named_graphs is not None:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in named_graphs]
    if base_iri:
        kwargs["base_iri"] = base_iri
    try:
        result = store.query(text, **kwargs)
    except SyntaxError as exc:
        raise syntax_error(exc) from None
    except ValueError as exc:
        raise QuerySyntaxError(f"SPARQL error: {exc}") from None
    except (OSError, RuntimeError) as exc:
        raise StoreError(f"query failed: {exc}") from None

    def too_many(kind: str) -> QueryTooLargeError:
        return QueryTooLargeError(
            f"the result has more than {max_results} {kind}; add LIMIT/OFFSET to page through it, or download a dump",
            limit=max_results,
        )

    if isinstance(result, ox.QueryBoolean):
        if fmt.for_graphs:
            fmt = ResultFormat.JSON
        return serialize_boolean(bool(result), fmt)
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows = []
        for solution in result:
            rows.append([solution[v] for v in variables])
            if len(rows) > max_results:
                raise too_many("rows")
        return serialize_solutions(variables, rows, ResultFormat.JSON if fmt.for_graphs else fmt)
    triples = []
    for t in result:
        triples.append(t)
        if len(triples) > max_results:
            raise too_many("triples")
    return serialize_triples(triples, fmt if fmt.for_graphs else ResultFormat.TURTLE)


# -- worker processes ---------------------------------------------------------------------------

# A read-only RocksDB instance reads the file list as it was when it opened; the writing process may
# compact and delete some of those files meanwhile. The query then fails with "No such file" (seen in
# CI: a query right after a write). Nothing is wrong with the data: open again and re-run.
_FILES_MOVED = ("No such file", "Corruption")
READ_ONLY_ATTEMPTS = 5


class _ReadOnlyStore:
    """A worker's read-only handle on a store, opened once and again only when the writer says the
    data changed (``generation``: a file the writer replaces after each write) or files moved."""

    def __init__(self, path: str, generation: str | None) -> None:
        self.path, self.generation = path, generation
        self._store: ox.Store | None = None
        self._seen: tuple | None = None

    def _stamp(self) -> tuple | None:
        return file_stamp(self.generation)

    def get(self, *, fresh: bool = False) -> ox.Store:
        stamp = self._stamp()
        if fresh or self._store is None or stamp != self._seen or stamp is None:
            self._store = None
            self._store = ox.Store.read_only(self.path)
            self._seen = stamp
        return self._store


def _limit_memory(megabytes: int) -> None:  # pragma: no cover - runs in a child process
    if megabytes <= 0:
        return
    try:
        import resource

        limit = megabytes * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))  # heap and anonymous maps; not the store's files
    except (ImportError, ValueError, OSError):
        pass


def _worker_main(conn, store_path: str, generation: str | None, memory_mb: int) -> None:  # pragma: no cover - child
    _limit_memory(memory_mb)
    handle = _ReadOnlyStore(store_path, generation)
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        text, fmt_value, default_graph, named_graphs, max_results, union, base_iri = job
        try:
            payload = _execute_read_only(handle, text, ResultFormat(fmt_value), default_graph, named_graphs,
                                         max_results, union, base_iri)
            conn.send(("ok", payload))
        except MemoryError:
            conn.send(("error", ("QueryFailedError", "the query needed more memory than a query may use; narrow it", {})))
        except Exception as exc:  # sent back and re-raised as the same typed error
            conn.send(("error", (type(exc).__name__, getattr(exc, "message", str(exc)), getattr(exc, "details", {}))))


def _execute_read_only(handle: _ReadOnlyStore, text: str, fmt: ResultFormat, default_graph, named_graphs,
                       max_results: int, union: bool, base_iri: str | None) -> bytes:
    for attempt in range(READ_ONLY_ATTEMPTS):
        try:
            store = handle.get(fresh=attempt > 0)
            return execute(store, text, fmt, default_graph=default_graph, named_graphs=named_graphs,
                           max_results=max_results, union_default_graph=union, base_iri=base_iri)
        except (OSError, RuntimeError, StoreError) as exc:
            message = getattr(exc, "message", str(exc))
            if attempt + 1 == READ_ONLY_ATTEMPTS or not any(m in message for m in _FILES_MOVED):
                raise
            time.sleep(0.02 * 2 ** attempt)
    raise AssertionError("unreachable")


_ERRORS = {cls.__name__: cls for cls in (QuerySyntaxError, QueryRefusedError, QueryTooLargeError, StoreError, QueryFailedError)}


class _Worker:
    def __init__(self, ctx, store_path: str, generation: str | None, memory_mb: int) -> None:
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, args=(child, store_path, generation, memory_mb),
                                   daemon=True, name="guji-sparql")
        self.process.start()
        child.close()

    def kill(self) -> None:
        self.process.kill()
        self.process.join(5)
        self.conn.close()


class LocalClients:
    """Queries running per client, in this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: dict[str, int] = {}

    def enter(self, client: str, per_client: int) -> int | None:
        """Count one more query of ``client``; or, at ``per_client`` already, the number running (nothing counted)."""
        with self._lock:
            running = self._running.get(client, 0)
            if running >= per_client:
                return running
            self._running[client] = running + 1
            return None

    def leave(self, client: str) -> None:
        with self._lock:
            n = self._running.get(client, 1) - 1
            if n <= 0:
                self._running.pop(client, None)
            else:
                self._running[client] = n


class SharedClients:
    """Queries running per client, shared by processes (the server and its direct SPARQL workers,
    ADR 0026): a small open-addressing table in shared memory, keyed by a stable 64-bit digest of
    the client. Only running queries hold an entry, so the table never fills (``size`` is far above
    the number of query processes)."""

    def __init__(self, size: int = 1024) -> None:
        ctx = mp.get_context("spawn")
        self.size = size
        self._keys = ctx.RawArray("q", size)
        self._counts = ctx.RawArray("i", size)
        self._lock = ctx.Lock()

    @staticmethod
    def key(client: str) -> int:
        import hashlib

        return int.from_bytes(hashlib.blake2b(client.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                              "little", signed=True) or 1  # 0 marks a free entry

    def _find(self, key: int, *, insert: bool) -> int | None:
        """The entry of ``key``; else the free entry where it would go (``insert``) or None. Linear
        probing with chains kept whole on removal: the first free entry ends the search."""
        i = key % self.size
        for _ in range(self.size):
            k = self._keys[i]
            if k == key:
                return i
            if k == 0:
                return i if insert else None
            i = (i + 1) % self.size
        return None

    def enter(self, client: str, per_client: int) -> int | None:
        return self.enter_key(self.key(client), per_client)

    def enter_key(self, key: int, per_client: int) -> int | None:
        with self._lock:
            i = self._find(key, insert=True)
            if i is None:  # never: only running queries hold entries
                raise QueryBusyError("the endpoint is busy; retry later", retry_after=1)
            running = self._counts[i] if self._keys[i] == key else 0
            if running >= per_client:
                return running
            self._keys[i], self._counts[i] = key, running + 1
            return None

    def leave(self, client: str) -> None:
        self.leave_key(self.key(client))

    def leave_key(self, key: int) -> None:
        with self._lock:
            i = self._find(key, insert=False)
            if i is None or self._keys[i] != key:
                return
            self._counts[i] -= 1
            if self._counts[i] <= 0:
                self._counts[i] = 0
                # keep probe chains whole: a freed entry in the middle of a chain is marked by rehashing the chain
                self._keys[i] = 0
                j = (i + 1) % self.size
                while self._keys[j] != 0:
                    k, n = self._keys[j], self._counts[j]
                    self._keys[j], self._counts[j] = 0, 0
                    m = self._find(k, insert=True)
                    self._keys[m], self._counts[m] = k, n
                    j = (j + 1) % self.size


def busy(running: int, limit: float) -> QueryBusyError:
    return QueryBusyError(
        f"you already have {running} quer{'y' if running == 1 else 'ies'} running; wait for it before sending another",
        retry_after=max(1, int(limit // 2)))


class Admission:
    """At most ``slots`` queries at a time, at most ``per_client`` of one client (the local workers and a remote server alike)."""

    def __init__(self, slots: int, per_client: int, queue_wait: float, clients: "LocalClients | SharedClients | None" = None) -> None:
        self.per_client, self.queue_wait = per_client, queue_wait
        self._slots = threading.Semaphore(slots)
        self.clients = clients or LocalClients()

    def enter(self, client: str | None, limit: float, *, wait: bool = True) -> bool:
        """Take a slot for ``client``. With ``wait=False`` only a slot free right now is taken:
        False (and nothing held) when none is, so an event loop can wait for one off-loop."""
        if client is not None:
            running = self.clients.enter(client, self.per_client)
            if running is not None:
                raise busy(running, limit)
        if not wait:
            if self._slots.acquire(blocking=False):
                return True
            self._leave_client(client)
            return False
        wait_s = min(limit, self.queue_wait)
        if not self._slots.acquire(timeout=wait_s):
            self._leave_client(client)
            raise QueryBusyError(f"the endpoint is busy: no query slot came free within {wait_s:g} s; retry later",
                                 retry_after=max(1, int(limit)))
        return True

    def leave(self, client: str | None) -> None:
        self._slots.release()
        self._leave_client(client)

    def _leave_client(self, client: str | None) -> None:
        if client is not None:
            self.clients.leave(client)


def file_stamp(path: str | None) -> tuple | None:
    """Identity of a file's current version (the generation file the dataset's writer replaces after each write)."""
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


class ResultCache:
    """Answers of the dataset as it is now, by query text, format and protocol dataset.

    Valid for one version of the dataset only: the writer replaces its generation file after every
    write, and a changed stamp empties the cache, so an answer is never older than the data (an
    approval reaches the next query at once). An answer is kept only when the dataset did not change
    while it was computed. Bounded in bytes (least recently used go first); large answers are not kept."""

    def __init__(self, generation: str | None, max_bytes: int, max_entry_bytes: int = 1 << 20) -> None:
        self.generation = generation
        self.max_bytes = max_bytes
        self.max_entry_bytes = min(max_entry_bytes, max_bytes)
        self._entries: "OrderedDict[tuple, bytes]" = OrderedDict()
        self._stamp: tuple | None = None
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    @property
    def enabled(self) -> bool:
        return self.max_bytes > 0 and bool(self.generation)

    def stamp(self) -> tuple | None:
        return file_stamp(self.generation)

    def get(self, key: tuple, stamp: tuple | None) -> bytes | None:
        if stamp is None:
            return None
        with self._lock:
            if stamp != self._stamp:
                self._entries.clear()
                self._bytes, self._stamp = 0, stamp
            payload = self._entries.get(key)
            if payload is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return payload

    def put(self, key: tuple, stamp: tuple | None, payload: bytes) -> None:
        """Keep ``payload`` if the dataset is still the version ``stamp`` named before the query ran."""
        if stamp is None or len(payload) > self.max_entry_bytes or self.stamp() != stamp:
            return
        with self._lock:
            if stamp != self._stamp:
                return
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= len(old)
            self._entries[key] = payload
            self._bytes += len(payload)
            while self._bytes > self.max_bytes:
                _, dropped = self._entries.popitem(last=False)
                self._bytes -= len(dropped)


def result_format(info: QueryInfo, fmt: ResultFormat | None) -> ResultFormat:
    """The format asked for when it can carry this query's result, else the query form's default."""
    if fmt is None or info.returns_graph != fmt.for_graphs:
        return ResultFormat.TURTLE if info.returns_graph else ResultFormat.JSON
    return fmt


class QueryRunner:
    """Runs read-only queries against an on-disk store in killable worker processes.

    - time limit: a query past it is stopped for real (its worker is killed and replaced);
    - memory limit: each worker's heap is capped (``memory_mb``);
    - fairness: at most ``per_client`` queries of one client at a time (429 beyond), and a
      bounded wait for a free worker (429 with Retry-After when none comes free);
    - workers are started ahead and keep the store open between queries.
    """

    def __init__(self, store_path: Path | str, *, workers: int = 2, timeout: float = 10.0,
                 max_results: int = 10_000, allow_service: bool = False, union_default_graph: bool = False,
                 generation: Path | str | None = None, memory_mb: int = 2048, per_client: int = 1,
                 queue_wait: float = 2.0, max_query_bytes: int = MAX_QUERY_BYTES,
                 max_query_depth: int = MAX_QUERY_DEPTH, base_iri: str | None = None, cache_bytes: int = 0) -> None:
        self.store_path = str(store_path)
        self.timeout = timeout
        self.max_results = max_results
        self.allow_service = allow_service
        self.union_default_graph = union_default_graph
        self.generation = str(generation) if generation else None
        self.memory_mb = memory_mb
        self.per_client = per_client
        self.queue_wait = queue_wait
        self.max_query_bytes = max_query_bytes
        self.max_query_depth = max_query_depth
        self.base_iri = base_iri
        self._ctx = mp.get_context("spawn")
        self._idle: list[_Worker] = []
        self._size = workers
        self._lock = threading.Lock()
        self._admission = Admission(workers, per_client, queue_wait)
        self.cache = ResultCache(self.generation, cache_bytes)

    def options(self) -> dict:
        """What another process needs to build a runner with the same dataset and limits."""
        return dict(timeout=self.timeout, max_results=self.max_results, allow_service=self.allow_service,
                    union_default_graph=self.union_default_graph, generation=self.generation, memory_mb=self.memory_mb,
                    per_client=self.per_client, queue_wait=self.queue_wait, max_query_bytes=self.max_query_bytes,
                    max_query_depth=self.max_query_depth, base_iri=self.base_iri, cache_bytes=self.cache.max_bytes)

    def warm(self) -> None:
        """Start the workers now rather than on the first queries."""
        with self._lock:
            while len(self._idle) < self._size:
                self._idle.append(self._spawn())

    def _spawn(self) -> _Worker:
        return _Worker(self._ctx, self.store_path, self.generation, self.memory_mb)

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                w = self._idle.pop()
                if w.process.is_alive():
                    return w
                w.kill()
        return self._spawn()

    def _give_back(self, w: _Worker) -> None:
        with self._lock:
            self._idle.append(w)

    def share_clients(self, clients: "SharedClients") -> None:
        """Count per-client queries in ``clients``, which other processes count in too (ADR 0026)."""
        self._admission.clients = clients

    def inspect(self, text: str) -> QueryInfo:
        return inspect_query(text, allow_service=self.allow_service, max_bytes=self.max_query_bytes,
                             max_depth=self.max_query_depth)

    def _job(self, text: str, fmt: ResultFormat, default_graph, named_graphs, base_iri: str | None) -> tuple:
        return (text, fmt.value, default_graph, named_graphs, self.max_results, self.union_default_graph,
                base_iri or self.base_iri)

    def _prepare(self, text: str, fmt: ResultFormat | None, default_graph, named_graphs, timeout: float | None,
                 base_iri: str | None) -> tuple:
        """What ``run`` and ``run_async`` share before a worker: the query checked, its format and
        time limit, the job for the worker, its cache key, the dataset version now and the answer
        the cache keeps for both (or None)."""
        info = self.inspect(text)
        fmt = result_format(info, fmt)
        job = self._job(text, fmt, default_graph, named_graphs, base_iri)
        key = (text, fmt.value, None if default_graph is None else tuple(default_graph),
               None if named_graphs is None else tuple(named_graphs), job[-1])
        stamp = self.cache.stamp() if self.cache.enabled else None
        return info, fmt, timeout or self.timeout, job, key, stamp, self.cache.get(key, stamp)

    def _finish(self, status: str, payload, fmt: ResultFormat, info: QueryInfo, key: tuple,
                stamp: tuple | None) -> tuple[bytes, ResultFormat, QueryInfo]:
        answer = self._answer(status, payload, fmt, info)  # raises the worker's typed error
        self.cache.put(key, stamp, payload)
        return answer

    @staticmethod
    def _timed_out(limit: float) -> QueryTimeoutError:
        return QueryTimeoutError(
            f"the query ran longer than the {limit:g} s limit and was stopped; narrow it (LIMIT, more specific patterns) or download a dump",
            timeout=limit,
        )

    @staticmethod
    def _died(exc: BaseException) -> QueryFailedError:
        return QueryFailedError(
            f"the query stopped its worker ({type(exc).__name__}) and was not answered; it may need more memory than a query may use, or hit an engine limit: simplify it")

    @staticmethod
    def _answer(status: str, payload, fmt: ResultFormat, info: QueryInfo) -> tuple[bytes, ResultFormat, QueryInfo]:
        if status == "ok":
            return payload, fmt, info
        name, message, details = payload
        raise _ERRORS.get(name, StoreError)(message, **details)

    def run(self, text: str, fmt: ResultFormat | None = None, *, default_graph: list[str] | None = None,
            named_graphs: list[str] | None = None, timeout: float | None = None,
            client: str | None = None, base_iri: str | None = None) -> tuple[bytes, ResultFormat, QueryInfo]:
        info, fmt, limit, job, key, stamp, hit = self._prepare(text, fmt, default_graph, named_graphs, timeout, base_iri)
        if hit is not None:
            return hit, fmt, info
        self._admission.enter(client, limit)
        try:
            w = self._take()
            started = time.monotonic()
            try:
                w.conn.send(job)
                if not w.conn.poll(max(0.0, limit - (time.monotonic() - started))):
                    w.kill()
                    raise self._timed_out(limit)
                status, payload = w.conn.recv()
            except (EOFError, OSError) as exc:  # the worker died (memory, a crash in the engine): a fresh one serves the next query
                w.kill()
                raise self._died(exc) from None
            self._give_back(w)
        finally:
            self._admission.leave(client)
        return self._finish(status, payload, fmt, info, key, stamp)

    async def run_async(self, text: str, fmt: ResultFormat | None = None, *, default_graph: list[str] | None = None,
                        named_graphs: list[str] | None = None, timeout: float | None = None,
                        client: str | None = None, base_iri: str | None = None) -> tuple[bytes, ResultFormat, QueryInfo]:
        """``run`` for an event loop: the loop waits on the worker's pipe (no thread hand-off), which
        is most of the cost of a light query. Same limits, same errors; a cancelled wait kills the worker."""
        import asyncio

        info, fmt, limit, job, key, stamp, hit = self._prepare(text, fmt, default_graph, named_graphs, timeout, base_iri)
        if hit is not None:
            return hit, fmt, info
        if not self._admission.enter(client, limit, wait=False):  # every slot busy: wait for one off the loop
            await asyncio.to_thread(self._admission.enter, client, limit)
        try:
            w = self._take()
            loop = asyncio.get_running_loop()
            try:
                w.conn.send(job)
                if not w.conn.poll(0):
                    ready = loop.create_future()
                    fd = w.conn.fileno()
                    loop.add_reader(fd, lambda: ready.done() or ready.set_result(True))
                    # the limit as a timer on the same future (asyncio.wait_for wraps it in a task: ~15 µs a query)
                    timer = loop.call_later(limit, lambda: ready.done() or ready.set_result(False))
                    try:
                        answered = await ready
                    except BaseException:  # cancelled: its answer must not reach the next query
                        loop.remove_reader(fd)
                        timer.cancel()
                        w.kill()
                        raise
                    loop.remove_reader(fd)
                    timer.cancel()
                    if not answered:  # past the limit
                        w.kill()
                        raise self._timed_out(limit)
                    os.set_blocking(fd, True)  # uvloop made it non-blocking; a large answer arrives in pieces
                status, payload = w.conn.recv()
            except (EOFError, OSError) as exc:
                w.kill()
                raise self._died(exc) from None
            self._give_back(w)
        finally:
            self._admission.leave(client)
        return self._finish(status, payload, fmt, info, key, stamp)

    def close(self) -> None:
        with self._lock:
            for w in self._idle:
                try:
                    w.conn.send(None)
                except (OSError, BrokenPipeError):
                    pass
                w.process.join(2)
                if w.process.is_alive():
                    w.kill()
            self._idle.clear()


class InProcessRunner(QueryRunner):
    """A :class:`QueryRunner` that evaluates in this process: for a process that is itself a query
    worker (the direct SPARQL workers of ADR 0026), one query at a time. The same checks, formats,
    cache and errors; the time limit is ``guard``'s business (``arm(limit, client_key)`` before the
    engine runs, ``disarm()`` after): it must stop the query for real, which only ending the
    process does, so ``guard`` ends it past the limit. Per-client limits count in ``clients``
    (shared with the server's other query processes)."""

    def __init__(self, store_path: Path | str, *, guard, clients: "SharedClients", **kwargs) -> None:
        kwargs["workers"] = 1
        super().__init__(store_path, **kwargs)
        self.guard = guard
        self.clients = clients
        self._handle = _ReadOnlyStore(self.store_path, self.generation)

    def warm(self) -> None:
        self._handle.get()

    def run(self, text: str, fmt: ResultFormat | None = None, *, default_graph: list[str] | None = None,
            named_graphs: list[str] | None = None, timeout: float | None = None,
            client: str | None = None, base_iri: str | None = None) -> tuple[bytes, ResultFormat, QueryInfo]:
        info, fmt, limit, job, key, stamp, hit = self._prepare(text, fmt, default_graph, named_graphs, timeout, base_iri)
        if hit is not None:
            return hit, fmt, info
        ckey = 0 if client is None else SharedClients.key(client)
        if ckey:
            running = self.clients.enter_key(ckey, self.per_client)
            if running is not None:
                raise busy(running, limit)
        try:
            self.guard.arm(limit, ckey)
            try:
                payload = _execute_read_only(self._handle, job[0], fmt, *job[2:])
            except MemoryError:
                raise QueryFailedError("the query needed more memory than a query may use; narrow it") from None
            finally:
                self.guard.disarm()
        finally:
            if ckey:
                self.clients.leave_key(ckey)
        self.cache.put(key, stamp, payload)
        return payload, fmt, info

    async def run_async(self, text: str, fmt: ResultFormat | None = None, **kwargs) -> tuple[bytes, ResultFormat, QueryInfo]:
        """``run`` itself: this process does nothing else while a query runs (that is its point)."""
        return self.run(text, fmt, **kwargs)

    def close(self) -> None:
        self._handle = _ReadOnlyStore(self.store_path, self.generation)


def public_dataset(graphs: list[str], default_graph_uris: list[str] | None = None,
                   named_graph_uris: list[str] | None = None) -> tuple[list[str], list[str]]:
    """The (default graph, named graphs) a public query sees, per the SPARQL Protocol parameters."""
    public = [g for g in graphs if is_public_graph(g)]
    allowed = set(public)
    default = [g for g in default_graph_uris if g in allowed] if default_graph_uris else public
    named = [g for g in named_graph_uris if g in allowed] if named_graph_uris else public
    return default, named

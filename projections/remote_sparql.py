"""The public SPARQL dataset on a SPARQL 1.1 server (Oxigraph server, Apache Jena Fuseki).

The same projection as :class:`projections.public_sparql.OxigraphPublicDataset`, fed over HTTP
with SPARQL Update: the graphs a batch of changes names are replaced whole in one request, one
transaction on the server (``DROP SILENT GRAPH`` each, then ``INSERT DATA`` of the public ones'
triples); ``DROP ALL`` starts a rebuild. The Graph Store Protocol reads a graph back for
:meth:`RemoteSparqlDataset.check`. Only public graphs (:func:`kg.graphs.is_public`) are ever sent.

Where the checkpoint lives. Not on the server: every triple there is visible to every query of the
union default graph. It lives in a small JSON state file on the guji side, one per server, named
after the dataset's URL (``$GUJI_HOME/sparql-remote/<host_port_path>.state.json``), with
``{"endpoint", "store", "checkpoint", "rebuilding", "triples"}``. ``triples`` is the number of
triples the server held after our last write, counted by the server itself. A server can lose its
data behind our back (restored from an older backup, a fresh in-memory server, another dataset
mounted on the URL); so :meth:`RemoteSparqlDataset.checkpoint` also asks the server for its triple
count (at most every ``verify_seconds``, and on the first call of a process) and answers ``None``
(= rebuild) when it differs from the recorded one. We are the only writer, so the two agree
whenever nothing happened behind our back.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox

from kg.graphs import is_public
from kg.sparql_remote import Endpoints, http_client, server_error, unreachable
from kg.store import Change, OxigraphStore
from projections.base import ProjectionError
from projections.public_sparql import SAMPLE, StateFile, graph_triples, public_graphs

log = logging.getLogger("guji.projections.sparql")

VERIFY_SECONDS = 300.0
UPDATE_BYTES = 4 * 1024 * 1024  # one update request carries about this much N-Triples
_COUNT_PER_GRAPH = "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"
_COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"


class ServerTimeoutError(ProjectionError):
    """The server stopped one of our own queries (a count) at its time limit."""


def _has_blank(triples: Iterable[ox.Triple]) -> bool:
    return any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples)


def _ntriples(triples: Iterable[ox.Triple]) -> bytes:
    return ox.serialize(list(triples), format=ox.RdfFormat.N_TRIPLES) or b""


def state_name(url: str) -> str:
    """A file name for a server's state: ``http://127.0.0.1:3030/guji`` -> ``127.0.0.1_3030_guji``."""
    return re.sub(r"[^A-Za-z0-9.-]+", "_", url.split("://", 1)[-1]).strip("_") or "server"


class RemoteSparqlDataset:
    """The public SPARQL dataset on a remote SPARQL 1.1 server, a projection of the canonical store."""

    name = "sparql"

    def __init__(self, endpoints: Endpoints, state_dir: Path | str, *, auth: tuple[str, str] | None = None,
                 timeout: float = 120.0, verify_seconds: float = VERIFY_SECONDS,
                 client: httpx.Client | None = None) -> None:
        self.endpoints = endpoints
        self.url = endpoints.query.rsplit("/", 1)[0]
        state_dir = Path(state_dir)
        state_dir.mkdir(parents=True, exist_ok=True)
        self.state = StateFile(state_dir / f"{state_name(self.url)}.state.json")
        self.verify_seconds = verify_seconds
        self._verified_at: float | None = None
        self._lock = threading.Lock()
        self._http = client or http_client(auth, timeout)
        self._own_http = client is None

    # -- the Projection protocol -----------------------------------------------------------------
    def checkpoint(self, store: OxigraphStore) -> int | None:
        st = self.state.read()
        if not st or st.get("rebuilding") or st.get("store") != store.store_id() or st.get("endpoint") != self.url:
            return None
        now = time.monotonic()
        if st.get("triples") is None:  # an apply broke off half-way: it is re-applied from the checkpoint
            return int(st.get("checkpoint", 0))
        if self._verified_at is None or now - self._verified_at >= self.verify_seconds:
            try:
                if self.remote_triples() != st.get("triples"):
                    return None  # the server lost or gained data behind our back: rebuild
            except ServerTimeoutError as exc:  # too big to count within the server's limit: trust the file
                log.warning("%s; the checkpoint of %s is not verified", exc.message, self.url)
            self._verified_at = now
        return int(st.get("checkpoint", 0))

    def apply(self, store: OxigraphStore, changes: Sequence[Change]) -> dict[str, Any]:
        graphs = list(dict.fromkeys(c.graph for c in changes))
        n = 0
        with self._lock:
            st = self.state.read()
            total = st.get("triples")
            if total is not None:  # unknown until this batch is written: a failure half-way is not "data lost"
                self.state.write(triples=None)
            before = 0
            if total is not None:
                try:
                    before = sum(self._remote_counts(graphs).values())
                except ServerTimeoutError as exc:
                    log.warning("%s; the checkpoint of %s is not verified", exc.message, self.url)
                    total = None
            n = self._write_graphs(store, graphs)
            if total is not None:
                total += n - before
            else:
                total = self._count_or_none()
            checkpoint = changes[-1].sequence if changes else int(st.get("checkpoint", 0))
            self.state.write(endpoint=self.url, store=store.store_id(), checkpoint=checkpoint, triples=total)
        return {"graphs": len(graphs), "triples": n}

    def rebuild(self, store: OxigraphStore) -> dict[str, Any]:
        with self._lock:
            last = store.last_sequence()  # changes after this one are applied afterwards (idempotent)
            self.state.write(endpoint=self.url, store=store.store_id(), rebuilding=True)
            self._update("DROP ALL")
            graphs = public_graphs(store)
            n = self._write_graphs(store, graphs)  # into an empty dataset: the server now holds n triples
            self.state.write(endpoint=self.url, store=store.store_id(), rebuilding=False, checkpoint=last, triples=n)
            self._verified_at = time.monotonic()
        return {"graphs": len(graphs), "triples": n}

    def check(self, store: OxigraphStore, *, sample: int = SAMPLE, seed: int | None = None) -> dict[str, Any]:
        """Triples per graph on both sides (every graph), and a sample of graphs compared triple by
        triple (graphs with blank nodes: by count only, their labels differ on the server)."""
        want: Counter[str] = Counter()
        for q in store.oxigraph.quads_for_pattern(None, None, None, None):
            g = q.graph_name
            if isinstance(g, ox.NamedNode) and is_public(g.value):
                want[g.value] += 1
        got = Counter({row["g"]: int(row["n"]) for row in self._select(_COUNT_PER_GRAPH)})
        drift = []
        for g in sorted(set(want) | set(got)):
            if want.get(g, 0) != got.get(g, 0):
                drift.append({"kind": "graph", "name": g, "store": want.get(g, 0), "projection": got.get(g, 0)})
        for g in sorted(g for g in got if not is_public(g)):
            drift.append({"kind": "non-public graph", "name": g, "store": 0, "projection": got[g]})
        rng = random.Random(seed)
        picked = rng.sample(sorted(want), min(sample, len(want)))
        for g in picked:
            a = graph_triples(store, g)
            if _has_blank(a):
                continue
            b = self._get_graph(g)
            if a != b:
                drift.append({"kind": "graph-content", "name": g, "store": len(a - b), "projection": len(b - a)})
        st = self.state.read()
        checkpoint = None if st.get("rebuilding") or st.get("store") != store.store_id() else st.get("checkpoint")
        last = store.last_sequence()
        if checkpoint != last:
            drift.append({"kind": "checkpoint", "name": "change log", "store": last, "projection": checkpoint})
        return {"in_sync": not drift, "graphs": len(want), "triples": sum(want.values()), "sampled_graphs": len(picked),
                "checkpoint": checkpoint, "server": self.url, "engine": self.endpoints.engine, "drift": drift}

    def close(self) -> None:
        if self._own_http:
            self._http.close()

    # -- the server ------------------------------------------------------------------------------
    def remote_triples(self) -> int:
        """Triples in the server's named graphs, counted by the server."""
        rows = self._select(_COUNT_ALL)
        return int(rows[0]["n"]) if rows else 0

    def _count_or_none(self) -> int | None:
        try:
            return self.remote_triples()
        except ServerTimeoutError as exc:
            log.warning("%s; the checkpoint of %s is not verified", exc.message, self.url)
            return None

    def _remote_counts(self, graphs: Sequence[str]) -> dict[str, int]:
        """Triples per graph on the server, for these graphs (absent: not there)."""
        out: dict[str, int] = {}
        for i in range(0, len(graphs), 200):
            values = " ".join(f"<{g}>" for g in graphs[i:i + 200])
            rows = self._select(f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }} GROUP BY ?g")
            out.update({r["g"]: int(r["n"]) for r in rows})
        return out

    def _write_graphs(self, store: OxigraphStore, graphs: Sequence[str]) -> int:
        """Make the server's copy of each graph equal the store's, or absent when not public or empty.

        One SPARQL Update request (one transaction on the server) replaces many graphs:
        ``DROP SILENT GRAPH`` each, then one ``INSERT DATA`` with their triples (blank nodes keep
        their store labels, unique across graphs). A request grows to about :data:`UPDATE_BYTES`;
        a Graph Store Protocol PUT per graph was 60 ms a graph on Fuseki (a TDB2 commit each)."""
        drops: list[str] = []
        inserts: list[bytes] = []
        size = n = 0

        def flush() -> None:
            nonlocal size
            if not drops:
                return
            text = " ;\n".join(drops).encode()
            if inserts:
                text += b" ;\nINSERT DATA {\n" + b"".join(inserts) + b"}"
            self._request("POST", self.endpoints.update, content=text,
                          headers={"Content-Type": "application/sparql-update; charset=utf-8"})
            drops.clear(), inserts.clear()
            size = 0

        for g in graphs:
            triples = graph_triples(store, g) if is_public(g) else set()
            block = b"GRAPH <" + g.encode() + b"> {\n" + _ntriples(triples) + b"}\n" if triples else b""
            if drops and size + len(block) > UPDATE_BYTES:
                flush()
            drops.append(f"DROP SILENT GRAPH <{g}>")
            if block:
                inserts.append(block)
            size += len(block) + len(g) + 24
            n += len(triples)
        flush()
        return n

    def _get_graph(self, graph: str) -> set[ox.Triple]:
        r = self._request("GET", self.endpoints.gsp, params={"graph": graph}, headers={"Accept": "application/n-triples"},
                          ok=(404,))
        if r.status_code == 404:
            return set()
        return {q.triple for q in ox.parse(r.content, format=ox.RdfFormat.N_TRIPLES)}

    def _update(self, text: str) -> None:
        self._request("POST", self.endpoints.update, content=text.encode(),
                      headers={"Content-Type": "application/sparql-update; charset=utf-8"})

    def _select(self, text: str) -> list[dict[str, str]]:
        r = self._request("POST", self.endpoints.query, content=text.encode(),
                          headers={"Content-Type": "application/sparql-query; charset=utf-8",
                                   "Accept": "application/sparql-results+json"})
        try:
            bindings = r.json()["results"]["bindings"]
        except (ValueError, KeyError):  # the Oxigraph server breaks off a 200 answer at its time limit
            raise ServerTimeoutError(f"the SPARQL server at {self.url} did not finish {text[:60]!r}… within its time limit",
                                     url=self.url) from None
        return [{k: v["value"] for k, v in b.items()} for b in bindings]

    def _request(self, method: str, url: str, *, ok: tuple[int, ...] = (), **kwargs) -> httpx.Response:
        try:
            r = self._http.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            error = unreachable(url, exc)
            raise ProjectionError(error.message, **error.details) from None
        if r.status_code >= 300 and r.status_code not in ok:
            error = server_error(url, r.status_code, r.text)
            timed_out = r.status_code == 503 and "timed out" in r.text.lower()  # Fuseki at its time limit
            raise (ServerTimeoutError if timed_out else ProjectionError)(error.message, **error.details)
        return r


class ReplicatedSparqlDataset:
    """The public dataset on several SPARQL servers (read replicas), each fed by the projector.

    One projection to the projector; inside, every server keeps its own checkpoint (its own state
    file) and is caught up from that checkpoint, so a server that was down, or is new, catches up
    by itself while the others go on. ``checkpoint`` is the oldest of them (a server that cannot be
    reached counts with the checkpoint its state file records); ``apply`` and ``rebuild`` try every
    server and then raise one :class:`ProjectionError` naming those that failed, so the projector
    reports the projection as failing and retries it, which costs the healthy servers nothing.
    """

    name = "sparql"

    def __init__(self, datasets: Sequence[RemoteSparqlDataset]) -> None:
        if not datasets:
            raise ValueError("ReplicatedSparqlDataset needs at least one server")
        self.datasets = list(datasets)

    def _checkpoint_of(self, d: RemoteSparqlDataset, store: OxigraphStore) -> int | None:
        try:
            return d.checkpoint(store)
        except ProjectionError:  # down: what it holds is what it held when we last wrote to it
            st = d.state.read()
            if not st or st.get("rebuilding") or st.get("store") != store.store_id():
                return None
            return int(st.get("checkpoint", 0))

    def checkpoint(self, store: OxigraphStore) -> int | None:
        points = [self._checkpoint_of(d, store) for d in self.datasets]
        return None if any(p is None for p in points) else min(points)

    def apply(self, store: OxigraphStore, changes: Sequence[Change]) -> dict[str, Any]:
        last = changes[-1].sequence if changes else store.last_sequence()
        return self._each(lambda d: self._catch_up(d, store, last))

    def rebuild(self, store: OxigraphStore) -> dict[str, Any]:
        """Rebuild the servers that need it (never built, interrupted, lost their data) and catch the
        others up; when none needs it (``guji sync --rebuild``), rebuild them all."""
        last = store.last_sequence()
        if all(self._checkpoint_of(d, store) is not None for d in self.datasets):
            return self._each(lambda d: d.rebuild(store))
        return self._each(lambda d: self._catch_up(d, store, last))

    def check(self, store: OxigraphStore, **kwargs: Any) -> dict[str, Any]:
        servers, drift = {}, []
        for d in self.datasets:
            try:
                report = d.check(store, **kwargs)
            except ProjectionError as exc:
                report = {"in_sync": False, "reachable": False, "error": exc.message, "drift": []}
                drift.append({"kind": "server", "name": d.url, "store": None, "projection": "unreachable"})
            servers[d.url] = report
            drift += [{**x, "server": d.url} for x in report["drift"]]
        first = next(iter(servers.values()))
        return {"in_sync": not drift, "graphs": first.get("graphs"), "triples": first.get("triples"),
                "checkpoint": self.checkpoint(store), "servers": servers, "drift": drift}

    def close(self) -> None:
        for d in self.datasets:
            d.close()

    # -- internals -------------------------------------------------------------------------------
    @staticmethod
    def _catch_up(d: RemoteSparqlDataset, store: OxigraphStore, last: int) -> dict[str, Any]:
        done: dict[str, Any] = {}
        checkpoint = d.checkpoint(store)
        if checkpoint is None:
            done.update(d.rebuild(store))
            checkpoint = d.checkpoint(store) or 0
        while checkpoint < last:
            batch = store.changes_since(checkpoint, limit=min(500, last - checkpoint))
            if not batch:
                break
            for k, v in d.apply(store, batch).items():
                done[k] = done.get(k, 0) + v
            checkpoint = batch[-1].sequence
        return done

    def _each(self, step) -> dict[str, Any]:
        out: dict[str, Any] = {"servers": len(self.datasets)}
        failed = []
        for d in self.datasets:
            try:
                for k, v in step(d).items():
                    if isinstance(v, (int, float)):
                        out[k] = out.get(k, 0) + v
            except ProjectionError as exc:
                failed.append(exc.message)
        if failed:
            raise ProjectionError(f"{len(failed)} of {len(self.datasets)} SPARQL servers not synced: " + "; ".join(failed))
        return out

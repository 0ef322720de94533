"""The canonical RDF store: one small interface, the embedded Oxigraph store on disk by default.

Writes are graph-at-a-time and transactional: :meth:`OxigraphStore.replace_graph` turns the
named graph of one source into exactly the given triples, and records a ``guji:Change`` in the
change-log graph *in the same SPARQL Update request*, which Oxigraph runs as one transaction.
Projections (Neo4j, the search index) read the change log after their own checkpoint, so a
projection that is down loses nothing: it catches up from the log.

rdflib's API is available over the same store (:meth:`OxigraphStore.rdflib_dataset`, through
oxrdflib); hot paths (bulk writes, the SPARQL endpoint) use pyoxigraph directly.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, unquote

import pyoxigraph as ox

from kg.errors import StoreError
from kg.namespaces import GG, GUJI, ID, PROV, RDF, XSD

CHANGELOG = ox.NamedNode(GG + "changelog")
STAGING = GG + "private/ingest/"  # a marker graph per package being loaded (ADR 0017)
STAGED_GRAPH = ox.NamedNode(GUJI + "stagedGraph")
STAGED_DIGEST = ox.NamedNode(GUJI + "stagedDigest")
AGENT = ID + "agent/account/"  # who wrote: a user name or a tool such as "guji ingest"
_T = ox.NamedNode
_RDF_TYPE = _T(RDF + "type")


@dataclass(frozen=True, slots=True)
class Change:
    """One entry of the change log."""

    sequence: int
    graph: str
    action: str  # "replace" | "drop"
    added: int
    removed: int
    at: str
    agent: str

    @property
    def iri(self) -> str:
        return f"{GG}changelog/{self.sequence}"


class Store(Protocol):
    """What the rest of guji needs from a canonical store."""

    def query(self, sparql: str, **dataset: object) -> object: ...
    def replace_graph(self, graph: str, triples: Iterable[ox.Triple], *, agent: str) -> Change | None: ...
    def replace_graphs(self, graphs: Mapping[str, Iterable[ox.Triple]], *, agent: str) -> list[Change]: ...
    def drop_graph(self, graph: str, *, agent: str) -> Change | None: ...
    def changes_since(self, sequence: int, limit: int | None = None) -> list[Change]: ...
    def change(self, sequence: int) -> Change | None: ...
    def last_sequence(self) -> int: ...
    def store_id(self) -> str | None: ...
    def subscribe(self, listener: Callable[[list[Change]], None]) -> None: ...
    def graphs(self) -> list[str]: ...
    def count(self, graph: str | None = None) -> int: ...


def canonical_timestamp(moment: datetime) -> str:
    """An xsd:dateTime as the store keeps it: milliseconds without trailing zeros (Oxigraph stores
    the canonical form, so "…23.280Z" came back as "…23.28Z" and a change read back differed from
    the one returned when it was written, once in ten writes)."""
    text = moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text + "Z"


class OxigraphStore:
    """The embedded default: Oxigraph (RocksDB) in a directory on disk.

    Open it once per process; a second process that needs the same directory while one writes
    opens it read-only (:meth:`open_read_only`).
    """

    def __init__(self, path: Path | str | None = None, *, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        self._write_lock = threading.Lock()
        # bulk loads into staged (hidden) graphs: not under the writer lock, so writes go on
        # during a package's loads; unstaging (which deletes what a load writes) waits for them
        self._bulk_lock = threading.Lock()
        self._listeners: list[Callable[[list[Change]], None]] = []
        self._last_sequence: int | None = None  # cached by the one writing process
        self._visible: tuple | None = None  # (key, graphs a query may see) while a package is staged
        try:
            if self.path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(self.path))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(self.path))
        except OSError as exc:
            hint = " (another guji process holds it: beside a running `guji serve` the CLI hands its work to the server)" if "lock" in str(exc).lower() else ""
            raise StoreError(f"cannot open the RDF store at {self.path}: {exc}{hint}", path=str(self.path)) from None

    @classmethod
    def open_read_only(cls, path: Path | str) -> "OxigraphStore":
        return cls(path, read_only=True)

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying pyoxigraph store, for hot paths."""
        return self._store

    def rdflib_dataset(self):
        """rdflib's Dataset API over this very store (oxrdflib), for code that wants rdflib."""
        import rdflib
        from oxrdflib import OxigraphStore as RdflibOxigraph

        return rdflib.Dataset(store=RdflibOxigraph(store=self._store))

    # -- reading -------------------------------------------------------------------------------

    def query(self, sparql: str, **dataset: object):
        """A SPARQL query. While a package loads behind its staging marker (ADR 0017) the query sees
        the store as if the package were not there yet: its graphs are left out of ``GRAPH ?g``, of
        a union default graph and of any graph list the caller gives."""
        staged = self.staged_graphs()
        if staged:
            dataset = self._without_staged(dict(dataset), staged)
        return self._store.query(sparql, **dataset)

    def _without_staged(self, dataset: dict, staged: set[str]) -> dict:
        key = (self.last_sequence(), frozenset(staged))  # published graphs change only with a logged write
        if self._visible is None or self._visible[0] != key:
            self._visible = (key, [g for g in self._store.named_graphs() if getattr(g, "value", None) not in staged])
        visible = self._visible[1]

        def kept(graphs):
            return [g for g in graphs if getattr(g, "value", g) not in staged]

        if "default_graph" in dataset:
            given = dataset["default_graph"]
            dataset["default_graph"] = kept(given if isinstance(given, list) else [given]) or [ox.DefaultGraph()]
        elif dataset.pop("use_default_graph_as_union", False):
            dataset["default_graph"] = visible or [ox.DefaultGraph()]
        dataset["named_graphs"] = kept(dataset["named_graphs"]) if "named_graphs" in dataset else visible
        return dataset

    def graphs(self) -> list[str]:
        """The named graphs, without those a package ingest is still loading (ADR 0017): nothing
        that lists graphs (pages, projections, their rebuilds and checks) sees a half-loaded package."""
        staged = self.staged_graphs()
        return sorted(g.value for g in self._store.named_graphs() if isinstance(g, ox.NamedNode) and g.value not in staged)

    def staged_graphs(self) -> set[str]:
        """Graphs named by a staging marker (``gg:private/ingest/…``): loaded, not yet published."""
        return {q.object.value for q in self._store.quads_for_pattern(None, STAGED_GRAPH, None, None)}

    def accepted_digest(self, graph: str) -> str | None:
        """The package digest :meth:`publish_staged` kept in ``graph``, if any."""
        for q in self._store.quads_for_pattern(_T(graph), STAGED_DIGEST, None, _T(graph)):
            return q.object.value
        return None

    def staging(self, marker: str) -> tuple[set[str], str | None]:
        """What the staging marker ``marker`` names: (graphs, package digest); empty when there is none."""
        graphs, digest = set(), None
        for q in self._store.quads_for_pattern(None, None, None, _T(marker)):
            if q.predicate == STAGED_GRAPH:
                graphs.add(q.object.value)
            elif q.predicate == STAGED_DIGEST:
                digest = q.object.value
        return graphs, digest

    def count(self, graph: str | None = None) -> int:
        if graph is None:
            return len(self._store)
        return sum(1 for _ in self._store.quads_for_pattern(None, None, None, _T(graph)))

    def triples(self, graph: str) -> Iterator[ox.Triple]:
        for q in self._store.quads_for_pattern(None, None, None, _T(graph)):
            yield q.triple

    def changes_since(self, sequence: int = 0, limit: int | None = None) -> list[Change]:
        """The change-log entries after ``sequence``, oldest first (at most ``limit``).

        Sequences are contiguous (one writer hands them out), so each entry is looked up by its
        IRI: the cost is that of the entries returned, not of the whole log."""
        last = self.last_sequence()
        end = last if limit is None else min(last, int(sequence) + int(limit))
        out = []
        for n in range(max(0, int(sequence)) + 1, end + 1):
            c = self.change(n)
            if c is not None:
                out.append(c)
        return out

    def change(self, sequence: int) -> Change | None:
        """One entry of the change log, or None."""
        s = _T(f"{GG}changelog/{int(sequence)}")
        props: dict[str, object] = {}
        for q in self._store.quads_for_pattern(s, None, None, CHANGELOG):
            props[q.predicate.value] = q.object
        if GUJI + "sequence" not in props:
            return None
        v = lambda k: props[k].value  # noqa: E731
        return Change(int(v(GUJI + "sequence")), v(GUJI + "changedGraph"), v(GUJI + "changeAction"),
                      int(v(GUJI + "addedCount")), int(v(GUJI + "removedCount")), v(PROV + "endedAtTime"),
                      unquote(v(PROV + "wasAssociatedWith").removeprefix(AGENT)))

    def subscribe(self, listener: Callable[[list[Change]], None]) -> None:
        """Call ``listener(changes)`` after every committed write (the projector wakes on it)."""
        self._listeners.append(listener)

    def store_id(self) -> str | None:
        """A random id given to the store with its first change; projections remember it so that a
        projection pointed at another store rebuilds instead of trusting its checkpoint."""
        for q in self._store.quads_for_pattern(CHANGELOG, _T(GUJI + "storeId"), None, CHANGELOG):
            return q.object.value
        return None

    def last_sequence(self) -> int:
        if self._last_sequence is not None and not self.read_only:
            return self._last_sequence
        rows = list(self._store.query(
            f"PREFIX guji: <{GUJI}> SELECT (MAX(?s) AS ?m) WHERE {{ GRAPH <{CHANGELOG.value}> {{ ?c guji:sequence ?s }} }}"
        ))
        value = rows[0]["m"] if rows else None
        last = int(value.value) if value is not None else 0
        if not self.read_only:
            self._last_sequence = last
        return last

    # -- writing -------------------------------------------------------------------------------

    def replace_graph(self, graph: str, triples: Iterable[ox.Triple], *, agent: str) -> Change | None:
        """Make ``graph`` hold exactly ``triples``; log the change; all in one transaction.

        Returns the change, or ``None`` when the graph already held exactly these triples
        (re-ingesting the same source is a no-op and leaves no log entry).
        """
        changes = self.replace_graphs({graph: triples}, agent=agent)
        return changes[0] if changes else None

    def drop_graph(self, graph: str, *, agent: str) -> Change | None:
        return self.replace_graph(graph, (), agent=agent)

    def replace_graphs(self, graphs: Mapping[str, Iterable[ox.Triple]], *, agent: str) -> list[Change]:
        """Replace several named graphs in ONE transaction (a package and its preservation graph,
        an annotation moving from a private graph to a public one). An empty triple set drops the
        graph. Returns one change per graph that actually changed."""
        self._require_writable()
        with self._write_lock:
            plans = []  # (graph node, old triples, removed, added, whole-graph replace?)
            for graph, triples in graphs.items():
                g = _T(graph)
                new = set(_canonical(triples))
                old = {q.triple for q in self._store.quads_for_pattern(None, None, None, g)}
                whole = any(_is_blank(t) for t in old) or any(_is_blank(t) for t in new)
                if whole:
                    # blank nodes cannot be matched across documents: replace the graph whole
                    if _canonical_digest(old) == _canonical_digest(new):
                        continue
                    removed, added = old, new
                else:
                    removed, added = old - new, new - old
                    if not removed and not added:
                        continue
                plans.append((g, old, removed, added, whole))
            if not plans:
                return []
            sequence = self.last_sequence()
            at = canonical_timestamp(datetime.now(timezone.utc))
            changes = []
            for g, old, removed, added, _ in plans:
                sequence += 1
                action = "drop" if old and not added and removed == old else "replace"
                changes.append(Change(sequence, g.value, action, len(added), len(removed), at, agent))
            log = [t for c in changes for t in _change_triples(c)]
            if self.store_id() is None:
                log.append(ox.Triple(CHANGELOG, _T(GUJI + "storeId"), ox.Literal(str(uuid.uuid4()))))
            label = ", ".join(f"<{g.value}>" for g, *_ in plans)
            if all(not old for _, old, *_ in plans):
                # only new graphs: one transactional extend() is several times faster than INSERT DATA
                quads = [ox.Quad(t.subject, t.predicate, t.object, g) for g, _, _, added, _ in plans for t in added]
                quads += [ox.Quad(t.subject, t.predicate, t.object, CHANGELOG) for t in log]
                self._extend(quads, label)
                self._committed(changes)
                return changes
            parts = []
            for g, old, removed, added, whole in plans:
                if whole:
                    parts.append(f"DROP SILENT GRAPH {g}")
                elif removed:
                    parts.append("DELETE DATA { GRAPH " + str(g) + " { " + _ntriples(removed) + " } }")
            inserts = "".join(f"GRAPH {g} {{ {_ntriples(added)} }} " for g, _, _, added, _ in plans if added)
            parts.append("INSERT DATA { " + inserts + "GRAPH " + str(CHANGELOG) + " { " + _ntriples(log) + " } }")
            self._update(" ;\n".join(parts), label)
            self._committed(changes)
            return changes

    # -- staged bulk loads (ADR 0017) --------------------------------------------------------------

    def stage(self, marker: str, graphs: list[str], digest: str, *, agent: str) -> None:
        """Commit the marker that hides ``graphs`` before anything is bulk loaded into them."""
        node = _T(marker)
        triples = [ox.Triple(node, STAGED_GRAPH, _T(g)) for g in graphs] + [ox.Triple(node, STAGED_DIGEST, ox.Literal(digest))]
        self.replace_graphs({marker: triples}, agent=agent)

    def bulk_load_staged(self, path: Path | str | None, graphs: list[str] | str, *, data: bytes | None = None) -> None:
        """Bulk load into graphs a committed marker hides (not transactional; a process killed
        half-way leaves hidden triples that the next run loads over or removes).

        - ``graphs`` a list: ``path`` is an N-Quads file whose quads all go to those graphs (a
          package's scratch; Oxigraph's loader needs about four times the file in memory, so the
          caller bounds the file). It is our own pyoxigraph output of checked terms, so the parser
          skips checking IRIs again (``lenient``).
        - ``graphs`` one IRI: N-Triples (the file ``path`` or the bytes ``data``) into that graph
          (a Kanripo work, ADR 0025)."""
        self._require_writable()
        one = isinstance(graphs, str)
        targets = [graphs] if one else list(graphs)
        staged = self.staged_graphs()
        for graph in targets:
            if graph not in staged:
                raise StoreError(f"refusing to bulk load into a graph no staging marker hides: {graph}", graph=graph)
        source = {"input": data} if data is not None else {"path": str(path)}
        if one:
            how = dict(format=ox.RdfFormat.N_TRIPLES, to_graph=_T(graphs))
        else:
            how = dict(format=ox.RdfFormat.N_QUADS, lenient=True)
        # Not under the writer lock: the graphs are hidden and new, nothing else writes them, and
        # Oxigraph's loader (its own sorted files, ingested by RocksDB) runs beside transactions;
        # an annotator's write during a 10,000-book package's ten loads no longer waits for one.
        # Only deleting what a load writes is unsafe beside it: unstage takes _bulk_lock too.
        with self._bulk_lock:
            try:
                self._store.bulk_load(**source, **how)
            except (OSError, RuntimeError, SyntaxError, ValueError) as exc:
                raise StoreError(f"bulk load of {path or targets[0]} failed: {exc}",
                                 graph=targets[0] if targets else None) from None

    def is_empty(self, graph: str) -> bool:
        """Does the store hold no triple in ``graph`` (published or staged)?"""
        return next(iter(self._store.quads_for_pattern(None, None, None, _T(graph))), None) is None

    def publish_staged(self, marker: str, *, agent: str, accepted: str | None = None,
                       also: Mapping[str, list[ox.Triple]] | None = None) -> list[Change]:
        """Make the graphs the marker hides visible: drop the marker and log one change per graph,
        in ONE transaction, then notify the subscribers (the projector projects them). ``accepted``
        (a private graph) keeps the marker's digest: a later run of the same package is a no-op.
        ``also``: small graphs written whole in the same transaction, each logged after the
        staged graphs (a Kanripo work's digest, ADR 0025)."""
        self._require_writable()
        graphs, digest = self.staging(marker)
        with self._write_lock:
            sequence = self.last_sequence()
            at = canonical_timestamp(datetime.now(timezone.utc))
            changes = []
            for g in sorted(graphs):
                rows = list(self._store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"))
                added = int(rows[0]["n"].value) if rows else 0
                if not added:
                    continue
                sequence += 1
                changes.append(Change(sequence, g, "replace", added, 0, at, agent))
            extra = ""
            for g, triples in (also or {}).items():
                old_count = self.count(g)
                sequence += 1
                changes.append(Change(sequence, g, "replace", len(set(triples)), old_count, at, agent))
                extra += f"DROP SILENT GRAPH <{g}> ;\n"
            inserts = "".join(f"GRAPH <{g}> {{ {_ntriples(set(triples))} }} " for g, triples in (also or {}).items() if triples)
            old = sum(1 for _ in self._store.quads_for_pattern(None, None, None, _T(marker)))
            sequence += 1
            changes.append(Change(sequence, marker, "drop", 0, old, at, agent))
            log = [t for c in changes for t in _change_triples(c)]
            if self.store_id() is None:
                log.append(ox.Triple(CHANGELOG, _T(GUJI + "storeId"), ox.Literal(str(uuid.uuid4()))))
            keep = ""
            if accepted and digest:
                keep = f"GRAPH <{accepted}> {{ {_ntriples([ox.Triple(_T(accepted), STAGED_DIGEST, ox.Literal(digest))])} }} "
            self._update(f"DROP SILENT GRAPH <{marker}> ;\n" + (f"DROP SILENT GRAPH <{accepted}> ;\n" if keep else "") + extra
                         + f"INSERT DATA {{ {keep}{inserts}GRAPH {CHANGELOG} {{ {_ntriples(log)} }} }}", marker)
            self._committed(changes)
            return changes

    def unstage(self, marker: str, *, agent: str) -> None:
        """Remove what a marker hides (a cancelled or superseded load), then the marker itself."""
        self._require_writable()
        graphs, _ = self.staging(marker)
        with self._bulk_lock, self._write_lock:  # never beside a load into these graphs
            for g in graphs:
                self._clear_in_chunks(_T(g))
                self._store.remove_graph(_T(g))  # empty by now: forget the name too
        self.replace_graphs({marker: ()}, agent=agent)
        with self._write_lock:
            self._store.remove_graph(_T(marker))

    def _clear_in_chunks(self, graph: ox.NamedNode, chunk: int = 50_000) -> None:
        """Empty a graph in bounded transactions (one DROP of millions of triples holds them all in memory)."""
        while True:
            quads = []
            for q in self._store.quads_for_pattern(None, None, None, graph):
                quads.append(q)
                if len(quads) >= chunk:
                    break
            if not quads:
                break
            self._update("DELETE DATA { GRAPH " + str(graph) + " { " + _ntriples(q.triple for q in quads) + " } }", graph.value)

    def optimize(self) -> None:
        """Compact the on-disk store (after a bulk ingest: 367 MB → 222 MB for all of Kanripo, in 0.5 s)."""
        if not self.read_only and self.path is not None:
            self._store.optimize()

    def flush(self) -> None:
        if not self.read_only:
            self._store.flush()

    def close(self) -> None:
        self.flush()
        del self._store

    # -- internals -------------------------------------------------------------------------------

    def _committed(self, changes: list[Change]) -> None:
        self._last_sequence = changes[-1].sequence
        for listener in list(self._listeners):
            try:
                listener(changes)
            except Exception:  # noqa: BLE001 - a listener never undoes a committed write
                logging.getLogger("guji.store").exception("change listener failed")

    def _require_writable(self) -> None:
        if self.read_only:
            raise StoreError("the RDF store is open read-only here", path=str(self.path))

    def _update(self, request: str, graph: str) -> None:
        try:
            self._store.update(request)
        except (OSError, RuntimeError, SyntaxError) as exc:
            raise StoreError(f"write to {graph} failed, nothing was written: {exc}", graph=graph) from None
        self._store.flush()

    def _extend(self, quads: list[ox.Quad], graph: str) -> None:
        try:
            self._store.extend(quads)
        except (OSError, RuntimeError) as exc:
            raise StoreError(f"write to {graph} failed, nothing was written: {exc}", graph=graph) from None
        self._store.flush()


_CANONICAL_TYPES = {XSD + t for t in ("decimal", "integer", "double", "float", "boolean", "int", "long", "short", "byte",
                                        "nonNegativeInteger", "positiveInteger", "negativeInteger", "nonPositiveInteger",
                                        "unsignedInt", "unsignedLong", "unsignedShort", "unsignedByte")}


def _canonical(triples: Iterable[ox.Triple]) -> list[ox.Triple]:
    """Numbers and booleans as Oxigraph stores them ("1.10"^^xsd:decimal is kept as "1.1"), so that
    comparing with what the store holds finds no false differences. The distinct literals go through
    one scratch store in one batch."""
    triples = list(triples)
    odd = {t.object for t in triples if isinstance(t.object, ox.Literal) and t.object.datatype.value in _CANONICAL_TYPES}
    if not odd:
        return triples
    scratch = ox.Store()
    literals = list(odd)
    scratch.extend(ox.Quad(_T(f"urn:x:{i}"), _T("urn:p"), lit) for i, lit in enumerate(literals))
    canon = {literals[int(q.subject.value[6:])]: q.object for q in scratch}
    return [ox.Triple(t.subject, t.predicate, canon[t.object]) if t.object in canon and canon[t.object] != t.object else t
            for t in triples]


def _is_blank(t: ox.Triple) -> bool:
    return isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)


def _ntriples(triples: Iterable[ox.Triple]) -> str:
    return " ".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)


def _canonical_digest(triples: set[ox.Triple]) -> str:
    """A digest that ignores blank-node labels (good enough to detect an unchanged re-load)."""
    def term(x: object) -> str:
        return "_:b" if isinstance(x, ox.BlankNode) else str(x)

    lines = sorted(f"{term(t.subject)} {t.predicate} {term(t.object)}" for t in triples)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _change_triples(c: Change) -> list[ox.Triple]:
    s = _T(c.iri)
    lit = ox.Literal
    return [
        ox.Triple(s, _RDF_TYPE, _T(GUJI + "Change")),
        ox.Triple(s, _T(GUJI + "sequence"), lit(str(c.sequence), datatype=_T(XSD + "integer"))),
        ox.Triple(s, _RDF_TYPE, _T(PROV + "Activity")),
        ox.Triple(s, _T(GUJI + "changedGraph"), _T(c.graph)),
        ox.Triple(s, _T(GUJI + "changeAction"), lit(c.action)),
        ox.Triple(s, _T(GUJI + "addedCount"), lit(str(c.added), datatype=_T(XSD + "integer"))),
        ox.Triple(s, _T(GUJI + "removedCount"), lit(str(c.removed), datatype=_T(XSD + "integer"))),
        ox.Triple(s, _T(PROV + "endedAtTime"), lit(c.at, datatype=_T(XSD + "dateTime"))),
        ox.Triple(s, _T(PROV + "wasAssociatedWith"), _T(AGENT + quote(c.agent, safe=""))),
    ]

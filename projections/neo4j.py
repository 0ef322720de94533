"""The Neo4j projection: a property graph derived from the canonical RDF store, rebuildable.

What is projected (only public graphs: never preservation, private or the change log):
- nodes: resources typed with one of the classes in ``LABELS`` (works, editions, physical books,
  microfilm copies and reels, digital copies, juan, persons, organisations, annotations ...),
  keyed by ``iri``, with their literal properties (``guji:text`` and ``guji:layout`` excepted)
  and ``graphs``: the named graphs that state them;
- relationships: every IRI-to-IRI triple between two projected nodes, typed by the predicate
  (``bf:itemOf`` → ``ITEM_OF``, ``prov:wasDerivedFrom`` → ``WAS_DERIVED_FROM``), with ``graph``.

Sync is driven by the change log: the graphs named by changes after Neo4j's checkpoint are
re-projected from the store's current state (delete what the graph stated, write it again),
in batched ``UNWIND`` statements, then the checkpoint moves. Re-running is harmless, so a
Neo4j that was down catches up from the log when it is back; a Neo4j without checkpoint is
rebuilt from scratch.

Throughput (ADR 0018): the graphs of a whole batch of changes are removed and written together,
``ROWS`` rows per statement and one transaction per statement, whatever graph each row came
from, so 500 one-annotation graphs cost a handful of round trips, not 500 × 6. What a graph
stated is found again through its ``GujiGraph`` node (the IRIs it typed and touched, looked up
by the unique ``iri`` constraint) instead of a scan of every node and relationship; a projection
written before those nodes existed (``FORMAT``) is rebuilt once.
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, islice
from typing import Any

import pyoxigraph as ox

from annotation import rdf as annotation_rdf
from kg.errors import StoreError
from kg.namespaces import BF, GUJI, GUJIV, OA, PREMIS, RDF, XSD
from kg.graphs import SCHEMA_PREFIXES, is_public
from kg.store import OxigraphStore

BATCH = 1000
ROWS = 5000  # rows per UNWIND statement (one transaction each)
WEIGHT = 20000  # list entries + rows per statement of GujiGraph records (a huge graph's IRIs are many rows' worth)
PART = 2000  # IRIs per list on one GujiGraph / GujiGraphPart node: a 100,000-book package graph is many small nodes
MEMORY_POOL_FULL = "Neo.TransientError.General.MemoryPoolOutOfMemoryError"
GRAPHS_PER_STEP = 2000  # named graphs read from the store and written together
REBUILD_STEP = 250  # graphs per step of a rebuild: small, so reading the next step overlaps writing this one
FORMAT = 2  # 2: GujiGraph nodes record what each graph stated (older projections are rebuilt)
RDF_TYPE = RDF + "type"
SKIP_PROPERTIES = {GUJI + "text", GUJI + "layout"}
NOT_PROJECTED_GRAPHS = SCHEMA_PREFIXES

# RDF class → Neo4j label. A resource gets every label its types map to.
LABELS: dict[str, str] = {
    BF + "Work": "Work",
    BF + "Instance": "Edition",
    BF + "Microform": "Microform",
    BF + "Electronic": "Electronic",
    BF + "Item": "Item",
    GUJI + "PhysicalBook": "PhysicalBook",
    GUJI + "MicrofilmCopy": "MicrofilmCopy",
    GUJI + "MicrofilmReel": "Reel",
    GUJI + "FrameRange": "FrameRange",
    GUJI + "DigitalCopy": "DigitalCopy",
    GUJI + "Juan": "Juan",
    GUJI + "Serial": "Serial",  # package v2 (ADR 0021): periodicals and newspapers, their issues and articles
    GUJI + "Issue": "Issue",
    GUJI + "Article": "Article",
    GUJI + "InspectionEvent": "Inspection",
    GUJI + "Submission": "Submission",
    GUJI + "NonUnicodeCharacter": "NonUnicodeCharacter",
    PREMIS + "File": "File",
    BF + "Person": "Person",
    BF + "Organization": "Organization",
    BF + "Contribution": "Contribution",
    GUJI + "Person": "Person",
    GUJI + "Place": "Place",
    GUJI + "Office": "Office",
    GUJI + "ReignEra": "ReignEra",
    GUJI + "Event": "Event",
    OA + "Annotation": "Annotation",
    GUJI + "AuthorityRecord": "Entity",
}

# an entity's category (guji:category on the authority record) → an extra label
CATEGORY_LABELS = {
    GUJIV + "entity-category/person": "Person", GUJIV + "entity-category/place": "Place",
    GUJIV + "entity-category/office": "Office", GUJIV + "entity-category/era": "ReignEra",
    GUJIV + "entity-category/book-title": "BookTitle", GUJIV + "entity-category/event": "Event",
}


@lru_cache(maxsize=4096)  # a store has few predicates; the name is asked for once per quad
def rel_type(predicate: str) -> str:
    local = re.split(r"[#/]", predicate)[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", local).upper()


@lru_cache(maxsize=4096)
def prop_name(predicate: str) -> str:
    return re.split(r"[#/]", predicate)[-1]


_PLAIN = {XSD + "string", RDF + "langString"}


def _value(term) -> Any:
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype else ""
        if dt in _PLAIN:
            return term.value
        if dt.endswith(("#integer", "#int", "#long", "#nonNegativeInteger")):
            try:
                return int(term.value)
            except ValueError:
                return term.value
        if dt.endswith(("#decimal", "#double", "#float")):
            try:
                return float(term.value)
            except ValueError:
                return term.value
        if dt.endswith("#boolean"):
            return term.value == "true"
        return term.value
    return str(term.value)


@dataclass
class GraphModel:
    """What one named graph contributes to the property graph."""

    graph: str
    nodes: dict[str, set[str]] = field(default_factory=dict)  # iri -> labels
    props: dict[str, dict[str, Any]] = field(default_factory=dict)
    rels: set[tuple[str, str, str]] = field(default_factory=set)  # (from iri, type, to iri)


def projected_graphs(store: OxigraphStore) -> list[str]:
    return [g for g in store.graphs() if is_public(g) and not g.startswith(NOT_PROJECTED_GRAPHS)]


def typed_nodes(store: OxigraphStore, graphs: list[str]) -> dict[str, set[str]]:
    """iri → labels over the given graphs (a node typed in one graph may be linked from another).

    One index range per projected class (``?s rdf:type <class>`` in any graph), kept when its graph
    is one of ``graphs``: it reads only the typing triples, where a query over a dataset of every
    projected graph cost a sixth of a rebuild at 10,000 graphs."""
    wanted = set(graphs)
    rdf_type = ox.NamedNode(RDF_TYPE)
    out: dict[str, set[str]] = defaultdict(set)
    for cls, label in LABELS.items():
        for q in store.oxigraph.quads_for_pattern(None, rdf_type, ox.NamedNode(cls), None):
            g = q.graph_name
            if isinstance(q.subject, ox.NamedNode) and isinstance(g, ox.NamedNode) and g.value in wanted:
                out[q.subject.value].add(label)
    return out


def _known_for(store: OxigraphStore, graphs: list[str], present: set[str]) -> dict[str, set[str]]:
    """``typed_nodes`` restricted to the IRIs these graphs mention (subjects and IRI objects), typed in
    any projected graph: one index lookup per IRI instead of a query over every graph, so a batch of
    annotation graphs costs what it holds, not what the whole store holds."""
    iris: set[ox.NamedNode] = set()
    for g in graphs:
        for t in store.triples(g):
            if isinstance(t.subject, ox.NamedNode):
                iris.add(t.subject)
            if isinstance(t.object, ox.NamedNode) and t.predicate.value != RDF_TYPE:
                iris.add(t.object)
    rdf_type = ox.NamedNode(RDF_TYPE)
    out: dict[str, set[str]] = defaultdict(set)
    raw = store.oxigraph
    for iri in iris:
        for q in raw.quads_for_pattern(iri, rdf_type, None, None):
            label = LABELS.get(q.object.value)
            if label and isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value in present:
                out[iri.value].add(label)
    return out


KEEP_TRIPLES = 50_000  # a graph larger than this is read again for its annotations (if it has any)


def model_of(store: OxigraphStore, graph: str, known: dict[str, set[str]]) -> GraphModel:
    """The nodes, properties and relationships ``graph`` states, in one pass over its quads.

    Only graphs of up to ``KEEP_TRIPLES`` quads are kept in memory (for the annotation decoder,
    which needs a whole annotation graph); a 10,000-record package graph (2.85 M quads) is never
    held as a list: what it costs is its model, not its triples."""
    m = GraphModel(graph)
    name = ox.NamedNode(graph)
    quads = store.oxigraph.quads_for_pattern(None, None, None, name)
    # the first KEEP_TRIPLES quads are kept for the annotation decoder; the loop below is the
    # rebuild's hottest Python (every public quad of the store), hence the local names
    head = list(islice(quads, KEEP_TRIPLES + 1))
    triples: list[ox.Quad] | None = head if len(head) <= KEEP_TRIPLES else None
    named, literal = ox.NamedNode, ox.Literal
    nodes, rels = m.nodes, m.rels
    literals: dict[str, dict[str, list]] = {}  # of subjects in ``known``; kept for those typed here
    for t in chain(head, quads):
        subject = t.subject
        if type(subject) is not named:
            continue
        s, p, o = subject.value, t.predicate.value, t.object
        if p == RDF_TYPE:
            label = LABELS.get(o.value)
            if label is not None:
                nodes.setdefault(s, set()).add(label)
            if type(o) is not literal:
                continue  # a typing triple is no property and no relationship
        if s not in known:
            continue
        if type(o) is literal:
            if p not in SKIP_PROPERTIES:
                literals.setdefault(s, {}).setdefault(prop_name(p), []).append(_value(o))
        elif type(o) is named and p != RDF_TYPE:
            v = o.value
            if v in known:
                rels.add((s, rel_type(p), v))
    del head
    m.props.update((s, v) for s, v in literals.items() if s in m.nodes)
    if triples is None and any({"Entity", "Annotation"} & labels for labels in m.nodes.values()):
        triples = list(store.oxigraph.quads_for_pattern(None, None, None, name))
    _annotations(m, triples or [], known)
    for iri, props in m.props.items():
        for k, v in list(props.items()):
            props[k] = v[0] if len(v) == 1 else sorted(v, key=str)
    return m


def _annotations(m: GraphModel, triples: list[ox.Triple] | list[ox.Quad], known: dict[str, set[str]]) -> None:
    """Annotation → the juan it marks (TARGETS, with the code-point span and quote as annotation
    properties) and → the entity it identifies (IDENTIFIES); entities get their category's label.
    The annotation is read by the one decoder of annotation graphs (:func:`annotation.rdf.decode`)."""
    entities = [iri for iri, labels in m.nodes.items() if "Entity" in labels]
    annotations = [iri for iri, labels in m.nodes.items() if "Annotation" in labels]
    if not entities and not annotations:  # a text or catalogue graph: nothing to index
        return
    out = annotation_rdf.index(triples)
    for iri in entities:
        for c in out.get(iri, {}).get(GUJI + "category", ()):
            if c.value in CATEGORY_LABELS:
                m.nodes[iri].add(CATEGORY_LABELS[c.value])
    for iri in annotations:
        props = m.props.setdefault(iri, {})
        a = annotation_rdf.decode(out, iri, record=False)
        if a is None:
            continue
        for target in (*a.spans, a.image) if a.image is not None else a.spans:
            if target.source not in known:
                continue
            m.rels.add((iri, "TARGETS", target.source))
            if isinstance(target, annotation_rdf.SpanNode):
                for key, v in (("start", target.start), ("end", target.end), ("quote", target.exact)):
                    if v is not None:
                        props.setdefault(key, []).append(v)
        for r in a.readings:
            if r.competing:  # the items of an oa:Choice are not projected (as before the decoder was shared)
                continue
            if r.entity is not None and r.entity in known:
                m.rels.add((iri, "IDENTIFIES", r.entity))
            if r.category is not None:
                props.setdefault("category", []).append(r.category.rsplit("/", 1)[-1])


def _graph_filter(var: str, store: OxigraphStore) -> str:
    """SPARQL filter: ``var`` is a projected graph (public, not schema, not staged)."""
    from kg.graphs import NON_PUBLIC_PREFIXES

    parts = [f'!STRSTARTS(STR({var}), "{prefix}")' for prefix in (*NON_PUBLIC_PREFIXES, *NOT_PROJECTED_GRAPHS)]
    staged = store.staged_graphs()
    if staged:
        parts.append(f"{var} NOT IN ({', '.join(f'<{g}>' for g in sorted(staged))})")
    return "FILTER(" + " && ".join(parts) + ")"


def expected_counts(store: OxigraphStore, graphs: list[str]) -> tuple[Counter, Counter]:
    """Nodes per label and relationships per type that ``model_of`` gives over every projected
    graph, counted by SPARQL aggregates inside the store instead (no Python model per graph):
    what ``check`` compares exactly, whatever the store's size."""
    if not graphs:
        return Counter(), Counter()
    g = _graph_filter("?g", store)
    typed = " ".join(f"<{c}>" for c in LABELS)
    pairs = " ".join(f'(<{c}> "{lab}")' for c, lab in LABELS.items())
    entity = " ".join(f"<{c}>" for c, lab in LABELS.items() if lab == "Entity")
    categories = " ".join(f'(<{c}> "{lab}")' for c, lab in CATEGORY_LABELS.items())

    def known(v: str, n: int) -> str:  # typed in some projected graph: a hash join (FILTER EXISTS per row is ~40× slower)
        return (f"{{ SELECT DISTINCT {v} WHERE {{ GRAPH ?k{n} {{ {v} <{RDF_TYPE}> ?t{n} }} VALUES ?t{n} {{ {typed} }} "
                f"{_graph_filter(f'?k{n}', store)} }} }}")

    labels = Counter()
    for r in store.query(f"""SELECT ?label (COUNT(DISTINCT ?s) AS ?n) WHERE {{
            {{ GRAPH ?g {{ ?s <{RDF_TYPE}> ?t }} VALUES (?t ?label) {{ {pairs} }} }}
            UNION {{ GRAPH ?g {{ ?s <{RDF_TYPE}> ?e ; <{GUJI}category> ?c }} VALUES ?e {{ {entity} }} VALUES (?c ?label) {{ {categories} }} }}
            FILTER(isIRI(?s)) {g} }} GROUP BY ?label"""):
        labels[r["label"].value] += int(r["n"].value)
    rels = Counter()
    for r in store.query(f"""SELECT ?p (COUNT(*) AS ?n) WHERE {{
            GRAPH ?g {{ ?s ?p ?o }} FILTER(isIRI(?s) && isIRI(?o) && ?p != <{RDF_TYPE}>) {g} {known("?s", 1)} {known("?o", 2)}
            }} GROUP BY ?p"""):
        rels[rel_type(r["p"].value)] += int(r["n"].value)
    oa = OA
    for name, pattern in (
            ("TARGETS", f"?a <{oa}hasTarget> ?x . ?x <{oa}hasSource> ?src . }} FILTER(isIRI(?x)"),
            # a body of its own (the items of an oa:Choice, competing readings, are not projected)
            ("IDENTIFIES", f"?a <{oa}hasBody> ?b . ?b <{oa}hasPurpose> <{oa}identifying> ; <{oa}hasSource> ?src . }} "
                           "FILTER(isIRI(?b)")):
        for r in store.query(f"""SELECT (COUNT(*) AS ?n) WHERE {{ {{ SELECT DISTINCT ?a ?src ?g WHERE {{
                GRAPH ?g {{ ?a <{RDF_TYPE}> <{oa}Annotation> . {pattern} && isIRI(?a) && isIRI(?src)) {g} }} }}
                {known("?src", 1)} }}"""):
            if int(r["n"].value):
                rels[name] += int(r["n"].value)
    return labels, rels


_MERGE_NODES = ("UNWIND $rows AS row MERGE (n:Resource {{iri: row.iri}}) SET n{labels} SET n += row.props "
                "SET n.graphs = CASE WHEN n.graphs IS NULL THEN [row.g] WHEN row.g IN n.graphs THEN n.graphs ELSE n.graphs + row.g END")


def _graph_rows(models: list[GraphModel]) -> tuple[list[dict], list[dict]]:
    """What each graph stated, for its ``GujiGraph`` node (how ``_remove_graphs`` finds it again):
    the first ``PART`` IRIs of each list on the node itself, the rest on ``GujiGraphPart`` nodes
    (``graph``, ``part``), so no node and no statement grows with the size of one graph (a
    100,000-book package graph states millions of IRIs; Neo4j caps one transaction's memory)."""
    heads, parts = [], []
    for m in models:
        lists = {"nodes": sorted(m.nodes), "subjects": sorted({s for s, _, _ in m.rels}),
                 "touched": sorted(set(m.nodes) | {x for s, _, o in m.rels for x in (s, o)})}
        n = max(1, -(-max(len(v) for v in lists.values()) // PART))
        heads.append({"g": m.graph, "count": len(lists["nodes"]),
                      "parts": n - 1, **{k: v[:PART] for k, v in lists.items()}})
        parts += [{"g": m.graph, "part": i, **{k: v[i * PART:(i + 1) * PART] for k, v in lists.items()}}
                  for i in range(1, n)]
    return heads, parts


def _weight(row: dict) -> int:
    return 1 + sum(len(v) for v in row.values() if isinstance(v, list))


def _weighed(rows: list[dict], budget: int) -> list[list[dict]]:
    """``rows`` in consecutive statements of at most ``budget`` weight (at least one row each)."""
    out, here, used = [], [], 0
    for row in rows:
        w = _weight(row)
        if here and used + w > budget:
            out.append(here)
            here, used = [], 0
        here.append(row)
        used += w
    return out + ([here] if here else [])


class _TransactionTooLarge(StoreError):
    """Neo4j refused a statement for its transaction memory limit: sent again in halves."""


class _Writer:
    """Statements sent in order by one background thread, so the caller prepares the next ones
    meanwhile (a short queue bounds what waits). The first failure stops the writing and is raised
    in the caller, at its next ``send`` or when the block ends."""

    def __init__(self, unwind, depth: int = 8) -> None:
        import queue
        import threading

        self._unwind = unwind
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="neo4j-writer", daemon=True)

    def __enter__(self) -> "_Writer":
        self._thread.start()
        return self

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._error is None:
                try:
                    if callable(item):
                        item()
                    else:
                        self._unwind(*item)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                    self._error = exc

    def send(self, query: str, rows: list) -> None:
        if self._error is not None:
            raise self._error
        if rows:
            self._queue.put((query, rows))

    def call(self, work) -> None:
        """Run ``work()`` in the writer's turn: after what was sent before, before what follows."""
        if self._error is not None:
            raise self._error
        self._queue.put(work)

    def __exit__(self, exc_type, exc, tb) -> None:
        self._queue.put(None)
        self._thread.join()
        if exc_type is None and self._error is not None:
            raise self._error


class Neo4jProjection:
    """Keeps a Neo4j database in line with the store. Connects lazily."""

    CHECKPOINT = "neo4j"

    def __init__(self, uri: str, *, user: str = "neo4j", password: str | None = None, database: str = "neo4j") -> None:
        self.uri, self.user, self.password, self.database = uri, user, password, database
        self._driver = None
        self._row_cap: dict[str, int] = {}  # rows per statement learned from Neo4j's memory refusals

    @property
    def driver(self):
        if self._driver is None:
            from neo4j import GraphDatabase

            auth = (self.user, self.password) if self.password else None
            # fail fast when Neo4j is down: the change log keeps everything for the next sync. No server
            # notifications: on a fresh database every lookup of our own labels ("label does not exist")
            # came back as a warning the driver logged in full, a screen per statement
            self._driver = GraphDatabase.driver(self.uri, auth=auth, connection_timeout=5, max_transaction_retry_time=5,
                                                notifications_min_severity="OFF")
        return self._driver

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    def _run(self, query: str, **params):
        try:
            records, _, _ = self.driver.execute_query(query, params, database_=self.database)
        except Exception as exc:  # the driver raises several unrelated types for "down"
            kind = _TransactionTooLarge if getattr(exc, "code", None) == MEMORY_POOL_FULL else StoreError
            raise kind(f"Neo4j at {self.uri} failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                             uri=self.uri) from None
        return records

    # -- checkpoint --------------------------------------------------------------------------------

    def checkpoint(self, store: OxigraphStore | None = None) -> int | None:
        """The last change projected, or None when Neo4j holds no (complete) projection of this
        store: never built, built from another store, or a rebuild that did not finish."""
        rows = self._run("MATCH (c:GujiCheckpoint {name: $name}) RETURN c.sequence AS s, c.store AS store, "
                         "coalesce(c.rebuilding, false) AS rebuilding, coalesce(c.format, 1) AS format", name=self.CHECKPOINT)
        if not rows or rows[0]["rebuilding"] or rows[0]["format"] != FORMAT:
            return None
        if store is not None and rows[0]["store"] != store.store_id():
            return None  # a projection of another store: rebuild
        return rows[0]["s"]

    def _set_checkpoint(self, store: OxigraphStore, sequence: int) -> None:
        self._run("MERGE (c:GujiCheckpoint {name: $name}) SET c.sequence = $s, c.store = $store, c.rebuilding = false, "
                  "c.format = $format", name=self.CHECKPOINT, s=sequence, store=store.store_id(), format=FORMAT)

    def _mark_rebuilding(self, store: OxigraphStore) -> None:
        self._run("MERGE (c:GujiCheckpoint {name: $name}) SET c.rebuilding = true, c.store = $store",
                  name=self.CHECKPOINT, store=store.store_id())

    def ensure_schema(self) -> None:
        self._run("CREATE CONSTRAINT guji_resource_iri IF NOT EXISTS FOR (n:Resource) REQUIRE n.iri IS UNIQUE")
        self._run("CREATE CONSTRAINT guji_graph_iri IF NOT EXISTS FOR (m:GujiGraph) REQUIRE m.iri IS UNIQUE")
        self._run("CREATE INDEX guji_graph_part IF NOT EXISTS FOR (p:GujiGraphPart) ON (p.graph)")

    # -- writing -----------------------------------------------------------------------------------

    name = "neo4j"
    batch = 5000  # change-log entries per apply (written GRAPHS_PER_STEP graphs at a time)

    def apply(self, store: OxigraphStore, changes) -> dict:
        """Re-project the graphs these changes name, then move the checkpoint to the last one."""
        self.ensure_schema()
        # graphs that can be in Neo4j (a private or schema graph never is: nothing to undo or write)
        todo = sorted({c.graph for c in changes if is_public(c.graph) and not c.graph.startswith(NOT_PROJECTED_GRAPHS)})
        stats = self._project(store, todo)
        self._set_checkpoint(store, changes[-1].sequence)
        return {"graphs": len(todo), **stats}

    def rebuild(self, store: OxigraphStore) -> dict:
        """From scratch. Marked as rebuilding first: if it is interrupted, ``checkpoint`` says
        None and the next sync (the projector, or plain ``guji sync``) rebuilds again."""
        self.ensure_schema()
        last = store.last_sequence()
        self._mark_rebuilding(store)
        graphs = projected_graphs(store)
        stats = self._project(store, graphs, fresh=True)
        self._set_checkpoint(store, last)
        return {"graphs": len(graphs), **stats}

    def sync(self, store: OxigraphStore, *, rebuild: bool = False) -> dict:
        """Bring Neo4j in line with the store; returns what was done (the projector's path, in one call)."""
        checkpoint = None if rebuild else self.checkpoint(store)
        if checkpoint is None:
            out = self.rebuild(store)
            return {"from": None, "to": store.last_sequence(), **out}
        changes = store.changes_since(checkpoint)
        if not changes:
            return {"graphs": 0, "from": checkpoint, "to": checkpoint}
        return {"from": checkpoint, "to": changes[-1].sequence, **self.apply(store, changes)}

    def _project(self, store: OxigraphStore, todo: list[str], *, fresh: bool = False) -> dict:
        """Re-project ``todo`` graphs, ``GRAPHS_PER_STEP`` at a time: remove what they stated, then
        write their models, all graphs of a step together in ``ROWS``-row statements. ``fresh``:
        empty the database and write every graph anew (a rebuild)."""
        present = set(projected_graphs(store))
        stats: Counter = Counter()
        if fresh:
            return self._create_all(store, [g for g in todo if g in present], present)
        for i in range(0, len(todo), GRAPHS_PER_STEP):
            step = todo[i:i + GRAPHS_PER_STEP]
            self._remove_graphs(step)
            here = [g for g in step if g in present]
            models = self._models(store, here, present)
            self._write_models(models)
            stats["nodes"] += sum(len(m.nodes) for m in models)
            stats["relationships"] += sum(len(m.rels) for m in models)
        return dict(stats)

    def _create_all(self, store: OxigraphStore, graphs: list[str], present: set[str]) -> dict:
        """The rebuild's write path (ADR 0025): the statements of ``_write_models`` go through a
        writer thread, so the next ``REBUILD_STEP`` graphs' models are read from the store while
        Neo4j writes the previous ones (``CREATE`` instead of ``MERGE`` into the emptied database
        was measured too: no faster here, and it would need Neo4j to have no other writer)."""
        stats: Counter = Counter()
        with _Writer(self._unwind) as writer:
            # the old projection is deleted by the writer, first, while the first models are read
            writer.call(self._delete_all)
            known = typed_nodes(store, sorted(present))
            for i in range(0, len(graphs), REBUILD_STEP):
                models = [model_of(store, g, known) for g in graphs[i:i + REBUILD_STEP]]
                self._write_models(models, writer.send)
                stats["nodes"] += sum(len(m.nodes) for m in models)
                stats["relationships"] += sum(len(m.rels) for m in models)
        return dict(stats)

    def _delete_all(self) -> None:
        self._delete_in_batches("MATCH (n:Resource) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS n")
        self._delete_in_batches("MATCH (m:GujiGraph) WITH m LIMIT $batch DELETE m RETURN count(*) AS n")
        self._delete_in_batches("MATCH (m:GujiGraphPart) WITH m LIMIT $batch DELETE m RETURN count(*) AS n")

    @staticmethod
    def _models(store: OxigraphStore, graphs: list[str], present: set[str]) -> list[GraphModel]:
        known = _known_for(store, graphs, present)
        return [model_of(store, g, known) for g in graphs]

    def _remove_graphs(self, graphs: list[str]) -> None:
        """Undo what these graphs stated (their ``GujiGraph`` nodes say what). A node no graph states
        any more loses its labels and properties; it is deleted unless other graphs' relationships
        still point at it (then it waits, bare, for the graph that types it to be projected again)."""
        marks = self._marks(graphs)
        if not marks:
            return
        all_labels = ":".join(f"`{lab}`" for lab in sorted(set(LABELS.values())))
        self._unwind("UNWIND $rows AS row MATCH (a:Resource {iri: row.s})-[r]->() WHERE r.graph = row.g DELETE r",
                     [{"g": m["g"], "s": s} for m in marks for s in m["subjects"] or ()])
        self._unwind("UNWIND $rows AS row MATCH (n:Resource {iri: row.iri}) WHERE row.g IN n.graphs "
                     "SET n.graphs = [x IN n.graphs WHERE x <> row.g] "
                     f"WITH n WHERE size(n.graphs) = 0 REMOVE n:{all_labels} SET n = {{iri: n.iri, graphs: []}}",
                     [{"g": m["g"], "iri": iri} for m in marks for iri in m["nodes"] or ()])
        self._unwind("UNWIND $rows AS iri MATCH (n:Resource {iri: iri}) WHERE size(n.graphs) = 0 AND NOT (n)--() DELETE n",
                     sorted({iri for m in marks for iri in m["touched"] or ()}))
        self._unwind("UNWIND $rows AS g MATCH (m:GujiGraphPart {graph: g}) DELETE m",
                     [m["g"] for m in marks if m["parts"]])
        self._unwind("UNWIND $rows AS g MATCH (m:GujiGraph {iri: g}) DELETE m", [m["g"] for m in marks])

    def _marks(self, graphs: list[str]) -> list[dict]:
        """What these graphs stated, from their ``GujiGraph`` nodes and parts (see ``_graph_rows``)."""
        marks = {}
        for i in range(0, len(graphs), ROWS):
            for r in self._run("UNWIND $gs AS g MATCH (m:GujiGraph {iri: g}) RETURN m.iri AS g, m.nodes AS nodes, "
                               "m.subjects AS subjects, m.touched AS touched, coalesce(m.parts, 0) AS parts",
                               gs=graphs[i:i + ROWS]):
                marks[r["g"]] = {k: (list(r[k] or ()) if k in ("nodes", "subjects", "touched") else r[k]) for k in r.keys()}
        big = sorted(g for g, m in marks.items() if m["parts"])
        for i in range(0, len(big), 10):
            for r in self._run("UNWIND $gs AS g MATCH (p:GujiGraphPart {graph: g}) RETURN p.graph AS g, p.part AS part, "
                               "p.nodes AS nodes, p.subjects AS subjects, p.touched AS touched ORDER BY g, part",
                               gs=big[i:i + 10]):
                for k in ("nodes", "subjects", "touched"):
                    marks[r["g"]][k] += r[k] or ()
        return [marks[g] for g in sorted(marks)]

    def _delete_in_batches(self, query: str, **params) -> None:
        """Large deletes in bounded transactions (Neo4j caps the memory of one transaction): a batch
        Neo4j refuses for that cap (nodes with many relationships) is halved, down to one node."""
        batch = BATCH * 10
        while True:
            try:
                if not self._run(query, batch=batch, **params)[0]["n"]:
                    return
            except _TransactionTooLarge:
                if batch == 1:
                    raise
                batch //= 2

    def _unwind(self, query: str, rows: list, **params) -> None:
        """One statement (one transaction) per ``ROWS`` rows; GujiGraph records (rows carrying
        lists) by weight instead (``WEIGHT``). A statement Neo4j refuses for its transaction memory
        limit (``dbms.memory.transaction.total.max``) is sent again in halves, down to one row."""
        lists = any(isinstance(v, list) for v in rows[0].values()) if rows and isinstance(rows[0], dict) else False
        chunks = _weighed(rows, WEIGHT) if lists else [rows[i:i + ROWS] for i in range(0, len(rows), ROWS)]
        for chunk in chunks:
            cap = self._row_cap.get(query, len(chunk))
            for i in range(0, len(chunk), cap):
                self._send(query, chunk[i:i + cap], params)

    def _send(self, query: str, rows: list, params: dict) -> None:
        try:
            self._run(query, rows=rows, **params)
        except _TransactionTooLarge:
            if len(rows) == 1:
                raise
            half = len(rows) // 2
            # remembered for this statement: each refusal costs the driver's retries (seconds)
            self._row_cap[query] = min(self._row_cap.get(query, half), half)
            self._send(query, rows[:half], params)
            self._send(query, rows[half:], params)

    def _write(self, m: GraphModel) -> None:
        self._write_models([m])

    def _write_models(self, models: list[GraphModel], send=None) -> None:
        """Nodes grouped by label set and relationships by type across every model: one statement
        per ``ROWS`` rows, each row carrying its graph; then each graph's ``GujiGraph`` node."""
        send = send or self._unwind
        by_labels: dict[tuple[str, ...], list[dict]] = defaultdict(list)
        by_type: dict[str, list[dict]] = defaultdict(list)
        for m in models:
            for iri, labels in m.nodes.items():
                by_labels[tuple(sorted(labels))].append({"iri": iri, "props": m.props.get(iri, {}), "g": m.graph})
            for s, t, o in m.rels:
                by_type[t].append({"s": s, "o": o, "g": m.graph})
        for labels, rows in by_labels.items():
            send(_MERGE_NODES.format(labels="".join(f":`{lab}`" for lab in labels)), rows)
        # nodes referenced here but typed in another graph: make sure they exist (their own graph labels them)
        for t, rows in by_type.items():
            send(
                "UNWIND $rows AS row MERGE (a:Resource {iri: row.s}) ON CREATE SET a.graphs = [] "
                "MERGE (b:Resource {iri: row.o}) ON CREATE SET b.graphs = [] "
                f"MERGE (a)-[r:`{t}` {{graph: row.g}}]->(b)",
                rows)
        heads, parts = _graph_rows(models)
        send("UNWIND $rows AS row MERGE (m:GujiGraph {iri: row.g}) SET m.nodes = row.nodes, m.subjects = row.subjects, "
             "m.touched = row.touched, m.count = row.count, m.parts = row.parts", heads)
        send("UNWIND $rows AS row MERGE (p:GujiGraphPart {graph: row.g, part: row.part}) SET p.nodes = row.nodes, "
             "p.subjects = row.subjects, p.touched = row.touched", parts)

    # -- checking ----------------------------------------------------------------------------------

    def check(self, store: OxigraphStore, *, sample: int = 25, seed: int = 0) -> dict:
        """Compare the projection with the store without building every graph's model (ADR 0025).

        Exact: the set of projected graphs against the ``GujiGraph`` nodes; per graph, the
        relationships and nodes Neo4j holds for it against what its ``GujiGraph`` node recorded;
        the count of every label and relationship type, the store's side counted by SPARQL
        aggregates inside Oxigraph. Sampled: ``sample`` graphs (seeded) are modelled from the store
        and compared node by node (labels, properties) and relationship by relationship."""
        graphs = projected_graphs(store)
        want_labels, want_rels = expected_counts(store, graphs)
        got_labels = {r["label"]: r["n"] for r in self._run(
            "MATCH (n:Resource) WHERE size(n.graphs) > 0 UNWIND labels(n) AS label WITH label, count(*) AS n WHERE label <> 'Resource' RETURN label, n")}
        got_rels = {r["t"]: r["n"] for r in self._run("MATCH ()-[r]->() RETURN type(r) AS t, count(*) AS n")}
        drift = []
        for lab in sorted(set(want_labels) | set(got_labels)):
            if want_labels.get(lab, 0) != got_labels.get(lab, 0):
                drift.append({"kind": "label", "name": lab, "store": want_labels.get(lab, 0), "projection": got_labels.get(lab, 0)})
        for t in sorted(set(want_rels) | set(got_rels)):
            if want_rels.get(t, 0) != got_rels.get(t, 0):
                drift.append({"kind": "relationship", "name": t, "store": want_rels.get(t, 0), "projection": got_rels.get(t, 0)})
        drift += self._check_graphs(graphs)
        rng = random.Random(seed)
        picked = sorted(rng.sample(graphs, min(sample, len(graphs))))
        sampled_nodes = 0
        if picked:
            present = set(graphs)
            for m in self._models(store, picked, present):
                sampled_nodes += len(m.nodes)
                drift += self._check_model(store, m, present)
        checkpoint = self.checkpoint(store)
        last = store.last_sequence()
        if checkpoint != last:
            drift.append({"kind": "checkpoint", "name": "change log", "store": last, "projection": checkpoint})
        return {
            "in_sync": not drift,
            "graphs": len(graphs),
            "labels": dict(sorted(want_labels.items())),
            "relationships": dict(sorted(want_rels.items())),
            "sampled_graphs": len(picked),
            "sampled_nodes": sampled_nodes,
            "drift": drift,
        }

    def _check_graphs(self, graphs: list[str]) -> list[dict]:
        """Every projected graph has its ``GujiGraph`` node (and no other graph has one), and Neo4j
        holds, per graph, exactly the nodes and relationships that node recorded."""
        drift = []
        marks = {r["g"]: r for r in self._run(
            "MATCH (m:GujiGraph) RETURN m.iri AS g, coalesce(m.count, size(m.nodes)) AS nodes")}
        for g in sorted(set(graphs) - set(marks)):
            drift.append({"kind": "graph", "name": g, "store": "projected", "projection": "missing"})
        for g in sorted(set(marks) - set(graphs)):
            drift.append({"kind": "graph", "name": g, "store": "absent", "projection": "present"})
        held = {r["g"]: r["n"] for r in self._run(
            "MATCH (n:Resource) WHERE size(n.graphs) > 0 UNWIND n.graphs AS g RETURN g, count(*) AS n")}
        for g in sorted(set(marks) & set(graphs)):
            if held.get(g, 0) != marks[g]["nodes"]:
                drift.append({"kind": "graph-nodes", "name": g, "store": marks[g]["nodes"], "projection": held.get(g, 0)})
        return drift

    def _check_model(self, store: OxigraphStore, m: GraphModel, present: set[str]) -> list[dict]:
        """One sampled graph against Neo4j: its nodes (every label and property it gives them; all
        of them for a node no other graph states) and exactly its relationships."""
        drift = []
        found = {r["iri"]: r for r in self._run(
            "UNWIND $iris AS iri MATCH (n:Resource {iri: iri}) RETURN n.iri AS iri, labels(n) AS labels, properties(n) AS props",
            iris=sorted(m.nodes))}
        for iri, labels in sorted(m.nodes.items()):
            rec = found.get(iri)
            if rec is None or m.graph not in (rec["props"].get("graphs") or []):
                drift.append({"kind": "node", "name": iri, "store": "present", "projection": "missing"})
                continue
            got = set(rec["labels"]) - {"Resource"}
            stored = {k: v for k, v in rec["props"].items() if k not in ("iri", "graphs")}
            want = m.props.get(iri, {})
            if rec["props"]["graphs"] == [m.graph]:
                ok_labels, ok_props = got == labels, stored == want
            else:  # stated by other graphs too: this graph's part must be there
                ok_labels, ok_props = labels <= got, all(k in stored for k in want)
            if not ok_labels:
                drift.append({"kind": "node-labels", "name": iri, "store": sorted(labels), "projection": sorted(got)})
            if not ok_props:
                drift.append({"kind": "node-properties", "name": iri, "store": want, "projection": stored})
        subjects = [s for mark in self._marks([m.graph]) for s in mark["subjects"]]
        got_rels = {(r["s"], r["t"], r["o"]) for r in self._run(
            "UNWIND $subjects AS s MATCH (a:Resource {iri: s})-[r]->(b) WHERE r.graph = $g "
            "RETURN a.iri AS s, type(r) AS t, b.iri AS o", g=m.graph, subjects=subjects)}
        if got_rels != m.rels:
            drift.append({"kind": "graph-relationships", "name": m.graph, "store": len(m.rels - got_rels),
                          "projection": len(got_rels - m.rels)})
        return drift

    def neighbourhood(self, iri: str, *, limit: int = 50) -> dict:
        rows = self._run(
            "MATCH (n:Resource {iri: $iri}) OPTIONAL MATCH (n)-[r]-(m:Resource) "
            "RETURN n.iri AS iri, labels(n) AS labels, n.label AS label, "
            "collect(DISTINCT {type: type(r), out: startNode(r) = n, iri: m.iri, labels: labels(m), label: m.label})[..$limit] AS edges",
            iri=iri, limit=limit)
        if not rows or rows[0]["iri"] is None:
            return {"iri": iri, "found": False, "edges": []}
        r = rows[0]
        return {"iri": iri, "found": True, "labels": sorted(set(r["labels"]) - {"Resource"}), "label": r["label"],
                "edges": [e for e in r["edges"] if e["iri"] is not None]}

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
"""

from __future__ import annotations

import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from kg.errors import StoreError
from kg.namespaces import BF, GG, GUJI, GUJIV, OA, PREMIS, PROV, RDF, SKOS
from kg.graphs import SCHEMA_PREFIXES, is_public
from kg.store import OxigraphStore

BATCH = 1000
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


def rel_type(predicate: str) -> str:
    local = re.split(r"[#/]", predicate)[-1]
    return re.sub(r"(?<!^)(?=[A-Z])", "_", local).upper()


def prop_name(predicate: str) -> str:
    return re.split(r"[#/]", predicate)[-1]


def _value(term) -> Any:
    if isinstance(term, ox.Literal):
        dt = term.datatype.value if term.datatype else ""
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
    """iri → labels over the given graphs (a node typed in one graph may be linked from another)."""
    values = " ".join(f"<{c}>" for c in LABELS)
    rows = store.query(
        f"SELECT DISTINCT ?s ?t WHERE {{ VALUES ?t {{ {values} }} ?s <{RDF_TYPE}> ?t }}",
        default_graph=[ox.NamedNode(g) for g in graphs] or [ox.DefaultGraph()],
    )
    out: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        if isinstance(r["s"], ox.NamedNode):
            out[r["s"].value].add(LABELS[r["t"].value])
    return out


def model_of(store: OxigraphStore, graph: str, known: dict[str, set[str]]) -> GraphModel:
    m = GraphModel(graph)
    triples = list(store.triples(graph))
    for t in triples:
        if t.predicate.value == RDF_TYPE and t.object.value in LABELS and isinstance(t.subject, ox.NamedNode):
            m.nodes.setdefault(t.subject.value, set()).add(LABELS[t.object.value])
    for t in triples:
        s = t.subject.value if isinstance(t.subject, ox.NamedNode) else None
        if s is None or s not in known:
            continue
        p = t.predicate.value
        if isinstance(t.object, ox.Literal):
            if s in m.nodes and p not in SKIP_PROPERTIES:
                m.props.setdefault(s, {}).setdefault(prop_name(p), []).append(_value(t.object))
        elif isinstance(t.object, ox.NamedNode) and p != RDF_TYPE and t.object.value in known:
            m.rels.add((s, rel_type(p), t.object.value))
    _annotations(m, triples, known)
    for iri, props in m.props.items():
        for k, v in list(props.items()):
            props[k] = v[0] if len(v) == 1 else sorted(v, key=str)
    return m


def _annotations(m: GraphModel, triples: list[ox.Triple], known: dict[str, set[str]]) -> None:
    """Annotation → the juan it marks (TARGETS, with the code-point span and quote as annotation
    properties) and → the entity it identifies (IDENTIFIES); entities get their category's label."""
    out: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            out[t.subject.value][t.predicate.value].append(t.object)
    for iri, labels in m.nodes.items():
        if "Entity" in labels:
            for c in out[iri].get(GUJI + "category", []):
                if c.value in CATEGORY_LABELS:
                    labels.add(CATEGORY_LABELS[c.value])
        if "Annotation" not in labels:
            continue
        props = m.props.setdefault(iri, {})
        for target in out[iri].get(OA + "hasTarget", []):
            for source in out[target.value].get(OA + "hasSource", []):
                if source.value not in known:
                    continue
                m.rels.add((iri, "TARGETS", source.value))
                for sel in out[target.value].get(OA + "hasSelector", []):
                    for key, pred in (("start", OA + "start"), ("end", OA + "end"), ("quote", OA + "exact")):
                        for v in out[sel.value].get(pred, []):
                            props.setdefault(key, []).append(_value(v))
        for body in out[iri].get(OA + "hasBody", []):
            bodies = [body] + out[body.value].get(OA + "item", []) if isinstance(body, ox.NamedNode) else []
            for b in bodies:
                purposes = {x.value for x in out[b.value].get(OA + "hasPurpose", [])}
                for source in out[b.value].get(OA + "hasSource", []):
                    if OA + "identifying" in purposes and source.value in known:
                        m.rels.add((iri, "IDENTIFIES", source.value))
                for c in out[b.value].get(GUJI + "category", []):
                    props.setdefault("category", []).append(c.value.rsplit("/", 1)[-1])


class Neo4jProjection:
    """Keeps a Neo4j database in line with the store. Connects lazily."""

    CHECKPOINT = "neo4j"

    def __init__(self, uri: str, *, user: str = "neo4j", password: str | None = None, database: str = "neo4j") -> None:
        self.uri, self.user, self.password, self.database = uri, user, password, database
        self._driver = None

    @property
    def driver(self):
        if self._driver is None:
            from neo4j import GraphDatabase

            auth = (self.user, self.password) if self.password else None
            # fail fast when Neo4j is down: the change log keeps everything for the next sync
            self._driver = GraphDatabase.driver(self.uri, auth=auth, connection_timeout=5, max_transaction_retry_time=5)
        return self._driver

    def close(self) -> None:
        if self._driver is not None:
            self._driver.close()
            self._driver = None

    def _run(self, query: str, **params):
        try:
            records, _, _ = self.driver.execute_query(query, params, database_=self.database)
        except Exception as exc:  # the driver raises several unrelated types for "down"
            raise StoreError(f"Neo4j at {self.uri} failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                             uri=self.uri) from None
        return records

    # -- checkpoint --------------------------------------------------------------------------------

    def checkpoint(self, store: OxigraphStore | None = None) -> int | None:
        """The last change projected, or None when Neo4j holds no (complete) projection of this
        store: never built, built from another store, or a rebuild that did not finish."""
        rows = self._run("MATCH (c:GujiCheckpoint {name: $name}) RETURN c.sequence AS s, c.store AS store, "
                         "coalesce(c.rebuilding, false) AS rebuilding", name=self.CHECKPOINT)
        if not rows or rows[0]["rebuilding"]:
            return None
        if store is not None and rows[0]["store"] != store.store_id():
            return None  # a projection of another store: rebuild
        return rows[0]["s"]

    def _set_checkpoint(self, store: OxigraphStore, sequence: int) -> None:
        self._run("MERGE (c:GujiCheckpoint {name: $name}) SET c.sequence = $s, c.store = $store, c.rebuilding = false",
                  name=self.CHECKPOINT, s=sequence, store=store.store_id())

    def _mark_rebuilding(self, store: OxigraphStore) -> None:
        self._run("MERGE (c:GujiCheckpoint {name: $name}) SET c.rebuilding = true, c.store = $store",
                  name=self.CHECKPOINT, store=store.store_id())

    def ensure_schema(self) -> None:
        self._run("CREATE CONSTRAINT guji_resource_iri IF NOT EXISTS FOR (n:Resource) REQUIRE n.iri IS UNIQUE")

    # -- writing -----------------------------------------------------------------------------------

    name = "neo4j"

    def apply(self, store: OxigraphStore, changes) -> dict:
        """Re-project the graphs these changes name, then move the checkpoint to the last one."""
        self.ensure_schema()
        todo = sorted({c.graph for c in changes})
        stats = self._project(store, todo)
        self._set_checkpoint(store, changes[-1].sequence)
        return {"graphs": len(todo), **stats}

    def rebuild(self, store: OxigraphStore) -> dict:
        """From scratch. Marked as rebuilding first: if it is interrupted, ``checkpoint`` says
        None and the next sync (the projector, or plain ``guji sync``) rebuilds again."""
        self.ensure_schema()
        last = store.last_sequence()
        self._mark_rebuilding(store)
        self._delete_in_batches("MATCH (n:Resource) WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS n")
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
        graphs = projected_graphs(store)
        present = set(graphs)
        known = typed_nodes(store, graphs)
        stats: Counter = Counter()
        for graph in todo:
            if not fresh:
                self._remove_graph(graph)
            if graph in present:
                m = model_of(store, graph, known)
                self._write(m)
                stats["nodes"] += len(m.nodes)
                stats["relationships"] += len(m.rels)
        return dict(stats)

    def _remove_graph(self, graph: str) -> None:
        """Undo what a graph stated. A node no graph states any more loses its labels and
        properties; it is deleted unless other graphs' relationships still point at it (then it
        waits, bare, for the graph that types it to be projected again)."""
        self._delete_in_batches("MATCH ()-[r {graph: $g}]->() WITH r LIMIT $batch DELETE r RETURN count(*) AS n", g=graph)
        all_labels = ":".join(f"`{lab}`" for lab in sorted(set(LABELS.values())))
        self._delete_in_batches(
            "MATCH (n:Resource) WHERE $g IN n.graphs WITH n LIMIT $batch SET n.graphs = [x IN n.graphs WHERE x <> $g] "
            f"WITH n, size(n.graphs) = 0 AS orphan FOREACH (_ IN CASE WHEN orphan THEN [1] ELSE [] END | "
            f"REMOVE n:{all_labels} SET n = {{iri: n.iri, graphs: []}}) RETURN count(*) AS n",
            g=graph)
        self._delete_in_batches("MATCH (n:Resource) WHERE size(n.graphs) = 0 AND NOT (n)--() WITH n LIMIT $batch DELETE n RETURN count(*) AS n")

    def _delete_in_batches(self, query: str, **params) -> None:
        """Large deletes in bounded transactions (Neo4j caps the memory of one transaction)."""
        while self._run(query, batch=BATCH * 10, **params)[0]["n"]:
            pass

    def _write(self, m: GraphModel) -> None:
        by_labels: dict[tuple[str, ...], list[dict]] = defaultdict(list)
        for iri, labels in m.nodes.items():
            by_labels[tuple(sorted(labels))].append({"iri": iri, "props": m.props.get(iri, {})})
        for labels, rows in by_labels.items():
            label_clause = "".join(f":`{lab}`" for lab in labels)
            for i in range(0, len(rows), BATCH):
                self._run(
                    f"UNWIND $rows AS row MERGE (n:Resource {{iri: row.iri}}) SET n{label_clause} SET n += row.props "
                    "SET n.graphs = CASE WHEN n.graphs IS NULL THEN [$g] WHEN $g IN n.graphs THEN n.graphs ELSE n.graphs + $g END",
                    rows=rows[i:i + BATCH], g=m.graph,
                )
        # nodes referenced here but typed in another graph: make sure they exist (their own graph labels them)
        by_type: dict[str, list[dict]] = defaultdict(list)
        for s, t, o in m.rels:
            by_type[t].append({"s": s, "o": o})
        for t, rows in by_type.items():
            for i in range(0, len(rows), BATCH):
                self._run(
                    f"UNWIND $rows AS row MERGE (a:Resource {{iri: row.s}}) ON CREATE SET a.graphs = [] "
                    f"MERGE (b:Resource {{iri: row.o}}) ON CREATE SET b.graphs = [] "
                    f"MERGE (a)-[r:`{t}` {{graph: $g}}]->(b)",
                    rows=rows[i:i + BATCH], g=m.graph,
                )

    # -- checking ----------------------------------------------------------------------------------

    def check(self, store: OxigraphStore, *, sample: int = 25, seed: int = 0) -> dict:
        """Compare counts per label and relationship type, and a sample of nodes. Empty drift = in line."""
        graphs = projected_graphs(store)
        known = typed_nodes(store, graphs)
        nodes: dict[str, set[str]] = defaultdict(set)
        props: dict[str, dict] = {}
        rels: set[tuple[str, str, str, str]] = set()
        for g in graphs:
            m = model_of(store, g, known)
            for iri, labels in m.nodes.items():
                nodes[iri] |= labels
                props.setdefault(iri, {}).update(m.props.get(iri, {}))
            rels |= {(s, t, o, g) for s, t, o in m.rels}
        want_labels = Counter(lab for labels in nodes.values() for lab in labels)
        want_rels = Counter(t for _, t, _, _ in rels)
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
        rng = random.Random(seed)
        picked = rng.sample(sorted(nodes), min(sample, len(nodes)))
        found = {r["iri"]: r for r in self._run(
            "UNWIND $iris AS iri MATCH (n:Resource {iri: iri}) RETURN n.iri AS iri, labels(n) AS labels, properties(n) AS props",
            iris=picked)}
        for iri in picked:
            rec = found.get(iri)
            if rec is None:
                drift.append({"kind": "node", "name": iri, "store": "present", "projection": "missing"})
                continue
            if set(rec["labels"]) - {"Resource"} != nodes[iri]:
                drift.append({"kind": "node-labels", "name": iri, "store": sorted(nodes[iri]), "projection": sorted(set(rec["labels"]) - {"Resource"})})
            stored = {k: v for k, v in rec["props"].items() if k not in ("iri", "graphs")}
            if stored != props.get(iri, {}):
                drift.append({"kind": "node-properties", "name": iri, "store": props.get(iri, {}), "projection": stored})
        checkpoint = self.checkpoint(store)
        last = store.last_sequence()
        if checkpoint != last:
            drift.append({"kind": "checkpoint", "name": "change log", "store": last, "projection": checkpoint})
        return {
            "in_sync": not drift,
            "labels": dict(sorted(want_labels.items())),
            "relationships": dict(sorted(want_rels.items())),
            "sampled_nodes": len(picked),
            "drift": drift,
        }

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

"""The annotation service: every operation on annotations, each taking the caller's identity first.

Storage (ADR 0007): one named graph per annotation, written through the canonical store (so every
write is one transaction with its change-log entry, attributed to the caller's agent IRI):

- ``gg:annotation/<id>``          approved annotations, as the public may see them
                                  (:meth:`Annotation.public`): part of the public SPARQL dataset;
- ``gg:private/annotation-history/<id>``  the rest of an approved annotation: the history entries
                                  and reviewers' reasons the public does not see (its earlier drafts);
- ``gg:private/annotation/<id>``  drafts, submitted, rejected and deleted ones (tombstones), whole.

An approved annotation is the union of its two graphs. Every write rewrites all three graphs of
the annotation in ONE transaction (:meth:`OxigraphStore.replace_graphs`), so a status change that
crosses the line (approve, retract, delete of an approved one) never loses an annotation nor
leaves it in both places.

The ETag of an annotation is a hash of everything stored of it (:func:`annotation.rdf.digest`).
Who reads it gets what they may see: the full annotation for its creator, reviewers and admins,
:meth:`Annotation.public` for everybody else (``can_read_history``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from annotation import anchors
from annotation.errors import (
    AnnotationGoneError,
    AnnotationInUseError,
    AnnotationNotFoundError,
    InvalidReviewError,
    InvalidTransitionError,
    PreconditionFailedError,
    PreconditionRequiredError,
    TargetMismatchError,
)
from annotation.model import (
    AUTHORITY_BASE,
    CONTEXT_CHARS,
    ID_PATTERN,
    Anchor,
    AnchorState,
    Annotation,
    AnnotationCreate,
    AnnotationUpdate,
    Category,
    HistoryEntry,
    Reading,
    Relation,
    RelationCreate,
    Review,
    Status,
    TextTarget,
    agent_iri,
    annotation_iri,
    canonical_datetime,
    new_id,
    now_iso,
)
from annotation.policies import AnnotationPolicy, Identity
from annotation.rdf import digest, from_triples, to_triples
from kg.namespaces import BF, DCTERMS, GG, GUJI, ID, OA

PUBLIC_GRAPH_BASE = GG + "annotation/"
PRIVATE_GRAPH_BASE = GG + "private/annotation/"
HISTORY_GRAPH_BASE = GG + "private/annotation-history/"

_PREFIXES = f"PREFIX oa: <{OA}> PREFIX guji: <{GUJI}> PREFIX dcterms: <{DCTERMS}> PREFIX bf: <{BF}>\n"


def graph_iri(annotation_id: str, status: Status) -> str:
    return (PUBLIC_GRAPH_BASE if status is Status.APPROVED else PRIVATE_GRAPH_BASE) + annotation_id


def graphs_of(a: Annotation) -> dict[str, list[ox.Triple]]:
    """The graphs an annotation is stored in, for :meth:`OxigraphStore.replace_graphs` (an empty
    list empties a graph). Approved: the public view in the public graph, the rest in the history
    graph; otherwise everything in the private graph and no history graph."""
    everything = to_triples(a)
    history = HISTORY_GRAPH_BASE + a.id
    if a.status is not Status.APPROVED:
        return {graph_iri(a.id, a.status): everything, history: []}
    public = to_triples(a.public())
    shown = set(public)
    return {graph_iri(a.id, a.status): public, history: [t for t in everything if t not in shown]}


@dataclass
class Stored:
    """An annotation as read from the store, with where it lives and its ETag."""

    annotation: Annotation
    graph: str
    etag: str


@dataclass
class AnnotationFilter:
    target: str | None = None  # a juan, a digital copy (item) or a work IRI
    creator: str | None = None  # user name or agent IRI
    status: Sequence[Status] = ()
    anchor: Sequence[AnchorState] = ()
    category: Category | None = None
    project: str | None = None  # a project IRI (organisations/)

    def is_empty(self) -> bool:
        return not (self.target or self.creator or self.status or self.anchor or self.category or self.project)


@dataclass
class Page:
    total: int
    offset: int
    items: list[Stored]


@dataclass
class ReanchorReport:
    source: str
    checked: int = 0
    outcomes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # kind → [{id, reason, from, to}]

    def add(self, kind: str, entry: dict[str, Any]) -> None:
        self.outcomes.setdefault(kind, []).append(entry)

    def count(self, kind: str) -> int:
        return len(self.outcomes.get(kind, []))


def _diff(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = sorted(set(before) | set(after))
    changed = [k for k in keys if before.get(k) != after.get(k)]
    return {k: before[k] for k in changed if k in before}, {k: after[k] for k in changed if k in after}


def _matches(if_match: str, etag: str) -> bool:
    if if_match.strip() == "*":
        return True
    for candidate in if_match.split(","):
        c = candidate.strip()
        if c.startswith("W/"):
            continue  # If-Match uses the strong comparison (RFC 9110 13.1.1)
        if c.strip('"') == etag:
            return True
    return False


class AnnotationService:
    def __init__(self, store, *, context_chars: int = CONTEXT_CHARS, delegation=None) -> None:
        """``delegation(identity, source, project) -> (project IRI, organisation IRI) | None``: the
        project an annotation is made in and the organisation its creator acts for
        (:meth:`organisations.service.OrganisationService.delegation`); refuses a project the
        caller is not an annotator of or whose scope misses the text."""
        self.store = store
        self.delegation = delegation
        self.context_chars = context_chars
        self.policy = AnnotationPolicy
        self._lock = threading.RLock()

    # -- reading ------------------------------------------------------------------------------

    def _triples(self, graph: str) -> list[ox.Triple]:
        """Everything stored of the annotation in ``graph``: an approved one with its history graph."""
        triples = list(self.store.triples(graph))
        if triples and graph.startswith(PUBLIC_GRAPH_BASE):
            triples += self.store.triples(HISTORY_GRAPH_BASE + graph[len(PUBLIC_GRAPH_BASE):])
        return triples

    def _load(self, annotation_id: str) -> Stored | None:
        if not ID_PATTERN.match(annotation_id):
            return None
        found = []
        for base in (PUBLIC_GRAPH_BASE, PRIVATE_GRAPH_BASE):
            triples = self._triples(base + annotation_id)
            if triples:
                found.append(Stored(from_triples(annotation_id, triples), base + annotation_id, digest(triples)))
        if not found:
            return None
        return max(found, key=lambda s: s.annotation.revision)

    def _shown(self, identity: Identity, stored: Stored) -> Stored:
        """What this caller sees of an annotation: all of it, or the public view of an approved one."""
        a = stored.annotation
        if a.status is not Status.APPROVED or self.policy.allows("read_history", identity, a):
            return stored
        return Stored(a.public(), stored.graph, stored.etag)

    def _get_visible(self, identity: Identity, annotation_id: str) -> Stored:
        stored = self._load(annotation_id)
        if stored is None:
            raise AnnotationNotFoundError(f"no annotation {annotation_id}", id=annotation_id)
        if stored.annotation.status is Status.DELETED:
            raise AnnotationGoneError(f"annotation {annotation_id} was deleted", id=annotation_id)
        if not self.policy.allows("read", identity, stored.annotation):
            # not visible to this caller: say so without revealing that it exists
            raise AnnotationNotFoundError(f"no annotation {annotation_id}", id=annotation_id)
        return stored

    def get(self, identity: Identity, annotation_id: str) -> Stored:
        return self._shown(identity, self._get_visible(identity, annotation_id))

    def history(self, identity: Identity, annotation_id: str) -> list[HistoryEntry]:
        return self.get(identity, annotation_id).annotation.history

    def text_of(self, source: str) -> str:
        """The ``guji:text`` of a juan; TargetMismatchError when the IRI is not a juan with text."""
        rows = list(self.store.query(
            f"{_PREFIXES}SELECT ?t WHERE {{ GRAPH ?g {{ <{_iri(source)}> guji:text ?t }} }} LIMIT 1"))
        if not rows:
            raise TargetMismatchError(
                f"the target source <{source}> is not the text of a juan in this store (expected an IRI like "
                f"{ID}text/<work>/<edition>/<juan> that has guji:text)", field="target.source", source=source)
        return rows[0]["t"].value

    def juans_of(self, iri: str) -> list[str]:
        """The juans a scope IRI stands for: a juan itself, a digital copy's juans, or a work's juans."""
        iri = _iri(iri)
        rows = self.store.query(f"""{_PREFIXES}SELECT DISTINCT ?j WHERE {{
            {{ GRAPH ?g {{ <{iri}> guji:text ?t }} BIND(<{iri}> AS ?j) }}
            UNION {{ GRAPH ?g {{ ?j dcterms:isPartOf <{iri}> ; guji:text ?t }} }}
            UNION {{ GRAPH ?g {{ ?i bf:instanceOf <{iri}> . ?item bf:itemOf ?i . ?j dcterms:isPartOf ?item ; guji:text ?t }} }}
        }}""")
        return sorted(r["j"].value for r in rows)

    def _where(self, identity: Identity, flt: AnnotationFilter) -> str | None:
        """The WHERE clause selecting ?a (in ?g) for a filter and a caller; None when nothing can match."""
        conditions = [self.policy.read_filter(identity)]
        if flt.status:
            conditions.append("?status IN (" + ", ".join(f'"{s.value}"' for s in flt.status) + ")")
        else:
            conditions.append('?status != "deleted"')
        if flt.anchor:
            conditions.append("?anchor IN (" + ", ".join(f'"{s.value}"' for s in flt.anchor) + ")")
        if flt.creator:
            creator = flt.creator if flt.creator.startswith(("http://", "https://")) else agent_iri(flt.creator)
            conditions.append(f"?creator = <{_iri(creator)}>")
        extra = ""
        if flt.target:
            juans = self.juans_of(flt.target)
            if not juans:
                return None
            extra += "VALUES ?src { " + " ".join(f"<{j}>" for j in juans) + " } ?a oa:hasTarget ?t . ?t oa:hasSource ?src . "
        if flt.category:
            extra += f"?r guji:category <{flt.category.iri}> ; guji:readingRank ?rank . FILTER(STRSTARTS(STR(?r), STR(?a))) "
        if flt.project:
            conditions.append(f"?project = <{_iri(flt.project)}>")
        return f"""GRAPH ?g {{ ?a a oa:Annotation ; guji:reviewStatus ?status ; dcterms:creator ?creator ;
                guji:anchorState ?anchor . OPTIONAL {{ ?a guji:project ?project }} {extra}}}
            FILTER(STRSTARTS(STR(?g), "{PUBLIC_GRAPH_BASE}") || STRSTARTS(STR(?g), "{PRIVATE_GRAPH_BASE}"))
            FILTER({' && '.join(conditions)})"""

    def _matching(self, identity: Identity, flt: AnnotationFilter) -> list[tuple[str, str]]:
        """(annotation IRI, graph) of every readable match, oldest first.

        Sorted here, not with ORDER BY: Oxigraph's ORDER BY costs ~0.1 s per 2,000 rows, the sort
        in Python a millisecond; the ids are ULIDs, so IRI order is creation order.
        """
        where = self._where(identity, flt)
        if where is None:
            return []
        rows = self.store.query(f"{_PREFIXES}SELECT ?a ?g WHERE {{ {where} }}")
        return sorted({r["a"].value: r["g"].value for r in rows}.items())

    def count(self, identity: Identity, flt: AnnotationFilter | None = None) -> int:
        return len(self._matching(identity, flt or AnnotationFilter()))

    def list(self, identity: Identity, flt: AnnotationFilter | None = None, *, offset: int = 0,
             limit: int | None = 100) -> Page:
        """Readable annotations matching the filter, oldest first (ids are time-ordered)."""
        matches = self._matching(identity, flt or AnnotationFilter())
        window = matches[offset:] if limit is None else matches[offset:offset + limit]
        items = []
        for iri, graph in window:
            triples = self._triples(graph)
            items.append(self._shown(identity, Stored(from_triples(iri.rsplit("/", 1)[1], triples), graph, digest(triples))))
        return Page(len(matches), offset, items)

    def export(self, identity: Identity, scope: str | None = None, *, status: Sequence[Status] = ()) -> list[Annotation]:
        """Everything in a scope (a juan, a digital copy, a work, or all) the caller may export.

        The public exports approved annotations; reviewers and admins may ask for other statuses.
        """
        if status and set(status) != {Status.APPROVED}:
            self.policy.require("read_unapproved_exports", identity)
        flt = AnnotationFilter(target=scope, status=tuple(status) or (Status.APPROVED,))
        return [s.annotation for s in self.list(identity, flt, limit=None).items]

    # -- writing ------------------------------------------------------------------------------

    def _save(self, identity: Identity, annotation: Annotation, old_graph: str | None) -> Stored:
        graph = graph_iri(annotation.id, annotation.status)
        if annotation.relation is not None:
            self._state_entities(annotation)
        graphs: dict[str, Iterable[ox.Triple]] = dict(graphs_of(annotation))
        if old_graph and old_graph != graph:
            graphs[old_graph] = ()  # the move is one transaction: never lost, never in both graphs
        if annotation.relation is None:
            graphs.update(self._follow_relations(identity, annotation))  # in the same transaction
        self.store.replace_graphs(graphs, agent=identity.agent)
        return Stored(annotation, graph, digest(to_triples(annotation)))

    # -- relations (ADR 0022) -------------------------------------------------------------------------

    def _state_entities(self, rel: Annotation, changed: Annotation | None = None) -> None:
        """Fill in the entities an approved relation links (the authority records its two entity
        annotations identify); None for a relation that is not approved (nothing is stated then).
        ``changed`` is an entity annotation about to be written (read instead of the stored one)."""
        r = rel.relation
        if rel.status is not Status.APPROVED:
            r.head_entity = r.tail_entity = None
            return
        for role in ("head", "tail"):
            ref = getattr(r, role)
            end = changed if changed is not None and changed.id == ref else (self._load(ref) or _NONE).annotation
            setattr(r, f"{role}_entity", _entity_of(end))

    def relations_using(self, annotation_id: str) -> list[Stored]:
        """Relation annotations (not deleted) whose head or tail is this entity annotation."""
        iri = _iri(annotation_iri(annotation_id))
        rows = self.store.query(f"""{_PREFIXES}SELECT DISTINCT ?a WHERE {{ GRAPH ?g {{
              ?a guji:relationHead|guji:relationTail <{iri}> ; guji:reviewStatus ?status }}
            FILTER(?status != "deleted")
            FILTER(STRSTARTS(STR(?g), "{PUBLIC_GRAPH_BASE}") || STRSTARTS(STR(?g), "{PRIVATE_GRAPH_BASE}")) }}""")
        out = [self._load(r["a"].value.rsplit("/", 1)[-1]) for r in rows]
        return sorted((s for s in out if s is not None and s.annotation.status is not Status.DELETED),
                      key=lambda s: s.annotation.id)

    def _follow_relations(self, identity: Identity, entity: Annotation) -> dict[str, list[ox.Triple]]:
        """What an entity annotation's change does to the relations that link it, written in the
        same transaction: their copy of its span follows it (any status); an approved relation
        states the entities again (the authority record may have changed); and when the entity
        annotation is no longer approved (rejected, retracted) or identifies no authority record,
        an approved relation's approval is retracted with it — rejected, the reason in its history —
        so the public graph never holds an edge whose end is not approved."""
        writes: dict[str, list[ox.Triple]] = {}
        for stored in self.relations_using(entity.id):
            rel = stored.annotation
            role = "head" if rel.relation.head == entity.id else "tail"
            new = rel.model_copy(deep=True)
            if role == "head":
                new.target = entity.target.model_copy()
            else:
                new.relation.tail_target = entity.target.model_copy()
            now = now_iso()
            before, after = _diff(rel.content(), new.content())
            action, why = "update", f"entity annotation {entity.id} changed"
            if rel.status is Status.APPROVED and _entity_of(entity) is None:
                why = (f"its {role} annotation {entity.id} is {entity.status.value}" if entity.status is not Status.APPROVED
                       else f"its {role} annotation {entity.id} no longer identifies an authority record")
                new.status = Status.REJECTED
                new.review = Review(reviewer=identity.agent, at=now, decision="rejected", reason=why)
                action = "reject"
                before, after = {"status": rel.status.value}, {"status": new.status.value,
                                                              "review": new.review.model_dump(exclude_none=True)}
            self._state_entities(new, changed=entity)
            if action == "update":
                before, after = _diff(rel.content(), new.content())
                if not before and not after:
                    continue
            new.revision, new.modified = rel.revision + 1, now
            new.history = [*rel.history, HistoryEntry(sequence=len(rel.history) + 1, at=now, agent=identity.agent,
                                                      action=action, before=before, after=after, reason=why)]
            writes.update(graphs_of(new))
            if stored.graph != graph_iri(new.id, new.status):
                writes[stored.graph] = []
        return writes

    def _relation(self, identity: Identity, head_selection, data: RelationCreate) -> tuple[TextTarget, Relation]:
        """Resolve a relation's two ends: existing entity annotations the caller can see, on one juan;
        selectors given by the client must be the entity annotations' spans."""
        if data.head == data.tail:
            raise TargetMismatchError("a relation links two different entity annotations", field="target[1].guji:annotation")
        ends: dict[str, Annotation] = {}
        for i, (role, ref, sel) in enumerate((("head", data.head, head_selection), ("tail", data.tail, data.tail_target))):
            field = f"target[{i}]"
            stored = self._load(ref)
            if (stored is None or stored.annotation.status is Status.DELETED
                    or not self.policy.allows("read", identity, stored.annotation)):
                raise TargetMismatchError(f"the {role} of a relation must be an existing entity annotation: there is no "
                                          f"annotation {ref} you can see", field=f"{field}.guji:annotation", annotation=ref)
            end = stored.annotation
            if end.relation is not None:
                raise TargetMismatchError(f"the {role} {ref} is itself a relation: a relation links two entity annotations",
                                          field=f"{field}.guji:annotation", annotation=ref)
            if sel.source != end.target.source:
                raise TargetMismatchError(f"both ends of a relation are on one juan: the {role} annotation {ref} is on "
                                          f"<{end.target.source}>, not on <{sel.source}>",
                                          field=f"{field}.source", annotation=ref)
            for key in ("start", "end", "exact"):
                given = getattr(sel, key)
                if given is not None and given != getattr(end.target, key):
                    raise TargetMismatchError(
                        f"the {role} selectors must be the span of annotation {ref} ({end.target.start}–{end.target.end} "
                        f"「{end.target.exact}」): {key} is {given!r}", field=f"{field}.selector", annotation=ref)
            ends[role] = end
        if ends["head"].target.source != ends["tail"].target.source:
            raise TargetMismatchError(
                f"both ends of a relation are on one juan: the head is on <{ends['head'].target.source}>, the tail on "
                f"<{ends['tail'].target.source}>", field="target[1].guji:annotation")
        return ends["head"].target.model_copy(), Relation(type=data.type, head=data.head, tail=data.tail,
                                                          tail_target=ends["tail"].target.model_copy())

    def _check_relation_ends(self, a: Annotation) -> None:
        """Approving a relation needs both entity annotations approved and identifying an authority
        record (the edge links those records)."""
        for role in ("head", "tail"):
            ref = getattr(a.relation, role)
            stored = self._load(ref)
            end = stored.annotation if stored is not None else None
            if end is None or end.status is not Status.APPROVED:
                raise InvalidTransitionError(
                    f"can not approve relation {a.id}: its {role} annotation {ref} is "
                    f"{end.status.value if end else 'missing'}; approve the entity annotations first",
                    status=a.status.value, action="approve", annotation=ref)
            if _entity_of(end) is None:
                raise InvalidTransitionError(
                    f"can not approve relation {a.id}: its {role} annotation {ref} (「{end.target.exact}」) identifies no "
                    "authority record; link it to one first (the edge links authority records)",
                    status=a.status.value, action="approve", annotation=ref)

    def _require_writer(self, identity: Identity, action: str) -> None:
        """Who can never do this gets 401/403 before the annotation is even looked up."""
        self.policy.require_role(action, identity)

    @staticmethod
    def _check_if_match(if_match: str | None, stored: Stored, *, required: bool) -> None:
        if if_match is None:
            if required:
                raise PreconditionRequiredError(
                    f"send If-Match with the annotation's current ETag (\"{stored.etag}\") to change it",
                    id=stored.annotation.id, etag=stored.etag)
            return
        if not _matches(if_match, stored.etag):
            raise PreconditionFailedError(
                f"the annotation changed since you read it: If-Match {if_match} but its ETag is now \"{stored.etag}\"; "
                "GET it again, merge, and retry", id=stored.annotation.id, etag=stored.etag)

    def _readings(self, identity: Identity, readings: list[Reading]) -> list[Reading]:
        out = []
        for i, r in enumerate(readings):
            if r.provisional and not r.authority:
                if not r.label:
                    raise TargetMismatchError(
                        f"reading {i + 1}: creating an authority record on the spot needs its name (label)",
                        field=f"body[{i}].source.label")
                r = r.model_copy(update={"authority": f"{AUTHORITY_BASE}{r.category.value}/{new_id()}"})
            out.append(r)
        return out

    def create(self, identity: Identity, data: AnnotationCreate) -> Stored:
        self._require_writer(identity, "create")
        self.policy.require("create", identity)
        relation = None
        if data.relation is not None:
            target, relation = self._relation(identity, data.target, data.relation)
        else:
            target = anchors.resolve(self.text_of(data.target.source), data.target, n=self.context_chars)
        project = organisation = None
        if self.delegation is not None:
            project, organisation = self.delegation(identity, data.target.source, data.project) or (None, None)
        elif data.project:
            raise TargetMismatchError("this service has no annotation projects", field="guji:project")
        now = now_iso()
        annotation_id = new_id()
        a = Annotation(
            id=annotation_id, canonical=data.canonical or annotation_iri(annotation_id), creator=identity.agent,
            project=project, organisation=organisation, created=now, modified=now, status=Status.DRAFT, revision=1, target=target, image=data.image,
            readings=self._readings(identity, data.readings), note=data.note, certainty=data.certainty,
            relation=relation)
        a.history = [HistoryEntry(sequence=1, at=now, agent=identity.agent, action="create", after=a.content())]
        with self._lock:
            return self._save(identity, a, None)

    def update(self, identity: Identity, annotation_id: str, data: AnnotationUpdate, *, if_match: str | None) -> Stored:
        self._require_writer(identity, "update")
        with self._lock:
            stored = self._get_visible(identity, annotation_id)
            a = stored.annotation
            self.policy.require("update", identity, a)
            self._check_if_match(if_match, stored, required=True)
            if a.status is Status.SUBMITTED:
                raise InvalidTransitionError(
                    f"annotation {annotation_id} is awaiting review and can not be edited now: withdraw it first "
                    f"(POST /annotations/{annotation_id}/withdraw) or wait for the review", status=a.status.value)
            if data.target.source != a.target.source:
                raise TargetMismatchError(
                    f"an annotation stays on its text: the target source is <{a.target.source}>, not <{data.target.source}>; "
                    "create a new annotation for another text", field="target.source")
            if (a.relation is None) != (data.relation is None):
                raise TargetMismatchError(
                    "an annotation stays what it is: a relation is replaced by a relation, an entity annotation by an "
                    "entity annotation", field="motivation")
            relation = None
            if data.relation is not None:
                target, relation = self._relation(identity, data.target, data.relation)
            else:
                target = anchors.resolve(self.text_of(data.target.source), data.target, n=self.context_chars)
            readings = self._readings(identity, data.readings)
            new = a.model_copy(deep=True)
            new.target, new.image, new.readings, new.note, new.certainty = target, data.image, readings, data.note, data.certainty
            new.relation = relation
            if relation is not None and a.status is Status.APPROVED:
                self._check_relation_ends(new)
            if data.canonical:
                new.canonical = data.canonical
            before, after = a.content(), new.content()
            if a.canonical != new.canonical:
                before["canonical"], after["canonical"] = a.canonical, new.canonical
            if a.status is Status.REJECTED:
                new.status = Status.DRAFT  # a rejected annotation that is edited goes back to its creator's drafts
                before["status"], after["status"] = a.status.value, new.status.value
            if a.anchor.state is not AnchorState.OK:
                new.anchor = Anchor(state=AnchorState.OK, reason=f"confirmed by {identity.name}", at=now_iso())
                before["anchor"], after["anchor"] = a.anchor.model_dump(exclude_none=True), new.anchor.model_dump(exclude_none=True)
            before, after = _diff(before, after)
            if not before and not after:
                return stored  # nothing changed: no new version, no history entry
            return self._commit(identity, stored, new, "update", before, after)

    def _commit(self, identity: Identity, stored: Stored, new: Annotation, action: str,
                before: dict[str, Any] | None, after: dict[str, Any] | None, reason: str | None = None,
                at: str | None = None) -> Stored:
        now = at or now_iso()
        new.revision = stored.annotation.revision + 1
        new.modified = now
        new.history = [*stored.annotation.history, HistoryEntry(
            sequence=len(stored.annotation.history) + 1, at=now, agent=identity.agent, action=action,
            before=before, after=after, reason=reason)]
        return self._save(identity, new, stored.graph)

    def _transition(self, identity: Identity, annotation_id: str, action: str, allowed_from: tuple[Status, ...],
                    to: Status, *, if_match: str | None, reason: str | None = None, review: bool = False) -> Stored:
        self._require_writer(identity, "review" if review else action)
        with self._lock:
            stored = self._get_visible(identity, annotation_id)
            a = stored.annotation
            self.policy.require("review" if review else action, identity, a)
            self._check_if_match(if_match, stored, required=review)  # a review must say which version it judged
            if a.status not in allowed_from:
                raise InvalidTransitionError(
                    f"can not {action} annotation {annotation_id}: it is {a.status.value} "
                    f"({action} needs {' or '.join(s.value for s in allowed_from)})",
                    status=a.status.value, action=action)
            if a.relation is not None and to is Status.APPROVED:
                self._check_relation_ends(a)
            now = now_iso()
            new = a.model_copy(deep=True)
            new.status = to
            before: dict[str, Any] = {"status": a.status.value}
            after: dict[str, Any] = {"status": to.value}
            if review:
                new.review = Review(reviewer=identity.agent, at=now, decision=to.value, reason=reason)
                after["review"] = new.review.model_dump(exclude_none=True)
                if a.review is not None:
                    before["review"] = a.review.model_dump(exclude_none=True)
            return self._commit(identity, stored, new, action, before, after, reason, at=now)

    def submit(self, identity: Identity, annotation_id: str, *, if_match: str | None = None) -> Stored:
        return self._transition(identity, annotation_id, "submit", (Status.DRAFT, Status.REJECTED), Status.SUBMITTED,
                                if_match=if_match)

    def withdraw(self, identity: Identity, annotation_id: str, *, if_match: str | None = None) -> Stored:
        return self._transition(identity, annotation_id, "withdraw", (Status.SUBMITTED,), Status.DRAFT, if_match=if_match)

    def review(self, identity: Identity, annotation_id: str, decision: str, reason: str | None = None, *,
               if_match: str | None = "*") -> Stored:
        """Approve or reject a submitted annotation (a reviewer may also retract an approval: reject it).

        ``if_match`` is required like for an update (None: 428): over HTTP it is the If-Match header,
        so a reviewer always names the version they judged; in-process callers default to any version."""
        reason = (reason or "").strip() or None
        if decision in ("approve", "approved"):
            return self._transition(identity, annotation_id, "approve", (Status.SUBMITTED,), Status.APPROVED,
                                    if_match=if_match, reason=reason, review=True)
        if decision in ("reject", "rejected"):
            if not reason:
                raise InvalidReviewError("a rejection needs a reason the annotator can act on", field="reason")
            return self._transition(identity, annotation_id, "reject", (Status.SUBMITTED, Status.APPROVED), Status.REJECTED,
                                    if_match=if_match, reason=reason, review=True)
        raise InvalidReviewError(f"decision must be 'approve' or 'reject', got {decision!r}", field="decision")

    def delete(self, identity: Identity, annotation_id: str, *, if_match: str | None) -> Stored:
        """Delete = a tombstone in the private graph, history kept; the protocol answers 410 afterwards."""
        self._require_writer(identity, "delete")
        with self._lock:
            stored = self._get_visible(identity, annotation_id)
            a = stored.annotation
            self.policy.require("delete", identity, a)
            self._check_if_match(if_match, stored, required=True)
            if a.relation is None:
                users = self.relations_using(a.id)
                if users:
                    raise AnnotationInUseError(
                        f"annotation {annotation_id} is linked by {len(users)} relation annotation(s) "
                        f"({', '.join(u.annotation.id for u in users[:10])}): delete those first",
                        id=annotation_id, relations=[u.annotation.id for u in users])
            new = a.model_copy(deep=True)
            new.status = Status.DELETED
            return self._commit(identity, stored, new, "delete", {"status": a.status.value}, {"status": "deleted"})

    # -- text corrections ---------------------------------------------------------------------

    def reanchor(self, identity: Identity, source: str, old_text: str, new_text: str) -> ReanchorReport:
        """After the text of juan ``source`` changed from ``old_text`` to ``new_text``, re-anchor its
        annotations: carry over spans the edit did not touch, move uniquely found ones, flag the rest.
        Every change gets a history entry; all of them are written in one transaction."""
        self.policy.require("reanchor", identity)
        if old_text == new_text:
            return ReanchorReport(source)
        blocks = anchors.equal_blocks(old_text, new_text)
        return self._reanchor(identity, source, lambda t: anchors.reanchor(t, old_text, new_text, blocks, n=self.context_chars))

    def check_anchors(self, identity: Identity, source: str | None = None) -> list[ReanchorReport]:
        """Re-anchor against the *current* text when the old one is not at hand (a text replaced by an
        ingest that did not call :meth:`reanchor`). An annotation whose quote, prefix and suffix still
        stand at its offsets is left alone; any other is looked for by quote + prefix + suffix: moved
        when found once, flagged otherwise. ``source`` None checks every annotated juan."""
        self.policy.require("reanchor", identity)
        if source is None:
            rows = self.store.query(f"""{_PREFIXES}SELECT DISTINCT ?src WHERE {{ GRAPH ?g {{
                ?a a oa:Annotation ; guji:reviewStatus ?status ; oa:hasTarget ?t . ?t oa:hasSource ?src ; oa:hasSelector ?q .
                ?q a oa:TextQuoteSelector }} FILTER(?status != "deleted") }}""")
            sources = sorted(r["src"].value for r in rows)
        else:
            sources = [source]
        reports = []
        for src in sources:
            try:
                text = self.text_of(src)
            except TargetMismatchError:
                text = ""  # the text is gone: every quote is orphaned
            reports.append(self._reanchor(identity, src, lambda t, text=text: _check(t, text, self.context_chars)))
        return reports

    def _reanchor(self, identity: Identity, source: str, decide) -> ReanchorReport:
        report = ReanchorReport(source)
        now = now_iso()
        with self._lock:
            flt = AnnotationFilter(target=source, status=(Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.REJECTED))
            page = self.list(Identity.system(), flt, limit=None)
            writes: dict[str, Iterable[ox.Triple]] = {}
            for stored in page.items:
                a = stored.annotation
                if a.target.source != source:
                    continue
                report.checked += 1
                outcome = decide(a.target)
                if outcome.kind == "unchanged":
                    continue
                new = a.model_copy(deep=True)
                new.target = outcome.target
                if outcome.kind == "reanchored":
                    new.anchor = Anchor(state=AnchorState.REANCHORED, reason=outcome.reason, at=now)
                elif outcome.flagged and (a.anchor.state.value, a.anchor.reason) != (outcome.kind, outcome.reason):
                    new.anchor = Anchor(state=AnchorState(outcome.kind), reason=outcome.reason, at=now)
                before = {"target": a.target.model_dump()}
                after = {"target": new.target.model_dump()}
                if new.anchor != a.anchor:
                    before["anchor"], after["anchor"] = a.anchor.model_dump(exclude_none=True), new.anchor.model_dump(exclude_none=True)
                before, after = _diff(before, after)
                if not before and not after:
                    continue  # flagged again for the same reason: nothing new to record
                b_t, a_t = before.get("target"), after.get("target")
                if b_t and a_t:  # keep only the selector fields that changed
                    before["target"], after["target"] = _diff(b_t, a_t)
                new.revision = a.revision + 1
                new.modified = now
                new.history = [*a.history, HistoryEntry(sequence=len(a.history) + 1, at=now, agent=identity.agent,
                                                        action="reanchor", before=before, after=after, reason=outcome.reason)]
                writes.update(graphs_of(new))
                report.add(outcome.kind, {"id": a.id, "reason": outcome.reason,
                                          "from": [a.target.start, a.target.end], "to": [new.target.start, new.target.end],
                                          "candidates": outcome.candidates[:20]})
            if writes:
                self.store.replace_graphs(writes, agent=identity.agent)
        return report

    # -- export / import ----------------------------------------------------------------------

    def restore(self, identity: Identity, annotations: list[Annotation]) -> dict[str, int]:
        """Write annotations exactly as exported (ids, creators, status, history): a restore.

        Existing annotations with the same id are replaced by the imported version. Returns counts.
        """
        self.policy.require("import", identity)
        counts = {"created": 0, "replaced": 0, "unchanged": 0}
        with self._lock:
            graphs: dict[str, Iterable[ox.Triple]] = {}
            for a in annotations:
                a = _canonical_times(a)
                existing = self._load(a.id)
                triples = to_triples(a)
                graph = graph_iri(a.id, a.status)
                if existing is not None and existing.etag == digest(triples) and existing.graph == graph:
                    counts["unchanged"] += 1
                    continue
                counts["replaced" if existing else "created"] += 1
                graphs.update(graphs_of(a))
                if existing is not None and existing.graph != graph:
                    graphs[existing.graph] = ()
            if graphs:
                self.store.replace_graphs(graphs, agent=identity.agent)
        return counts


    def split_histories(self, identity: Identity) -> int:
        """Move what the public may not see (earlier drafts, reviewers' reasons) out of the public
        graphs of annotations approved before history graphs existed, into their history graphs.
        Idempotent; all in one transaction. Returns how many annotations were rewritten."""
        self.policy.require("import", identity)
        with self._lock:
            rows = self.store.query(f"""{_PREFIXES}SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?a a oa:Annotation }}
                FILTER(STRSTARTS(STR(?g), "{PUBLIC_GRAPH_BASE}")) }}""")
            writes: dict[str, Iterable[ox.Triple]] = {}
            moved = 0
            for g in sorted(r["g"].value for r in rows):
                stored = self._load(g[len(PUBLIC_GRAPH_BASE):])
                if stored is None or stored.graph != g:
                    continue
                graphs = graphs_of(stored.annotation)
                if digest(self.store.triples(g)) != digest(graphs[g]):
                    writes.update(graphs)
                    moved += 1
            if writes:
                self.store.replace_graphs(writes, agent=identity.agent)
        return moved


@dataclass
class _Missing:
    annotation: None = None


_NONE = _Missing()


def _entity_of(a: Annotation | None) -> str | None:
    """The authority record an approved entity annotation identifies (its preferred reading's)."""
    if a is None or a.status is not Status.APPROVED or not a.readings:
        return None
    return a.readings[0].authority


def _check(target, text: str, n: int) -> anchors.Outcome:
    """Against the current text only: still in place (quote and context) → unchanged; else search."""
    s, e = target.start, target.end
    if (text[s:e] == target.exact and text[max(0, s - len(target.prefix)):s] == target.prefix
            and text[e:e + len(target.suffix)] == target.suffix):
        return anchors.Outcome("unchanged", target)
    return anchors.reanchor(target, "", text, [], n=n)


def _canonical_times(a: Annotation) -> Annotation:
    a = a.model_copy(deep=True)
    a.created, a.modified = canonical_datetime(a.created), canonical_datetime(a.modified)
    for h in a.history:
        h.at = canonical_datetime(h.at)
    if a.review:
        a.review.at = canonical_datetime(a.review.at)
    if a.anchor.at:
        a.anchor.at = canonical_datetime(a.anchor.at)
    return a


def _iri(value: str) -> str:
    """An IRI safe to put between <> in SPARQL: one the store's own IRI parser takes (which refuses
    characters that would break out, controls and spaces included), never a query syntax error."""
    try:
        ox.NamedNode(value)
    except ValueError:
        raise TargetMismatchError(f"not a valid IRI: {value!r}", field="iri") from None
    return value

"""Annotations as RDF: the W3C ``oa:`` vocabulary plus ``guji:`` for review, anchors and history.

One annotation is one named graph (ADR 0007). Every node has a deterministic IRI under the
annotation's IRI (no blank nodes), so a rewrite of the graph is a cheap diff and the change log says
exactly what changed::

    A = id:annotation/<ULID>
    A a oa:Annotation ; oa:motivatedBy oa:identifying|oa:classifying ;
      dcterms:creator <agent> ; dcterms:created ; dcterms:modified ; oa:canonical <iri> ;
      oa:hasTarget A/target[, A/image] ; oa:hasBody A/reading/1 | A/choice ; [oa:hasBody A/note] ;
      guji:reviewStatus "approved" ; guji:certainty "uncertain" ; guji:revision 3 ;
      guji:anchorState "ok" [; guji:anchorReason ; guji:anchorCheckedAt] [; guji:review A/review] ;
      guji:history A/history/1, A/history/2 ...
    A/target a oa:SpecificResource ; oa:hasSource <juan> ; oa:hasSelector A/target/quote, A/target/position .
    A/target/quote a oa:TextQuoteSelector ; oa:exact ; oa:prefix ; oa:suffix .
    A/target/position a oa:TextPositionSelector ; oa:start ; oa:end .
    A/image a oa:SpecificResource ; oa:hasSource <canvas> [; oa:hasSelector A/image/region] .
    A/image/region a oa:FragmentSelector ; dcterms:conformsTo <http://www.w3.org/TR/media-frags/> ; rdf:value "xywh=…" .
    A/reading/N a oa:SpecificResource ; oa:hasSource <authority or category> ; oa:hasPurpose oa:identifying|oa:classifying ;
      guji:category <gujiv:entity-category/…> ; guji:readingRank N [; rdfs:label ; rdfs:comment ; guji:provisional true] .
    A/choice a oa:Choice ; as:items (A/reading/1 A/reading/2 …)   # competing readings, list nodes A/choice/list/N
    A/note a oa:TextualBody ; rdf:value "…" ; dc:format "text/plain" ; oa:hasPurpose oa:commenting .
    A/review guji:reviewer <agent> ; guji:decision "rejected" ; prov:atTime ; guji:reason "…" .
    A/history/N a guji:HistoryEntry ; guji:sequence N ; prov:atTime ; prov:wasAssociatedWith <agent> ;
      guji:action "update" ; guji:before "{…}"^^rdf:JSON ; guji:after "{…}"^^rdf:JSON [; guji:reason] .
    <authority created on the spot> a guji:AuthorityRecord ; rdfs:label ; guji:category ; dcterms:source A .
    <agent> a foaf:Person ; foaf:nick "name" .

A relation annotation (ADR 0022) links two entity annotations of one juan: no readings; its body
is the relation type (a guji: object property), its targets the two spans::

    A oa:motivatedBy oa:linking ; oa:hasTarget A/target, A/tail ; oa:hasBody A/relation ;
      guji:relationHead id:annotation/<head> ; guji:relationTail id:annotation/<tail> .
    A/target, A/tail   as A/target above (quote and position selectors: the entity annotations' spans)
    A/relation a oa:SpecificResource ; oa:hasSource guji:heldOffice ; oa:hasPurpose oa:classifying ; rdfs:label "任职" .
    <head entity> guji:heldOffice <tail entity> .   # only when approved: the statement itself

Writing is :func:`to_triples`; reading is :func:`decode` over :func:`index` of a graph, the one
decoder every reader uses (:func:`from_triples` for the service, the Neo4j and search projections).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from annotation.model import (
    Anchor,
    AnchorState,
    Annotation,
    Category,
    Certainty,
    HistoryEntry,
    ImageRegion,
    Reading,
    Relation,
    RelationType,
    Review,
    Status,
    TextTarget,
    agent_name,
    annotation_iri,
)
from kg.namespaces import DCTERMS, GUJI, OA, PROV, RDF, RDFS, XSD

AS = "http://www.w3.org/ns/activitystreams#"
FOAF = "http://xmlns.com/foaf/0.1/"
DC = "http://purl.org/dc/elements/1.1/"
MEDIA_FRAGMENTS = "http://www.w3.org/TR/media-frags/"

N = ox.NamedNode
_TYPE = N(RDF + "type")
_FIRST, _REST, _NIL = N(RDF + "first"), N(RDF + "rest"), N(RDF + "nil")
_JSON = N(RDF + "JSON")
_INT = N(XSD + "integer")
_BOOL = N(XSD + "boolean")
_DT = N(XSD + "dateTime")


def _p(ns: str, local: str) -> ox.NamedNode:
    return N(ns + local)


def _lit(value: str) -> ox.Literal:
    return ox.Literal(value)


def _int(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=_INT)


def _json(value: object) -> ox.Literal:
    return ox.Literal(json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")), datatype=_JSON)


def to_triples(a: Annotation) -> list[ox.Triple]:
    """The annotation graph (deterministic: the same annotation gives the same triples)."""
    A = N(a.iri)
    out: list[ox.Triple] = []

    def t(s: ox.NamedNode, p: ox.NamedNode, o: ox.NamedNode | ox.Literal) -> None:
        out.append(ox.Triple(s, p, o))

    t(A, _TYPE, _p(OA, "Annotation"))
    identifying = any(r.authority for r in a.readings)
    motivation = "linking" if a.relation is not None else "identifying" if identifying else "classifying"
    t(A, _p(OA, "motivatedBy"), _p(OA, motivation))
    creator = N(a.creator)
    t(A, _p(DCTERMS, "creator"), creator)
    t(creator, _TYPE, _p(FOAF, "Person"))
    t(creator, _p(FOAF, "nick"), _lit(agent_name(a.creator)))
    if a.organisation:  # in this annotation's graph: the creator acted for the organisation when making it
        t(creator, _p(PROV, "actedOnBehalfOf"), N(a.organisation))
        t(A, _p(PROV, "wasAttributedTo"), N(a.organisation))
    if a.project:
        t(A, _p(GUJI, "project"), N(a.project))
    t(A, _p(DCTERMS, "created"), ox.Literal(a.created, datatype=_DT))
    t(A, _p(DCTERMS, "modified"), ox.Literal(a.modified, datatype=_DT))
    t(A, _p(OA, "canonical"), N(a.canonical))
    t(A, _p(GUJI, "reviewStatus"), _lit(a.status.value))
    t(A, _p(GUJI, "certainty"), _lit(a.certainty.value))
    t(A, _p(GUJI, "revision"), _int(a.revision))
    t(A, _p(GUJI, "anchorState"), _lit(a.anchor.state.value))
    if a.anchor.reason:
        t(A, _p(GUJI, "anchorReason"), _lit(a.anchor.reason))
    if a.anchor.at:
        t(A, _p(GUJI, "anchorCheckedAt"), ox.Literal(a.anchor.at, datatype=_DT))
    if a.derived_from:
        t(A, _p(PROV, "wasDerivedFrom"), N(a.derived_from))

    # target (a relation: the head's span here, the tail's at A/tail)
    def span(node: str, target: TextTarget) -> None:
        T = N(node)
        t(A, _p(OA, "hasTarget"), T)
        t(T, _TYPE, _p(OA, "SpecificResource"))
        t(T, _p(OA, "hasSource"), N(target.source))
        Q, P = N(node + "/quote"), N(node + "/position")
        t(T, _p(OA, "hasSelector"), Q)
        t(T, _p(OA, "hasSelector"), P)
        t(Q, _TYPE, _p(OA, "TextQuoteSelector"))
        t(Q, _p(OA, "exact"), _lit(target.exact))
        t(Q, _p(OA, "prefix"), _lit(target.prefix))
        t(Q, _p(OA, "suffix"), _lit(target.suffix))
        t(P, _TYPE, _p(OA, "TextPositionSelector"))
        # xsd:integer, not xsd:nonNegativeInteger: the store keeps literals in canonical form, and the
        # written triples must equal the stored ones (diffs, ETags)
        t(P, _p(OA, "start"), _int(target.start))
        t(P, _p(OA, "end"), _int(target.end))

    span(a.iri + "/target", a.target)
    if a.relation is not None:
        rel = a.relation
        span(a.iri + "/tail", rel.tail_target)
        t(A, _p(GUJI, "relationHead"), N(annotation_iri(rel.head)))
        t(A, _p(GUJI, "relationTail"), N(annotation_iri(rel.tail)))
        B = N(a.iri + "/relation")
        t(A, _p(OA, "hasBody"), B)
        t(B, _TYPE, _p(OA, "SpecificResource"))
        t(B, _p(OA, "hasSource"), N(rel.type.iri))
        t(B, _p(OA, "hasPurpose"), _p(OA, "classifying"))
        t(B, _p(RDFS, "label"), _lit(rel.type.label))
        if a.status is Status.APPROVED and rel.head_entity and rel.tail_entity:
            t(N(rel.head_entity), N(rel.type.iri), N(rel.tail_entity))
    if a.image is not None:
        I = N(a.iri + "/image")
        t(A, _p(OA, "hasTarget"), I)
        t(I, _TYPE, _p(OA, "SpecificResource"))
        t(I, _p(OA, "hasSource"), N(a.image.source))
        if a.image.xywh:
            R = N(a.iri + "/image/region")
            t(I, _p(OA, "hasSelector"), R)
            t(R, _TYPE, _p(OA, "FragmentSelector"))
            t(R, _p(DCTERMS, "conformsTo"), N(MEDIA_FRAGMENTS))
            t(R, _p(RDF, "value"), _lit(a.image.xywh))

    # bodies: readings (a Choice when there are competing ones), note
    nodes = []
    for rank, r in enumerate(a.readings, 1):
        B = N(f"{a.iri}/reading/{rank}")
        nodes.append(B)
        t(B, _TYPE, _p(OA, "SpecificResource"))
        t(B, _p(OA, "hasSource"), N(r.authority or r.category.iri))
        t(B, _p(OA, "hasPurpose"), _p(OA, "identifying" if r.authority else "classifying"))
        t(B, _p(GUJI, "category"), N(r.category.iri))
        t(B, _p(GUJI, "readingRank"), _int(rank))
        if r.label is not None:
            t(B, _p(RDFS, "label"), _lit(r.label))
        if r.note is not None:
            t(B, _p(RDFS, "comment"), _lit(r.note))
        if r.provisional and r.authority:
            t(B, _p(GUJI, "provisional"), ox.Literal("true", datatype=_BOOL))
            auth = N(r.authority)
            t(auth, _TYPE, _p(GUJI, "AuthorityRecord"))
            t(auth, _p(GUJI, "category"), N(r.category.iri))
            if r.label is not None:
                t(auth, _p(RDFS, "label"), _lit(r.label))
            t(auth, _p(DCTERMS, "source"), A)
    if len(nodes) == 1:
        t(A, _p(OA, "hasBody"), nodes[0])
    elif nodes:
        C = N(a.iri + "/choice")
        t(A, _p(OA, "hasBody"), C)
        t(C, _TYPE, _p(OA, "Choice"))
        cells = [N(f"{a.iri}/choice/list/{i}") for i in range(1, len(nodes) + 1)]
        t(C, _p(AS, "items"), cells[0])
        for i, (cell, node) in enumerate(zip(cells, nodes)):
            t(cell, _FIRST, node)
            t(cell, _REST, cells[i + 1] if i + 1 < len(cells) else _NIL)
    if a.note is not None:
        NOTE = N(a.iri + "/note")
        t(A, _p(OA, "hasBody"), NOTE)
        t(NOTE, _TYPE, _p(OA, "TextualBody"))
        t(NOTE, _p(RDF, "value"), _lit(a.note))
        t(NOTE, _p(DC, "format"), _lit("text/plain"))
        t(NOTE, _p(OA, "hasPurpose"), _p(OA, "commenting"))

    if a.review is not None:
        RV = N(a.iri + "/review")
        t(A, _p(GUJI, "review"), RV)
        t(RV, _p(GUJI, "reviewer"), N(a.review.reviewer))
        t(RV, _p(GUJI, "decision"), _lit(a.review.decision))
        t(RV, _p(PROV, "atTime"), ox.Literal(a.review.at, datatype=_DT))
        if a.review.reason is not None:
            t(RV, _p(GUJI, "reason"), _lit(a.review.reason))

    for h in a.history:
        H = N(f"{a.iri}/history/{h.sequence}")
        t(A, _p(GUJI, "history"), H)
        t(H, _TYPE, _p(GUJI, "HistoryEntry"))
        t(H, _p(GUJI, "sequence"), _int(h.sequence))
        t(H, _p(PROV, "atTime"), ox.Literal(h.at, datatype=_DT))
        t(H, _p(PROV, "wasAssociatedWith"), N(h.agent))
        t(H, _p(GUJI, "action"), _lit(h.action))
        if h.before is not None:
            t(H, _p(GUJI, "before"), _json(h.before))
        if h.after is not None:
            t(H, _p(GUJI, "after"), _json(h.after))
        if h.reason is not None:
            t(H, _p(GUJI, "reason"), _lit(h.reason))
    return out


def digest(triples: Iterable[ox.Triple]) -> str:
    """A hash of the stored representation (sorted N-Triples): the annotation's ETag."""
    lines = sorted(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:32]


# -- reading: the one decoder of annotation graphs ------------------------------------------------
#
# Everything that reads an annotation graph from the store (the annotation service, the Neo4j and the
# search projections) goes through :func:`decode`: it gives a plain typed value, tolerant of what a
# hand-loaded graph may lack (``None`` where a value is missing or unusable), and the readers apply
# their own policy to it (the service builds the strict :class:`Annotation`; search keeps approved
# annotations with a reliable anchor; Neo4j links what it has nodes for).

#: subject IRI → predicate IRI → objects: one graph's triples, as :func:`index` builds it
Props = dict[str, dict[str, list[Any]]]  # objects: pyoxigraph terms

_ANNOTATION, _TYPE_IRI = OA + "Annotation", RDF + "type"
_SELECTOR_POSITION, _SELECTOR_QUOTE = OA + "TextPositionSelector", OA + "TextQuoteSelector"
_CHOICE, _TEXTUAL_BODY = OA + "Choice", OA + "TextualBody"
_ITEMS, _NIL_IRI = AS + "items", RDF + "nil"
_EMPTY: dict[str, list[Any]] = {}
# the predicates decode reads, concatenated once (it runs for every annotation a projection applies)
_HAS_TARGET, _HAS_SELECTOR, _HAS_SOURCE, _HAS_BODY, _HAS_PURPOSE, _CANONICAL = (
    OA + x for x in ("hasTarget", "hasSelector", "hasSource", "hasBody", "hasPurpose", "canonical"))
_START, _END, _EXACT, _PREFIX, _SUFFIX = (OA + x for x in ("start", "end", "exact", "prefix", "suffix"))
_REVIEW_STATUS, _CERTAINTY, _ANCHOR_STATE, _ANCHOR_REASON, _ANCHOR_CHECKED_AT, _PROJECT, _REVISION = (
    GUJI + x for x in ("reviewStatus", "certainty", "anchorState", "anchorReason", "anchorCheckedAt", "project", "revision"))
_CATEGORY, _READING_RANK, _PROVISIONAL, _RELATION_HEAD, _RELATION_TAIL = (
    GUJI + x for x in ("category", "readingRank", "provisional", "relationHead", "relationTail"))
_REVIEW, _REVIEWER, _DECISION, _REASON, _HISTORY, _SEQUENCE, _ACTION, _BEFORE, _AFTER = (
    GUJI + x for x in ("review", "reviewer", "decision", "reason", "history", "sequence", "action", "before", "after"))
_VALUE, _FIRST_IRI, _REST_IRI = (RDF + x for x in ("value", "first", "rest"))
_LABEL, _COMMENT = RDFS + "label", RDFS + "comment"
_AT_TIME, _WAS_ASSOCIATED_WITH, _ACTED_ON_BEHALF_OF, _WAS_DERIVED_FROM = (
    PROV + x for x in ("atTime", "wasAssociatedWith", "actedOnBehalfOf", "wasDerivedFrom"))
_CREATOR, _CREATED, _MODIFIED = (DCTERMS + x for x in ("creator", "created", "modified"))

#: what :func:`decode` reads of a target and a reading: the spans and what they name (search reads
#: only these from the store; review, history and provenance are not among them)
SPAN_AND_READING_PREDICATES = frozenset((
    _TYPE_IRI, _REVIEW_STATUS, _ANCHOR_STATE, _CERTAINTY, _HAS_TARGET, _HAS_SOURCE, _HAS_SELECTOR, _START, _END, _EXACT,
    _HAS_BODY, _ITEMS, _FIRST_IRI, _REST_IRI, _CATEGORY, _READING_RANK, _HAS_PURPOSE, _LABEL,
))


@dataclass(slots=True)
class SpanNode:
    """A text target (a juan span): the node, its source and its selectors' values."""

    node: str
    source: str | None
    start: int | None  # None: no TextPositionSelector, or not an integer
    end: int | None
    exact: str | None
    prefix: str | None = None
    suffix: str | None = None


@dataclass(slots=True)
class ImageNode:
    """An image target: the canvas and the region (``xywh=…``), if any."""

    node: str
    source: str | None
    xywh: str | None = None


@dataclass(slots=True)
class ReadingNode:
    """One reading (a body naming the span), in body order; ``competing``: one of an oa:Choice's items."""

    node: str
    category: str | None  # the category concept IRI (guji:category)
    source: str | None  # the authority record, or the category for a reading that only classifies
    purpose: str | None  # oa:identifying | oa:classifying (IRI)
    rank: int | None  # guji:readingRank, None when missing or not a number
    label: str | None = None
    comment: str | None = None
    provisional: bool = False
    competing: bool = False

    @property
    def entity(self) -> str | None:
        """The authority record it identifies (None for a reading that only classifies)."""
        return self.source if self.purpose == OA + "identifying" else None


@dataclass(slots=True)
class RelationNode:
    """The relation of a linking annotation (ADR 0022): its type, ends, and the statement it makes."""

    type: str | None
    label: str | None
    head: str | None  # the entity annotations' IRIs
    tail: str | None
    head_entity: str | None = None  # the stated <head entity> <type> <tail entity>, when approved
    tail_entity: str | None = None


@dataclass(slots=True)
class HistoryNode:
    sequence: int | None
    at: str | None
    agent: str | None
    action: str | None
    before: str | None  # JSON text (rdf:JSON), not parsed
    after: str | None
    reason: str | None = None


@dataclass(slots=True)
class ReviewNode:
    reviewer: str | None
    at: str | None
    decision: str | None
    reason: str | None = None


@dataclass(slots=True)
class DecodedAnnotation:
    """What one annotation graph says of one annotation, as stored (see the module docstring).
    Built by :func:`decode`; read it, do not change it."""

    iri: str
    status: str | None  # guji:reviewStatus
    certainty: str | None
    anchor_state: str | None
    spans: tuple[SpanNode, ...]  # text targets in store order: the annotation's span (a relation: and the tail's)
    readings: tuple[ReadingNode, ...]
    image: ImageNode | None = None
    note: str | None = None
    relation: RelationNode | None = None
    anchor_reason: str | None = None
    anchor_at: str | None = None
    creator: str | None = None
    organisation: str | None = None  # the creator's prov:actedOnBehalfOf
    project: str | None = None
    created: str | None = None
    modified: str | None = None
    canonical: str | None = None
    revision: str | None = None
    derived_from: str | None = None
    review: ReviewNode | None = None
    history: tuple[HistoryNode, ...] = ()

    @property
    def target(self) -> SpanNode | None:
        """The annotation's own span (a relation's head span)."""
        return next((s for s in self.spans if not s.node.endswith("/tail")), None)

    @property
    def tail(self) -> SpanNode | None:
        """A relation's tail span."""
        return next((s for s in self.spans if s.node.endswith("/tail")), None)


def index(triples: Iterable[ox.Triple | ox.Quad], predicates: frozenset[str] | None = None) -> Props:
    """``subject → predicate → objects`` of these triples (of one graph), optionally only ``predicates``."""
    props: Props = defaultdict(lambda: defaultdict(list))
    if predicates is None:
        for t in triples:
            props[t.subject.value][t.predicate.value].append(t.object)
    else:
        for t in triples:
            p = t.predicate.value
            if p in predicates:
                props[t.subject.value][p].append(t.object)
    return props


def _one(node: dict[str, list[Any]], p: str) -> str | None:
    """The value of a single-valued property (the least one, should a graph hold several)."""
    values = node.get(p)
    if not values:
        return None
    return values[0].value if len(values) == 1 else min(v.value for v in values)


def _int_or_none(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def annotations_in(props: Props) -> list[str]:
    """The IRIs typed ``oa:Annotation`` in a graph's index."""
    return [s for s, ps in props.items() if any(o.value == _ANNOTATION for o in ps.get(_TYPE_IRI, ()))]


_MAX_CHOICE = 100  # items read of one oa:Choice (a cyclic or endless list stops there)


def decode(props: Props, iri: str, *, record: bool = True) -> DecodedAnnotation | None:
    """The annotation ``iri`` as its graph states it, or None when the graph says nothing of it.

    ``record=False``: its content only — status, certainty, anchor state, spans, image, readings,
    note, relation —, what the projections read; review, history and provenance are left out (None).
    """
    A = props.get(iri)
    if not A:
        return None
    spans: list[SpanNode] = []
    image = None
    for t in A.get(_HAS_TARGET, ()):
        T = props.get(t.value, _EMPTY)
        start = end = exact = prefix = suffix = xywh = None
        text = False
        for sel in T.get(_HAS_SELECTOR, ()):
            S = props.get(sel.value, _EMPTY)
            types = {v.value for v in S.get(_TYPE_IRI, ())}
            if _SELECTOR_POSITION in types:
                text = True
                start, end = _int_or_none(_one(S, _START)), _int_or_none(_one(S, _END))
            elif _SELECTOR_QUOTE in types:
                text = True
                exact, prefix, suffix = _one(S, _EXACT), _one(S, _PREFIX), _one(S, _SUFFIX)
            elif xywh is None:
                xywh = _one(S, _VALUE)
        if text:
            spans.append(SpanNode(t.value, _one(T, _HAS_SOURCE), start, end, exact, prefix, suffix))
        elif image is None:
            image = ImageNode(t.value, _one(T, _HAS_SOURCE), xywh)

    readings: list[ReadingNode] = []
    note = relation_body = None
    for b in A.get(_HAS_BODY, ()):
        if b.value == iri + "/relation":
            relation_body = props.get(b.value, _EMPTY)
            continue
        B = props.get(b.value, _EMPTY)
        types = {v.value for v in B.get(_TYPE_IRI, ())}
        if _TEXTUAL_BODY in types:
            note = _one(B, _VALUE)
            continue
        cell = _one(B, _ITEMS)
        if cell is None and _CHOICE not in types:
            readings.append(_reading(b.value, B, False))
            continue
        n = 0
        while cell and cell != _NIL_IRI and n < _MAX_CHOICE:  # the readings of an oa:Choice, in list order
            C = props.get(cell, _EMPTY)
            first = _one(C, _FIRST_IRI)
            if first:
                readings.append(_reading(first, props.get(first, _EMPTY), True))
            cell, n = _one(C, _REST_IRI), n + 1

    relation = None
    head = _one(A, _RELATION_HEAD)
    if head is not None or relation_body is not None:
        rtype = _one(relation_body, _HAS_SOURCE) if relation_body else None
        head_entity = tail_entity = None
        if rtype is not None:  # the statement itself, when approved: <head entity> <type> <tail entity>
            head_entity, tail_entity = next(((s, ps[rtype][0].value) for s, ps in props.items() if ps.get(rtype)),
                                            (None, None))
        relation = RelationNode(type=rtype, label=_one(relation_body, _LABEL) if relation_body else None,
                                head=head, tail=_one(A, _RELATION_TAIL),
                                head_entity=head_entity, tail_entity=tail_entity)

    status, certainty, anchor_state = _one(A, _REVIEW_STATUS), _one(A, _CERTAINTY), _one(A, _ANCHOR_STATE)
    if not record:
        return DecodedAnnotation(iri, status, certainty, anchor_state, tuple(spans), tuple(readings), image, note, relation)
    review = None
    rv = _one(A, _REVIEW)
    if rv is not None:
        RV = props.get(rv, _EMPTY)
        review = ReviewNode(reviewer=_one(RV, _REVIEWER), at=_one(RV, _AT_TIME),
                            decision=_one(RV, _DECISION), reason=_one(RV, _REASON))
    history = []
    for h in A.get(_HISTORY, ()):
        H = props.get(h.value, _EMPTY)
        history.append(HistoryNode(
            sequence=_int_or_none(_one(H, _SEQUENCE)), at=_one(H, _AT_TIME),
            agent=_one(H, _WAS_ASSOCIATED_WITH), action=_one(H, _ACTION), before=_one(H, _BEFORE),
            after=_one(H, _AFTER), reason=_one(H, _REASON)))
    creator = _one(A, _CREATOR)
    return DecodedAnnotation(
        iri=iri, status=status, certainty=certainty, anchor_state=anchor_state, spans=tuple(spans),
        readings=tuple(readings), image=image, note=note, relation=relation, anchor_reason=_one(A, _ANCHOR_REASON),
        anchor_at=_one(A, _ANCHOR_CHECKED_AT), creator=creator,
        organisation=_one(props.get(creator, _EMPTY), _ACTED_ON_BEHALF_OF) if creator else None,
        project=_one(A, _PROJECT), created=_one(A, _CREATED), modified=_one(A, _MODIFIED),
        canonical=_one(A, _CANONICAL), revision=_one(A, _REVISION),
        derived_from=_one(A, _WAS_DERIVED_FROM), review=review,
        history=tuple(sorted(history, key=lambda h: (h.sequence is None, h.sequence or 0))))


def _reading(node: str, R: dict[str, list[Any]], competing: bool) -> ReadingNode:
    return ReadingNode(
        node=node, category=_one(R, _CATEGORY), source=_one(R, _HAS_SOURCE), purpose=_one(R, _HAS_PURPOSE),
        rank=_int_or_none(_one(R, _READING_RANK)), label=_one(R, _LABEL), comment=_one(R, _COMMENT),
        provisional=_one(R, _PROVISIONAL) == "true", competing=competing)


def from_triples(annotation_id: str, triples: Iterable[ox.Triple]) -> Annotation:
    """Read an annotation graph back (the inverse of :func:`to_triples`)."""
    iri = annotation_iri(annotation_id)
    d = decode(index(triples), iri)
    if d is None:
        raise KeyError(annotation_id)

    def text(span: SpanNode) -> TextTarget:
        return TextTarget(source=span.source, start=span.start, end=span.end, exact=span.exact,
                          prefix=span.prefix or "", suffix=span.suffix or "")

    relation = None
    if d.relation is not None and d.relation.head is not None and d.tail is not None:
        r = d.relation
        relation = Relation(type=RelationType.parse(r.type), head=r.head.rsplit("/", 1)[-1], tail=r.tail.rsplit("/", 1)[-1],
                            tail_target=text(d.tail), head_entity=r.head_entity, tail_entity=r.tail_entity)
    readings = sorted(d.readings, key=lambda r: r.rank or 0)
    return Annotation(
        id=annotation_id, canonical=d.canonical or iri, creator=d.creator, project=d.project,
        organisation=d.organisation, created=d.created, modified=d.modified, status=Status(d.status),
        revision=int(d.revision or 1), target=text(d.target) if d.target else None,
        image=ImageRegion(source=d.image.source, xywh=d.image.xywh) if d.image else None,
        readings=[Reading(category=Category.parse(r.category), authority=r.entity, label=r.label, note=r.comment,
                          provisional=r.provisional) for r in readings],
        note=d.note, certainty=Certainty(d.certainty or "certain"),
        review=Review(reviewer=d.review.reviewer, at=d.review.at, decision=d.review.decision,
                      reason=d.review.reason) if d.review else None,
        anchor=Anchor(state=AnchorState(d.anchor_state or "ok"), reason=d.anchor_reason, at=d.anchor_at),
        history=[HistoryEntry(sequence=h.sequence, at=h.at, agent=h.agent, action=h.action,
                              before=json.loads(h.before) if h.before is not None else None,
                              after=json.loads(h.after) if h.after is not None else None, reason=h.reason)
                 for h in d.history],
        relation=relation, derived_from=d.derived_from)

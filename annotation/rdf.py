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
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable

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


def from_triples(annotation_id: str, triples: Iterable[ox.Triple]) -> Annotation:
    """Read an annotation graph back (the inverse of :func:`to_triples`)."""
    props: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for tr in triples:
        props[tr.subject.value][tr.predicate.value].append(tr.object)
    iri = annotation_iri(annotation_id)
    A = props[iri]
    if not A:
        raise KeyError(annotation_id)

    def one(node: dict, ns: str, local: str, default=None):
        values = node.get(ns + local)
        return values[0].value if values else default

    target = image = tail = None
    for tnode in A[OA + "hasTarget"]:
        T = props[tnode.value]
        if tnode.value.endswith(("/target", "/tail")):
            Q, P = props[tnode.value + "/quote"], props[tnode.value + "/position"]
            span = TextTarget(
                source=one(T, OA, "hasSource"), start=int(one(P, OA, "start")), end=int(one(P, OA, "end")),
                exact=one(Q, OA, "exact"), prefix=one(Q, OA, "prefix", ""), suffix=one(Q, OA, "suffix", ""))
            if tnode.value.endswith("/tail"):
                tail = span
            else:
                target = span
        else:
            region = props.get(tnode.value + "/region")
            image = ImageRegion(source=one(T, OA, "hasSource"), xywh=one(region, RDF, "value") if region else None)

    relation = None
    head = one(A, GUJI, "relationHead")
    if head is not None and tail is not None:
        rtype = RelationType.parse(one(props[iri + "/relation"], OA, "hasSource"))
        stated = [(s, objs[0].value) for s, ps in props.items() for p, objs in ps.items() if p == rtype.iri and objs]
        relation = Relation(type=rtype, head=head.rsplit("/", 1)[-1], tail=one(A, GUJI, "relationTail").rsplit("/", 1)[-1],
                            tail_target=tail, head_entity=stated[0][0] if stated else None,
                            tail_entity=stated[0][1] if stated else None)

    readings: list[tuple[int, Reading]] = []
    note = None
    for bnode in A[OA + "hasBody"]:
        if bnode.value == iri + "/relation":
            continue
        B = props[bnode.value]
        types = {o.value for o in B.get(RDF + "type", [])}
        if OA + "TextualBody" in types:
            note = one(B, RDF, "value")
            continue
        members = [bnode.value]
        if OA + "Choice" in types:
            members, cell = [], one(B, AS, "items")
            while cell and cell != RDF + "nil":
                members.append(one(props[cell], RDF, "first"))
                cell = one(props[cell], RDF, "rest")
        for m in members:
            R = props[m]
            purpose = one(R, OA, "hasPurpose")
            readings.append((int(one(R, GUJI, "readingRank", 0)), Reading(
                category=Category.parse(one(R, GUJI, "category")),
                authority=one(R, OA, "hasSource") if purpose == OA + "identifying" else None,
                label=one(R, RDFS, "label"), note=one(R, RDFS, "comment"),
                provisional=one(R, GUJI, "provisional") == "true")))
    readings.sort(key=lambda x: x[0])

    review = None
    rv = one(A, GUJI, "review")
    if rv:
        RV = props[rv]
        review = Review(reviewer=one(RV, GUJI, "reviewer"), at=one(RV, PROV, "atTime"),
                        decision=one(RV, GUJI, "decision"), reason=one(RV, GUJI, "reason"))
    history = []
    for hnode in A.get(GUJI + "history", []):
        H = props[hnode.value]
        before, after = one(H, GUJI, "before"), one(H, GUJI, "after")
        history.append(HistoryEntry(
            sequence=int(one(H, GUJI, "sequence")), at=one(H, PROV, "atTime"), agent=one(H, PROV, "wasAssociatedWith"),
            action=one(H, GUJI, "action"), before=json.loads(before) if before is not None else None,
            after=json.loads(after) if after is not None else None, reason=one(H, GUJI, "reason")))
    history.sort(key=lambda h: h.sequence)
    return Annotation(
        id=annotation_id, canonical=one(A, OA, "canonical", iri), creator=one(A, DCTERMS, "creator"),
        project=one(A, GUJI, "project"), organisation=one(props[one(A, DCTERMS, "creator")], PROV, "actedOnBehalfOf"),
        created=one(A, DCTERMS, "created"), modified=one(A, DCTERMS, "modified"),
        status=Status(one(A, GUJI, "reviewStatus")), revision=int(one(A, GUJI, "revision", 1)),
        target=target, image=image, readings=[r for _, r in readings], note=note,
        certainty=Certainty(one(A, GUJI, "certainty", "certain")), review=review,
        anchor=Anchor(state=AnchorState(one(A, GUJI, "anchorState", "ok")), reason=one(A, GUJI, "anchorReason"),
                      at=one(A, GUJI, "anchorCheckedAt")),
        history=history, relation=relation, derived_from=one(A, PROV, "wasDerivedFrom"))

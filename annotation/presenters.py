"""Output shapes: W3C Web Annotation JSON-LD (annotations, collections, pages) and CSV.

The JSON-LD uses the W3C context plus a small guji context for what the model lacks (review
status, certainty, anchor state, history). :mod:`annotation.schemas` reads this very shape back,
so an export re-imports without loss.

An annotation's ``id`` is where the protocol serves it (``<base>annotations/<ULID>``); ``canonical``
is its stable IRI (``https://w3id.org/guji/id/annotation/<ULID>``) unless the client gave its own.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any

from annotation.model import Annotation, HistoryEntry, Reading, TextTarget, agent_name, annotation_iri
from kg.namespaces import GUJI, PROV

ANNO_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
LDP_CONTEXT = "http://www.w3.org/ns/ldp.jsonld"
PROFILE = ANNO_CONTEXT
MEDIA_TYPE = f'application/ld+json; profile="{PROFILE}"'
GUJI_CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "guji": GUJI,
    "guji:category": {"@type": "@id"},
    "guji:agent": {"@type": "@id"},
    "guji:reviewer": {"@type": "@id"},
    "guji:before": {"@type": "@json"},
    "guji:after": {"@type": "@json"},
    "guji:project": {"@type": "@id"},
    "prov": PROV,
    "prov:actedOnBehalfOf": {"@type": "@id"},
    "prov:wasDerivedFrom": {"@type": "@id"},
    "guji:annotation": {"@type": "@id"},
    "guji:entity": {"@type": "@id"},
}
CONTEXT = [ANNO_CONTEXT, GUJI_CONTEXT]
MEDIA_FRAGMENTS = "http://www.w3.org/TR/media-frags/"


def annotation_url(base: str, annotation_id: str) -> str:
    return f"{base.rstrip('/')}/annotations/{annotation_id}"


def _agent(iri: str) -> dict[str, str]:
    return {"id": iri, "type": "Person", "nickname": agent_name(iri)}


def _reading(r: Reading) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "SpecificResource"}
    if r.authority:
        out["purpose"] = "identifying"
        source: dict[str, Any] = {"id": r.authority}
        if r.label is not None:
            source["label"] = r.label
        if r.provisional:
            source["type"] = "guji:AuthorityRecord"
            source["guji:provisional"] = True
        out["source"] = source
    else:
        out["purpose"] = "classifying"
        out["source"] = r.category.iri
        if r.label is not None:
            out["label"] = r.label
    out["guji:category"] = r.category.iri
    if r.note is not None:
        out["guji:note"] = r.note
    return out


def _text_target(target: TextTarget) -> dict[str, Any]:
    # prefix/suffix always present (empty at the start/end of the text): W3C SHOULD, and a reader
    # never has to guess whether the context was left out or is empty
    quote = {"type": "TextQuoteSelector", "exact": target.exact, "prefix": target.prefix, "suffix": target.suffix}
    return {"type": "SpecificResource", "source": target.source,
            "selector": [quote, {"type": "TextPositionSelector", "start": target.start, "end": target.end}]}


def _history(h: HistoryEntry) -> dict[str, Any]:
    out: dict[str, Any] = {"guji:sequence": h.sequence, "guji:at": h.at, "guji:agent": h.agent, "guji:action": h.action}
    if h.before is not None:
        out["guji:before"] = h.before
    if h.after is not None:
        out["guji:after"] = h.after
    if h.reason is not None:
        out["guji:reason"] = h.reason
    return out


def annotation_jsonld(a: Annotation, base: str, *, context: bool = True, history: bool = True) -> dict[str, Any]:
    """One annotation as W3C JSON-LD (with our extensions under ``guji:``)."""
    doc: dict[str, Any] = {}
    if context:
        doc["@context"] = CONTEXT
    doc["id"] = annotation_url(base, a.id)
    doc["type"] = "Annotation"
    doc["canonical"] = a.canonical
    if a.relation is not None:
        doc["motivation"] = "linking"
    else:
        doc["motivation"] = "identifying" if any(r.authority for r in a.readings) else "classifying"
    doc["creator"] = _agent(a.creator)
    if a.organisation:
        doc["creator"]["prov:actedOnBehalfOf"] = a.organisation
    if a.project:
        doc["guji:project"] = a.project
    doc["created"] = a.created
    doc["modified"] = a.modified
    readings = [_reading(r) for r in a.readings]
    bodies: list[dict[str, Any]] = readings if len(readings) == 1 else [{"type": "Choice", "items": readings}]
    if a.relation is not None:
        bodies = [{"type": "SpecificResource", "purpose": "classifying", "source": a.relation.type.iri,
                   "label": a.relation.type.label, "guji:relationType": a.relation.type.value}]
    if a.note is not None:
        bodies.append({"type": "TextualBody", "value": a.note, "format": "text/plain", "purpose": "commenting"})
    doc["body"] = bodies[0] if len(bodies) == 1 else bodies
    text_target = _text_target(a.target)
    if a.relation is not None:  # the head's span and the tail's, each naming its entity annotation
        rel = a.relation
        tail = _text_target(rel.tail_target)
        for t, role, ref, entity in ((text_target, "head", rel.head, rel.head_entity), (tail, "tail", rel.tail, rel.tail_entity)):
            t["guji:role"] = role
            t["guji:annotation"] = annotation_iri(ref)
            if entity:
                t["guji:entity"] = entity
        doc["target"] = [text_target, tail]
    elif a.image is None:
        doc["target"] = text_target
    else:
        image: dict[str, Any] = {"type": "SpecificResource", "source": a.image.source}
        if a.image.xywh:
            image["selector"] = {"type": "FragmentSelector", "conformsTo": MEDIA_FRAGMENTS, "value": a.image.xywh}
        doc["target"] = [text_target, image]
    if a.derived_from:
        doc["prov:wasDerivedFrom"] = a.derived_from  # the annotation on another edition it was carried from
    doc["guji:status"] = a.status.value
    doc["guji:certainty"] = a.certainty.value
    doc["guji:revision"] = a.revision
    anchor: dict[str, Any] = {"guji:state": a.anchor.state.value}
    if a.anchor.reason:
        anchor["guji:reason"] = a.anchor.reason
    if a.anchor.at:
        anchor["guji:at"] = a.anchor.at
    doc["guji:anchor"] = anchor
    if a.review is not None:
        review: dict[str, Any] = {"guji:reviewer": a.review.reviewer, "guji:decision": a.review.decision, "guji:at": a.review.at}
        if a.review.reason is not None:
            review["guji:reason"] = a.review.reason
        doc["guji:review"] = review
    if history:
        doc["guji:history"] = [_history(h) for h in a.history]
    return doc


def history_json(entries: Iterable[HistoryEntry]) -> list[dict[str, Any]]:
    return [h.model_dump(mode="json") | {"agent_name": agent_name(h.agent)} for h in entries]


# -- containers ---------------------------------------------------------------------------------

def page_jsonld(*, page_id: str, container_id: str, total: int, start_index: int, items: list[Any],
                next_id: str | None, prev_id: str | None, embedded: bool = False) -> dict[str, Any]:
    """An AnnotationPage; ``items`` are annotation documents or IRIs (PreferContainedIRIs)."""
    doc: dict[str, Any] = {} if embedded else {"@context": ANNO_CONTEXT}
    doc["id"] = page_id
    doc["type"] = "AnnotationPage"
    if not embedded:
        doc["partOf"] = {"id": container_id, "type": "AnnotationCollection", "total": total}
    doc["startIndex"] = start_index
    if next_id:
        doc["next"] = next_id
    if prev_id:
        doc["prev"] = prev_id
    doc["items"] = items
    return doc


def collection_jsonld(*, container_id: str, label: str, total: int, first: Any, last: str | None,
                      modified: str | None = None) -> dict[str, Any]:
    """The container: an ldp:BasicContainer that is also an AnnotationCollection."""
    doc: dict[str, Any] = {"@context": [ANNO_CONTEXT, LDP_CONTEXT], "id": container_id,
                           "type": ["BasicContainer", "AnnotationCollection"], "label": label, "total": total}
    if modified:
        doc["modified"] = modified
    if first is not None:
        doc["first"] = first
    if last is not None:
        doc["last"] = last
    return doc


def export_jsonld(annotations: list[Annotation], base: str, *, collection_id: str, label: str) -> dict[str, Any]:
    """Everything in one document: an AnnotationCollection with one embedded page of full annotations."""
    page_id = collection_id + ("&" if "?" in collection_id else "?") + "page=0"
    items = [annotation_jsonld(a, base) for a in annotations]
    first = page_jsonld(page_id=page_id, container_id=collection_id, total=len(items), start_index=0, items=items,
                        next_id=None, prev_id=None, embedded=True)
    return collection_jsonld(container_id=collection_id, label=label, total=len(items),
                             first=first if items else None, last=page_id if items else None)


# -- CSV ------------------------------------------------------------------------------------------

CSV_COLUMNS = [
    "id", "canonical", "status", "creator", "created", "modified", "revision",
    "source", "start", "end", "exact", "prefix", "suffix",
    "reading", "readings", "category", "category_label", "authority", "label", "provisional", "reading_note",
    "certainty", "note", "image_source", "image_xywh",
    "anchor_state", "anchor_reason", "reviewer", "review_decision", "review_reason", "reviewed_at", "history",
    "organisation", "project",
    "relation", "relation_head", "relation_tail", "tail_start", "tail_end", "tail_exact",
    "derived_from",
]


def export_csv(annotations: Iterable[Annotation], base: str) -> str:
    """One row per reading (competing readings are rows 1..n of the same annotation), every field kept.
    A relation annotation is one row: its type (the property IRI), the two entity annotations'
    ids, the head's span in start/end/exact and the tail's in tail_*.

    UTF-8 with a byte-order mark, so spreadsheet programs open the Chinese text correctly; the
    history is a JSON array in its own column.
    """
    buf = io.StringIO()
    buf.write("\ufeff")
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    w.writeheader()
    for a in annotations:
        common = {
            "id": a.id, "canonical": a.canonical, "status": a.status.value, "creator": agent_name(a.creator),
            "created": a.created, "modified": a.modified, "revision": a.revision,
            "source": a.target.source, "start": a.target.start, "end": a.target.end, "exact": a.target.exact,
            "prefix": a.target.prefix, "suffix": a.target.suffix, "readings": len(a.readings),
            "certainty": a.certainty.value, "note": a.note or "",
            "image_source": a.image.source if a.image else "", "image_xywh": (a.image.xywh or "") if a.image else "",
            "anchor_state": a.anchor.state.value, "anchor_reason": a.anchor.reason or "",
            "reviewer": agent_name(a.review.reviewer) if a.review else "", "review_decision": a.review.decision if a.review else "",
            "review_reason": (a.review.reason or "") if a.review else "", "reviewed_at": a.review.at if a.review else "",
            "history": json.dumps([h.model_dump(mode="json", exclude_none=True) for h in a.history], ensure_ascii=False),
            "organisation": a.organisation or "", "project": a.project or "",
            "derived_from": a.derived_from or "",
        }
        if a.relation is not None:
            rel = a.relation
            w.writerow(common | {"relation": rel.type.iri, "relation_head": rel.head, "relation_tail": rel.tail,
                                 "tail_start": rel.tail_target.start, "tail_end": rel.tail_target.end,
                                 "tail_exact": rel.tail_target.exact, "category_label": rel.type.label})
        for rank, r in enumerate(a.readings, 1):
            w.writerow(common | {"reading": rank, "category": r.category.iri, "category_label": r.category.label,
                                 "authority": r.authority or "", "label": r.label or "",
                                 "provisional": "true" if r.provisional else "", "reading_note": r.note or ""})
    return buf.getvalue()

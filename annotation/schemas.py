"""Input: W3C Web Annotation JSON-LD → :class:`AnnotationCreate` / :class:`Annotation`.

Accepted shape (what :mod:`annotation.presenters` writes, and what a client writes by hand):

- ``target``: a SpecificResource whose ``source`` is a juan IRI, with a TextQuoteSelector and/or a
  TextPositionSelector (a list of selectors); optionally a second SpecificResource on a IIIF canvas
  with a FragmentSelector ``xywh=…``;
- ``body``: one reading, or several as ``{"type": "Choice", "items": [...]}`` (competing readings,
  preferred first), plus an optional TextualBody (the note). A reading is a SpecificResource with
  ``guji:category`` (concept IRI, key, notation or 人名/地名/…); ``purpose: identifying`` and a
  ``source`` naming the authority record — ``{"id": IRI, "label": …}``, or ``{"label": "…"}`` without
  an id to create the record on the spot; ``purpose: classifying`` with the category as ``source``
  when there is no authority record yet;
- ``guji:certainty``: ``certain`` | ``uncertain`` (存疑); ``canonical`` is kept.

A relation between two entity annotations (ADR 0022) has ``motivation: "linking"``; its ``body``
is one SpecificResource whose ``source`` is the relation type (the guji: property IRI, its local
name, or the CHisIEC name 任职 上下级 …); its ``target`` is two SpecificResources on one juan, each
with ``guji:role`` (``head`` / ``tail``) and ``guji:annotation`` (the entity annotation: its id,
canonical IRI or URL); selectors are optional there (the server copies the entity annotations'
spans) and, when given, must be those spans.

Server-managed keys (``id``, ``creator``, ``created``, ``guji:status``, ``guji:history`` …) are
ignored on create/update, and read by :func:`parse_stored` when restoring an export.
Every problem is a 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError as PydanticValidationError

from annotation.errors import InvalidAnnotationError
from annotation.model import (
    Anchor,
    Annotation,
    AnnotationCreate,
    Category,
    HistoryEntry,
    ID_PATTERN,
    ImageRegion,
    Reading,
    Relation,
    RelationCreate,
    RelationType,
    Review,
    TextSelection,
    TextTarget,
    agent_iri,
    is_absolute_iri,
)
from annotation.presenters import ANNO_CONTEXT, MEDIA_FRAGMENTS
from kg.iri import iri_problem

_TEXT_SELECTORS = {"TextQuoteSelector", "TextPositionSelector"}


def _err(message: str, field: str) -> InvalidAnnotationError:
    return InvalidAnnotationError(message, field=field)


def _types(node: Any) -> set[str]:
    if not isinstance(node, dict):
        return set()
    t = node.get("type", node.get("@type"))
    values = t if isinstance(t, list) else [t]
    out = set()
    for v in values:
        if isinstance(v, str):
            out.add(v.rsplit("#", 1)[-1].removeprefix("oa:"))
    return out


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _str(node: dict, key: str, field: str, *, required: bool = False) -> str | None:
    value = node.get(key)
    if value is None:
        if required:
            raise _err(f"{field} is missing", field)
        return None
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, dict) and "@value" in value:
        value = value["@value"]
    if not isinstance(value, str):
        raise _err(f"{field} must be a string", field)
    return value


def _int(node: dict, key: str, field: str) -> int | None:
    value = node.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.isdigit():
            return int(value)
        raise _err(f"{field} must be a non-negative integer (Unicode code points)", field)
    return value


def _source_iri(value: Any, field: str) -> str:
    if isinstance(value, dict):
        value = value.get("id", value.get("@id"))
    if not isinstance(value, str) or not is_absolute_iri(value):
        problem = iri_problem(value) if isinstance(value, str) else "it is not a string"
        raise _err(f"{field} must be an absolute http(s) or urn IRI: {problem}", field)
    return value


def _check_context(doc: dict) -> None:
    ctx = doc.get("@context")
    values = ctx if isinstance(ctx, list) else [ctx]
    if ANNO_CONTEXT not in values and "https://www.w3.org/ns/anno.jsonld" not in values:
        raise _err(f"@context must include {ANNO_CONTEXT}", "@context")
    if "Annotation" not in _types(doc):
        raise _err('type must be "Annotation"', "type")


def _targets(doc: dict) -> tuple[TextSelection, ImageRegion | None]:
    if "target" not in doc:
        raise _err("an annotation needs a target: a span of a juan's text", "target")
    text: TextSelection | None = None
    image: ImageRegion | None = None
    for i, t in enumerate(_list(doc["target"])):
        field = f"target[{i}]"
        if not isinstance(t, dict):
            raise _err(f"{field} must be a SpecificResource with a source and selectors (TextQuoteSelector, "
                       "TextPositionSelector), not a bare IRI", field)
        source = _source_iri(t.get("source"), f"{field}.source")
        selectors = _list(t.get("selector"))
        kinds = {k for s in selectors for k in _types(s)}
        if kinds & _TEXT_SELECTORS:
            if text is not None:
                raise _err("an annotation has one text span; give other spans their own annotations", field)
            fields: dict[str, Any] = {"source": source}
            for j, s in enumerate(selectors):
                sf = f"{field}.selector[{j}]"
                if "TextQuoteSelector" in _types(s):
                    fields["exact"] = _str(s, "exact", f"{sf}.exact", required=True)
                    fields["prefix"] = _str(s, "prefix", f"{sf}.prefix")
                    fields["suffix"] = _str(s, "suffix", f"{sf}.suffix")
                    if fields["exact"] == "":
                        raise _err("the TextQuoteSelector exact is empty", f"{sf}.exact")
                elif "TextPositionSelector" in _types(s):
                    fields["start"] = _int(s, "start", f"{sf}.start")
                    fields["end"] = _int(s, "end", f"{sf}.end")
                    if fields["start"] is None or fields["end"] is None:
                        raise _err("a TextPositionSelector needs start and end", sf)
                    if fields["start"] < 0 or fields["end"] < 0:
                        raise _err("TextPositionSelector offsets are non-negative code points", sf)
                else:
                    raise _err(f"unsupported selector {sorted(_types(s))} on a text target: use TextQuoteSelector "
                               "and TextPositionSelector", sf)
            text = TextSelection(**fields)
        elif "FragmentSelector" in kinds or not selectors:
            if image is not None:
                raise _err("at most one image region per annotation", field)
            xywh = None
            for j, s in enumerate(selectors):
                if "FragmentSelector" not in _types(s):
                    raise _err("an image target uses one FragmentSelector (Media Fragments xywh=…)", f"{field}.selector[{j}]")
                conforms = s.get("conformsTo")
                if conforms not in (None, MEDIA_FRAGMENTS):
                    raise _err(f"FragmentSelector conformsTo must be {MEDIA_FRAGMENTS}", f"{field}.selector[{j}].conformsTo")
                xywh = _str(s, "value", f"{field}.selector[{j}].value", required=True)
            try:
                image = ImageRegion(source=source, xywh=xywh)
            except PydanticValidationError as exc:
                raise _err(exc.errors()[0]["msg"].removeprefix("Value error, "), field) from None
        else:
            raise _err(f"unsupported selectors {sorted(kinds)}", f"{field}.selector")
    if text is None:
        raise _err("the target needs a span of a juan's text (a SpecificResource with TextQuoteSelector and/or "
                   "TextPositionSelector)", "target")
    return text, image


def _is_category(value: str, category: Category) -> bool:
    try:
        return Category.parse(value) is category
    except ValueError:
        return False


def _reading(node: Any, field: str) -> Reading:
    if isinstance(node, str):
        try:
            return Reading(category=Category.parse(node))
        except ValueError:
            raise _err(f"{field}: a bare IRI body must be a category concept; link an authority record with "
                       '{"type": "SpecificResource", "purpose": "identifying", "source": IRI, "guji:category": …}', field) from None
    if not isinstance(node, dict):
        raise _err(f"{field} must be an object", field)
    purpose = node.get("purpose")
    if isinstance(purpose, list):
        purpose = purpose[0] if len(purpose) == 1 else None
    source = node.get("source")
    category_value = node.get("guji:category")
    if isinstance(category_value, dict):
        category_value = category_value.get("id", category_value.get("@id"))
    if category_value is None and isinstance(source, str) and purpose in (None, "classifying", "tagging"):
        category_value = source
    if category_value is None:
        raise _err(f"{field} needs guji:category (one of 人名 地名 職官 年號 書名 事件, or its concept IRI)", f"{field}.guji:category")
    try:
        category = Category.parse(str(category_value))
    except ValueError as exc:
        raise _err(f"{field}: {exc}", f"{field}.guji:category") from None
    authority, label, provisional = None, _str(node, "label", f"{field}.label"), False
    if isinstance(source, dict):
        sid = source.get("id", source.get("@id"))
        label = _str(source, "label", f"{field}.source.label") or label
        if sid is None:
            if not label:
                raise _err(f"{field}.source: to create an authority record on the spot give its name as label", f"{field}.source.label")
            provisional = True
        else:
            authority = _source_iri(sid, f"{field}.source.id")
            provisional = source.get("guji:provisional") is True
    elif isinstance(source, str):
        if not _is_category(source, category):
            authority = _source_iri(source, f"{field}.source")
    elif source is not None:
        raise _err(f"{field}.source must be an IRI or an object", f"{field}.source")
    note = _str(node, "guji:note", f"{field}.guji:note")
    try:
        return Reading(category=category, authority=authority, label=label, provisional=provisional, note=note)
    except PydanticValidationError as exc:
        raise _err(f"{field}: {exc.errors()[0]['msg'].removeprefix('Value error, ')}", field) from None


def _bodies(doc: dict) -> tuple[list[Reading], str | None]:
    if "bodyValue" in doc:
        raise _err("bodyValue carries no category: give a body with guji:category (and a TextualBody for a note)", "bodyValue")
    if "body" not in doc:
        raise _err("an annotation needs a body: at least one reading with guji:category", "body")
    readings: list[Reading] = []
    note = None
    for i, b in enumerate(_list(doc["body"])):
        field = f"body[{i}]"
        kinds = _types(b)
        if "TextualBody" in kinds or (isinstance(b, dict) and "value" in b and "source" not in b):
            if note is not None:
                raise _err("at most one note (TextualBody) per annotation", field)
            note = _str(b, "value", f"{field}.value", required=True)
        elif "Choice" in kinds:
            items = _list(b.get("items"))
            if not items:
                raise _err("a Choice of readings needs items", f"{field}.items")
            readings += [_reading(item, f"{field}.items[{j}]") for j, item in enumerate(items)]
        else:
            readings.append(_reading(b, field))
    if not readings:
        raise _err("the body needs at least one reading with guji:category", "body")
    if len(readings) > 20:
        raise _err("at most 20 competing readings", "body")
    return readings, note


def _motivation(doc: dict) -> str | None:
    m = doc.get("motivation")
    if isinstance(m, list) and len(m) == 1:
        m = m[0]
    return m.removeprefix("oa:") if isinstance(m, str) else None


def _annotation_ref(value: Any, field: str) -> str:
    if isinstance(value, dict):
        value = value.get("id", value.get("@id"))
    if not isinstance(value, str) or not value.strip():
        raise _err(f"{field}: name the entity annotation (its id, canonical IRI or URL)", field)
    last = value.strip().rstrip("/").rsplit("/", 1)[-1]
    if not ID_PATTERN.match(last):
        raise _err(f"{field}: {value!r} does not name an annotation (…/annotation/<ULID> or …/annotations/<ULID>)", field)
    return last


def _relation(doc: dict) -> tuple[TextSelection, RelationCreate, str | None]:
    """A relation annotation's targets and body → (head selection, relation, note)."""
    if "target" not in doc:
        raise _err("a relation needs two targets: the head and the tail entity annotations", "target")
    ends: dict[str, tuple[TextSelection, str]] = {}
    targets = _list(doc["target"])
    if len(targets) != 2:
        raise _err(f"a relation has exactly two targets (head and tail), got {len(targets)}", "target")
    for i, t in enumerate(targets):
        field = f"target[{i}]"
        if not isinstance(t, dict):
            raise _err(f"{field} must be a SpecificResource with guji:role and guji:annotation", field)
        role = t.get("guji:role")
        if role not in ("head", "tail"):
            raise _err(f"{field}.guji:role must be 'head' or 'tail'", f"{field}.guji:role")
        if role in ends:
            raise _err(f"two targets are the {role}: one is the head, the other the tail", f"{field}.guji:role")
        ref = _annotation_ref(t.get("guji:annotation"), f"{field}.guji:annotation")
        one = {k: v for k, v in t.items() if k not in ("guji:role", "guji:annotation", "guji:entity")}
        if one.get("selector") is None:
            selection = TextSelection(source=_source_iri(t.get("source"), f"{field}.source"))
        else:
            try:
                selection, _ = _targets({"target": one})
            except InvalidAnnotationError as exc:  # name this target, not the one-target document's
                where = str(exc.details.get("field", "target")).replace("target[0]", field, 1)
                raise _err(exc.message.replace("target[0]", field), where) from None
        ends[role] = (selection, ref)
    bodies = [b for b in _list(doc.get("body")) if not ("TextualBody" in _types(b))]
    notes = [b for b in _list(doc.get("body")) if "TextualBody" in _types(b)]
    if len(bodies) != 1:
        raise _err("a relation has one body: the relation type (SpecificResource with source 任职, 上下级 … or its IRI)", "body")
    body = bodies[0]
    value = body if isinstance(body, str) else body.get("source", body.get("guji:relationType")) if isinstance(body, dict) else None
    if isinstance(value, dict):
        value = value.get("id", value.get("@id"))
    if not isinstance(value, str):
        raise _err("the relation body needs a source: the relation type", "body.source")
    try:
        rtype = RelationType.parse(value)
    except ValueError as exc:
        raise _err(str(exc), "body.source") from None
    if len(notes) > 1:
        raise _err("at most one note (TextualBody) per annotation", "body")
    note = _str(notes[0], "value", "body.value", required=True) if notes else None
    head, tail = ends["head"], ends["tail"]
    return head[0], RelationCreate(type=rtype, head=head[1], tail=tail[1], tail_target=tail[0]), note


def parse_annotation(doc: Any) -> AnnotationCreate:
    """A client's annotation (POST/PUT body) → AnnotationCreate. Server-managed keys are ignored."""
    if not isinstance(doc, dict):
        raise _err("the request body must be one JSON-LD annotation object", "body")
    _check_context(doc)
    relation, image, readings = None, None, []
    if _motivation(doc) == "linking":  # a relation between two entity annotations (ADR 0022)
        text, relation, note = _relation(doc)
    else:
        text, image = _targets(doc)
        readings, note = _bodies(doc)
    certainty = doc.get("guji:certainty", "certain")
    if certainty == "存疑":
        certainty = "uncertain"
    if certainty not in ("certain", "uncertain"):
        raise _err("guji:certainty must be 'certain' or 'uncertain' (存疑)", "guji:certainty")
    canonical = doc.get("canonical")
    if canonical is not None and (not isinstance(canonical, str) or not is_absolute_iri(canonical)):
        problem = (iri_problem(canonical) or "it is not absolute") if isinstance(canonical, str) else "it is not a string"
        raise _err(f"canonical must be an absolute http(s) or urn IRI: {problem}", "canonical")
    project = doc.get("guji:project")
    if project is not None and (not isinstance(project, str) or not project.strip() or len(project) > 300):
        raise _err("guji:project must be a project id or IRI (a string)", "guji:project")
    return AnnotationCreate(target=text, image=image, readings=readings, note=note, certainty=certainty, canonical=canonical,
                            project=project, relation=relation)


def annotation_id_from(doc: dict) -> str | None:
    """The ULID in a document's ``id`` (``…/annotations/<ULID>``), or None."""
    value = doc.get("id")
    if not isinstance(value, str):
        return None
    last = value.rstrip("/").rsplit("/", 1)[-1]
    return last if ID_PATTERN.match(last) else None


def parse_stored(doc: Any) -> Annotation:
    """A full annotation as exported by guji → Annotation (for restore: nothing dropped)."""
    created = parse_annotation(doc)
    annotation_id = annotation_id_from(doc)
    if annotation_id is None:
        raise _err("an exported annotation needs its id (…/annotations/<ULID>)", "id")
    try:
        sel = created.target
        target = TextTarget(source=sel.source, start=sel.start, end=sel.end, exact=sel.exact,
                            prefix=sel.prefix or "", suffix=sel.suffix or "")
    except PydanticValidationError:
        raise _err("an exported annotation has both selectors (TextQuoteSelector and TextPositionSelector)", "target") from None
    creator = doc.get("creator")
    creator_iri = creator.get("id") if isinstance(creator, dict) else creator
    if not isinstance(creator_iri, str):
        raise _err("an exported annotation needs its creator", "creator")
    if not is_absolute_iri(creator_iri):
        creator_iri = agent_iri(creator_iri)
    relation = None
    if created.relation is not None:
        rc = created.relation
        ts = rc.tail_target
        try:
            tail = TextTarget(source=ts.source, start=ts.start, end=ts.end, exact=ts.exact, prefix=ts.prefix or "",
                              suffix=ts.suffix or "")
        except PydanticValidationError:
            raise _err("an exported relation has both selectors on its tail", "target") from None
        entities = {t.get("guji:role"): t.get("guji:entity") for t in _list(doc.get("target")) if isinstance(t, dict)}
        relation = Relation(type=rc.type, head=rc.head, tail=rc.tail, tail_target=tail,
                            head_entity=entities.get("head"), tail_entity=entities.get("tail"))
    anchor = doc.get("guji:anchor") or {}
    review = doc.get("guji:review")
    try:
        return Annotation(
            id=annotation_id, canonical=doc.get("canonical") or created.canonical, creator=creator_iri,
            project=doc.get("guji:project"), organisation=creator.get("prov:actedOnBehalfOf") if isinstance(creator, dict) else None,
            created=doc["created"], modified=doc["modified"], status=doc["guji:status"],
            revision=int(doc.get("guji:revision", 1)), target=target, image=created.image, readings=created.readings,
            note=created.note, certainty=created.certainty,
            review=Review(reviewer=review["guji:reviewer"], at=review["guji:at"], decision=review["guji:decision"],
                          reason=review.get("guji:reason")) if review else None,
            anchor=Anchor(state=anchor.get("guji:state", "ok"), reason=anchor.get("guji:reason"), at=anchor.get("guji:at")),
            history=[HistoryEntry(sequence=h["guji:sequence"], at=h["guji:at"], agent=h["guji:agent"], action=h["guji:action"],
                                  before=h.get("guji:before"), after=h.get("guji:after"), reason=h.get("guji:reason"))
                     for h in doc.get("guji:history", [])], relation=relation,
            derived_from=doc.get("prov:wasDerivedFrom"))
    except (KeyError, TypeError, PydanticValidationError) as exc:
        raise _err(f"an exported annotation is incomplete: {exc}", "annotation") from None


def parse_collection(doc: Any) -> list[Annotation]:
    """An exported AnnotationCollection (embedded pages), an AnnotationPage, or a list of annotations."""
    if isinstance(doc, list):
        items = doc
    elif isinstance(doc, dict) and "Annotation" in _types(doc):
        items = [doc]
    elif isinstance(doc, dict):
        items, page = [], doc.get("first") if "AnnotationCollection" in _types(doc) else doc
        while isinstance(page, dict):
            items += _list(page.get("items"))
            page = page.get("next") if isinstance(page.get("next"), dict) else None
    else:
        raise _err("expected an AnnotationCollection, an AnnotationPage or a list of annotations", "body")
    out = []
    for i, item in enumerate(items):
        if isinstance(item, dict) and "@context" not in item:
            item = {"@context": ANNO_CONTEXT, **item}
        try:
            out.append(parse_stored(item))
        except InvalidAnnotationError as exc:
            raise InvalidAnnotationError(f"item {i}: {exc.message}", **exc.details, item=i) from None
    return out

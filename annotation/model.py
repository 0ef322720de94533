"""The annotation model: what an annotator says about a span of a digital copy's text.

These are the records the service works with (``Annotation``) and what callers hand it
(``AnnotationCreate`` / ``AnnotationUpdate``). They follow the W3C Web Annotation Data Model:

- target: a span of one juan's ``guji:text`` (TextQuoteSelector with prefix/suffix plus a
  TextPositionSelector, both in Unicode code points), optionally a region of a IIIF canvas;
- body: one or more *readings* — a category (a SKOS concept of the knowledge-indexing scheme:
  人名 地名 职官 年号 书名 事件) and optionally a link to an authority record, existing or created on
  the spot. Several readings are competing readings kept side by side (a W3C ``Choice``, the
  first is the preferred one); an optional note; a certainty (``uncertain`` = 存疑);
- creator, created, modified, review status (draft → submitted → approved / rejected, with the
  reviewer and the reason), the state of the anchor and the full history (who, when, before, after).

The W3C JSON-LD shapes live in :mod:`annotation.presenters` (output) and :mod:`annotation.schemas`
(input); the RDF shape in :mod:`annotation.rdf`.
"""

from __future__ import annotations

import os
import re
import threading
import time
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from accounts.identity import AGENT_BASE, agent_iri, agent_name  # noqa: F401  (an annotation's agents are accounts' users)
from kg.iri import iri_problem
from kg.namespaces import GUJI, GUJIV, ID

ANNOTATION_BASE = ID + "annotation/"
AUTHORITY_BASE = ID + "authority/"
CATEGORY_BASE = GUJIV + "entity-category/"

#: characters of context the server keeps on each side of a quote (TextQuoteSelector prefix/suffix)
CONTEXT_CHARS = 8

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_PATTERN = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`]+$")


_last_id = [0, 0]  # (milliseconds, random part) of the last id made here
_id_lock = threading.Lock()


def new_id(now_ms: int | None = None) -> str:
    """A monotonic ULID: 48 bits of milliseconds + 80 random bits, Crockford base32 (26 characters).

    Opaque to clients, but sortable by creation time, so container pages have a stable order; ids
    made in the same millisecond (or after a clock step back) count up from the previous one.
    """
    ms = int(time.time() * 1000) if now_ms is None else now_ms
    with _id_lock:
        if ms <= _last_id[0]:
            ms, rand = _last_id[0], _last_id[1] + 1
        else:
            rand = int.from_bytes(os.urandom(10), "big") >> 1  # room to count up
        _last_id[:] = [ms, rand]
    value = (ms << 80) | rand
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def format_datetime(dt: datetime) -> str:
    """UTC, milliseconds, in the canonical xsd:dateTime form the store keeps (no trailing zeros)."""
    dt = dt.astimezone(timezone.utc)
    text = dt.strftime("%Y-%m-%dT%H:%M:%S")
    ms = dt.microsecond // 1000
    if ms:
        text += f".{ms:03d}".rstrip("0")
    return text + "Z"


def now_iso() -> str:
    return format_datetime(datetime.now(timezone.utc))


def canonical_datetime(value: str) -> str:
    """Any ISO 8601 date-time with a zone → the canonical UTC form (raises ValueError otherwise)."""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00") if value.endswith("Z") else value)
    if dt.tzinfo is None:
        raise ValueError(f"a date-time needs a time zone (e.g. Z): {value!r}")
    return format_datetime(dt)


def is_absolute_iri(value: str) -> bool:
    """An absolute http(s) or urn IRI (kg.iri): ``javascript:``, ``data:`` … are never stored as links."""
    return bool(_ABSOLUTE_IRI.match(value)) and iri_problem(value) is None


def annotation_iri(annotation_id: str) -> str:
    return ANNOTATION_BASE + annotation_id


class Status(str, Enum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    DELETED = "deleted"  # a tombstone: kept (with its history) but gone from the protocol (410)


class AnchorState(str, Enum):
    OK = "ok"                      # the span is where the selectors say
    REANCHORED = "reanchored"      # moved after a text correction by a unique quote+prefix+suffix match
    NEEDS_REVIEW = "needs_review"  # the quote occurs, but not uniquely with its context: a person decides
    ORPHANED = "orphaned"          # the quote no longer occurs in the corrected text


class Certainty(str, Enum):
    CERTAIN = "certain"
    UNCERTAIN = "uncertain"  # 存疑


class Category(str, Enum):
    """The knowledge-indexing categories (SKOS scheme ``gujiv:entity-category``)."""

    PERSON = "person"
    PLACE = "place"
    OFFICE = "office"
    ERA = "era"
    BOOK_TITLE = "book-title"
    EVENT = "event"

    @property
    def iri(self) -> str:
        return CATEGORY_BASE + self.value

    @property
    def notation(self) -> str:
        return _NOTATION[self]

    @property
    def label(self) -> str:
        return _LABEL[self]

    @classmethod
    def parse(cls, value: str) -> "Category":
        """Accept the concept IRI, its key (``person``), notation (``PER``) or Chinese label (人名)."""
        v = value.strip()
        if v.startswith(CATEGORY_BASE):
            v = v[len(CATEGORY_BASE):]
        found = _CATEGORY_SPELLINGS.get(v)
        if found is not None:
            return found
        raise ValueError(
            f"unknown category {value!r}: use one of "
            + ", ".join(f"{c.iri} ({c.label}, {c.notation})" for c in cls)
        )


_NOTATION = {Category.PERSON: "PER", Category.PLACE: "LOC", Category.OFFICE: "OFI", Category.ERA: "DATE",
             Category.BOOK_TITLE: "BOOK", Category.EVENT: "EVENT"}
_LABEL = {Category.PERSON: "人名", Category.PLACE: "地名", Category.OFFICE: "職官", Category.ERA: "年號",
          Category.BOOK_TITLE: "書名", Category.EVENT: "事件"}
_ALIASES = {Category.PERSON: {"人名"}, Category.PLACE: {"地名"}, Category.OFFICE: {"职官", "職官", "官职", "官職"},
            Category.ERA: {"年号", "年號", "纪年", "紀年"}, Category.BOOK_TITLE: {"书名", "書名"}, Category.EVENT: {"事件"}}
# every spelling parse accepts (after the concept IRI's base is cut off) → its category: one lookup
# (every stored reading is parsed on each read of its annotation)
_CATEGORY_SPELLINGS = {s: c for c in Category for s in (c.value, _NOTATION[c], *_ALIASES[c])}


class RelationType(str, Enum):
    """Relations between two entities (CHisIEC's 12 types, the names ``guji suggest --relations``
    prints). The value is the local name of the ``guji:`` object property that links the head
    entity to the tail entity once a relation annotation is approved (ADR 0022)."""

    HELD_OFFICE = "heldOffice"          # 任职: person → office
    SUPERIOR_OF = "superiorOf"          # 上下级: superior → subordinate
    POLITICAL_SUPPORT = "supported"     # 政治奥援: patron → the one supported
    COLLEAGUE_OF = "colleagueOf"        # 同僚
    HOSTILE_TO = "attacked"             # 敌对攻伐: attacker → the attacked (person or place)
    ARRIVED_AT = "arrivedAt"            # 到达: person → place
    GOVERNED = "governed"               # 管理: person → place
    GARRISONED = "garrisoned"           # 驻守: person → place
    BORN_IN = "bornIn"                  # 出生于某地: person → place
    ALIAS = "alsoKnownAs"               # 别名: a name → another name of the same person
    PARENT_OF = "parentOf"              # 父母: parent → child
    SIBLING_OF = "siblingOf"            # 兄弟

    @property
    def iri(self) -> str:
        return GUJI + self.value

    @property
    def label(self) -> str:
        """The CHisIEC name (simplified, as re_types.json writes it)."""
        return _RELATION_NAME[self]

    @property
    def label_en(self) -> str:
        return _RELATION_EN[self]

    @classmethod
    def parse(cls, value: str) -> "RelationType":
        """Accept the property IRI, its local name (``heldOffice``) or the CHisIEC name (任职 / 任職)."""
        v = value.strip()
        if v.startswith(GUJI):
            v = v[len(GUJI):]
        for t in cls:
            if v == t.value or v == t.label or v in _RELATION_ALIASES.get(t, ()):
                return t
        raise ValueError(f"unknown relation type {value!r}: use one of "
                         + ", ".join(f"{t.label} ({t.iri})" for t in cls))


_RELATION_NAME = {
    RelationType.HELD_OFFICE: "任职", RelationType.SUPERIOR_OF: "上下级", RelationType.POLITICAL_SUPPORT: "政治奥援",
    RelationType.COLLEAGUE_OF: "同僚", RelationType.HOSTILE_TO: "敌对攻伐", RelationType.ARRIVED_AT: "到达",
    RelationType.GOVERNED: "管理", RelationType.GARRISONED: "驻守", RelationType.BORN_IN: "出生于某地",
    RelationType.ALIAS: "别名", RelationType.PARENT_OF: "父母", RelationType.SIBLING_OF: "兄弟"}
_RELATION_EN = {
    RelationType.HELD_OFFICE: "held office", RelationType.SUPERIOR_OF: "superior of", RelationType.POLITICAL_SUPPORT: "supported",
    RelationType.COLLEAGUE_OF: "colleague of", RelationType.HOSTILE_TO: "attacked", RelationType.ARRIVED_AT: "arrived at",
    RelationType.GOVERNED: "governed", RelationType.GARRISONED: "garrisoned", RelationType.BORN_IN: "born in",
    RelationType.ALIAS: "also known as", RelationType.PARENT_OF: "parent of", RelationType.SIBLING_OF: "sibling of"}
_RELATION_ALIASES = {
    RelationType.HELD_OFFICE: ("任職",), RelationType.SUPERIOR_OF: ("上下級",), RelationType.POLITICAL_SUPPORT: ("政治奧援",),
    RelationType.HOSTILE_TO: ("敵對攻伐",), RelationType.ARRIVED_AT: ("到達",), RelationType.BORN_IN: ("出生於某地",),
    RelationType.ALIAS: ("別名",)}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class TextSelection(_Model):
    """What a client says about the span. Missing parts are filled in by the server."""

    source: str = Field(description="IRI of the juan (guji:Juan) whose guji:text is annotated")
    start: int | None = Field(default=None, ge=0, description="TextPositionSelector start, Unicode code points")
    end: int | None = Field(default=None, ge=0, description="TextPositionSelector end (exclusive), code points")
    exact: str | None = None
    prefix: str | None = None
    suffix: str | None = None


class TextTarget(_Model):
    """A resolved span: every selector field is known and agrees with the text."""

    source: str
    start: int
    end: int
    exact: str
    prefix: str
    suffix: str


class ImageRegion(_Model):
    """A region of a IIIF canvas (FragmentSelector, Media Fragments ``xywh=``)."""

    source: str = Field(description="IRI of the IIIF canvas")
    xywh: str | None = Field(default=None, description="Media Fragments region, e.g. xywh=100,200,300,40")

    @field_validator("source")
    @classmethod
    def _iri(cls, v: str) -> str:
        if not is_absolute_iri(v):
            raise ValueError(f"the canvas must be an absolute http(s) or urn IRI, got {v!r}")
        return v

    @field_validator("xywh")
    @classmethod
    def _xywh(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"xywh=(pixel:|percent:)?\d+(\.\d+)?,\d+(\.\d+)?,\d+(\.\d+)?,\d+(\.\d+)?", v):
            raise ValueError(f"the image region must be a Media Fragments value like 'xywh=100,200,300,40', got {v!r}")
        return v


class Reading(_Model):
    """One reading of the span: what it names, and (optionally) which authority record it is."""

    category: Category
    authority: str | None = Field(default=None, description="IRI of an authority record (CBDB, Wikidata, ours ...)")
    label: str | None = Field(default=None, description="Name of the authority record (required to create one on the spot)")
    provisional: bool = Field(default=False, description="The authority record was created on the spot by this annotation")
    note: str | None = None

    @field_validator("category", mode="before")
    @classmethod
    def _category(cls, v: Any) -> Any:
        return Category.parse(v) if isinstance(v, str) else v

    @field_validator("authority")
    @classmethod
    def _authority(cls, v: str | None) -> str | None:
        if v is not None and not is_absolute_iri(v):
            raise ValueError(f"an authority record must be an absolute http(s) or urn IRI, got {v!r}")
        return v


class RelationCreate(_Model):
    """What a caller says about a relation: its type and the two entity annotations it links (by
    id). The head's span is the annotation's ``target``; the tail's is ``tail_target``."""

    type: RelationType
    head: str = Field(description="id (ULID) of the entity annotation at the head")
    tail: str = Field(description="id (ULID) of the entity annotation at the tail")
    tail_target: TextSelection

    @field_validator("type", mode="before")
    @classmethod
    def _type(cls, v: Any) -> Any:
        return RelationType.parse(v) if isinstance(v, str) else v


class Relation(_Model):
    """A stored relation. ``head_entity``/``tail_entity`` are the authority records the two entity
    annotations identify (their preferred reading), filled in by the service on every write; an
    approved relation states ``<head_entity> guji:<type> <tail_entity>`` in the public graph."""

    type: RelationType
    head: str
    tail: str
    tail_target: TextTarget
    head_entity: str | None = None
    tail_entity: str | None = None


class AnnotationCreate(_Model):
    """What a caller gives to create an annotation (or to replace one: :class:`AnnotationUpdate`).

    An entity annotation has readings; a relation annotation (``relation``) has none: its body is
    the relation type and its two targets are the spans of the entity annotations it links."""

    target: TextSelection
    image: ImageRegion | None = None
    readings: list[Reading] = Field(default_factory=list, max_length=20)
    note: str | None = None
    certainty: Certainty = Certainty.CERTAIN
    canonical: str | None = Field(default=None, description="A canonical IRI the client gave; kept as is")
    project: str | None = Field(default=None, description="The annotation project (organisations/) the annotator works in: "
                                "its id or IRI; chosen by the server when the annotator is in exactly one project covering the text")
    relation: RelationCreate | None = None

    @model_validator(mode="after")
    def _kind(self) -> "AnnotationCreate":
        if self.relation is None and not self.readings:
            raise ValueError("an annotation needs at least one reading (or, for a relation, a relation)")
        if self.relation is not None and self.readings:
            raise ValueError("a relation annotation has no readings: its body is the relation type")
        return self


class AnnotationUpdate(AnnotationCreate):
    """PUT replaces the content (target, readings, note, certainty); the server keeps the rest."""


class HistoryEntry(_Model):
    sequence: int
    at: str
    agent: str  # agent IRI
    action: str  # create | update | submit | withdraw | approve | reject | delete | reanchor | import
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None


class Review(_Model):
    reviewer: str  # agent IRI
    at: str
    decision: Literal["approved", "rejected"]
    reason: str | None = None


class Anchor(_Model):
    state: AnchorState = AnchorState.OK
    reason: str | None = None
    at: str | None = None


class Annotation(_Model):
    """The stored annotation, everything included."""

    id: str
    canonical: str
    creator: str  # agent IRI
    # the project the annotation was made in and the organisation the creator acted for
    # (prov:actedOnBehalfOf); fixed at creation, credited on public pages, exports and SPARQL
    project: str | None = None
    organisation: str | None = None
    created: str
    modified: str
    status: Status = Status.DRAFT
    revision: int = 1
    target: TextTarget
    image: ImageRegion | None = None
    readings: list[Reading]
    note: str | None = None
    certainty: Certainty = Certainty.CERTAIN
    review: Review | None = None
    anchor: Anchor = Field(default_factory=Anchor)
    history: list[HistoryEntry] = Field(default_factory=list)
    relation: Relation | None = None  # a relation annotation: target is the head's span, no readings
    derived_from: str | None = Field(
        default=None, description="The annotation this one was copied from (another edition's, editions/): prov:wasDerivedFrom")

    @property
    def iri(self) -> str:
        return annotation_iri(self.id)

    def content(self) -> dict[str, Any]:
        """The part an annotator edits, as plain JSON (used for history before/after)."""
        return self.model_dump(mode="json", include={"target", "image", "readings", "note", "certainty", "relation"},
                               exclude_none=True)

    def public(self) -> "Annotation":
        """What everybody may see of an approved annotation: its current content and review
        decision, and of its history the approved states only — each approval (who, when; not the
        reason) and each change made while it was approved (an approved version to an approved
        version, in full). Earlier drafts, submissions, rejections and every reviewer's reason stay
        out. Everything here is also in the full annotation (``to_triples(a.public())`` is a subset
        of ``to_triples(a)``), so the two graphs an approved annotation is stored in never disagree.
        """
        out = self.model_copy(deep=True)
        if out.review is not None:
            out.review.reason = None
        status: str | None = None  # before the first entry: unknown (a create starts a draft)
        kept = []
        for h in out.history:
            before = (h.before or {}).get("status", status)
            after = (h.after or {}).get("status", Status.DRAFT.value if h.action == "create" else before)
            if after == Status.APPROVED.value:
                if before == Status.APPROVED.value:
                    kept.append(h)  # a correction of the approved version: both sides are public
                else:
                    kept.append(HistoryEntry(sequence=h.sequence, at=h.at, agent=h.agent, action=h.action))
            status = after
        out.history = kept
        return out

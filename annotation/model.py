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

from pydantic import BaseModel, ConfigDict, Field, field_validator

from accounts.identity import AGENT_BASE, agent_iri, agent_name  # noqa: F401  (an annotation's agents are accounts' users)
from kg.iri import iri_problem
from kg.namespaces import GUJIV, ID

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
        for c in cls:
            if v in (c.value, c.notation) or v in _ALIASES[c]:
                return c
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


class AnnotationCreate(_Model):
    """What a caller gives to create an annotation (or to replace one: :class:`AnnotationUpdate`)."""

    target: TextSelection
    image: ImageRegion | None = None
    readings: list[Reading] = Field(min_length=1, max_length=20)
    note: str | None = None
    certainty: Certainty = Certainty.CERTAIN
    canonical: str | None = Field(default=None, description="A canonical IRI the client gave; kept as is")
    project: str | None = Field(default=None, description="The annotation project (organisations/) the annotator works in: "
                                "its id or IRI; chosen by the server when the annotator is in exactly one project covering the text")


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
    derived_from: str | None = Field(
        default=None, description="The annotation this one was copied from (another edition's, editions/): prov:wasDerivedFrom")

    @property
    def iri(self) -> str:
        return annotation_iri(self.id)

    def content(self) -> dict[str, Any]:
        """The part an annotator edits, as plain JSON (used for history before/after)."""
        return self.model_dump(mode="json", include={"target", "image", "readings", "note", "certainty"}, exclude_none=True)

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

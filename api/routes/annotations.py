"""The W3C Web Annotation Protocol container ``/annotations/`` plus the review workflow and exports.

HTTP only: every route calls one service method (:class:`annotation.service.AnnotationService`) and
one presenter (:mod:`annotation.presenters`). Permissions are the service's policies, not ``if``s here.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field

from annotation.errors import InvalidAnnotationError
from annotation.model import AnchorState, Category, Status
from annotation.presenters import (
    MEDIA_TYPE,
    annotation_jsonld,
    annotation_url,
    collection_jsonld,
    export_csv,
    export_jsonld,
    history_json,
    page_jsonld,
)
from annotation.rdf import to_triples
from annotation.schemas import annotation_id_from, parse_annotation, parse_collection
from annotation.service import AnnotationFilter, Stored
from api.http import accepted_media, attachment
from api.deps import ContextDep, CurrentUser, OptionalUser
from kg.errors import JsonTooDeepError, NotAcceptableError, NotFoundError, UnsupportedMediaTypeError, ValidationError
from kg.namespaces import ID

router = APIRouter(tags=["annotations"])

LDP = "http://www.w3.org/ns/ldp#"
PREFER_MINIMAL = LDP + "PreferMinimalContainer"
PREFER_IRIS = "http://www.w3.org/ns/oa#PreferContainedIRIs"
PREFER_DESCRIPTIONS = "http://www.w3.org/ns/oa#PreferContainedDescriptions"
CONSTRAINED_BY = '<http://www.w3.org/TR/annotation-protocol/>; rel="http://www.w3.org/ns/ldp#constrainedBy"'
CONTAINER_LINK = f'<{LDP}BasicContainer>; rel="type", {CONSTRAINED_BY}'
ANNOTATION_LINK = f'<{LDP}Resource>; rel="type", <http://www.w3.org/ns/oa#Annotation>; rel="type"'
CONTAINER_ALLOW = "GET, HEAD, OPTIONS, POST"
ANNOTATION_ALLOW = "GET, HEAD, OPTIONS, PUT, DELETE"
ACCEPT_POST = MEDIA_TYPE
_JSON_TYPES = ("application/ld+json", "application/json")
_RDF_TYPES = {"text/turtle": ox.RdfFormat.TURTLE, "application/n-triples": ox.RdfFormat.N_TRIPLES}


# -- helpers --------------------------------------------------------------------------------------

def _base(request: Request) -> str:
    """The site's address for annotation ids: GUJI_PUBLIC_BASE_URL, never the request's Host header
    (a client could otherwise make the server hand out ids on any host)."""
    return request.app.state.context.settings.base_url


def _accept(request: Request, *, rdf: bool) -> str:
    """The media type to answer with: JSON-LD (default), or Turtle/N-Triples for one annotation."""
    accept = request.headers.get("accept")
    if not accept:
        return MEDIA_TYPE
    for media in accepted_media(accept):
        if media in _JSON_TYPES or media in ("*/*", "application/*"):
            return MEDIA_TYPE
        if rdf and media in _RDF_TYPES:
            return media
    offered = "application/ld+json" + (", text/turtle, application/n-triples" if rdf else "")
    raise NotAcceptableError(f"none of the media types in Accept ({accept}) is available here; use {offered}")


def _headers(*, etag: str | None = None, link: str = ANNOTATION_LINK, allow: str = ANNOTATION_ALLOW,
             vary: str = "Accept, Authorization", extra: dict[str, str] | None = None) -> dict[str, str]:
    h = {"Link": link, "Allow": allow, "Vary": vary, "Cache-Control": "no-cache"}
    if etag:
        h["ETag"] = f'"{etag}"'
    if extra:
        h.update(extra)
    return h


def _json(doc: Any, *, status: int = 200, headers: dict[str, str], head: bool = False,
          media_type: str = MEDIA_TYPE) -> Response:
    body = b"" if head else json.dumps(doc, ensure_ascii=False).encode()
    return Response(body, status_code=status, media_type=media_type, headers=headers)


def _annotation_response(request: Request, stored: Stored, *, status: int = 200, head: bool = False,
                         extra: dict[str, str] | None = None) -> Response:
    media = _accept(request, rdf=True)
    headers = _headers(etag=stored.etag, extra=extra)
    if media in _RDF_TYPES:
        payload = ox.serialize(to_triples(stored.annotation), format=_RDF_TYPES[media])
        return Response(b"" if head else payload, status_code=status, media_type=media + "; charset=utf-8", headers=headers)
    return _json(annotation_jsonld(stored.annotation, _base(request)), status=status, headers=headers, head=head)


async def _body(request: Request) -> Any:
    media = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if media not in _JSON_TYPES:
        raise UnsupportedMediaTypeError(f"send the annotation as {MEDIA_TYPE} (got Content-Type {media or 'none'})")
    raw = await request.body()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidAnnotationError(f"the request body is not JSON: {exc}", field="body") from None
    except RecursionError:  # bodies too large for the depth scan in api/middleware.py (imports) get here
        raise JsonTooDeepError("the JSON body nests arrays and objects too deeply to be read") from None


def _prefer(request: Request) -> tuple[bool, bool]:
    """(minimal container, contained IRIs only) from ``Prefer: return=representation; include="…"``."""
    include: list[str] = []
    for value in request.headers.getlist("prefer"):
        for part in value.split(";"):
            part = part.strip()
            if part.startswith("include="):
                include += part[len("include="):].strip().strip('"').split()
    return PREFER_MINIMAL in include, PREFER_IRIS in include and PREFER_DESCRIPTIONS not in include


def _values(values: list[str] | None) -> list[str]:
    return [v.strip() for raw in values or [] for v in raw.split(",") if v.strip()]


def _filter(target: str | None, creator: str | None, status: list[str] | None, anchor: list[str] | None,
            category: str | None) -> AnnotationFilter:
    try:
        statuses = tuple(Status(s) for s in _values(status))
        anchors = tuple(AnchorState(s) for s in _values(anchor))
        cat = Category.parse(category) if category else None
    except ValueError as exc:
        raise ValidationError(f"bad filter: {exc}; status is one of {', '.join(s.value for s in Status)}, anchor one of "
                              f"{', '.join(s.value for s in AnchorState)}", field="query") from None
    return AnnotationFilter(target=_scope(target), creator=creator, status=statuses, anchor=anchors, category=cat)


def _scope(value: str | None) -> str | None:
    """A juan, copy or work IRI; a bare Kanripo/guji work id (KR2a0001) stands for its work."""
    if not value:
        return None
    return value if ":" in value else f"{ID}work/{value}"


def _query(params: dict[str, Any]) -> str:
    pairs = []
    for k in sorted(params):
        v = params[k]
        if v is None or v == [] or v == ():
            continue
        for item in v if isinstance(v, (list, tuple)) else [v]:
            pairs.append((k, str(item)))
    return ("?" + urlencode(pairs)) if pairs else ""


TargetQ = Annotated[str | None, Query(description="Only annotations on this text: a juan, digital copy or work IRI (or a work id such as KR2a0001)")]
CreatorQ = Annotated[str | None, Query(description="Only this creator: a user name or agent IRI")]
StatusQ = Annotated[list[str] | None, Query(description="draft, submitted, approved, rejected (repeat or comma-separate)")]
AnchorQ = Annotated[list[str] | None, Query(description="ok, reanchored, needs_review, orphaned")]
CategoryQ = Annotated[str | None, Query(description="A category: concept IRI, key (person), notation (PER) or 人名 …")]


# -- the container --------------------------------------------------------------------------------

@router.options("/annotations/", include_in_schema=False)
def container_options() -> Response:
    return Response(status_code=200, headers=_headers(link=CONTAINER_LINK, allow=CONTAINER_ALLOW, extra={"Accept-Post": ACCEPT_POST}))


@router.head("/annotations/", include_in_schema=False)
@router.get("/annotations/", summary="The annotation container (W3C Web Annotation Protocol)",
            response_model=None, responses={200: {"content": {MEDIA_TYPE: {}}, "description": "AnnotationCollection or AnnotationPage"}})
def container(request: Request, ctx: ContextDep, identity: OptionalUser, target: TargetQ = None, creator: CreatorQ = None,
              status: StatusQ = None, anchor: AnchorQ = None, category: CategoryQ = None,
              page: Annotated[int | None, Query(ge=0, description="An AnnotationPage (0-based) instead of the container")] = None,
              iris: Annotated[int | None, Query(ge=0, le=1, description="1: pages list annotation IRIs only")] = None,
              limit: Annotated[int | None, Query(ge=1, le=1000, description="Annotations per page")] = None) -> Response:
    """Readable annotations (the public sees approved ones only), filtered by target, creator, status,
    anchor state and category; paged as AnnotationPages. ``Prefer: return=representation;include="…"``
    with ``ldp#PreferMinimalContainer`` leaves out the embedded first page, ``oa#PreferContainedIRIs``
    lists IRIs instead of full descriptions."""
    _accept(request, rdf=False)
    head = request.method == "HEAD"
    minimal, prefer_iris = _prefer(request)
    only_iris = prefer_iris or iris == 1
    size = limit or ctx.settings.annotation_page_size
    flt = _filter(target, creator, status, anchor, category)
    filters = {"target": target, "creator": creator, "status": _values(status), "anchor": _values(anchor),
               "category": category, "limit": limit}
    base = _base(request) + "annotations/"
    container_id = base + _query(filters | {"iris": 1 if only_iris else None})

    def page_url(n: int) -> str:
        return base + _query(filters | {"iris": 1 if only_iris else None, "page": n})

    service = ctx.annotations
    number = page or 0
    # a minimal container shows no annotations: do not load any (its ETag covers what it shows)
    result = service.list(identity, flt, offset=number * size, limit=0 if (minimal and page is None) else size)
    last = max(0, (result.total - 1) // size)
    if page is not None and page > last and not (page == 0 and result.total == 0):
        raise NotFoundError(f"page {page} does not exist: the last page is {last}", page=page)
    items = [annotation_url(_base(request), s.annotation.id) if only_iris else annotation_jsonld(s.annotation, _base(request))
             for s in result.items]
    tag = hashlib.sha256(json.dumps([container_id, page, minimal, result.total,
                                     [(s.annotation.id, s.etag) for s in result.items]]).encode()).hexdigest()[:32]
    vary = "Accept, Prefer, Authorization"
    if page is not None:
        doc = page_jsonld(page_id=page_url(number), container_id=container_id, total=result.total,
                          start_index=number * size, items=items,
                          next_id=page_url(number + 1) if number < last else None,
                          prev_id=page_url(number - 1) if number > 0 else None)
        headers = _headers(etag=tag, link=f'<{LDP}Page>; rel="type"', allow="GET, HEAD, OPTIONS", vary=vary)
        return _json(doc, headers=headers, head=head)
    first: Any = None
    if result.total:
        first = page_url(0) if minimal else page_jsonld(
            page_id=page_url(0), container_id=container_id, total=result.total, start_index=0, items=items,
            next_id=page_url(1) if last > 0 else None, prev_id=None, embedded=True)
    doc = collection_jsonld(container_id=container_id, label="guji annotations", total=result.total, first=first,
                            last=page_url(last) if result.total else None)
    headers = _headers(etag=tag, link=CONTAINER_LINK, allow=CONTAINER_ALLOW, vary=vary,
                       extra={"Accept-Post": ACCEPT_POST, "Content-Location": container_id,
                              **({"Preference-Applied": "return=representation"} if request.headers.get("prefer") else {})})
    return _json(doc, headers=headers, head=head)


@router.post("/annotations/", status_code=201, summary="Create an annotation (annotator, reviewer, admin)",
             response_model=None, responses={201: {"content": {MEDIA_TYPE: {}}, "description": "The created annotation"}})
async def create(request: Request, ctx: ContextDep, identity: CurrentUser) -> Response:
    doc = await _body(request)
    data = parse_annotation(doc)
    stored = await run_in_threadpool(ctx.annotations.create, identity, data)
    url = annotation_url(_base(request), stored.annotation.id)
    return _annotation_response(request, stored, status=201, extra={"Location": url, "Content-Location": url})


# -- exports (before /annotations/{id} so the paths never collide) ---------------------------------

class ImportResult(BaseModel):
    created: int
    replaced: int
    unchanged: int


@router.get("/api/annotations/export", summary="Export annotations: W3C JSON-LD (lossless) or CSV",
            response_model=None, responses={200: {"content": {MEDIA_TYPE: {}, "text/csv": {}}}})
def export(request: Request, ctx: ContextDep, identity: OptionalUser,
           scope: Annotated[str | None, Query(description="A juan, digital copy or work IRI, or a work id (KR2a0001); none = everything")] = None,
           format: Annotated[Literal["jsonld", "csv"], Query(description="jsonld (default) or csv")] = "jsonld",
           status: StatusQ = None) -> Response:
    """Approved annotations (reviewers and admins may ask for other statuses), with status, review,
    anchor state and full history. The JSON-LD re-imports without loss (``POST /api/annotations/import``)."""
    try:
        statuses = tuple(Status(s) for s in _values(status))
    except ValueError as exc:
        raise ValidationError(f"bad status: {exc}", field="status") from None
    annotations = ctx.annotations.export(identity, _scope(scope), status=statuses)
    name = "annotations" + ("-" + (scope.rstrip("/").rsplit("/", 1)[-1]) if scope else "")
    if format == "csv":
        return Response(export_csv(annotations, _base(request)).encode("utf-8"), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": attachment(f"{name}.csv"), "Vary": "Authorization"})
    collection_id = _base(request) + request.url.path.lstrip("/") + (f"?{request.url.query}" if request.url.query else "")
    doc = export_jsonld(annotations, _base(request), collection_id=collection_id, label=f"guji annotations ({scope or 'all'})")
    return _json(doc, headers={"Content-Disposition": attachment(f"{name}.jsonld"), "Vary": "Authorization"})


@router.post("/api/annotations/import", response_model=ImportResult, summary="Restore exported annotations (admin)")
async def import_(request: Request, ctx: ContextDep, identity: CurrentUser) -> ImportResult:
    doc = await _body(request)
    annotations = parse_collection(doc)
    counts = await run_in_threadpool(ctx.annotations.restore, identity, annotations)
    return ImportResult(**counts)


# -- one annotation -------------------------------------------------------------------------------

@router.options("/annotations/{annotation_id}", include_in_schema=False)
def annotation_options(annotation_id: str) -> Response:
    return Response(status_code=200, headers=_headers())


@router.head("/annotations/{annotation_id}", include_in_schema=False)
@router.get("/annotations/{annotation_id}", summary="One annotation (W3C JSON-LD)",
            response_model=None, responses={200: {"content": {MEDIA_TYPE: {}, "text/turtle": {}}}})
def read(request: Request, ctx: ContextDep, identity: OptionalUser, annotation_id: str) -> Response:
    stored = ctx.annotations.get(identity, annotation_id)
    if_none_match = request.headers.get("if-none-match")
    if if_none_match and stored.etag in [t.strip().removeprefix("W/").strip('"') for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=_headers(etag=stored.etag))
    return _annotation_response(request, stored, head=request.method == "HEAD")


@router.put("/annotations/{annotation_id}", summary="Replace an annotation's content (needs If-Match)",
            response_model=None, responses={200: {"content": {MEDIA_TYPE: {}}}})
async def update(request: Request, ctx: ContextDep, identity: CurrentUser, annotation_id: str) -> Response:
    doc = await _body(request)
    given = annotation_id_from(doc) if isinstance(doc, dict) else None
    if isinstance(doc, dict) and doc.get("id") is not None and given != annotation_id:
        raise InvalidAnnotationError(f"the body's id {doc.get('id')!r} is not this annotation ({annotation_id})", field="id")
    data = parse_annotation(doc)
    stored = await run_in_threadpool(ctx.annotations.update, identity, annotation_id, data,
                                     if_match=request.headers.get("if-match"))
    return _annotation_response(request, stored)


@router.delete("/annotations/{annotation_id}", status_code=204, summary="Delete an annotation (needs If-Match)",
               response_model=None)
def delete(request: Request, ctx: ContextDep, identity: CurrentUser, annotation_id: str) -> Response:
    ctx.annotations.delete(identity, annotation_id, if_match=request.headers.get("if-match"))
    return Response(status_code=204, headers={"Vary": "Authorization"})


# -- review workflow ------------------------------------------------------------------------------

class ReviewDecision(BaseModel):
    decision: Literal["approve", "reject"]
    reason: str | None = Field(default=None, description="Required when rejecting: what the annotator should change")


class HistoryEntryPublic(BaseModel):
    sequence: int
    at: str
    agent: str
    agent_name: str
    action: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None
    reason: str | None = None


class HistoryPublic(BaseModel):
    id: str
    history: list[HistoryEntryPublic]


@router.post("/annotations/{annotation_id}/submit", summary="Submit a draft for review (its creator)",
             response_model=None, responses={200: {"content": {MEDIA_TYPE: {}}}})
def submit(request: Request, ctx: ContextDep, identity: CurrentUser, annotation_id: str) -> Response:
    stored = ctx.annotations.submit(identity, annotation_id, if_match=request.headers.get("if-match"))
    return _annotation_response(request, stored)


@router.post("/annotations/{annotation_id}/withdraw", summary="Take a submitted annotation back to draft (its creator)",
             response_model=None, responses={200: {"content": {MEDIA_TYPE: {}}}})
def withdraw(request: Request, ctx: ContextDep, identity: CurrentUser, annotation_id: str) -> Response:
    stored = ctx.annotations.withdraw(identity, annotation_id, if_match=request.headers.get("if-match"))
    return _annotation_response(request, stored)


@router.post("/annotations/{annotation_id}/review", summary="Approve or reject a submitted annotation (reviewer)",
             response_model=None, responses={200: {"content": {MEDIA_TYPE: {}}}})
def review(request: Request, ctx: ContextDep, identity: CurrentUser, annotation_id: str, decision: ReviewDecision) -> Response:
    stored = ctx.annotations.review(identity, annotation_id, decision.decision, decision.reason,
                                    if_match=request.headers.get("if-match"))
    return _annotation_response(request, stored)


@router.get("/annotations/{annotation_id}/history", response_model=HistoryPublic,
            summary="Who changed what and when (before and after)",
            description="The whole history for the annotation's creator, reviewers and admins; everybody else sees the "
                        "approved states of an approved annotation only: its approvals (who, when) and the changes made "
                        "while it was approved — no earlier drafts, no reviewer's reasons.")
def history(ctx: ContextDep, identity: OptionalUser, annotation_id: str) -> HistoryPublic:
    entries = ctx.annotations.history(identity, annotation_id)
    return HistoryPublic(id=annotation_id, history=[HistoryEntryPublic(**h) for h in history_json(entries)])

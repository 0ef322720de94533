"""Book pages and catalogue reads: physical books with their copies, works, items, texts, reel
frames and the graph neighbourhood. Public: preservation-level data never appears here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from urllib.parse import quote

from fastapi.responses import RedirectResponse

from accounts.errors import PermissionDeniedError
from accounts.identity import Identity, Role
from api.deps import ContextDep, CurrentUser, OptionalUser
from kg.catalog import Catalog
from kg.errors import GujiError, WorkMovedError
from kg.works import WorkIdentity
from kg.iri import check_iri
from kg.namespaces import ID

router = APIRouter(prefix="/api", tags=["catalogue"])


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class BookPublic(Open):
    iri: str
    census_no: str
    title: str
    holding_library: dict[str, Any]
    call_number: str | None
    edition: dict[str, Any]
    microfilm: list[dict[str, Any]]
    digital: list[dict[str, Any]]
    derivations: list[dict[str, Any]]


class ReelFramePublic(Open):
    reel: str
    frame: int
    book: str | None = Field(description="the physical book a frame of a book's reel shows (none on a serial's reel)")
    census_no: str | None
    title: str
    juan: str | None
    frames: dict[str, int]
    folios: dict[str, str | None]
    folio: str | None = Field(description='the folio side this frame shows, e.g. "1b"')
    folio_exact: bool = Field(description="true when the frame range maps one frame per folio side; false when interpolated")
    issue: str | None = Field(default=None, description="on a serial's reel: the issue the frame shows (package v2)")
    issue_id: str | None = None
    date: str | None = Field(default=None, description="the issue's date")
    page: int | None = Field(default=None, description="the page (modern pagination: a serial issue, a 民国 book) the frame shows")
    page_exact: bool = Field(default=False, description="true when the frame range maps one frame per page; false when interpolated")


class SerialPublic(Open):
    iri: str
    title: str
    material_type: str | None
    issues: list[dict[str, Any]]
    calendar: list[dict[str, Any]] = Field(description="issues by year and month, as weeks of days (the issue calendar)")


class IssuePublic(Open):
    iri: str
    serial: str
    serial_title: str
    date: str
    articles: list[dict[str, Any]]
    frames: list[dict[str, Any]] = Field(description="the frame ranges on reels that show this issue")


class WorkPublic(Open):
    iri: str
    id: str
    title: str
    editions: list[dict[str, Any]]
    copies: list[dict[str, Any]]


class ItemPublic(Open):
    iri: str
    types: list[str]
    toc: list[dict[str, Any]]
    juans: list[dict[str, Any]]


class TextPublic(Open):
    iri: str
    item: str
    text: str
    layout: str
    folios: list[dict[str, Any]]


class NeighbourhoodPublic(Open):
    iri: str
    source: str
    edges: list[dict[str, Any]]


# who may see preservation-level metadata (checksums and locations of masters): declared once
CAN_SEE_PRESERVATION = (Role.ADMIN,)


@router.get("/books/{census_no}", response_model=BookPublic, summary="A physical book with its microfilm and digital copies",
            description="Public callers see service-level copies only; an admin also sees preservation-level files (metadata only).")
async def book(census_no: str, ctx: ContextDep, identity: OptionalUser) -> BookPublic:
    preservation = identity.authenticated and identity.role in CAN_SEE_PRESERVATION
    found = await run_in_threadpool(lambda: Catalog(ctx.store).book(census_no, include_preservation=preservation))
    await run_in_threadpool(ctx.count_use, [found.get("iri")], "view")  # per-unit statistics (acceptance/usage.py)
    return BookPublic(**found)


@router.get("/reels/{reel}/frames/{frame}", response_model=ReelFramePublic,
            summary="Which book, juan and folios (or pages), or which serial issue and page, a frame shows")
async def reel_frame(reel: str, frame: int, ctx: ContextDep) -> ReelFramePublic:
    return ReelFramePublic(**await run_in_threadpool(Catalog(ctx.store).reel_frame, reel, frame))


@router.get("/serials/{batch}/{serial_id}", response_model=SerialPublic, summary="A periodical or newspaper with its issues (package v2)")
async def serial(batch: str, serial_id: str, ctx: ContextDep) -> SerialPublic:
    return SerialPublic(**await run_in_threadpool(Catalog(ctx.store).serial, batch, serial_id))


@router.get("/issues/{batch}/{issue_id}", response_model=IssuePublic, summary="One issue of a serial: articles, frames, text")
async def issue(batch: str, issue_id: str, ctx: ContextDep) -> IssuePublic:
    return IssuePublic(**await run_in_threadpool(Catalog(ctx.store).issue, batch, issue_id))


# -- work identity: proposals a curator confirms, decisions a curator may undo (kg.works, ADR 0016) --

# who may merge and split works: declared once
CAN_CURATE = (Role.REVIEWER, Role.ADMIN)


def require_curator(identity: Identity) -> None:
    if identity.role not in CAN_CURATE:
        raise PermissionDeniedError(f"merging and splitting works needs the role reviewer or admin; {identity.name} is {identity.role.value}")


class WorkMatchesPublic(BaseModel):
    proposals: list[dict[str, Any]]
    decisions: list[dict[str, Any]]


class WorkIdentityChange(Open):
    decision: str
    id: str
    canonical: str
    graphs: list[str]


def _identity(ctx) -> WorkIdentity:
    return WorkIdentity(ctx.store, fold=ctx.search.normaliser.fold)


@router.get("/works/identity", response_model=WorkMatchesPublic, summary="Proposed and confirmed work identities",
            description="Works whose normalised title, responsibility and juan count agree are proposed as one work; "
                        "nothing is merged until a reviewer or admin confirms a proposal.")
async def work_identities(ctx: ContextDep, user: CurrentUser) -> WorkMatchesPublic:
    require_curator(user)
    ident = _identity(ctx)
    proposals = await run_in_threadpool(ident.proposals)
    decisions = await run_in_threadpool(ident.decisions)
    return WorkMatchesPublic(proposals=[p.to_json() for p in proposals], decisions=decisions)


@router.post("/works/identity/{proposal}", response_model=WorkIdentityChange, status_code=201,
             summary="Confirm a proposed work identity: the works become one bf:Work",
             description="The merged work's IRI keeps resolving (owl:sameAs; its pages redirect). Live: search, Neo4j and "
                         "public SPARQL show the merge when this answers.")
async def confirm_work_identity(proposal: str, ctx: ContextDep, user: CurrentUser) -> WorkIdentityChange:
    require_curator(user)
    done = await run_in_threadpool(_identity(ctx).confirm, proposal, agent=user.name)
    await run_in_threadpool(ctx.sync_projections)
    return WorkIdentityChange(**done)


@router.delete("/works/identity/{decision}", response_model=WorkIdentityChange, summary="Split a merged work again")
async def split_work_identity(decision: str, ctx: ContextDep, user: CurrentUser) -> WorkIdentityChange:
    require_curator(user)
    done = await run_in_threadpool(_identity(ctx).split, decision, agent=user.name)
    await run_in_threadpool(ctx.sync_projections)
    return WorkIdentityChange(**done)


@router.get("/works/{identifier:path}", response_model=WorkPublic, summary="A work with its editions and copies",
            description="By its identifier (KR2a0001) or its IRI path under id:work/ (census/110000-0001-0000001); "
                        "a work merged into another answers 301 to the work it is now.")
async def work(identifier: str, ctx: ContextDep) -> Any:
    try:
        return WorkPublic(**await run_in_threadpool(Catalog(ctx.store).work, identifier))
    except WorkMovedError as moved:
        return RedirectResponse(f"/api/works/{quote(moved.details['location'], safe='/')}", status_code=301)


@router.get("/items/{path:path}", response_model=ItemPublic, summary="A copy: table of contents and juan")
async def item(path: str, ctx: ContextDep) -> ItemPublic:
    check_iri(f"{ID}item/{path}", field="path")
    return ItemPublic(**await run_in_threadpool(Catalog(ctx.store).item, path))


@router.get("/texts", response_model=TextPublic, summary="The text of one juan with its layout and folio sides")
async def text(ctx: ContextDep, iri: str = Query(description="IRI of a guji:Juan")) -> TextPublic:
    check_iri(iri)
    found = await run_in_threadpool(Catalog(ctx.store).juan_text, iri)
    await run_in_threadpool(ctx.count_use, [iri], "download")  # a juan's service-level text, whole
    return TextPublic(**found)


@router.get("/graph/neighbourhood", response_model=NeighbourhoodPublic,
            summary="Resources linked to one resource (from Neo4j when configured, else SPARQL)")
async def neighbourhood(ctx: ContextDep, iri: str = Query(), limit: int = Query(50, ge=1, le=500)) -> NeighbourhoodPublic:
    check_iri(iri)
    if ctx.neo4j is not None:
        try:
            found = await run_in_threadpool(ctx.neo4j.neighbourhood, iri, limit=limit)
            if found["found"]:
                return NeighbourhoodPublic(**found, source="neo4j")
        except GujiError:
            pass  # Neo4j down: the store answers instead
    return NeighbourhoodPublic(**await run_in_threadpool(Catalog(ctx.store).neighbourhood, iri, limit=limit), source="sparql")

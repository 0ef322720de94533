"""Book pages and catalogue reads: physical books with their copies, works, items, texts, reel
frames and the graph neighbourhood. Public: preservation-level data never appears here."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict

from accounts.identity import Role
from api.deps import ContextDep, OptionalUser
from kg.catalog import Catalog
from kg.errors import GujiError
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
    book: str
    census_no: str
    title: str
    juan: str | None
    frames: dict[str, int]
    folios: dict[str, str | None]


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


@router.get("/reels/{reel}/frames/{frame}", response_model=ReelFramePublic, summary="Which book, juan and folios a frame shows")
async def reel_frame(reel: str, frame: int, ctx: ContextDep) -> ReelFramePublic:
    return ReelFramePublic(**await run_in_threadpool(Catalog(ctx.store).reel_frame, reel, frame))


@router.get("/works/{identifier}", response_model=WorkPublic, summary="A work with its editions and copies")
async def work(identifier: str, ctx: ContextDep) -> WorkPublic:
    return WorkPublic(**await run_in_threadpool(Catalog(ctx.store).work, identifier))


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

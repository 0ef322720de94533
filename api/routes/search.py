"""GET /api/search: the public search over the passages of every digital copy."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool

from api.deps import ContextDep
from search.service import MAX_QUERY_LENGTH, SearchResult

router = APIRouter(prefix="/api", tags=["search"])

FILTERS = ("dynasty", "category", "edition", "holding", "copy", "source_id", "entity", "entity_category", "material")


@router.get("/search", response_model=SearchResult, summary="Search in simplified, traditional or variant characters")
async def search(
    ctx: ContextDep,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_LENGTH, description="characters; space = AND, OR, -NOT, \"phrase\"")],
    exact: Annotated[bool, Query(description="match only the characters as typed (no folding)")] = False,
    commentary: Annotated[bool, Query(description="search the interlinear commentary (雙行小注) too; by default only the "
                                                  "main text is searched, and a phrase of it matches across a note")] = False,
    page: Annotated[int, Query(ge=1, le=1000)] = 1,
    size: Annotated[int, Query(ge=1, le=100)] = 10,
    sort: Annotated[str, Query(pattern="^(relevance|work)$")] = "relevance",
    dynasty: Annotated[list[str] | None, Query()] = None,
    category: Annotated[list[str] | None, Query()] = None,
    edition: Annotated[list[str] | None, Query()] = None,
    holding: Annotated[list[str] | None, Query()] = None,
    copy: Annotated[list[str] | None, Query()] = None,
    source_id: Annotated[list[str] | None, Query()] = None,
    entity: Annotated[list[str] | None, Query(description="name of an entity an approved annotation marks")] = None,
    entity_category: Annotated[list[str] | None, Query(
        description="person, place, office, era, book-title, event (of approved annotations)")] = None,
    material: Annotated[list[str] | None, Query(
        description="material type: 古籍 ancient-book, 民国图书 republican-book, 期刊 periodical, 报纸 newspaper (any label or notation)")] = None,
    date_from: Annotated[str | None, Query(max_length=10, description="dated passages (serial issues) from this day: "
                                                                       "YYYY-MM-DD, YYYY-MM (its first day) or YYYY")] = None,
    date_to: Annotated[str | None, Query(max_length=10, description="… to this day: YYYY-MM-DD, YYYY-MM (its last day) or YYYY")] = None,
) -> SearchResult:
    given = dict(dynasty=dynasty, category=category, edition=edition, holding=holding, copy=copy, source_id=source_id,
                 entity=entity, entity_category=entity_category, material=material)
    filters = {k: v for k, v in given.items() if v}
    result = await run_in_threadpool(ctx.search.search, q, exact=exact, filters=filters, page=page, size=size, sort=sort,
                                     commentary=commentary, date_from=date_from, date_to=date_to)
    await run_in_threadpool(ctx.count_use, {h.item for h in result.hits}, "search")  # units whose resources this search hit
    return result

"""JSON reads the web pages need beyond the catalogue API: the approved annotation spans of a
text in one response, authority records to link a span to, and the character map of the
simplified/traditional display toggle."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from annotation.model import Category
from api.deps import ContextDep, OptionalUser
from api.web.display import char_map
from api.web.readmodel import ReadModel
from kg.errors import ValidationError
from kg.iri import check_iri

router = APIRouter(prefix="/api", tags=["web pages"])


class ReadingSpan(BaseModel):
    category: str
    category_label: str | None = None
    authority: str | None = None
    label: str | None = None
    note: str | None = None


class Span(BaseModel):
    id: str
    start: int = Field(description="code-point offset into the juan text")
    end: int
    exact: str
    certainty: str
    readings: list[ReadingSpan]


class Spans(BaseModel):
    iri: str
    total: int
    spans: list[Span]


class Reading(BaseModel):
    iri: str
    item: str
    text: str = Field(description="guji:text of the juan; offsets everywhere are code points into it")
    layout: str = Field(description="guji:layout (JSON): line ends, folio markers, commentary")
    folios: list[dict]
    spans: list[Span] = Field(description="approved annotations")
    gaiji: list[dict] = Field(default_factory=list, description="characters outside Unicode in the text (private-use code "
                              "points) as their source declares them: char, code_point, local_id, ids, nearest, image (data: URI)")


class Authority(BaseModel):
    iri: str
    label: str
    category: str | None = None
    category_label: str | None = None
    provisional: bool = False


class Authorities(BaseModel):
    q: str
    results: list[Authority]


class DisplayRequest(BaseModel):
    to: Literal["hans", "hant"] = Field(description="hans: show simplified; hant: show traditional")
    chars: str = Field(max_length=20_000, description="the characters to convert (each once is enough)")


class DisplayMap(BaseModel):
    to: str
    map: dict[str, str] = Field(description="character → display character, only those that change")


@router.get("/spans", response_model=Spans, summary="The approved annotations on a juan, compact, in one response")
async def spans(ctx: ContextDep, iri: Annotated[str, Query(description="IRI of a guji:Juan")]) -> Spans:
    check_iri(iri)
    found = await run_in_threadpool(ReadModel(ctx.store).spans, iri)
    return Spans(iri=iri, total=len(found), spans=found)


@router.get("/reading", response_model=Reading, summary="A juan for reading: text, layout, folio sides and approved spans")
async def reading(ctx: ContextDep, iri: Annotated[str, Query(description="IRI of a guji:Juan")]) -> Reading:
    check_iri(iri)
    return Reading(**await run_in_threadpool(ReadModel(ctx.store).reading, iri))


@router.get("/authorities", response_model=Authorities, summary="Authority records whose name contains q",
            description="Records of the catalogue and of approved annotations; a logged-in caller also finds the records "
                        "named in the unapproved annotations they may read (their own drafts; reviewers: submitted ones).")
async def authorities(ctx: ContextDep, identity: OptionalUser, q: Annotated[str, Query(min_length=1, max_length=50)],
                      category: Annotated[str | None, Query(description="person, place, office, era, book-title, event (or 人名 …)")] = None,
                      limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Authorities:
    try:
        cat = Category.parse(category) if category else None
    except ValueError as exc:
        raise ValidationError(str(exc), field="category") from None
    found = await run_in_threadpool(lambda: ReadModel(ctx.store).authorities(q, cat, identity=identity, limit=limit))
    return Authorities(q=q, results=found)


@router.post("/display", response_model=DisplayMap, summary="Display forms (simplified or traditional), one character each")
def display(body: DisplayRequest) -> DisplayMap:
    return DisplayMap(to=body.to, map=char_map(body.chars, body.to))

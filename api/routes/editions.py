"""/api/editions/...: annotations carried across a work's editions (thin: one service call per route).

An approved annotation is proposed on the other editions by the live projector (editions/); here
reviewers list that queue (per work, per edition), accept proposals in bulk or one by one (each
becomes an approved annotation derived from its origin) or reject them, and read the alignment
coverage of a work's editions.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ContextDep, CurrentUser
from kg.namespaces import ID

router = APIRouter(prefix="/api/editions", tags=["editions"])


class ProposalPublic(BaseModel):
    """One annotation proposed on another edition (offsets: code points of that edition's juan)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    id: str = Field(description="<origin annotation id>.<edition code>")
    origin: str
    origin_iri: str
    work: str
    from_edition: str
    to_edition: str
    source: str = Field(description="the juan of the other edition")
    start: int
    end: int
    exact: str = Field(description="the other edition's own characters there")
    prefix: str
    suffix: str
    alignment: str = Field(description="identical | variant (equal after folding) | substituted (a variant reading)")
    status: str = Field(description="proposed | accepted | rejected")
    copy_id: str | None = Field(None, alias="copy", description="the accepted copy's annotation id")
    decided_by: str | None = None
    decided_at: str | None = None
    reason: str | None = None
    origin_annotation: dict[str, Any] | None = None


class ProposalsPublic(BaseModel):
    total: int
    offset: int
    items: list[ProposalPublic]


class DecidedItem(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    annotation: str | None = Field(None, description="the new annotation (accepted proposals)")


class ProposalIds(BaseModel):
    model_config = ConfigDict(extra="forbid")
    ids: list[str] = Field(min_length=1, max_length=500, description="proposal ids: <annotation id>.<edition code>")


class ProposalRejection(ProposalIds):
    reason: str | None = Field(None, max_length=4000)


class Decided(BaseModel):
    items: list[DecidedItem]


class CoveragePair(BaseModel):
    a: str
    b: str
    chars_a: int = Field(description="matched characters of edition a (punctuation and spaces left out)")
    chars_b: int
    identical: int = Field(description="aligned characters equal after folding")
    substituted: int = Field(description="aligned characters that differ (variant readings at the same place)")
    share_a: float
    share_b: float


class CoveragePublic(BaseModel):
    work: str
    pairs: list[CoveragePair]


def _work_iri(work: str | None) -> str | None:
    if work is None or "://" in work:
        return work
    return f"{ID}work/{work}"


@router.get("/proposals", response_model=ProposalsPublic,
            summary="Annotations proposed from one edition on another, waiting for a reviewer (reviewer)")
async def proposals(ctx: ContextDep, identity: CurrentUser,
                    work: Annotated[str | None, Query(description="a work IRI or Kanripo id (KR2b0003)", max_length=500)] = None,
                    edition: Annotated[str | None, Query(description="the edition proposed on (SBCK, WYG …)", max_length=100)] = None,
                    from_edition: Annotated[str | None, Query(alias="from", description="the edition proposed from", max_length=100)] = None,
                    status: Annotated[list[str] | None, Query(description="proposed (default), accepted, rejected")] = None,
                    offset: Annotated[int, Query(ge=0)] = 0,
                    limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict[str, Any]:
    total, items = await run_in_threadpool(ctx.editions.queue, identity, work=_work_iri(work), edition=edition,
                                           from_edition=from_edition, status=tuple(status or ("proposed",)),
                                           offset=offset, limit=limit)
    return {"total": total, "offset": offset, "items": items}


@router.post("/proposals/accept", response_model=Decided,
             summary="Accept proposals in bulk: each becomes an approved annotation derived from its origin (reviewer)")
async def accept(ctx: ContextDep, identity: CurrentUser, body: ProposalIds) -> dict[str, Any]:
    return {"items": await run_in_threadpool(ctx.editions.accept, identity, body.ids)}


@router.post("/proposals/reject", response_model=Decided, summary="Reject proposals in bulk (reviewer)")
async def reject(ctx: ContextDep, identity: CurrentUser, body: ProposalRejection) -> dict[str, Any]:
    return {"items": await run_in_threadpool(ctx.editions.reject, identity, body.ids, body.reason)}


@router.post("/proposals/{proposal_id}/accept", response_model=Decided, summary="Accept one proposal (reviewer)")
async def accept_one(ctx: ContextDep, identity: CurrentUser, proposal_id: str) -> dict[str, Any]:
    return {"items": await run_in_threadpool(ctx.editions.accept, identity, [proposal_id])}


class OneRejection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str | None = Field(None, max_length=4000)


@router.post("/proposals/{proposal_id}/reject", response_model=Decided, summary="Reject one proposal (reviewer)")
async def reject_one(ctx: ContextDep, identity: CurrentUser, proposal_id: str, body: OneRejection | None = None) -> dict[str, Any]:
    return {"items": await run_in_threadpool(ctx.editions.reject, identity, [proposal_id], body.reason if body else None)}


@router.get("/coverage/{work}", response_model=CoveragePublic,
            summary="How much of each edition of a work is aligned with its first edition (reviewer)")
async def coverage(ctx: ContextDep, identity: CurrentUser, work: str) -> dict[str, Any]:
    iri = _work_iri(work)
    return {"work": iri, "pairs": await run_in_threadpool(ctx.editions.coverage, identity, iri)}

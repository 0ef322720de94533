"""``/api/operator/...``: the CLI's writes, done by the running server that holds the store (ADR 0009).

Not part of the public API (left out of the OpenAPI schema). A request must come from this
machine (a loopback client, not forwarded by a proxy) and carry ``Authorization: Bearer <operator
token>``, the token ``guji serve`` wrote to ``$GUJI_HOME/run/operator.token`` when it started.
Paths in requests are absolute paths on this machine.
"""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Request
from pydantic import BaseModel, Field

from annotation.errors import AuthenticationRequiredError, PermissionDeniedError
from api import operations
from api.deps import ContextDep
from api.operator import is_loopback
from kg.errors import ValidationError


def require_operator(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    client = request.client.host if request.client else None
    if not is_loopback(client) or "forwarded" in request.headers or "x-forwarded-for" in request.headers:
        raise PermissionDeniedError("operator endpoints answer only requests from this machine (a loopback client, not through a proxy)")
    expected = getattr(request.app.state, "operator_token", None)
    if not expected:
        raise PermissionDeniedError("operator endpoints are off: this server was not started by `guji serve`")
    scheme, _, given = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise AuthenticationRequiredError("operator endpoints need Authorization: Bearer <the token in $GUJI_HOME/run/operator.token>")
    if not hmac.compare_digest(given.strip().encode(), expected.encode()):
        raise AuthenticationRequiredError("the operator token is not valid (guji serve writes a new one each time it starts)")


router = APIRouter(prefix="/api/operator", tags=["operator"], include_in_schema=False, dependencies=[Depends(require_operator)])

Result = dict[str, Any]


def _paths(paths: list[str]) -> list[Path]:
    relative = [p for p in paths if not Path(p).is_absolute()]
    if relative:
        raise ValidationError(f"operator paths must be absolute paths on the server's machine: {', '.join(relative)}", field="paths")
    return [Path(p) for p in paths]


PROJECTION_WAIT = 600.0  # past this a write answers with what is still pending; the projector carries on


def _after_write(ctx, result: Result) -> Result:
    wait = min(PROJECTION_WAIT, ctx.settings.operator_timeout_seconds / 2)
    result["projections"] = operations.projections_after_write(ctx, wait)
    return result


class IngestRequest(BaseModel):
    paths: list[str] = Field(min_length=1, description="Kanripo work folders or submission packages (absolute)")
    format: Literal["kanripo", "package"] | None = None


class LoadRequest(BaseModel):
    files: list[str] = Field(min_length=1)
    graph: str | None = None


class ImportRequest(BaseModel):
    file: str


class CheckAnchorsRequest(BaseModel):
    text: str | None = None


class SyncRequest(BaseModel):
    rebuild: bool = False


@router.post("/ingest", response_model=Result)
def ingest(body: IngestRequest, ctx: ContextDep) -> Result:
    return _after_write(ctx, operations.ingest(ctx, _paths(body.paths), body.format))


@router.post("/load", response_model=Result)
def load(body: LoadRequest, ctx: ContextDep) -> Result:
    return _after_write(ctx, operations.load(ctx, _paths(body.files), body.graph))


@router.post("/annotations/import", response_model=Result)
def import_annotations(body: ImportRequest, ctx: ContextDep) -> Result:
    return _after_write(ctx, operations.import_annotations(ctx, _paths([body.file])[0]))


@router.post("/annotations/check-anchors", response_model=Result)
def check_anchors(body: CheckAnchorsRequest, ctx: ContextDep) -> Result:
    return _after_write(ctx, operations.check_anchors(ctx, body.text))


@router.post("/sync", response_model=Result)
def sync(body: SyncRequest, ctx: ContextDep) -> Result:
    return operations.sync(ctx, rebuild=body.rebuild)


@router.get("/sync/check", response_model=Result)
def check(ctx: ContextDep) -> Result:
    return operations.check(ctx)

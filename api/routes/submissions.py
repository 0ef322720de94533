"""POST /api/submissions: a submitting unit uploads a package (a .zip of a BagIt bag); the server
validates it (样例数据审核) and ingests it in one transaction, or refuses it and stores nothing."""

from __future__ import annotations

import os
import tempfile
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from accounts.errors import PermissionDeniedError
from accounts.identity import Identity, Role
from api.deps import ContextDep, CurrentUser
from kg.errors import InvalidPackageError, PayloadTooLargeError, ValidationError
from kg.package import ingest_package, validate_package

router = APIRouter(prefix="/api", tags=["submissions"])

# who may submit a package: declared here, checked once
CAN_SUBMIT = (Role.SUBMITTER, Role.ADMIN)


def require_submitter(identity: Identity) -> None:
    if identity.role not in CAN_SUBMIT:
        raise PermissionDeniedError(f"submitting packages needs the role submitter or admin; {identity.name} is {identity.role.value}")


class SubmissionReport(BaseModel):
    package: str
    valid: bool
    ingested: bool
    violations: int
    warnings: int
    counts: dict[str, int]
    problems: list[dict[str, Any]]
    graphs: list[str] = []


async def _save_upload(request: Request, limit: int) -> str:
    """Stream the body to a temporary file, refusing more than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLargeError(f"the upload is {declared} bytes; the limit is {limit} bytes (GUJI_MAX_UPLOAD_BYTES)", limit=limit)
    fd, path = tempfile.mkstemp(prefix="guji-upload-", suffix=".zip")
    size = 0
    try:
        with os.fdopen(fd, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > limit:
                    raise PayloadTooLargeError(f"the upload is larger than the limit of {limit} bytes (GUJI_MAX_UPLOAD_BYTES)", limit=limit)
                out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    if size == 0:
        os.unlink(path)
        raise ValidationError("the request body is empty: send the package as a .zip (Content-Type: application/zip)")
    return path


@router.post("/submissions", response_model=SubmissionReport, status_code=201,
             summary="Upload a submission package (.zip of a BagIt bag) for validation and ingest",
             responses={200: {"description": "dry run: the package is valid, nothing stored"},
                        413: {"description": "too large"}, 422: {"description": "invalid: the report, nothing stored"}})
async def submit(request: Request, ctx: ContextDep, user: CurrentUser,
                 dry_run: Annotated[bool, Query(description="validate only, store nothing")] = False) -> Any:
    require_submitter(user)
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype not in ("application/zip", "application/x-zip-compressed", "application/octet-stream"):
        raise ValidationError(f"send the package as a .zip with Content-Type: application/zip (got {ctype or 'none'})")
    path = await _save_upload(request, ctx.settings.max_upload_bytes)
    limits = ctx.archive_limits()
    try:
        if dry_run:
            result = await run_in_threadpool(validate_package, path, limits=limits)
        else:
            result = await run_in_threadpool(ingest_package, ctx.store, path, agent=user.name, limits=limits,
                                                  pyramids=ctx.pyramids)
    finally:
        os.unlink(path)
    report = result.report.to_json()
    body = SubmissionReport(**report, ingested=bool(result.changes),
                            graphs=[c.graph for c in result.changes]).model_dump()
    if not result.report.valid:
        raise InvalidPackageError(f"the package is invalid: {report['violations']} violation(s); nothing was stored", **body)
    if dry_run:
        return JSONResponse(body, status_code=200)
    if result.changes:
        await run_in_threadpool(ctx.sync_projections)
    return JSONResponse(body, status_code=201 if result.changes else 200)

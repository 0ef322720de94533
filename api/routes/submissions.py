"""POST /api/submissions: a submitting unit uploads a package (a .zip of a BagIt bag); the server
validates it (样例数据审核) and ingests it, or refuses it and stores nothing.

A large package is best sent with ``?background=true``: the answer (202) names the submission;
``GET /api/submissions/{id}`` shows its phase, progress, rate and ETA and, at the end, the report;
``DELETE /api/submissions/{id}`` cancels it and leaves nothing of the package (ADR 0017)."""

from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from accounts.errors import PermissionDeniedError
from accounts.identity import Identity, Role
from api.deps import ContextDep, CurrentUser
from kg.errors import IngestCancelledError, InvalidPackageError, NotFoundError, PayloadTooLargeError, ValidationError
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


class Job:
    """One submission ingesting in the background: its progress, and a flag that cancels it."""

    def __init__(self, owner: str, package: str) -> None:
        self.id = uuid.uuid4().hex[:16]
        self.owner, self.package = owner, package
        self.state = "running"  # running | ingested | unchanged | invalid | cancelled | failed
        self.phase, self.done, self.total = "uploaded", 0, 0
        self.started = time.monotonic()
        self.phase_started = self.started
        self.cancel = threading.Event()
        self.result: dict[str, Any] | None = None
        self.error: dict[str, Any] | None = None

    def progress(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if phase != self.phase:  # the phase began when the previous one last reported
            self.phase, self.phase_started = phase, getattr(self, "_last", now)
        self.done, self.total, self._last = done, total, now

    def to_json(self) -> dict[str, Any]:
        elapsed = max(time.monotonic() - self.phase_started, 1e-6)
        rate = self.done / elapsed if self.done else 0.0
        eta = (self.total - self.done) / rate if rate and self.total >= self.done and self.state == "running" else None
        return {"id": self.id, "package": self.package, "state": self.state, "phase": self.phase,
                "unit": "bytes" if self.phase == "reading" else "books", "done": self.done, "total": self.total,
                "rate_per_second": round(rate, 1), "eta_seconds": None if eta is None else round(eta, 1),
                "elapsed_seconds": round(time.monotonic() - self.started, 1), "report": self.result, "error": self.error}


JOBS: dict[str, Job] = {}  # per server process; the store's marker (ADR 0017) survives a restart, these do not
_JOBS_KEPT = 100


def _job(job_id: str, user: Identity) -> Job:
    job = JOBS.get(job_id)
    if job is None or (job.owner != user.name and user.role is not Role.ADMIN):
        raise NotFoundError(f"no submission {job_id}", submission=job_id)
    return job


def _run_job(job: Job, ctx, path: str, limits, agent: str) -> None:
    try:
        result = ingest_package(ctx.store, path, agent=agent, limits=limits, pyramids=ctx.pyramids,
                                progress=job.progress, cancelled=job.cancel.is_set, batch_books=ctx.settings.package_batch_books,
                                load_bytes=ctx.settings.package_load_bytes, workers=ctx.settings.package_workers)
        report = result.report.to_json()
        if result.changes:  # like a write request, the job ends when search and public SPARQL show it
            job.progress("projecting", job.total, job.total)
            ctx.sync_projections()
        job.result = SubmissionReport(**report, ingested=bool(result.changes), graphs=[c.graph for c in result.changes]).model_dump()
        job.state = "invalid" if not result.report.valid else "ingested" if result.changes else "unchanged"
    except IngestCancelledError as exc:
        job.state, job.error = "cancelled", {"code": exc.code, "message": exc.message}
    except Exception as exc:  # noqa: BLE001 - reported on the status, the server goes on
        job.state = "failed"
        job.error = {"code": getattr(exc, "code", "internal_error"), "message": getattr(exc, "message", str(exc))}
    finally:
        os.unlink(path)


@router.get("/submissions/{job_id}", summary="A background submission: phase, progress, rate, ETA, and its report when done")
def submission_status(job_id: str, user: CurrentUser) -> Any:
    require_submitter(user)
    return _job(job_id, user).to_json()


@router.delete("/submissions/{job_id}", status_code=202,
               summary="Cancel a background submission: nothing of the package stays in the store")
def cancel_submission(job_id: str, user: CurrentUser) -> Any:
    require_submitter(user)
    job = _job(job_id, user)
    job.cancel.set()
    return JSONResponse(job.to_json(), status_code=202)


@router.post("/submissions", response_model=SubmissionReport, status_code=201,
             summary="Upload a submission package (.zip of a BagIt bag) for validation and ingest",
             responses={200: {"description": "dry run: the package is valid, nothing stored"},
                        413: {"description": "too large"}, 422: {"description": "invalid: the report, nothing stored"}})
async def submit(request: Request, ctx: ContextDep, user: CurrentUser,
                 dry_run: Annotated[bool, Query(description="validate only, store nothing")] = False,
                 background: Annotated[bool, Query(description="answer 202 at once; follow GET /api/submissions/{id}")] = False) -> Any:
    require_submitter(user)
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype not in ("application/zip", "application/x-zip-compressed", "application/octet-stream"):
        raise ValidationError(f"send the package as a .zip with Content-Type: application/zip (got {ctype or 'none'})")
    path = await _save_upload(request, ctx.settings.max_upload_bytes)
    limits = ctx.archive_limits()
    if background and not dry_run:
        job = Job(user.name, os.path.basename(path))
        for old in [j for j in JOBS.values() if j.state != "running"][:-_JOBS_KEPT or None]:
            JOBS.pop(old.id, None)
        JOBS[job.id] = job
        threading.Thread(target=_run_job, args=(job, ctx, path, limits, user.name), name=f"submission-{job.id}", daemon=True).start()
        return JSONResponse({**job.to_json(), "status_url": f"/api/submissions/{job.id}", "page_url": f"/submissions/{job.id}"},
                            status_code=202,
                            headers={"location": f"/api/submissions/{job.id}"})
    try:
        if dry_run:
            result = await run_in_threadpool(validate_package, path, limits=limits, batch_books=ctx.settings.package_batch_books,
                                             workers=ctx.settings.package_workers)
        else:
            result = await run_in_threadpool(ingest_package, ctx.store, path, agent=user.name, limits=limits,
                                                  pyramids=ctx.pyramids, batch_books=ctx.settings.package_batch_books,
                                                  load_bytes=ctx.settings.package_load_bytes, workers=ctx.settings.package_workers)
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

"""/api/acceptance/...: the national library's acceptance workflow over HTTP (thin: one service call
per route). Who sees what is decided in acceptance/policies.py; files (CSV/XLSX) come as the
request body or as the ``file`` field of a multipart form, limited by GUJI_MAX_TABLE_BYTES."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import ContextDep, CurrentUser
from kg.errors import PayloadTooLargeError, ValidationError

router = APIRouter(prefix="/api/acceptance", tags=["acceptance"])


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class UnitPublic(BaseModel):
    name: str
    province: str | None
    iri: str


class Membership(BaseModel):
    unit: str | None = Field(None, description="the unit a submitter belongs to")
    province: str | None = Field(None, description="the province a coordinator coordinates")


class Opinion(BaseModel):
    file: str | None = Field(None, description="as in the validation report: data/books.csv ...")
    row: int | None = None
    field: str | None = None
    message: str = Field(min_length=1, max_length=4000)


class ReviewCreate(BaseModel):
    decision: Literal["approved", "revise"]
    opinions: list[Opinion] = Field(default_factory=list, max_length=2000)
    note: str | None = Field(None, max_length=4000)


class CheckCreate(BaseModel):
    kind: Literal["batch", "month"] = Field(description="a submitted batch, or a unit's month of completions")
    ref: str = Field(description="the batch id, or '<unit>/<YYYY-MM>'", min_length=1, max_length=500)
    aql: str = Field(description="a preferred AQL of GB/T 2828.1, e.g. 1.0 or 2.5")
    level: str = "II"
    seed: int | None = Field(None, ge=0, lt=2**31, description="recorded; the same seed draws the same sample")


class Defect(BaseModel):
    item: str
    category: str
    note: str | None = Field(None, max_length=4000)


class DefectsCreate(BaseModel):
    defects: list[Defect] = Field(default_factory=list, max_length=5000)


class AcceptanceCreate(BaseModel):
    deadline: str | None = None
    note: str | None = Field(None, max_length=4000)


class CatalogueRow(BaseModel):
    title: str
    unit: str
    contact: str
    phone: str
    completed: str | None = None
    census_no: str | None = None


class CatalogueJson(BaseModel):
    rows: list[CatalogueRow] = Field(max_length=20000)


async def _file(request: Request, limit: int) -> tuple[str, bytes]:
    """(file name, bytes) of an upload: the body itself (?filename=...), or a multipart ``file`` field."""
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form()
        f = form.get("file")
        if f is None or isinstance(f, str):
            raise ValidationError("send the file in the form field 'file' / 请在表单字段 file 中上传文件", field="file")
        data = await f.read()
        name = f.filename or "upload"
    else:
        data = await request.body()
        name = request.query_params.get("filename") or ("upload.xlsx" if data[:4] == b"PK\x03\x04" else "upload.csv")
    if len(data) > limit:
        raise PayloadTooLargeError(f"the file is larger than {limit} bytes (GUJI_MAX_TABLE_BYTES)", limit=limit)
    if not data:
        raise ValidationError("the file is empty / 文件为空", field="file")
    return name, data


# -- public look-ups ------------------------------------------------------------------------------

@router.get("/units", response_model=list[UnitPublic], summary="Submitting units (承建单位) and their provinces (public: credit)")
def units(ctx: ContextDep) -> Any:
    return [UnitPublic(name=n, province=u["province"], iri=u["iri"]) for n, u in sorted(ctx.acceptance.units().items())]


@router.get("/sampling-plan", response_model=Open, summary="GB/T 2828.1 single sampling plan, normal inspection")
def sampling_plan(lot_size: Annotated[int, Query(ge=1, le=10**9)], aql: str, level: str = "II") -> Any:
    from acceptance.sampling import plan

    return plan(lot_size, aql, level).to_json()


@router.get("/due", response_model=Open, summary="When a month's catalogue is due: its last working day in mainland China")
def due(month: str) -> Any:
    from acceptance.workdays import due_date

    return due_date(month)


# -- staff set-up -----------------------------------------------------------------------------------

@router.post("/units", response_model=Open, status_code=201, summary="Register units (CSV/XLSX: unit, province, contact, phone, e-mail)")
async def register_units(request: Request, ctx: ContextDep, user: CurrentUser) -> Any:
    name, data = await _file(request, ctx.settings.max_table_bytes)
    return await run_in_threadpool(ctx.acceptance.register_units, user, name, data)


@router.put("/members/{name}", response_model=Open, summary="Say which unit a submitter belongs to, or which province a coordinator coordinates")
def set_member(name: str, body: Membership, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.set_member(user, name, unit=body.unit, province=body.province)


@router.post("/plan", response_model=Open, status_code=201, summary="Import the approved digitisation catalogue (审定目录), CSV or XLSX")
async def import_plan(request: Request, ctx: ContextDep, user: CurrentUser,
                      year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
                      first_deadline: str | None = None, final_deadline: str | None = None) -> Any:
    name, data = await _file(request, ctx.settings.max_table_bytes)
    return await run_in_threadpool(ctx.acceptance.import_plan, user, name, data, year=year,
                                   first_deadline=first_deadline, final_deadline=final_deadline)


@router.get("/plan/{unit}", response_model=Open, summary="A unit's approved catalogue")
def unit_plan(unit: str, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.plan(user, unit)


@router.get("/progress", response_model=Open, summary="Planned vs sample-approved vs submitted vs accepted, per unit and province, with overdue titles")
def progress(ctx: ContextDep, user: CurrentUser, format: Literal["json", "csv"] = "json") -> Any:
    data = ctx.acceptance.progress(user)
    if format == "csv":
        from acceptance.reports import progress_csv

        return Response(progress_csv(data), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="progress.csv"'})
    return data


# -- samples --------------------------------------------------------------------------------------

@router.post("/samples/{batch}", response_model=Open, status_code=201, summary="Mark a submitted package as its unit's sample")
def mark_sample(batch: str, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.mark_sample(user, batch)


@router.get("/samples/{batch}", response_model=Open, summary="A sample, its reviews and opinions (the unit and staff)")
def sample(batch: str, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.sample(user, batch)


@router.post("/samples/{batch}/reviews", response_model=Open, status_code=201, summary="Record a review decision with opinions per file/row/field")
def review(batch: str, body: ReviewCreate, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.review_sample(user, batch, body.decision, [o.model_dump() for o in body.opinions], body.note)


@router.get("/batches/{batch}/profile", response_model=Open, summary="A batch against its unit's approved sample: tables, columns and formats that differ")
def profile(batch: str, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.compare_with_sample(user, batch)


# -- monthly catalogues -------------------------------------------------------------------------------

@router.post("/catalogues/{month}", response_model=Open, status_code=201, summary="Submit a month's catalogue of completed books (CSV/XLSX, or JSON rows)")
async def submit_catalogue(month: str, request: Request, ctx: ContextDep, user: CurrentUser) -> Any:
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    if ctype == "application/json":
        import pydantic

        try:
            body = CatalogueJson.model_validate_json(await request.body())
        except pydantic.ValidationError as exc:
            problems = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
            raise ValidationError("the catalogue rows are not valid / 目录数据格式有误", problems=problems) from None
        from acceptance.reports import rows_csv

        name, data = "form", rows_csv([r.model_dump() for r in body.rows]).encode("utf-8")
    else:
        name, data = await _file(request, ctx.settings.max_table_bytes)
    return await run_in_threadpool(ctx.acceptance.submit_catalogue, user, month, name, data)


@router.get("/catalogues/{month}", response_model=Open, summary="Who sent the month's catalogue, late or on time, and who has not")
def catalogue_status(month: str, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.catalogue_status(user, month)


@router.get("/catalogues/{month}/{unit}", response_model=Open, summary="One unit's catalogue of a month")
def catalogue(month: str, unit: str, ctx: ContextDep, user: CurrentUser) -> Any:
    from acceptance.errors import AcceptanceNotFoundError

    c = ctx.acceptance.catalogue(user, unit, month)
    if c is None:
        raise AcceptanceNotFoundError(f"no catalogue of {unit} for {month} / 无该月目录", unit=unit, month=month)
    return c


@router.post("/reminders/{month}", response_model=Open, summary="Write reminder e-mails for missing catalogues to the outbox file")
def reminders(month: str, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.reminders(user, month)


# -- spot checks ------------------------------------------------------------------------------------

@router.post("/checks", response_model=Open, status_code=201, summary="Draw a spot check's sample (GB/T 2828.1 plan, recorded seed)")
def create_check(body: CheckCreate, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.create_check(user, body.kind, body.ref, body.aql, body.level, body.seed)


@router.get("/checks", response_model=list[Open], summary="Spot checks the caller may see")
def checks(ctx: ContextDep, user: CurrentUser, unit: str | None = None) -> Any:
    return ctx.acceptance.checks(user, unit)


@router.get("/checks/{check_id}", response_model=Open)
def check(check_id: str, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.check(user, check_id)


@router.post("/checks/{check_id}/defects", response_model=Open, summary="Record defects on sampled items; the lot is accepted or rejected by Ac/Re")
def defects(check_id: str, body: DefectsCreate, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.record_defects(user, check_id, [d.model_dump() for d in body.defects])


# -- batches ----------------------------------------------------------------------------------------

@router.get("/batches/{batch}", response_model=Open, summary="What acceptance of a batch still needs")
def batch_status(batch: str, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.acceptance_status(user, batch)


@router.post("/batches/{batch}/acceptance", response_model=Open, status_code=201, summary="Accept a batch (validated, checks passed, catalogues complete)")
def accept(batch: str, body: AcceptanceCreate, ctx: ContextDep, user: CurrentUser) -> Any:
    return ctx.acceptance.accept_batch(user, batch, deadline=body.deadline, note=body.note)


# -- reports ----------------------------------------------------------------------------------------

@router.get("/report", summary="Acceptance report per unit and province (HTML with charts, or CSV)",
            responses={200: {"content": {"text/html": {}, "text/csv": {}}}})
def report(ctx: ContextDep, user: CurrentUser, format: Literal["html", "csv"] = "html") -> Response:
    from acceptance.reports import acceptance_csv, acceptance_html

    data = ctx.acceptance.report(user)
    if format == "csv":
        return Response(acceptance_csv(data), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="acceptance-report.csv"'})
    return HTMLResponse(acceptance_html(data))


# -- rights, credit and statistics ----------------------------------------------------------------------

@router.get("/units/{unit}/credit", response_model=Open, summary="Public: a unit's contributed books and the terms of use")
def credit(unit: str, ctx: ContextDep) -> Any:
    return ctx.acceptance.credit(unit)


@router.get("/units/{unit}/statistics", response_model=Open,
            summary="Per month: records, images, juan, views, searches hitting the unit, downloads (the unit, its coordinator, staff)")
def statistics(unit: str, ctx: ContextDep, user: CurrentUser, format: Literal["json", "csv"] = "json") -> Any:
    data = ctx.acceptance.statistics(user, unit)
    if format == "csv":
        from acceptance.reports import statistics_csv

        return Response(statistics_csv(data), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="statistics.csv"'})
    return data

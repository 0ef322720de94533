"""``guji acceptance ...``: the national library's acceptance workflow from the command line.

``plan`` and ``due`` are pure look-ups (no store): the GB/T 2828.1 single sampling plan for a lot,
and the day a month's catalogue is due. They are a stable interface (DESIGN.md §5).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from kg.errors import GujiError

acceptance = typer.Typer(no_args_is_help=True, help="Acceptance workflow (验收): sampling plans, due dates of monthly catalogues")
err = Console(stderr=True)


def _fail(exc: GujiError, as_json: bool) -> None:
    if as_json:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message, "details": exc.details}}, ensure_ascii=False))
    else:
        err.print(f"[bold red]error[/]: {exc}")
    raise typer.Exit(1)


@acceptance.command("plan")
def plan_command(
    lot_size: Annotated[int, typer.Option("--lot-size", help="Items in the lot (books, volumes or images: what is inspected)")],
    aql: Annotated[str, typer.Option("--aql", help="Acceptance quality limit, a preferred value of the standard (e.g. 1.0, 2.5)")],
    level: Annotated[str, typer.Option("--level", help="Inspection level: I, II (default), III, S-1 … S-4")] = "II",
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The single sampling plan for normal inspection (GB/T 2828.1 = ISO 2859-1): code letter,
    sample size, acceptance (Ac) and rejection (Re) numbers."""
    from acceptance.sampling import plan

    try:
        p = plan(lot_size, aql, level)
    except GujiError as exc:
        _fail(exc, as_json)
    if as_json:
        print(json.dumps(p.to_json(), ensure_ascii=False))
        return
    how = " (every item: 100% inspection)" if p.full_inspection else ""
    arrow = f", following the {p.arrow} arrow to row {p.plan_letter}" if p.arrow else ""
    print(f"lot {p.lot_size}, level {p.level}, AQL {p.aql}: code letter {p.code_letter}{arrow}; "
          f"inspect {p.sample_size}{how}; accept with ≤ {p.accept} defective, reject with ≥ {p.reject}")


@acceptance.command("due")
def due_command(
    month: Annotated[str, typer.Option("--month", help="YYYY-MM")],
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """The day the monthly catalogue of MONTH is due: the last working day of that month in mainland
    China (statutory holidays and make-up working days from chinese-calendar)."""
    from acceptance.workdays import due_date

    try:
        d = due_date(month)
    except GujiError as exc:
        _fail(exc, as_json)
    if as_json:
        print(json.dumps(d, ensure_ascii=False))
        return
    note = " (a make-up working day, 调休)" if d["make_up_workday"] else ""
    print(f"{d['month']}: due {d['due']}{note} [{d['calendar']}]")


def _read_context():
    """The store read beside a running server (or on its own): the operator sees every unit."""
    from api.context import Context
    from api.settings import get_settings

    try:
        return Context(get_settings(), read_only=True)
    except ValueError as exc:
        err.print(f"[bold red]configuration error[/]: {exc}")
        raise typer.Exit(2) from None


@acceptance.command("progress")
def progress_command(
    as_json: Annotated[bool, typer.Option("--json")] = False,
    csv: Annotated[bool, typer.Option("--csv", help="One row per planned title, as GET /api/acceptance/progress?format=csv")] = False,
) -> None:
    """Planned vs sample-approved vs submitted vs accepted per unit and province, with overdue titles
    (read-only; works beside a running `guji serve`)."""
    from accounts.identity import Identity
    from acceptance.reports import progress_csv

    ctx = _read_context()
    try:
        data = ctx.acceptance.progress(Identity.system())
    except GujiError as exc:
        _fail(exc, as_json)
    finally:
        ctx.close()
    if as_json:
        print(json.dumps(data, ensure_ascii=False, indent=1))
    elif csv:
        print(progress_csv(data).removeprefix("\ufeff"), end="")
    else:
        for u in data["units"]:
            print(f"{u['unit']} ({u['province']}): planned {u['planned']}, sample {'approved' if u['sample_approved'] else 'not approved'}, "
                  f"submitted {u['submitted']}, accepted {u['accepted']}, overdue {u['overdue']}")


@acceptance.command("report")
def report_command(
    format: Annotated[str, typer.Option("--format", help="html or csv")] = "html",
) -> None:
    """The acceptance report of every unit and province (HTML with charts, or CSV) on standard output."""
    from accounts.identity import Identity
    from acceptance.reports import acceptance_csv, acceptance_html

    if format not in ("html", "csv"):
        err.print("[bold red]error[/]: --format is html or csv")
        raise typer.Exit(2)
    ctx = _read_context()
    try:
        data = ctx.acceptance.report(Identity.system())
    except GujiError as exc:
        _fail(exc, False)
    finally:
        ctx.close()
    print(acceptance_csv(data) if format == "csv" else acceptance_html(data), end="")


def register(app: typer.Typer) -> None:
    app.add_typer(acceptance, name="acceptance")

"""``guji annotations ...``: exports and restores on the command line, and the anchor check.

``export`` reads beside a running server; ``import`` and ``check-anchors`` write the store: beside a
running ``guji serve`` the server does the writing (ADR 0009), otherwise this process does.
``split-history`` (a one-time migration) needs the server stopped.
They act as the operator (the system identity ``guji``), not as a user.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from api.context import Context
from api.settings import get_settings
from kg.errors import GujiError

annotations = typer.Typer(no_args_is_help=True, help="Annotations: export, restore, check anchors after text corrections, split histories")
err = Console(stderr=True)
ALL = "draft,submitted,approved,rejected"


def _context(read_only: bool) -> Context:
    try:
        return Context(get_settings(), read_only=read_only)
    except ValueError as exc:
        err.print(f"[bold red]configuration error[/]: {exc}")
        raise typer.Exit(2) from None


def _fail(exc: GujiError, as_json: bool = False) -> None:
    from api.cli import fail

    fail(exc, as_json)


@annotations.command("export")
def export(
    scope: Annotated[Optional[str], typer.Option(help="A juan, digital copy or work IRI, or a work id (KR2a0001); default everything")] = None,
    format: Annotated[str, typer.Option("--format", help="jsonld (W3C, lossless) or csv")] = "jsonld",
    status: Annotated[str, typer.Option(help=f"Comma-separated statuses (default approved; all: {ALL})")] = "approved",
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="File to write (default standard output)")] = None,
    base: Annotated[str, typer.Option(help="Base URL the annotations are served from (their ids)")] = "http://127.0.0.1:8000/",
) -> None:
    """Export annotations as W3C JSON-LD (re-importable without loss) or CSV."""
    from accounts.identity import Identity
    from annotation.model import Status
    from annotation.presenters import export_csv, export_jsonld
    from kg.namespaces import ID

    if format not in ("jsonld", "csv"):
        err.print("[bold red]error[/]: --format is jsonld or csv")
        raise typer.Exit(2)
    try:
        statuses = [Status(s.strip()) for s in status.split(",") if s.strip()]
    except ValueError as exc:
        err.print(f"[bold red]error[/]: {exc}; statuses: {ALL}")
        raise typer.Exit(2) from None
    ctx = _context(read_only=True)
    try:
        target = scope if not scope or ":" in scope else f"{ID}work/{scope}"
        items = ctx.annotations.export(Identity.system(), target, status=statuses)
        if format == "csv":
            text = export_csv(items, base)
        else:
            collection = base.rstrip("/") + "/api/annotations/export" + (f"?scope={scope}" if scope else "")
            text = json.dumps(export_jsonld(items, base, collection_id=collection, label=f"guji annotations ({scope or 'all'})"),
                              ensure_ascii=False, indent=1) + "\n"
    except GujiError as exc:
        _fail(exc)
    finally:
        ctx.close()
    if output:
        output.write_text(text, encoding="utf-8")
        err.print(f"{len(items)} annotation(s) written to {output}")
    else:
        sys.stdout.write(text)


def _operator():
    from api.operator import connect

    try:
        return connect(get_settings())
    except ValueError as exc:
        err.print(f"[bold red]configuration error[/]: {exc}")
        raise typer.Exit(2) from None
    except GujiError as exc:
        _fail(exc)


@annotations.command("import")
def import_(file: Annotated[Path, typer.Argument(help="A JSON-LD export (AnnotationCollection)")]) -> None:
    """Restore exported annotations exactly (ids, creators, status, history); idempotent."""
    if not file.is_file():
        err.print(f"[bold red]error[/]: can not read {file}: no such file")
        raise typer.Exit(1)
    op = _operator()
    try:
        result = op.import_annotations(file)
    except GujiError as exc:
        _fail(exc)
    finally:
        op.close()
    err.print(", ".join(f"{v} {k}" for k, v in result["counts"].items()))


@annotations.command("check-anchors")
def check_anchors(
    text: Annotated[Optional[str], typer.Option("--text", help="Only the annotations of this juan IRI")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """After texts were corrected: move annotations whose quote is found once with its context, flag the rest."""
    op = _operator()
    try:
        reports = op.check_anchors(text)["reports"]
    except GujiError as exc:
        _fail(exc, as_json)
    finally:
        op.close()
    if as_json:
        print(json.dumps(reports, ensure_ascii=False))
        return
    for r in reports:
        counts = ", ".join(f"{k} {len(v)}" for k, v in sorted(r["outcomes"].items())) or "nothing changed"
        print(f"{r['source']}: {r['checked']} checked, {counts}")
        for kind in ("needs_review", "orphaned"):
            for entry in r["outcomes"].get(kind, []):
                print(f"  {kind}: {entry['id']}: {entry['reason']}")


@annotations.command("split-history")
def split_history() -> None:
    """Once, after upgrading: move the history the public may not see (earlier drafts, reviewers'
    reasons) out of the public graphs of annotations approved before, into private graphs."""
    from annotation.policies import Identity

    ctx = _context(read_only=False)
    try:
        moved = ctx.annotations.split_histories(Identity.system())
    except GujiError as exc:
        _fail(exc)
    finally:
        ctx.close()
    err.print(f"{moved} approved annotation(s) rewritten")


def register(app: typer.Typer) -> None:
    app.add_typer(annotations, name="annotations")

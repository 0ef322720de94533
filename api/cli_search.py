"""``guji search`` and ``guji index`` (DESIGN.md §5). The CLI's author adds them with ``register(app)``.

    guji search QUERY [--json] [--exact] [--limit N] [--page P] [--filter dynasty=唐 ...] [--sort work] [--from D --to D]
    guji index [--quiet]      # (re)build the search index from the RDF store, new version swapped in

``--json`` prints one object ``{"total": N, "hits": [...], "facets": {...}, ...}``; every hit has the
source identifier, title, edition, juan, folio, snippet and ``matched_by``.
"""

from __future__ import annotations

import html
import json
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape

from kg.errors import GujiError

err = Console(stderr=True)


def _service(settings, store):
    from search.backends import index_from_settings
    from search.service import SearchService

    return SearchService(index_from_settings(settings), store=store)


def _filters(pairs: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key or not value:
            raise typer.BadParameter(f"--filter takes FIELD=VALUE, got {pair!r}")
        out.setdefault(key.strip(), []).append(value.strip())
    return out


def _print_hits(result) -> None:
    out = Console(highlight=False)
    out.print(f"{result.total} passage(s); page {result.page}")
    for i, h in enumerate(result.hits, start=(result.page - 1) * result.size + 1):
        where = " ".join(x for x in (h.source_id, h.title, h.edition, h.juan_label or f"卷{h.juan}",
                                      f"{h.folio}" if h.folio else "") if x)
        out.print(f"[bold]{i}.[/] {escape(where)}")
        snippet = h.snippet.replace("<mark>", "\x00").replace("</mark>", "\x01")
        snippet = snippet.replace('<small class="note">', "\x02").replace("</small>", "\x03")
        snippet = html.unescape(snippet)
        out.print("   " + escape(snippet).replace("\x00", "[reverse]").replace("\x01", "[/reverse]")
                  .replace("\x02", "[dim]（").replace("\x03", "）[/dim]"))  # a note shown as a note
        if h.matched_by:
            out.print("   matched by: " + "，".join(f"{m.query}→{m.text} {m.how}" for m in h.matched_by))
        for e in h.matched_entities:
            out.print(f"   through an annotation: {escape(e.query)} in {e.via} {escape(e.name)}"
                      + (f" ({e.category})" if e.category else ""))


def register(app: typer.Typer) -> None:
    @app.command("search")
    def search(
        query: Annotated[str, typer.Argument(help="characters to find; space = AND, OR, -NOT, \"phrase\", ( )")],
        json_out: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
        exact: Annotated[bool, typer.Option("--exact", help="match only the characters as typed (no folding)")] = False,
        commentary: Annotated[bool, typer.Option("--commentary", help="search the interlinear commentary (雙行小注) too")] = False,
        limit: Annotated[int, typer.Option("--limit", "-n", min=1, max=100, help="hits per page")] = 10,
        page: Annotated[int, typer.Option("--page", min=1)] = 1,
        filters: Annotated[Optional[list[str]], typer.Option("--filter", "-f", help="FIELD=VALUE: dynasty, category, edition, holding, copy, source_id, entity, entity_category, material")] = None,
        sort: Annotated[str, typer.Option("--sort", help="relevance or work")] = "relevance",
        date_from: Annotated[Optional[str], typer.Option("--from", help="dated passages (serial issues) from this day: YYYY-MM-DD, YYYY-MM or YYYY")] = None,
        date_to: Annotated[Optional[str], typer.Option("--to", help="… to this day (YYYY-MM is its last day)")] = None,
    ) -> None:
        """Search the texts in simplified, traditional or variant characters."""
        from api.cli import _context

        ctx = _context(read_only=True)
        try:
            result = _service(ctx.settings, ctx.store).search(
                query, exact=exact, filters=_filters(filters or []), page=page, size=limit, sort=sort, commentary=commentary,
                date_from=date_from, date_to=date_to)
        except GujiError as exc:
            from api.cli import fail

            fail(exc, json_out)
        finally:
            ctx.close()
        if json_out:
            typer.echo(json.dumps(result.model_dump(mode="json"), ensure_ascii=False))
        else:
            _print_hits(result)

    @app.command("index")
    def index(quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False) -> None:
        """Build the search index from the RDF store (a new version, swapped in when complete)."""
        import time

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        from api.cli import _context

        ctx = _context(read_only=True)
        started = time.monotonic()
        try:
            svc = _service(ctx.settings, ctx.store)
            with Progress(TextColumn("indexing sources"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=err, disable=quiet) as progress:
                task = progress.add_task("index", total=None)

                def report(done: int, total: int) -> None:
                    progress.update(task, completed=done, total=total)

                n = svc.build_index(ctx.store, progress=report)
            err.print(f"indexed {n} passages in {time.monotonic() - started:.1f} s "
                      f"({svc.index.name}, version {svc.index.version()})")
        except GujiError as exc:
            err.print(f"[bold red]error[/]: {escape(str(exc))}")
            raise typer.Exit(1) from None
        finally:
            ctx.close()

"""The ``guji`` command line (Typer). Thin: parse arguments, call one service, print."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from api.context import SAMPLE_DIR, Context
from api.settings import get_settings
from kg.errors import GujiError
from kg.ingest_kanripo import find_works, read_work

app = typer.Typer(add_completion=False, no_args_is_help=True, help="guji: knowledge annotation and discovery for Chinese ancient books (古籍)")
err = Console(stderr=True)


def fail(exc: GujiError, as_json: bool = False) -> None:
    """Exit 1 with the error: as the API's JSON error shape on stdout under --json, as text otherwise."""
    if as_json:
        print(json.dumps({"error": {"code": exc.code, "message": exc.message, "details": exc.details}}, ensure_ascii=False, default=str))
    else:
        err.print(f"[bold red]error[/]: {escape(str(exc))}")
    raise typer.Exit(1)


def _context(read_only: bool = False) -> Context:
    try:
        return Context(get_settings(), read_only=read_only)
    except ValueError as exc:  # settings refused (e.g. placeholder secret in production)
        err.print(f"[bold red]configuration error[/]: {exc}")
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[Optional[str], typer.Option(help="Interface to listen on (default 127.0.0.1)")] = None,
    port: Annotated[Optional[int], typer.Option(help="Port (default 8000)")] = None,
    sample: Annotated[bool, typer.Option("--sample/--no-sample", help="Ingest the bundled sample texts first when the store is empty")] = False,
) -> None:
    """Serve the API and web pages on the embedded stores under $GUJI_HOME."""
    import uvicorn

    from api.app import create_app

    settings = _serve_settings(sample)
    # the address served is the default public base URL (annotation ids) unless GUJI_PUBLIC_BASE_URL says otherwise
    settings = settings.model_copy(update={"host": host or settings.host, "port": port or settings.port})
    ctx = Context(settings)
    if sample and ctx.store.count() == 0:
        from kg.package import ingest_package

        _ingest_kanripo(ctx, [SAMPLE_DIR / "kanripo"], quiet=False)
        for package in sorted((SAMPLE_DIR / "package").iterdir()):
            result = ingest_package(ctx.store, package, agent="guji serve --sample")
            err.print(f"sample package {package.name}: {'ingested' if result.report.valid else 'INVALID'}")
        _report_projections(ctx)
    ctx.close()
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port)


def _serve_settings(sample: bool):
    """Settings for serve, refused (exit 2) without a usable token key. --sample means development
    unless GUJI_ENVIRONMENT says otherwise; development says so loudly."""
    try:
        settings = get_settings()
        if sample and "environment" not in settings.model_fields_set:
            settings = get_settings(environment="development")
        key = Context(settings).signing_key
    except (ValueError, GujiError) as exc:
        err.print(f"[bold red]configuration error[/]: {exc}")
        raise typer.Exit(2) from None
    if key.development:
        err.print(f"[bold yellow]DEVELOPMENT MODE[/]: tokens are signed with a key made for this home ({key.origin}); "
                  "do not expose this server. Production: GUJI_ENVIRONMENT=production and GUJI_SECRET_KEY (docs/deploy.md)")
    return settings


def _ingest_kanripo(ctx: Context, paths: list[Path], *, quiet: bool) -> int:
    """Read and check every work first, then write each work's graph in one transaction."""
    try:
        works = find_works(paths)
    except GujiError as exc:
        fail(exc)
    graphs = []
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, disable=quiet) as progress:
        task = progress.add_task("reading", total=len(works))
        for w in works:
            progress.update(task, description=f"reading {w.name}")
            try:
                graphs.append(read_work(w))
            except GujiError as exc:
                progress.stop()
                fail(exc)  # nothing has been written yet
            progress.advance(task)
        task = progress.add_task("writing", total=len(graphs))
        from kg.ingest_kanripo import graph_iri

        total = 0
        for wg in graphs:
            progress.update(task, description=f"writing {wg.text_id}")
            change, reanchored = ctx.replace_texts(graph_iri(wg.text_id), wg.triples, agent="guji ingest")
            total += len(wg.triples)
            state = "unchanged" if change is None else f"+{change.added} -{change.removed}"
            progress.console.print(f"{wg.text_id}: {wg.juan_count} juan, {wg.folio_count} folio sides, {wg.char_count} characters, {len(wg.triples)} triples ({state})")
            for r in reanchored:
                kinds = ", ".join(f"{k} {len(v)}" for k, v in sorted(r.outcomes.items()))
                progress.console.print(f"  annotations on {r.source}: {r.checked} checked ({kinds})")
            for w in wg.warnings[:5]:
                progress.console.print(f"  [yellow]warning[/]: {w}")
            if len(wg.warnings) > 5:
                progress.console.print(f"  [yellow]... {len(wg.warnings) - 5} more warnings[/]")
            progress.advance(task)
    return total


def _detect_format(path: Path) -> str:
    if path.suffix.lower() == ".zip" or (path / "bagit.txt").is_file():
        return "package"
    return "kanripo"


def _report_projections(ctx: Context) -> None:
    for name, outcome in ctx.sync_projections().items():
        if isinstance(outcome, str):
            err.print(f"[yellow]warning[/]: {name} {outcome}; nothing is lost: run `guji sync` when it is back")
        else:
            err.print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in outcome.items()))


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Kanripo work folders (or folders of them), or submission packages")],
    format: Annotated[Optional[str], typer.Option("--format", help="kanripo or package (default: detected)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    no_sync: Annotated[bool, typer.Option("--no-sync", help="Do not update the search index and Neo4j now")] = False,
) -> None:
    """Ingest sources into the canonical store (one named graph per source, idempotent), then
    bring the search index and Neo4j up to date from the change log."""
    formats = {format} if format else {_detect_format(p) for p in paths}
    if not formats <= {"kanripo", "package"} or len(formats) > 1:
        err.print(f"[bold red]error[/]: give one format at a time: kanripo or package (got {', '.join(sorted(formats))})")
        raise typer.Exit(2)
    ctx = _context()
    started = time.monotonic()
    if formats == {"kanripo"}:
        total = _ingest_kanripo(ctx, paths, quiet=quiet)
        err.print(f"done in {time.monotonic() - started:.1f} s; {total} triples read; store holds {ctx.store.count()} quads")
    else:
        from kg.package import ingest_package

        for path in paths:
            try:
                result = ingest_package(ctx.store, path, agent="guji ingest")
            except GujiError as exc:  # a .zip that can not be unpacked: nothing was written
                ctx.close()
                fail(exc)
            print(result.report.to_text())
            if not result.report.valid:
                err.print(f"[bold red]refused[/]: {path} is invalid; nothing was written")
                ctx.close()
                raise typer.Exit(1)
            state = ", ".join(f"<{c.graph}> +{c.added} -{c.removed}" for c in result.changes) or "unchanged"
            err.print(f"{path}: ingested ({state})")
    ctx.store.optimize()
    if not no_sync:
        _report_projections(ctx)
    ctx.close()


@app.command()
def sync(
    check: Annotated[bool, typer.Option("--check", help="Report drift between the store and the projections; change nothing")] = False,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild the projections from scratch")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Bring Neo4j and the search index in line with the RDF store (idempotent)."""
    ctx = _context()
    try:
        if check:
            report: dict = {}
            if ctx.neo4j is not None:
                report["neo4j"] = ctx.neo4j.check(ctx.store)
            pending = ctx.search.pending(ctx.store)
            report["search"] = {"in_sync": not pending, "pending_changes": len(pending)}
            in_sync = all(r["in_sync"] for r in report.values())
            if as_json:
                print(json.dumps({"in_sync": in_sync, **report}, ensure_ascii=False, indent=2))
            else:
                for name, r in report.items():
                    print(f"{name}: {'in sync' if r['in_sync'] else 'DRIFT'}")
                    for d in r.get("drift", []):
                        print(f"  {d['kind']} {d['name']}: rdf={d['rdf']} neo4j={d['neo4j']}")
                    if "labels" in r:
                        print("  labels: " + ", ".join(f"{k} {v}" for k, v in r["labels"].items()))
                        print("  relationships: " + ", ".join(f"{k} {v}" for k, v in r["relationships"].items()))
                        print(f"  sampled nodes: {r['sampled_nodes']}")
                    if "pending_changes" in r:
                        print(f"  pending changes: {r['pending_changes']}")
            raise typer.Exit(0 if in_sync else 1)
        if rebuild:
            outcome = {"search": {"passages": ctx.search.build_index(ctx.store)}}
            if ctx.neo4j is not None:
                outcome["neo4j"] = ctx.neo4j.sync(ctx.store, rebuild=True)
        else:
            outcome = ctx.sync_projections()
        failed = [k for k, v in outcome.items() if isinstance(v, str)]
        print(json.dumps(outcome, ensure_ascii=False) if as_json else "\n".join(f"{k}: {v}" for k, v in outcome.items()))
        raise typer.Exit(1 if failed else 0)
    except GujiError as exc:
        fail(exc, as_json)
    finally:
        ctx.close()


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="A submission package (BagIt folder or .zip), or Kanripo work folder(s)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Check a source without writing anything (样例数据审核); exit 1 when it is invalid."""
    if _detect_format(path) == "package":
        from kg.package import validate_package

        try:
            report = validate_package(path).report
        except GujiError as exc:
            fail(exc, as_json)
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2) if as_json else report.to_text())
        raise typer.Exit(0 if report.valid else 1)
    problems: list[dict] = []
    works = 0
    try:
        for w in find_works([path]):
            works += 1
            try:
                wg = read_work(w)
                problems += [{"severity": "warning", "work": w.name, "message": m} for m in wg.warnings]
            except GujiError as exc:
                problems.append({"severity": "violation", "work": w.name, "code": exc.code, "message": exc.message, **exc.details})
    except GujiError as exc:
        problems.append({"severity": "violation", "code": exc.code, "message": exc.message, **exc.details})
    valid = not any(p["severity"] == "violation" for p in problems)
    if as_json:
        print(json.dumps({"valid": valid, "works": works, "problems": problems}, ensure_ascii=False, indent=2))
    else:
        for p in problems:
            where = ", ".join(f"{k}={p[k]}" for k in ("file", "line", "column", "field") if k in p)
            print(f"{p['severity'].upper()}: {p.get('work', '')} {p['message']}" + (f" ({where})" if where else ""))
        print(f"{'valid' if valid else 'INVALID'}: {works} work(s), {len(problems)} problem(s)")
    raise typer.Exit(0 if valid else 1)


@app.command()
def load(
    files: Annotated[list[Path], typer.Argument(help="RDF files: Turtle, N-Triples, RDF/XML, JSON-LD, TriG, N-Quads")],
    graph: Annotated[Optional[str], typer.Option(help="Named graph IRI (default: one graph per file)")] = None,
) -> None:
    """Load RDF files into named graphs (authority data, vocabularies, fixtures)."""
    from kg.load import load_files

    ctx = _context()
    try:
        for result in load_files(ctx.store, files, graph=graph, agent="guji load"):
            state = "unchanged" if result.change is None else f"+{result.change.added} -{result.change.removed}"
            err.print(f"{result.file}: {result.triples} triples into <{result.graph}> ({state})")
    except GujiError as exc:
        fail(exc)
    finally:
        ctx.close()


@app.command()
def sparql(
    query: Annotated[str, typer.Argument(help="A SPARQL query, or - to read it from standard input")],
    as_json: Annotated[bool, typer.Option("--json", help="SPARQL JSON results (SELECT/ASK)")] = False,
    format: Annotated[Optional[str], typer.Option("--format", help="json, xml, csv, tsv, turtle, ntriples, jsonld, rdfxml")] = None,
    timeout: Annotated[Optional[float], typer.Option(help="Seconds before the query is stopped")] = None,
) -> None:
    """Run a read-only SPARQL query against the public dataset."""
    from kg.sparql import ResultFormat

    text = sys.stdin.read() if query == "-" else query
    names = {"json": ResultFormat.JSON, "xml": ResultFormat.XML, "csv": ResultFormat.CSV, "tsv": ResultFormat.TSV,
             "turtle": ResultFormat.TURTLE, "ntriples": ResultFormat.NTRIPLES, "jsonld": ResultFormat.JSONLD, "rdfxml": ResultFormat.RDFXML}
    if format and format not in names:
        err.print(f"[bold red]error[/]: unknown format {format!r}; choose from {', '.join(names)}")
        raise typer.Exit(2)
    fmt = names[format] if format else (ResultFormat.JSON if as_json else None)
    ctx = _sparql_context()
    try:
        if fmt is None:
            payload, used, info = ctx.sparql.run(text, ResultFormat.JSON, timeout=timeout)
            if info.returns_graph:
                sys.stdout.write(payload.decode())
            else:
                _print_table(json.loads(payload))
        else:
            payload, used, info = ctx.sparql.run(text, fmt, timeout=timeout)
            sys.stdout.write(payload.decode())
            if not payload.endswith(b"\n"):
                sys.stdout.write("\n")
    except GujiError as exc:
        fail(exc, as_json or format == "json")
    finally:
        ctx.close()


def _sparql_context() -> Context:
    """The public dataset, caught up first when no server runs; beside a running server (which
    keeps it live and holds the store) read as the server last wrote it."""
    ctx = _context()
    try:
        ctx.store
    except GujiError:
        ctx = _context(read_only=True)
        return ctx
    ctx.projector.catch_up("sparql")
    return ctx


def _print_table(data: dict) -> None:
    from rich.table import Table

    if "boolean" in data:
        print("true" if data["boolean"] else "false")
        return
    variables = data["head"]["vars"]
    table = Table(*variables, show_lines=False)
    for b in data["results"]["bindings"]:
        table.add_row(*[b[v]["value"] if v in b else "" for v in variables])
    Console().print(table)
    err.print(f"{len(data['results']['bindings'])} row(s)")


from api import cli_search, cli_suggest  # noqa: E402  (commands owned by the search and suggestion CLI modules)

cli_search.register(app)
cli_suggest.register(app)

from api import cli_users  # noqa: E402  (guji users add/list/passwd/role/key)

cli_users.register(app)

from api import cli_annotations  # noqa: E402  (guji annotations export/import/check-anchors)

cli_annotations.register(app)


def main() -> None:
    app()

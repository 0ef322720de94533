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
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from api import operations
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
    """Serve the API and web pages on the embedded stores under $GUJI_HOME. While it runs, the
    other commands work through it (ADR 0009)."""
    import uvicorn

    from api.app import create_app
    from api.operator import LocalOperator, server_url

    settings = _serve_settings(sample)
    # the address served is the default public base URL (annotation ids) unless GUJI_PUBLIC_BASE_URL says otherwise
    settings = settings.model_copy(update={"host": host or settings.host, "port": port or settings.port})
    ctx = Context(settings)
    if sample and ctx.store.count() == 0:
        op = LocalOperator(ctx)
        _ingest(op, [SAMPLE_DIR / "kanripo"], "kanripo", quiet=False, sync=False)
        for package in sorted((SAMPLE_DIR / "package").iterdir()):
            result = operations.ingest(ctx, [package], "package", agent="guji serve --sample")
            err.print(f"sample package {package.name}: {'ingested' if result['valid'] else 'INVALID'}")
        _report_projections(op.sync(rebuild=False), remote=False)
    if sample and settings.suggest_auto_train:
        _start_suggest_training(settings)
    ctx.close()
    host, port = host or settings.host, port or settings.port
    application = create_app(settings)
    application.state.operator_url = server_url(host, port)  # published under $GUJI_HOME/run once serving
    application.state.direct_sparql = True  # uvicorn with api.protocol: /sparql connections can be handed over (ADR 0026)
    from api.protocol import http_protocol

    uvicorn.run(application, host=host, port=port, access_log=settings.access_log, http=http_protocol())


def _start_suggest_training(settings) -> None:
    """A new user's suggestions should find persons: without a model, build one in the background."""
    from annotation.suggest.config import SuggestConfig
    from annotation.suggest.training import start_background_training

    proc = start_background_training(SuggestConfig(home=settings.home))
    if proc is not None:
        err.print(f"suggestion model: building in the background (pid {proc.pid}, ≈1–3 min on 2 cores; "
                  f"log {settings.home / 'logs' / 'suggest-training.log'}); until then suggestions use rules")


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


def _operator():
    """This process with the store opened, or the running server that holds it."""
    from api.operator import connect

    try:
        return connect(get_settings())
    except ValueError as exc:  # settings refused (e.g. placeholder secret in production)
        err.print(f"[bold red]configuration error[/]: {exc}")
        raise typer.Exit(2) from None
    except GujiError as exc:
        fail(exc)


def _print_source(console: Console, source: dict) -> None:
    """One ingested source, the same lines whichever process ingested it."""
    if "report_text" in source:  # a submission package
        print(source["report_text"])
        if source["valid"]:
            state = ", ".join(f"<{c['graph']}> +{c['added']} -{c['removed']}" for c in source["changes"]) or "unchanged"
            console.print(f"{source['source']}: ingested ({state})")
        else:
            console.print(f"[bold red]refused[/]: {source['source']} is invalid; nothing was written")
        return
    if source.get("skipped"):
        console.print(f"{source['source']}: same files as the last ingest, not read (unchanged)")
        return
    state = "unchanged" if source["unchanged"] else f"+{source['added']} -{source['removed']}"
    console.print(f"{source['source']}: {source['juan']} juan, {source['folio_sides']} folio sides, "
                  f"{source['characters']} characters, {source['triples']} triples ({state})")
    for r in source["reanchored"]:
        kinds = ", ".join(f"{k} {len(v)}" for k, v in sorted(r["outcomes"].items()))
        console.print(f"  annotations on {r['source']}: {r['checked']} checked ({kinds})")
    warnings = source["warnings"]
    for w in warnings[:5]:
        console.print(f"  [yellow]warning[/]: {w}")
    if len(warnings) > 5:
        console.print(f"  [yellow]... {len(warnings) - 5} more warnings[/]")


def _ingest(op, paths: list[Path], fmt: str, *, quiet: bool, sync: bool) -> dict:
    """Run one ingest here (with a progress bar) or in the server, printing each source."""
    started = time.monotonic()
    if op.remote:
        if not quiet:
            err.print(f"the store is held by the guji server at {op.client.server.url}: ingesting there")
        result = op.ingest(paths, fmt, sync=sync)
        for source in result["sources"]:
            _print_source(err, source)
    elif fmt == "package":
        # reading (MB), checking and loading (books): a bar with rate and ETA per phase; Ctrl-C
        # stops the ingest and leaves nothing of the package (ADR 0017)
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
                      TimeElapsedColumn(), TimeRemainingColumn(), console=err, disable=quiet) as progress:
            tasks: dict[str, int] = {}

            def on_progress(phase: str, done: int, total: int) -> None:
                unit, scale = ("MB", 1024 * 1024) if phase == "reading" else ("books", 1)
                if phase not in tasks:
                    tasks[phase] = progress.add_task(f"{phase} ({unit})", total=max(total // scale, 1), rate="")
                    if not quiet and not err.is_terminal:  # a log, not a terminal: one line per phase
                        err.print(f"{phase}: {done // scale}/{total // scale} {unit}")
                task = progress.tasks[tasks[phase]]
                elapsed = max(task.elapsed or 0.0, 1e-6)
                progress.update(tasks[phase], completed=done // scale, total=max(total // scale, 1),
                                rate=f"{done / scale / elapsed:,.0f} {unit}/s")

            def on_source(source: dict) -> None:
                _print_source(progress.console, source)

            try:
                result = op.ingest(paths, fmt, sync=sync, on_source=on_source, on_progress=on_progress)
            except KeyboardInterrupt:
                err.print("[bold red]cancelled[/]: the ingest was stopped; nothing of the package is visible (what was loaded is removed)")
                raise typer.Exit(130) from None
    else:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                      console=err, disable=quiet) as progress:
            task = progress.add_task("reading", total=None)

            def on_read(name: str, i: int, n: int) -> None:
                progress.update(task, description=f"reading {name}", completed=i, total=n)

            def on_source(source: dict) -> None:
                progress.update(task, description="writing", completed=progress.tasks[0].total)
                _print_source(progress.console, source)

            result = op.ingest(paths, fmt, sync=sync, on_read=on_read, on_source=on_source)
    if fmt == "kanripo":
        err.print(f"done in {time.monotonic() - started:.1f} s; {result['triples']} triples read; store holds {result['quads']} quads")
    return result


def _report_projections(outcome: dict, *, remote: bool) -> None:
    later = "the server catches it up by itself when it is back" if remote else "run `guji sync` when it is back"
    for name, done in outcome.items():
        if isinstance(done, str):
            err.print(f"[yellow]warning[/]: {name} {done}; nothing is lost: {later}")
        else:
            err.print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in done.items()))


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Kanripo work folders (or folders of them), or submission packages")],
    format: Annotated[Optional[str], typer.Option("--format", help="kanripo or package (default: detected)")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
    no_sync: Annotated[bool, typer.Option("--no-sync", help="Do not update the projections now (a running server does anyway)")] = False,
) -> None:
    """Ingest sources into the canonical store (one named graph per source, idempotent), then
    bring the projections (search, public SPARQL, Neo4j) up to date from the change log.
    Beside a running `guji serve`, the server does the ingest."""
    try:
        fmt = operations.ingest_format(paths, format)
    except GujiError as exc:
        err.print(f"[bold red]error[/]: {exc.message}")
        raise typer.Exit(2) from None
    op = _operator()
    try:
        result = _ingest(op, paths, fmt, quiet=quiet, sync=not no_sync)
    except GujiError as exc:
        fail(exc)
    finally:
        op.close()
    if "projections" in result:
        _report_projections(result["projections"], remote=op.remote)
    raise typer.Exit(0 if result["valid"] else 1)


def _print_check(name: str, report: dict) -> None:
    if report.get("reachable") is False:
        print(f"{name}: UNREACHABLE: {report.get('error', '')}")
        return
    print(f"{name}: {'in sync' if report.get('in_sync') else 'DRIFT'}")
    for d in report.get("drift", []):
        print(f"  {d['kind']} {d['name']}: store={d['store']} projection={d['projection']}")
    for key, value in report.items():
        if key in ("in_sync", "drift", "reachable", "error"):
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k} {v}" for k, v in value.items()) or "none"
        print(f"  {key.replace('_', ' ')}: {value}")


@app.command()
def sync(
    check: Annotated[bool, typer.Option("--check", help="Report drift between the store and every projection; change nothing")] = False,
    rebuild: Annotated[bool, typer.Option("--rebuild", help="Rebuild the projections from scratch")] = False,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Bring the projections (search, public SPARQL, Neo4j) in line with the RDF store (idempotent);
    works beside a running `guji serve`. Exit 1 on drift or a projection that is down."""
    op = _operator()
    try:
        if check:
            report = op.check()
            in_sync = bool(report.pop("in_sync"))
            if as_json:
                print(json.dumps({"in_sync": in_sync, **report}, ensure_ascii=False, indent=2))
            else:
                for name, r in report.items():
                    _print_check(name, r)
            raise typer.Exit(0 if in_sync else 1)
        outcome = op.sync(rebuild)
    except GujiError as exc:
        fail(exc, as_json)
    finally:
        op.close()
    if as_json:
        print(json.dumps(outcome, ensure_ascii=False))
    else:
        for name, done in outcome.items():
            print(f"{name}: {done}" if isinstance(done, str) else f"{name}: " + ", ".join(f"{k} {v}" for k, v in done.items()))
    raise typer.Exit(1 if any(isinstance(v, str) for v in outcome.values()) else 0)


@app.command()
def validate(
    path: Annotated[Path, typer.Argument(help="A submission package (BagIt folder or .zip), or Kanripo work folder(s)")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Check a source without writing anything (样例数据审核); exit 1 when it is invalid."""
    if operations.detect_format(path) == "package":
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
    """Load RDF files into named graphs (authority data, vocabularies, fixtures); beside a running
    `guji serve`, the server loads them."""
    op = _operator()
    try:
        result = op.load(files, graph)
    except GujiError as exc:
        fail(exc)
    finally:
        op.close()
    for f in result["files"]:
        state = "unchanged" if f["unchanged"] else f"+{f['added']} -{f['removed']}"
        err.print(f"{f['file']}: {f['triples']} triples into <{f['graph']}> ({state})")
    _report_projections(result.get("projections", {}), remote=op.remote)


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

from api import cli_acceptance  # noqa: E402  (guji acceptance plan/due/...)

cli_acceptance.register(app)


def main(argv: list[str] | None = None) -> None:
    """``guji``: a query may start with ``-`` (``guji search -灌嬰 漢軍``, no ``--`` needed); under
    ``--json`` a usage error is the JSON error shape too (exit 2), like every other error."""
    args = _search_args(list(sys.argv[1:] if argv is None else argv))
    if "--json" not in args:
        app(args=args, prog_name="guji")
        return
    try:
        code = typer.main.get_command(app).main(args=args, prog_name="guji", standalone_mode=False)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # a usage error (BadParameter, NoSuchOption, MissingParameter ...): click's UsageError
        if not (hasattr(exc, "format_message") and getattr(exc, "exit_code", None) == 2):
            raise
        ctx = getattr(exc, "ctx", None)
        details = {"command": ctx.command_path if ctx is not None else "guji"}
        param = getattr(exc, "param", None)
        if param is not None and getattr(param, "name", None):
            details["field"] = param.name
        print(json.dumps({"error": {"code": "usage_error", "message": exc.format_message(), "details": details}},
                         ensure_ascii=False))
        sys.exit(2)
    sys.exit(code if isinstance(code, int) else 0)


def _search_args(args: list[str]) -> list[str]:
    """``guji search`` arguments with every word that is not an option taken as the query: words
    starting with ``-`` that name no option (``-灌嬰``) are query terms, and several words are one
    query (``guji search 漢軍 -灌嬰`` = ``guji search '漢軍 -灌嬰'``)."""
    if not args or args[0] != "search" or "--" in args:
        return args
    search = getattr(typer.main.get_command(app), "commands", {}).get("search")
    if search is None:
        return args
    takes_value: set[str] = set()
    flags: set[str] = {"--help"}
    for param in search.params:
        if getattr(param, "param_type_name", "") == "option":
            names = [*param.opts, *param.secondary_opts]
            (flags if getattr(param, "is_flag", False) or getattr(param, "count", False) else takes_value).update(names)
    options: list[str] = []
    words: list[str] = []
    i = 1
    while i < len(args):
        a = args[i]
        name = a.split("=", 1)[0]
        if a in flags:
            options.append(a)
        elif name in takes_value:
            options.append(a)
            if "=" not in a and i + 1 < len(args):
                i += 1
                options.append(args[i])
        else:
            words.append(a)
        i += 1
    if not words:
        return args
    return ["search", *options, "--", " ".join(words)]

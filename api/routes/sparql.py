"""The SPARQL 1.1 Protocol (query operation only): GET, POST form, POST application/sparql-query."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import ContextDep
from api.http import accepted_media, parse_form
from kg.errors import QueryRefusedError, QuerySyntaxError
from kg.sparql import GRAPH_FORMATS, SOLUTION_FORMATS, ResultFormat

router = APIRouter(tags=["sparql"])

_UPDATE_REFUSED = "SPARQL Update is not allowed: this endpoint is read-only"

_ALIASES = {
    "application/json": ResultFormat.JSON,
    "application/sparql-results+json": ResultFormat.JSON,
    "application/sparql-results+xml": ResultFormat.XML,
    "application/xml": ResultFormat.XML,
    "text/xml": ResultFormat.XML,
    "text/csv": ResultFormat.CSV,
    "text/tab-separated-values": ResultFormat.TSV,
    "text/turtle": ResultFormat.TURTLE,
    "application/x-turtle": ResultFormat.TURTLE,
    "application/n-triples": ResultFormat.NTRIPLES,
    "text/plain": ResultFormat.NTRIPLES,
    "application/ld+json": ResultFormat.JSONLD,
    "application/rdf+xml": ResultFormat.RDFXML,
}

_DOC = """SPARQL 1.1 Protocol, query operation, read-only. SELECT/ASK answer as SPARQL JSON (default),
XML, CSV or TSV; CONSTRUCT/DESCRIBE as Turtle (default), N-Triples, JSON-LD or RDF/XML, chosen by the
Accept header. Updates and (unless enabled) SERVICE are refused; each query has a time limit and a
result-size limit. Errors use the JSON error shape with line and column for syntax errors."""


def negotiate(accept: str | None, returns_graph: bool) -> ResultFormat:
    allowed = GRAPH_FORMATS if returns_graph else SOLUTION_FORMATS
    default = ResultFormat.TURTLE if returns_graph else ResultFormat.JSON
    if not accept:
        return default
    for media in accepted_media(accept):
        if media in ("*/*", "application/*", "text/*"):
            return default
        fmt = _ALIASES.get(media)
        if fmt in allowed:
            return fmt
    names = ", ".join(f.value for f in allowed)
    raise HTTPException(406, f"none of the media types in Accept ({accept}) can carry this result; use one of {names}")


def protocol_dataset(params: dict[str, list[str]]) -> tuple[list[str] | None, list[str] | None]:
    """The RDF dataset the protocol parameters ask for: none given = the service's dataset (the
    union of the public graphs as default graph, every public graph by name); otherwise exactly
    the graphs named. The public dataset holds public graphs only, so no name can reach more."""
    default, named = params.get("default-graph-uri"), params.get("named-graph-uri")
    if default is None and named is None:
        return None, None
    return default or [], named or []


def service_iri(ctx) -> str:
    """Relative IRIs in a query resolve against the service's own IRI (SPARQL 1.1 Protocol)."""
    return ctx.settings.base_url + "sparql"


async def _run(ctx, query: str | None, params: dict[str, list[str]], accept: str | None, client: str | None = None) -> Response:
    if not query:
        raise QuerySyntaxError("missing the 'query' parameter (SPARQL 1.1 Protocol)")
    runner = ctx.sparql
    info = runner.inspect(query)
    fmt = negotiate(accept, info.returns_graph)
    default, named = protocol_dataset(params)
    kwargs = dict(default_graph=default, named_graphs=named, client=client, base_iri=service_iri(ctx))
    run_async = getattr(runner, "run_async", None)  # the embedded workers: the loop waits on their pipes
    if run_async is not None:
        payload, used, _ = await run_async(query, fmt, **kwargs)
    else:  # a remote engine: a blocking HTTP exchange, in a thread
        payload, used, _ = await run_in_threadpool(lambda: runner.run(query, fmt, **kwargs))
    media = used.value + ("; charset=utf-8" if used in (ResultFormat.CSV, ResultFormat.TSV, ResultFormat.TURTLE, ResultFormat.NTRIPLES) else "")
    return Response(payload, media_type=media, headers={"Vary": "Accept", "Cache-Control": "public, max-age=60"})


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _parse(text: str, where: str) -> dict[str, list[str]]:
    """URL-encoded parameters; percent-escapes must decode as UTF-8 (never replaced silently)."""
    try:
        return parse_form(text)
    except UnicodeDecodeError as exc:
        raise QuerySyntaxError(f"the {where} is not valid UTF-8 once percent-decoded (byte {exc.start})") from None


def _query_string(request: Request) -> str:
    """The URL's query part as text (what ``request.url.query`` gives, without building the whole URL)."""
    try:
        return request.scope.get("query_string", b"").decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QuerySyntaxError(f"the URL query string is not valid UTF-8 (byte {exc.start})") from None


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise QuerySyntaxError(f"the '{name}' parameter must be given once, got {len(values)}")
    return values[0] if values else None


@router.get("/sparql", summary="SPARQL query (GET)", description=_DOC, response_class=Response,
            responses={200: {"content": {f.value: {} for f in ResultFormat}}})
async def sparql_get(request: Request, ctx: ContextDep) -> Response:
    params = _parse(_query_string(request), "URL query string")
    if "update" in params:
        raise QueryRefusedError(_UPDATE_REFUSED)
    return await _run(ctx, _single(params, "query"), params, request.headers.get("accept"), _client(request))


def _media_type(request: Request) -> tuple[str, str | None]:
    """The body's media type and its charset parameter (None when not given)."""
    ctype, _, rest = (request.headers.get("content-type") or "").partition(";")
    charset = None
    for param in rest.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return ctype.strip().lower(), charset


@router.post("/sparql", summary="SPARQL query (POST form or application/sparql-query)", description=_DOC,
             response_class=Response, responses={200: {"content": {f.value: {} for f in ResultFormat}}})
async def sparql_post(request: Request, ctx: ContextDep) -> Response:
    ctype, charset = _media_type(request)
    params = _parse(_query_string(request), "URL query string")
    if ctype == "application/sparql-update" or "update" in params:
        raise QueryRefusedError(_UPDATE_REFUSED)
    if "query" in params:  # a POST carries its query in the body only; which of two would we run?
        raise QuerySyntaxError("a POST sends the query in its body, not in the URL (SPARQL 1.1 Protocol)")
    if ctype not in ("application/sparql-query", "application/x-www-form-urlencoded"):
        raise HTTPException(415, f"unsupported Content-Type {ctype or '(none)'}: use application/sparql-query or "
                                 "application/x-www-form-urlencoded (SPARQL 1.1 Protocol)")
    if charset not in (None, "utf-8", "utf8"):
        raise HTTPException(415, f"unsupported charset {charset}: the SPARQL 1.1 Protocol takes UTF-8 only")
    body = await request.body()
    if ctype == "application/sparql-query":
        try:
            query = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QuerySyntaxError(f"the query is not valid UTF-8 (byte {exc.start})") from None
    else:
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QuerySyntaxError(f"the form is not valid UTF-8 (byte {exc.start})") from None
        form = _parse(text, "form")
        if "update" in form:
            raise QueryRefusedError(_UPDATE_REFUSED)
        for k, v in form.items():
            params.setdefault(k, []).extend(v)
        query = _single(form, "query")
    return await _run(ctx, query, params, request.headers.get("accept"), _client(request))


class SparqlFastPath:
    """``GET``/``POST /sparql`` answered just inside the body-limit and security-header layers, below
    FastAPI's router and dependency solving: the same handlers as the routes above (which document
    the endpoint in OpenAPI and answer it when this layer is not installed), with the errors mapped
    to the same JSON shape here, because FastAPI's exception layer is not on this path. A light
    query's own cost is ~0.2 ms; the router around it cost more than that (docs/sparql-benchmark.md)."""

    def __init__(self, app, *, context) -> None:
        self.app, self.context = app, context

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != "/sparql" or scope["method"] not in ("GET", "POST"):
            return await self.app(scope, receive, send)
        from api.errors import http_response, response_for
        from kg.errors import GujiError
        from starlette.exceptions import HTTPException as StarletteHTTPException

        request = Request(scope, receive)
        try:
            handler = sparql_get if scope["method"] == "GET" else sparql_post
            response = await handler(request, self.context)
        except GujiError as exc:
            response = response_for(exc)
        except StarletteHTTPException as exc:
            response = http_response(exc)
        await response(scope, receive, send)

"""The SPARQL 1.1 Protocol (query operation only): GET, POST form, POST application/sparql-query."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import ContextDep
from api.http import accepted_media
from kg.errors import QueryRefusedError, QuerySyntaxError
from kg.sparql import GRAPH_FORMATS, SOLUTION_FORMATS, ResultFormat

router = APIRouter(tags=["sparql"])

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


def _run(ctx, query: str | None, params: dict[str, list[str]], accept: str | None, client: str | None = None) -> Response:
    if not query:
        raise QuerySyntaxError("missing the 'query' parameter (SPARQL 1.1 Protocol)")
    info = ctx.sparql.inspect(query)
    fmt = negotiate(accept, info.returns_graph)
    default, named = protocol_dataset(params)
    payload, used, _ = ctx.sparql.run(query, fmt, default_graph=default, named_graphs=named, client=client,
                                      base_iri=service_iri(ctx))
    media = used.value + ("; charset=utf-8" if used in (ResultFormat.CSV, ResultFormat.TSV, ResultFormat.TURTLE, ResultFormat.NTRIPLES) else "")
    return Response(payload, media_type=media, headers={"Vary": "Accept", "Cache-Control": "public, max-age=60"})


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise QuerySyntaxError(f"the '{name}' parameter must be given once, got {len(values)}")
    return values[0] if values else None


@router.get("/sparql", summary="SPARQL query (GET)", description=_DOC, response_class=Response,
            responses={200: {"content": {f.value: {} for f in ResultFormat}}})
async def sparql_get(request: Request, ctx: ContextDep) -> Response:
    params = parse_qs(request.url.query, keep_blank_values=True)
    if "update" in params:
        raise QueryRefusedError("SPARQL Update is not allowed: this endpoint is read-only")
    return await run_in_threadpool(_run, ctx, _single(params, "query"), params, request.headers.get("accept"), _client(request))


@router.post("/sparql", summary="SPARQL query (POST form or application/sparql-query)", description=_DOC,
             response_class=Response, responses={200: {"content": {f.value: {} for f in ResultFormat}}})
async def sparql_post(request: Request, ctx: ContextDep) -> Response:
    ctype = (request.headers.get("content-type") or "").split(";")[0].strip().lower()
    params = parse_qs(request.url.query, keep_blank_values=True)
    body = await request.body()
    if ctype == "application/sparql-update":
        raise QueryRefusedError("SPARQL Update is not allowed: this endpoint is read-only")
    if ctype == "application/sparql-query":
        try:
            query = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise QuerySyntaxError(f"the query is not valid UTF-8 (byte {exc.start})") from None
    elif ctype == "application/x-www-form-urlencoded":
        try:
            form = parse_qs(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError as exc:
            raise QuerySyntaxError(f"the form is not valid UTF-8 (byte {exc.start})") from None
        if "update" in form:
            raise QueryRefusedError("SPARQL Update is not allowed: this endpoint is read-only")
        for k, v in form.items():
            params.setdefault(k, []).extend(v)
        query = _single(form, "query")
    else:
        raise QuerySyntaxError(
            f"unsupported Content-Type {ctype or '(none)'}: use application/sparql-query or application/x-www-form-urlencoded"
        )
    return await run_in_threadpool(_run, ctx, query, params, request.headers.get("accept"), _client(request))

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


async def _run(ctx, query: str | None, params: dict[str, list[str]], accept: str | None,
               client: str | None = None) -> tuple[bytes, str]:
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
    return payload, used.value + ("; charset=utf-8" if used in _TEXT_FORMATS else "")


_TEXT_FORMATS = (ResultFormat.CSV, ResultFormat.TSV, ResultFormat.TURTLE, ResultFormat.NTRIPLES)
ANSWER_HEADERS = {"Vary": "Accept", "Cache-Control": "public, max-age=60"}


def _parse(text: str, where: str) -> dict[str, list[str]]:
    """URL-encoded parameters; percent-escapes must decode as UTF-8 (never replaced silently)."""
    try:
        return parse_form(text)
    except UnicodeDecodeError as exc:
        raise QuerySyntaxError(f"the {where} is not valid UTF-8 once percent-decoded (byte {exc.start})") from None


def _query_string(raw: bytes) -> str:
    """The URL's query part as text (what ``request.url.query`` gives, without building the whole URL)."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise QuerySyntaxError(f"the URL query string is not valid UTF-8 (byte {exc.start})") from None


def _single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise QuerySyntaxError(f"the '{name}' parameter must be given once, got {len(values)}")
    return values[0] if values else None


def _media_type(content_type: str | None) -> tuple[str, str | None]:
    """The body's media type and its charset parameter (None when not given)."""
    ctype, _, rest = (content_type or "").partition(";")
    charset = None
    for param in rest.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    return ctype.strip().lower(), charset


async def answer(ctx, method: str, query_string: bytes, *, accept: str | None, content_type: str | None = None,
                 body: bytes = b"", client: str | None = None) -> tuple[bytes, str]:
    """One SPARQL 1.1 Protocol query request → (payload, media type), or a typed error / HTTPException.
    Framework-free: the routes below and :class:`SparqlFastPath` (in the server and in a direct
    worker, ADR 0026) both answer through it."""
    params = _parse(_query_string(query_string), "URL query string")
    if method == "GET":
        if "update" in params:
            raise QueryRefusedError(_UPDATE_REFUSED)
        return await _run(ctx, _single(params, "query"), params, accept, client)
    ctype, charset = _media_type(content_type)
    if ctype == "application/sparql-update" or "update" in params:
        raise QueryRefusedError(_UPDATE_REFUSED)
    if "query" in params:  # a POST carries its query in the body only; which of two would we run?
        raise QuerySyntaxError("a POST sends the query in its body, not in the URL (SPARQL 1.1 Protocol)")
    if ctype not in ("application/sparql-query", "application/x-www-form-urlencoded"):
        raise HTTPException(415, f"unsupported Content-Type {ctype or '(none)'}: use application/sparql-query or "
                                 "application/x-www-form-urlencoded (SPARQL 1.1 Protocol)")
    if charset not in (None, "utf-8", "utf8"):
        raise HTTPException(415, f"unsupported charset {charset}: the SPARQL 1.1 Protocol takes UTF-8 only")
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
    return await _run(ctx, query, params, accept, client)


def _client(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.get("/sparql", summary="SPARQL query (GET)", description=_DOC, response_class=Response,
            responses={200: {"content": {f.value: {} for f in ResultFormat}}})
async def sparql_get(request: Request, ctx: ContextDep) -> Response:
    payload, media = await answer(ctx, "GET", request.scope.get("query_string", b""), accept=request.headers.get("accept"),
                                  client=_client(request))
    return Response(payload, media_type=media, headers=ANSWER_HEADERS)


@router.post("/sparql", summary="SPARQL query (POST form or application/sparql-query)", description=_DOC,
             response_class=Response, responses={200: {"content": {f.value: {} for f in ResultFormat}}})
async def sparql_post(request: Request, ctx: ContextDep) -> Response:
    payload, media = await answer(ctx, "POST", request.scope.get("query_string", b""), accept=request.headers.get("accept"),
                                  content_type=request.headers.get("content-type"), body=await request.body(),
                                  client=_client(request))
    return Response(payload, media_type=media, headers=ANSWER_HEADERS)


class SparqlFastPath:
    """``GET``/``POST /sparql`` answered on the raw ASGI messages, below FastAPI's router, request
    and response objects: the same :func:`answer` as the routes above (which document the endpoint
    in OpenAPI and answer it when this layer is not installed), with the errors mapped to the same
    JSON shape here, because FastAPI's exception layer is not on this path. A light query's own
    cost is ~0.1 ms; the layers around it cost more than that (docs/sparql-benchmark.md).

    The body limit and the security headers are the middleware's around it. A direct worker
    (ADR 0026) does not use this layer: it speaks HTTP itself (``api.sparql_direct.DirectHttp``)."""

    def __init__(self, app, *, context) -> None:
        self.app, self.context = app, context
        self.answer_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in ANSWER_HEADERS.items()]

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["path"] != "/sparql" or scope["method"] not in ("GET", "POST"):
            return await self.app(scope, receive, send)
        from api.errors import http_response, response_for
        from kg.errors import GujiError
        from starlette.exceptions import HTTPException as StarletteHTTPException

        accept = content_type = None
        for name, value in scope["headers"]:  # the first of each, as Request.headers.get gives
            if name == b"accept":
                accept = value.decode("latin-1") if accept is None else accept
            elif name == b"content-type":
                content_type = value.decode("latin-1") if content_type is None else content_type
        try:
            body = await self._body(receive) if scope["method"] == "POST" else b""
            if body is None:  # the client went away
                return
            client = scope.get("client")
            payload, media = await answer(self.context, scope["method"], scope.get("query_string", b""), accept=accept,
                                          content_type=content_type, body=body, client=client[0] if client else None)
        except GujiError as exc:
            return await self._error(response_for(exc), scope, receive, send)
        except StarletteHTTPException as exc:
            return await self._error(http_response(exc), scope, receive, send)
        headers = [(b"content-length", str(len(payload)).encode("ascii")), (b"content-type", media.encode("latin-1")),
                   *self.answer_headers]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    async def _body(self, receive) -> bytes | None:
        chunks = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _error(self, response, scope, receive, send) -> None:
        await response(scope, receive, send)

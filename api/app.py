"""The FastAPI application. ``create_app()`` builds settings and services once, never at import."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel, Field
from starlette.responses import Response

from api import errors
from api.context import Context
from api.deps import ContextDep
from api.middleware import BodyLimit, BodyLimitMiddleware, SecurityHeadersMiddleware
from api.routes import (acceptance, annotations, auth, catalog, editions, iiif, operator, organisations, pages, search, sparql,
                        submissions, suggest, webdata)
from api.settings import Settings, get_settings
from kg.package import sweep_stale_temp


class ProjectionHealth(BaseModel):
    name: str
    state: str = Field(description="ok | catching-up | rebuilding | failing | starting")
    checkpoint: int | None = Field(description="the last change-log entry this projection holds")
    last_sequence: int = Field(description="the last entry of the change log")
    pending: int = Field(description="changes not applied yet")
    lag_seconds: float = Field(description="age of the oldest change not applied yet")
    last_error: str | None = None
    retry_in: float = Field(0.0, description="seconds until a failing projection is tried again")
    express_changes: int = Field(0, description="small changes (annotations) applied ahead of a long step since start")


class Health(BaseModel):
    status: str = Field(description="ok, or degraded while a projection fails")
    quads: int = Field(description="quads in the canonical store, counted again after a write at most every 60 s")
    graphs: int = Field(description="named graphs in the canonical store (counted with quads)")
    projections: list[ProjectionHealth]


class VisibleWhenDone:
    """A write answers once the projections show it (search, Neo4j, public SPARQL), waiting at most
    GUJI_WRITE_VISIBILITY_SECONDS; past that it answers anyway and /healthz shows the lag. A
    projection busy with a long step taken before the write (an ingest, a rebuild) is not waited
    for (``Projector.wait_until``'s ``not_behind_long_jobs``). Pure
    ASGI (no per-request task like BaseHTTPMiddleware): reads pass straight through."""

    def __init__(self, app, *, context: Context, settings: Settings) -> None:
        self.app, self.context, self.settings = app, context, settings

    async def __call__(self, scope, receive, send):
        ctx = self.context
        if (scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS") or scope["path"] == "/sparql"
                or not self.settings.projector_enabled or "store" not in ctx.__dict__):  # /sparql: a POST that never writes
            return await self.app(scope, receive, send)
        before = ctx.store.last_sequence()

        async def hold_start(message):
            # the status line waits until the write is visible; the body follows it
            if message["type"] == "http.response.start":
                after = ctx.store.last_sequence()
                if after > before and "projector" in ctx.__dict__:
                    from starlette.concurrency import run_in_threadpool

                    await run_in_threadpool(lambda: ctx.projector.wait_until(
                        after, self.settings.write_visibility_seconds, not_behind_long_jobs=True, since=before))
            await send(message)

        await self.app(scope, receive, hold_start)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    context = Context(settings)
    context.signing_key  # refuse to start without a usable token key (production needs GUJI_SECRET_KEY)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        sweep_stale_temp()  # package dirs a killed process left behind
        if settings.projector_enabled:
            # read models current before the first request (a failing one is retried in the background)
            from fastapi.concurrency import run_in_threadpool

            await run_in_threadpool(context.projector.catch_up)
            context.start_projector()  # every write reaches search, Neo4j and public SPARQL while we run
        url = getattr(app.state, "operator_url", None)  # set by `guji serve`: let the CLI work through us (ADR 0009)
        if url:
            from api.operator import publish, withdraw

            context.store  # hold the store from the start, so a CLI command finds it taken and comes here
            app.state.operator_token = publish(settings, url)
        direct = None
        if getattr(app.state, "direct_sparql", False):  # `guji serve`: /sparql connections answered by their worker (ADR 0026)
            from api import sparql_direct

            direct = sparql_direct.start(context)
            if direct is not None:  # serve only once they are up: a client's first connection is the one it keeps
                await direct.wait_ready()
        yield
        if direct is not None:
            sparql_direct.stop(direct)
        if url:
            withdraw(settings)
        context.close()

    app = FastAPI(
        title="guji",
        version="0.1.0",
        description="Knowledge annotation and discovery for Chinese ancient books (古籍): search, book pages, annotations, SPARQL.",
        lifespan=lifespan,
        docs_url=None,  # /docs is served from the installed swagger-ui-dist (api/routes/pages.py), never a CDN
        redoc_url=None,
    )
    app.state.context = context
    errors.install(app)
    # /sparql below the router (innermost, so the limits and headers below still wrap it)
    app.add_middleware(sparql.SparqlFastPath, context=context)
    # limits first (inner), headers last (outer): a refused request still gets the security headers
    app.add_middleware(
        BodyLimitMiddleware,
        limits=[BodyLimit("/api/submissions", settings.max_upload_bytes, "GUJI_MAX_UPLOAD_BYTES", "a package upload"),
                BodyLimit("/sparql", settings.max_sparql_bytes, "GUJI_MAX_SPARQL_BYTES", "a SPARQL request"),
                BodyLimit("/api/annotations/import", settings.max_upload_bytes, "GUJI_MAX_UPLOAD_BYTES", "an annotation import"),
                BodyLimit("/api/acceptance", settings.max_table_bytes, "GUJI_MAX_TABLE_BYTES", "a plan or catalogue file")],
        default=BodyLimit("/", settings.max_json_bytes, "GUJI_MAX_JSON_BYTES"),
        max_json_depth=settings.max_json_depth,
    )
    app.add_middleware(SecurityHeadersMiddleware)

    app.add_middleware(VisibleWhenDone, context=context, settings=settings)

    @app.get("/healthz", response_model=Health, tags=["ops"])
    def healthz(ctx: ContextDep) -> Health:
        statuses = [ProjectionHealth(**st.public()) for st in ctx.projector.status()]
        degraded = any(p.state == "failing" for p in statuses)
        quads, graphs = ctx.store_size()
        return Health(status="degraded" if degraded else "ok", quads=quads, graphs=graphs, projections=statuses)

    @app.get("/metrics", tags=["ops"], response_class=Response, summary="Prometheus metrics")
    def metrics(ctx: ContextDep) -> Response:
        from api.metrics import render

        body, media = render(ctx)
        return Response(body, media_type=media)

    app.include_router(sparql.router)
    app.include_router(search.router)
    app.include_router(catalog.router)
    app.include_router(auth.router)
    app.include_router(annotations.router)
    app.include_router(submissions.router)
    app.include_router(suggest.router)
    app.include_router(webdata.router)
    app.include_router(acceptance.router)
    app.include_router(editions.router)
    app.include_router(organisations.router)
    app.include_router(iiif.router)
    app.include_router(operator.router)  # the CLI beside the server; not in the public OpenAPI schema
    app.include_router(pages.router)  # HTML pages and /static last: they own / and catch-all static paths
    return app

"""The FastAPI application. ``create_app()`` builds settings and services once, never at import."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel, Field
from starlette.responses import Response

from api import errors
from api.context import Context
from api.deps import ContextDep
from api.routes import annotations, auth, catalog, operator, pages, search, sparql, submissions, suggest, webdata
from api.settings import Settings, get_settings


class ProjectionHealth(BaseModel):
    name: str
    state: str = Field(description="ok | catching-up | rebuilding | failing | starting")
    checkpoint: int | None = Field(description="the last change-log entry this projection holds")
    last_sequence: int = Field(description="the last entry of the change log")
    pending: int = Field(description="changes not applied yet")
    lag_seconds: float = Field(description="age of the oldest change not applied yet")
    last_error: str | None = None
    retry_in: float = Field(0.0, description="seconds until a failing projection is tried again")


class Health(BaseModel):
    status: str = Field(description="ok, or degraded while a projection fails")
    quads: int
    graphs: int
    projections: list[ProjectionHealth]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    context = Context(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
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
        yield
        if url:
            withdraw(settings)
        context.close()

    app = FastAPI(
        title="guji",
        version="0.1.0",
        description="Knowledge annotation and discovery for Chinese ancient books (古籍): search, book pages, annotations, SPARQL.",
        lifespan=lifespan,
    )
    app.state.context = context
    errors.install(app)

    @app.middleware("http")
    async def visible_when_done(request, call_next):
        """A write answers once the projections show it (search, Neo4j, public SPARQL), waiting
        at most GUJI_WRITE_VISIBILITY_SECONDS; past that it answers anyway and /healthz shows the lag."""
        if request.method in ("GET", "HEAD", "OPTIONS") or not settings.projector_enabled or "store" not in context.__dict__:
            return await call_next(request)
        before = context.store.last_sequence()
        response = await call_next(request)
        after = context.store.last_sequence()
        if after > before and "projector" in context.__dict__:
            from fastapi.concurrency import run_in_threadpool

            await run_in_threadpool(context.projector.wait_until, after, settings.write_visibility_seconds)
        return response

    @app.get("/healthz", response_model=Health, tags=["ops"])
    def healthz(ctx: ContextDep) -> Health:
        statuses = [ProjectionHealth(**st.public()) for st in ctx.projector.status()]
        degraded = any(p.state == "failing" for p in statuses)
        return Health(status="degraded" if degraded else "ok", quads=ctx.store.count(), graphs=len(ctx.store.graphs()),
                      projections=statuses)

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
    app.include_router(operator.router)  # the CLI beside the server; not in the public OpenAPI schema
    app.include_router(pages.router)  # HTML pages and /static last: they own / and catch-all static paths
    return app

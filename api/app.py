"""The FastAPI application. ``create_app()`` builds settings and services once, never at import."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

from api import errors
from api.context import Context
from api.deps import ContextDep
from api.middleware import BodyLimit, BodyLimitMiddleware, SecurityHeadersMiddleware
from api.routes import annotations, auth, catalog, pages, search, sparql, submissions, suggest, webdata
from api.settings import Settings, get_settings
from kg.package import sweep_stale_temp


class Health(BaseModel):
    status: str
    store: str
    quads: int
    graphs: int


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    context = Context(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        sweep_stale_temp()  # package dirs a killed process left behind
        yield
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
    # limits first (inner), headers last (outer): a refused request still gets the security headers
    app.add_middleware(
        BodyLimitMiddleware,
        limits=[BodyLimit("/api/submissions", settings.max_upload_bytes, "GUJI_MAX_UPLOAD_BYTES", "a package upload"),
                BodyLimit("/sparql", settings.max_sparql_bytes, "GUJI_MAX_SPARQL_BYTES", "a SPARQL request"),
                BodyLimit("/api/annotations/import", settings.max_upload_bytes, "GUJI_MAX_UPLOAD_BYTES", "an annotation import")],
        default=BodyLimit("/", settings.max_json_bytes, "GUJI_MAX_JSON_BYTES"),
        max_json_depth=settings.max_json_depth,
    )
    app.add_middleware(SecurityHeadersMiddleware)

    @app.get("/healthz", response_model=Health, tags=["ops"])
    def healthz(ctx: ContextDep) -> Health:
        return Health(status="ok", store=str(ctx.settings.oxigraph_path), quads=ctx.store.count(), graphs=len(ctx.store.graphs()))

    app.include_router(sparql.router)
    app.include_router(search.router)
    app.include_router(catalog.router)
    app.include_router(auth.router)
    app.include_router(annotations.router)
    app.include_router(submissions.router)
    app.include_router(suggest.router)
    app.include_router(webdata.router)
    app.include_router(pages.router)  # HTML pages and /static last: they own / and catch-all static paths
    return app

"""IIIF: the Image API 3.0 at compliance level 2 (plus mirroring and webp) over the
service-level page images, and Presentation 3 manifests and collections. Public, read-only; CORS
open (any IIIF viewer may load them); answers carry ETags and are cached. Preservation-level
images are never served: their ids resolve to nothing (404), like ids that do not exist."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.deps import ContextDep
from images.iiif import CONTEXT as IMAGE_CONTEXT
from kg.iri import check_iri
from kg.namespaces import ID

router = APIRouter(prefix="/iiif", tags=["iiif"])

CORS = {"Access-Control-Allow-Origin": "*"}
CACHE = "public, max-age=86400"
PRESENTATION_PROFILE = "http://iiif.io/api/presentation/3/context.json"


def _jsonld(request: Request, body: dict, profile: str, *, etag: str | None = None, cache: str = "public, max-age=60") -> Response:
    accept = request.headers.get("accept", "")
    media = f'application/ld+json;profile="{profile}"' if "application/ld+json" in accept else "application/json"
    headers = {**CORS, "Cache-Control": cache}
    if etag:
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers={**headers, "ETag": etag})
        headers["ETag"] = etag
    return JSONResponse(body, media_type=media, headers=headers)


@router.get("/image/{image_id}", summary="IIIF image: redirects to its info.json", status_code=303,
            responses={303: {"description": "see info.json"}, 404: {"description": "no such public image"}})
async def image_base(image_id: str, ctx: ContextDep) -> Response:
    await run_in_threadpool(ctx.images.record, image_id)
    return RedirectResponse(f"{ctx.images.service_id(image_id)}/info.json", status_code=303, headers=CORS)


@router.get("/image/{image_id}/info.json", summary="IIIF Image API 3.0 image information",
            response_model=dict[str, Any], responses={404: {"description": "no such public image"}})
async def image_info(image_id: str, request: Request, ctx: ContextDep) -> Response:
    body, etag = await run_in_threadpool(ctx.images.info, image_id)
    return _jsonld(request, body, IMAGE_CONTEXT, etag=etag, cache=CACHE)


@router.get("/image/{image_id}/{region}/{size}/{rotation}/{quality_format}",
            summary="IIIF Image API 3.0 image request: region / size / rotation / quality.format",
            response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}, "image/webp": {}}},
                       304: {"description": "not modified (If-None-Match)"},
                       400: {"description": "a region, size, rotation, quality or format this service does not answer"},
                       404: {"description": "no such public image"}})
async def image(image_id: str, region: str, size: str, rotation: str, quality_format: str, request: Request,
                ctx: ContextDep) -> Response:
    svc = ctx.images
    _req, _rec, etag = await run_in_threadpool(svc.etag, image_id, region, size, rotation, quality_format)
    headers = {**CORS, "Cache-Control": CACHE, "ETag": etag,
               "Link": f'<{svc.service_id(image_id)}/{region}/{size}/{rotation}/{quality_format}>;rel="canonical"'}
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    data, media, _ = await run_in_threadpool(svc.image, image_id, region, size, rotation, quality_format)
    return Response(data, media_type=media, headers=headers)


@router.get("/books/{census_no}/manifest", summary="IIIF Presentation 3 manifest of a book's service-level digital copy",
            response_model=dict[str, Any], responses={404: {"description": "no such book, or no page images"}})
async def book_manifest(census_no: str, request: Request, ctx: ContextDep) -> Response:
    return _jsonld(request, await run_in_threadpool(ctx.images.book_manifest, census_no), PRESENTATION_PROFILE)


@router.get("/reels/{reel}/manifest", summary="IIIF Presentation 3 manifest of the images scanned from a microfilm reel",
            response_model=dict[str, Any], responses={404: {"description": "no images from this reel"}})
async def reel_manifest(reel: str, request: Request, ctx: ContextDep) -> Response:
    return _jsonld(request, await run_in_threadpool(ctx.images.reel_manifest, reel), PRESENTATION_PROFILE)


@router.get("/books/{census_no}/collection", summary="IIIF collection of a book's manifests (digital copy, reels)",
            response_model=dict[str, Any], responses={404: {"description": "no such book"}})
async def book_collection(census_no: str, request: Request, ctx: ContextDep) -> Response:
    return _jsonld(request, await run_in_threadpool(ctx.images.book_collection, census_no), PRESENTATION_PROFILE)


@router.get("/works/{work:path}/collection", summary="IIIF collection of a work: one collection per physical book",
            response_model=dict[str, Any], responses={404: {"description": "no such work"}})
async def work_collection(work: str, request: Request, ctx: ContextDep) -> Response:
    check_iri(f"{ID}work/{work}", field="work")
    return _jsonld(request, await run_in_threadpool(ctx.images.work_collection, work), PRESENTATION_PROFILE)

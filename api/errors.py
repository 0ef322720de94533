"""One place maps every typed error to one JSON shape: ``{"error": {"code", "message", "details"}}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from accounts import errors as accounts
from annotation import errors as annotation
from images import errors as images
from kg import errors as kg
from search import errors as search

STATUS: list[tuple[type[kg.GujiError], int]] = [
    (kg.NotFoundError, 404),
    (images.ImageRequestError, 400),
    (kg.ConflictError, 409),
    (kg.QuerySyntaxError, 400),
    (kg.QueryRefusedError, 403),
    (kg.QueryTooLargeError, 400),
    (kg.QueryTimeoutError, 503),
    (kg.QueryTooLongError, 413),
    (kg.QueryBusyError, 429),
    (kg.QueryFailedError, 422),
    (kg.PayloadTooLargeError, 413),
    (kg.UnsupportedMediaTypeError, 415),
    (kg.NotAcceptableError, 406),
    (kg.ValidationError, 422),
    (kg.StoreError, 500),
    (search.SearchQueryError, 400),
    (search.IndexNotFoundError, 503),
    (search.SearchBackendError, 503),
    (accounts.AuthenticationRequiredError, 401),
    (accounts.PermissionDeniedError, 403),
    (annotation.AnnotationGoneError, 410),
    (annotation.PreconditionFailedError, 412),
    (annotation.PreconditionRequiredError, 428),
    (accounts.TooManyAttemptsError, 429),
    (accounts.PasswordHashingBusyError, 503),
]


def status_for(exc: kg.GujiError) -> int:
    for cls, status in STATUS:
        if isinstance(exc, cls):
            return status
    return 400


ERROR_SCHEMA = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"],
        "properties": {"code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}},
}


def document_errors(app: FastAPI) -> None:
    """The OpenAPI document shows the error shape every 4xx/5xx really has: FastAPI documents its
    own ``{"detail": [...]}`` for 422, which this service never sends."""
    original = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        schema = original()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["HTTPValidationError"] = {**ERROR_SCHEMA, "title": "HTTPValidationError"}
        schemas.pop("ValidationError", None)
        schemas["Error"] = ERROR_SCHEMA
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def response_for(exc: kg.GujiError) -> JSONResponse:
    """The one response for a typed error (also used by the ASGI layers in api/middleware.py)."""
    headers = {"Retry-After": "30"} if isinstance(exc, kg.QueryTimeoutError) else None
    if "retry_after" in exc.details:  # throttled or busy: say when to come back
        headers = {"Retry-After": str(exc.details["retry_after"])}
    if isinstance(exc, accounts.AuthenticationRequiredError):  # RFC 6750: say how to authenticate
        headers = {"WWW-Authenticate": 'Bearer error="invalid_token"' if exc.code == "invalid_credentials" else "Bearer"}
    return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=status_for(exc), headers=headers)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "unauthorized", 403: "forbidden", 406: "not_acceptable",
               413: "payload_too_large", 415: "unsupported_media_type", 428: "precondition_required"}


def http_response(exc: StarletteHTTPException) -> JSONResponse:
    """The one response for an HTTP-level refusal (406, 415 …) in the same shape."""
    return JSONResponse(error_body(_HTTP_CODES.get(exc.status_code, "http_error"), str(exc.detail)),
                        status_code=exc.status_code, headers=getattr(exc, "headers", None))


def install(app: FastAPI) -> None:
    document_errors(app)
    @app.exception_handler(kg.GujiError)
    async def _guji(_: Request, exc: kg.GujiError) -> JSONResponse:
        return response_for(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()]
        return JSONResponse(error_body("validation_error", "the request is not valid", {"problems": problems}), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return http_response(exc)

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        """A bug: still the one JSON shape (Starlette logs the traceback and re-raises after this answer).
        It is answered outside the other middleware, so it adds the security headers itself."""
        from api.middleware import SECURITY_HEADERS

        return JSONResponse(error_body("internal_error", "the server failed to answer this request; the error is logged"),
                            status_code=500, headers=SECURITY_HEADERS)

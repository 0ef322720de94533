"""ASGI layers in front of every route: request body limits (checked before any route reads or
parses a body) and the security headers every response carries.

Plain ASGI rather than ``BaseHTTPMiddleware``: a streamed upload passes through without being
buffered, and the limits apply even to routes that read ``request.stream()`` themselves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import response_for
from kg.errors import GujiError, JsonTooDeepError, PayloadTooLargeError, ValidationError


@dataclass(frozen=True)
class BodyLimit:
    """Requests whose path starts with ``prefix`` may send at most ``limit`` bytes (``setting`` says
    which GUJI_ variable raises it)."""

    prefix: str
    limit: int
    setting: str
    what: str = "a request body"


# bodies up to this size are read whole before the route sees them (and JSON ones depth-checked);
# larger limits (uploads) are enforced on the stream as the route reads it
BUFFER_MAX = 8 * 1024 * 1024

_STRING = re.compile(rb'"(?:[^"\\]++|\\.)*+"')
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")


def json_too_deep(body: bytes, limit: int) -> bool:
    """True when arrays/objects in ``body`` nest deeper than ``limit`` (brackets inside strings do
    not count). A cheap scan before parsing: Python's parser recurses and would run out of stack."""
    depth = 0
    for c in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        if c in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _is_json(content_type: str | None) -> bool:
    """JSON bodies, and bodies without a Content-Type (FastAPI parses those as JSON too)."""
    media = (content_type or "").split(";")[0].strip().lower()
    return not media or media == "application/json" or media.endswith("+json")


def too_large(rule: BodyLimit, declared: int | None = None) -> PayloadTooLargeError:
    """The refusal of a body over ``rule``'s limit (with its declared size when Content-Length said it)."""
    if declared is None:
        return PayloadTooLargeError(
            f"the request body is larger than the limit of {rule.limit} bytes for {rule.what} ({rule.setting})", limit=rule.limit)
    return PayloadTooLargeError(
        f"the request body is {declared} bytes; the limit for {rule.what} is {rule.limit} bytes ({rule.setting})", limit=rule.limit)


def declared_too_large(rule: BodyLimit, declared: str) -> None:
    """Refuse a Content-Length that is not a number or is over ``rule``'s limit, before any body is read."""
    if not declared.strip().isdigit():
        raise ValidationError(f"Content-Length is not a number: {declared!r}", field="Content-Length")
    if int(declared) > rule.limit:
        raise too_large(rule, int(declared))


class BodyLimitMiddleware:
    def __init__(self, app: ASGIApp, *, limits: list[BodyLimit], default: BodyLimit, max_json_depth: int) -> None:
        self.app = app
        self.limits = sorted(limits, key=lambda b: -len(b.prefix))
        self.default = default
        self.max_json_depth = max_json_depth

    def limit_for(self, path: str) -> BodyLimit:
        return next((b for b in self.limits if path == b.prefix or path.startswith(b.prefix.rstrip("/") + "/")), self.default)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rule = self.limit_for(scope["path"])
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared is not None:
            try:
                declared_too_large(rule, declared)
            except GujiError as exc:
                await response_for(exc)(scope, receive, send)
                return
        if rule.limit <= BUFFER_MAX:
            await self._buffered(scope, receive, send, rule, too_large(rule), check_depth=_is_json(headers.get("content-type")))
        else:
            await self._streamed(scope, receive, send, rule, too_large(rule))

    async def _buffered(self, scope: Scope, receive: Receive, send: Send, rule: BodyLimit,
                        too_large: GujiError, *, check_depth: bool) -> None:
        """Read the whole (small) body first, so a refusal never reaches the route."""
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                replay: list[Message] = [message]
                break
            body += message.get("body", b"")
            if len(body) > rule.limit:
                await response_for(too_large)(scope, receive, send)
                return
            if not message.get("more_body", False):
                replay = [{"type": "http.request", "body": bytes(body), "more_body": False}]
                break
        if check_depth and body and json_too_deep(bytes(body), self.max_json_depth):
            error = JsonTooDeepError(f"the JSON body nests arrays and objects deeper than {self.max_json_depth} levels",
                                     limit=self.max_json_depth)
            await response_for(error)(scope, receive, send)
            return

        async def replayed() -> Message:
            return replay.pop(0) if replay else await receive()

        await self.app(scope, replayed, send)

    async def _streamed(self, scope: Scope, receive: Receive, send: Send, rule: BodyLimit, too_large: GujiError) -> None:
        """Count the bytes as the route reads them; past the limit the route's read fails and
        whatever it would answer is replaced by the 413."""
        state = {"received": 0, "exceeded": False, "started": False}

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > rule.limit:
                    state["exceeded"] = True
                    raise too_large
            return message

        async def guarded(message: Message) -> None:
            if state["exceeded"]:
                if message["type"] == "http.response.start" and not state["started"]:
                    state["started"] = True
                    await response_for(too_large)(scope, receive, send)
                return
            state["started"] = state["started"] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not (state["exceeded"] and not state["started"]):
                raise
            state["started"] = True
            await response_for(too_large)(scope, receive, send)


# no inline script anywhere: every page loads its scripts from /static (data blocks are JSON, not run)
CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",  # the SPARQL editor and Swagger UI set style attributes
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


class SecurityHeadersMiddleware:
    """Adds :data:`SECURITY_HEADERS` to every response that does not set them itself."""

    def __init__(self, app: ASGIApp, headers: dict[str, str] | None = None) -> None:
        self.app = app
        self.headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or SECURITY_HEADERS).items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                message["headers"] = [*message.get("headers", []), *((k, v) for k, v in self.headers if k not in present)]
            await send(message)

        await self.app(scope, receive, with_headers)

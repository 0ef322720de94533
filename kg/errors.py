"""Typed errors of the knowledge graph layer.

Every error carries a stable machine ``code``, a human ``message`` and structured
``details`` (file, line, column, field ...). ``api/errors.py`` maps them, in one place,
to the JSON error shape ``{"error": {"code", "message", "details"}}``.
"""

from __future__ import annotations

from typing import Any


class GujiError(Exception):
    """Base of every error the guji packages raise on purpose."""

    code = "guji_error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = {k: v for k, v in details.items() if v is not None}

    def __reduce__(self):  # pickled whole (a worker process hands its error back with its details)
        return _rebuild, (type(self), self.message, self.details)

    def __str__(self) -> str:  # message first, then the place it happened
        where = ", ".join(f"{k}={v}" for k, v in self.details.items() if k in ("file", "line", "column", "field"))
        return f"{self.message} ({where})" if where else self.message


def _rebuild(cls: type, message: str, details: dict) -> GujiError:
    return cls(message, **details)


class NotFoundError(GujiError):
    code = "not_found"


class WorkMovedError(NotFoundError):
    """A work IRI merged into another work (owl:sameAs): ``details["location"]`` is the id it is
    found under now; HTTP answers with a redirect."""

    code = "moved"


class ValidationError(GujiError):
    """Input that can not be accepted: a malformed file, a broken row, a bad character."""

    code = "validation_error"


class ConflictError(GujiError):
    code = "conflict"


class IngestCancelledError(ConflictError):
    """An ingest stopped on request (Ctrl-C, a cancel call) before it published anything: the
    store holds nothing of the package (ADR 0017)."""

    code = "ingest_cancelled"


class StoreError(GujiError):
    code = "store_error"


class QuerySyntaxError(GujiError):
    """A SPARQL query that does not parse; details carry line and column."""

    code = "query_syntax_error"


class QueryRefusedError(GujiError):
    """A SPARQL request that is well formed but not allowed here (update, SERVICE ...)."""

    code = "query_refused"


class QueryTimeoutError(GujiError):
    code = "query_timeout"


class QueryTooLargeError(GujiError):
    code = "query_result_too_large"


class QueryTooLongError(GujiError):
    """Query text over the size or nesting limit, refused before any parser runs."""

    code = "query_too_long"


class QueryBusyError(GujiError):
    """No query slot came free in time, or this client already runs its share of queries."""

    code = "query_busy"

    def __init__(self, message: str, *, retry_after: int = 5, **details) -> None:
        super().__init__(message, retry_after=retry_after, **details)
        self.retry_after = retry_after


class QueryFailedError(GujiError):
    """The query's worker stopped while evaluating it (memory limit, a crash in the engine)."""

    code = "query_failed"


class PayloadTooLargeError(ValidationError):
    """An upload larger than the configured limit; nothing was stored."""

    code = "payload_too_large"


class ArchiveError(ValidationError):
    """A package .zip that can not be read: truncated, a corrupt member, an unsupported method;
    details name the archive (``file``) and, when known, the ``member``."""

    code = "invalid_archive"


class ArchiveTooLargeError(ArchiveError):
    """A package .zip refused before (or while) unpacking: it declares, or expands to, more bytes,
    members or a higher compression ratio than the configured limits (a zip bomb)."""

    code = "archive_too_large"


class InvalidPackageError(ValidationError):
    """A package that was read but does not pass validation; details carry its whole report."""

    code = "invalid_package"


class JsonTooDeepError(ValidationError):
    """A JSON body whose arrays and objects nest deeper than the limit (refused before parsing)."""

    code = "json_too_deep"


class InvalidIriError(ValidationError):
    """Not an absolute http(s) or urn IRI, or one with characters an IRI can not hold."""

    code = "invalid_iri"


class NotAcceptableError(GujiError):
    """None of the media types the client accepts can be produced here (HTTP 406)."""

    code = "not_acceptable"


class UnsupportedMediaTypeError(ValidationError):
    """A request body in a media type this endpoint does not read (HTTP 415)."""

    code = "unsupported_media_type"

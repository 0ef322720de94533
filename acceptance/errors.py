"""Typed errors of the acceptance workflow. They subclass the shared kinds in :mod:`kg.errors`
and :mod:`accounts.errors`, so ``api/errors.py`` maps them to statuses with no new entry."""

from __future__ import annotations

from accounts.errors import PermissionDeniedError
from kg.errors import ConflictError, NotFoundError, ValidationError


class AcceptanceInputError(ValidationError):
    """A value that cannot be used (an AQL that is not in the standard, a month in the future ...)."""

    code = "invalid_acceptance_input"


class ImportRejectedError(ValidationError):
    """A plan or catalogue file with problems: ``details["problems"]`` lists each one with sheet,
    row, column and a message in Chinese and English; nothing was stored."""

    code = "import_rejected"


class CalendarCoverageError(ValidationError):
    """The holiday calendar does not know that year yet (the library publishes each year's
    arrangement once the State Council announces it)."""

    code = "calendar_not_covered"


class AcceptanceNotFoundError(NotFoundError):
    code = "not_found"


class AcceptanceConflictError(ConflictError):
    code = "conflict"


class NotYoursError(PermissionDeniedError):
    """A unit or a coordinator reaching for another unit's or province's records."""

    code = "forbidden"

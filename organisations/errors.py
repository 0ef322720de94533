"""Typed errors of organisations and projects. They subclass the shared kinds in :mod:`kg.errors` and
:mod:`accounts.errors`, so ``api/errors.py`` maps them to statuses with no new entry."""

from __future__ import annotations

from accounts.errors import PermissionDeniedError
from kg.errors import ConflictError, NotFoundError, ValidationError


class OrganisationInputError(ValidationError):
    """A value that cannot be used: a malformed id, an authority id that is neither an ISIL nor an
    IRI, a project scope naming no text in the store ..."""

    code = "invalid_organisation_input"


class OrganisationNotFoundError(NotFoundError):
    code = "not_found"


class MembershipConflictError(ConflictError):
    """An organisation or project that exists already, an invitation to a member, nothing to accept ..."""

    code = "conflict"


class NotProjectAdminError(PermissionDeniedError):
    """Managing a project's members needs its project admin (or the global admin)."""

    code = "forbidden"

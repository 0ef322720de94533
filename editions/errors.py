"""Typed errors of the editions package (mapped once in api/errors.py to the JSON error shape)."""

from __future__ import annotations

from kg.errors import ConflictError, NotFoundError, ValidationError


class ProposalNotFoundError(NotFoundError):
    """No proposal with this id (or none the caller may see)."""

    code = "edition_proposal_not_found"


class ProposalConflictError(ConflictError):
    """The proposal was decided already, or the text or the origin changed since it was made."""

    code = "edition_proposal_conflict"


class InvalidProposalRequestError(ValidationError):
    """A request about proposals that can not be read (no ids, a malformed id, a bad filter)."""

    code = "invalid_edition_proposal_request"

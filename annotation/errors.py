"""Typed errors of the annotation package (annotation model, service, machine suggestions).

They share the project's one error base (:class:`kg.errors.GujiError`): a stable ``code``, a
human ``message`` and structured ``details``; ``api/errors.py`` maps them to the JSON error shape.
"""

from __future__ import annotations

from accounts.errors import AuthenticationRequiredError, PermissionDeniedError  # noqa: F401  (raised by the policies; they live in accounts)
from kg.errors import ConflictError, GujiError, NotFoundError, ValidationError


class AnnotationError(GujiError):
    """Base of the annotation package's own errors."""

    code = "annotation_error"


class SuggestInputError(ValidationError):
    """Input to ``guji suggest`` that can not be read (e.g. invalid UTF-8); details name the line."""

    code = "suggest_input_error"


class CorpusFormatError(ValidationError):
    """A training/evaluation corpus file that does not parse; details carry file and line."""

    code = "corpus_format_error"


class SuggestDataMissingError(NotFoundError):
    """Data needed to build a model (../shared corpus or authority lists) is not there."""

    code = "suggest_data_missing"


class SuggestModelError(AnnotationError):
    """A stored suggestion model that can not be loaded or was built for another version."""

    code = "suggest_model_error"


# -- annotations: protocol, review workflow, permissions -------------------------------------------

class AnnotationNotFoundError(NotFoundError):
    """No annotation with this id, or none the caller may see (drafts are private to their creator)."""

    code = "annotation_not_found"


class AnnotationGoneError(AnnotationError):
    """The annotation was deleted (its tombstone and history are kept): HTTP 410."""

    code = "annotation_gone"


class TargetMismatchError(ValidationError):
    """A selector that does not agree with the target text (position outside, quote differs ...)."""

    code = "target_mismatch"


class InvalidReviewError(ValidationError):
    """A review that can not be recorded as given: an unknown decision, a rejection without a reason."""

    code = "invalid_review"


class InvalidTransitionError(ConflictError):
    """A workflow step that the annotation's status does not allow (e.g. approving a draft)."""

    code = "invalid_transition"


class PreconditionRequiredError(AnnotationError):
    """A change without If-Match (HTTP 428): the caller must say which version it changes."""

    code = "precondition_required"


class PreconditionFailedError(AnnotationError):
    """If-Match names another version than the stored one (HTTP 412): someone changed it meanwhile."""

    code = "precondition_failed"


class InvalidAnnotationError(ValidationError):
    """A JSON-LD annotation that does not have the shape guji accepts; details name the field."""

    code = "invalid_annotation"


class AnnotationInUseError(ConflictError):
    """An entity annotation that relation annotations still link: delete those first (HTTP 409)."""

    code = "annotation_in_use"

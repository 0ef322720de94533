"""Typed errors of the annotation package (annotation model, service, machine suggestions).

They share the project's one error base (:class:`kg.errors.GujiError`): a stable ``code``, a
human ``message`` and structured ``details``; ``api/errors.py`` maps them to the JSON error shape.
"""

from __future__ import annotations

from kg.errors import GujiError, NotFoundError, ValidationError


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

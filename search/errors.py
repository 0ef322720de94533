"""Typed errors of the search layer (mapped to HTTP by ``api/errors.py``, like every ``GujiError``)."""

from __future__ import annotations

from kg.errors import GujiError


class SearchError(GujiError):
    """Base of the errors ``search/`` raises on purpose."""

    code = "search_error"


class SearchQueryError(SearchError):
    """A search request that can not be run as given: empty query, bad filter, page out of range.

    ``details`` carry the offending ``field`` (``q``, ``filters.dynasty``, ``page`` ...) and, for
    query syntax, the ``column`` (code-point offset into the query) where the problem is.
    """

    code = "search_query_invalid"


class SearchBackendError(SearchError):
    """The search engine failed or can not be reached (Elasticsearch down, index locked ...)."""

    code = "search_backend_error"


class IndexNotFoundError(SearchError):
    """No index has been built yet (run ``guji index``)."""

    code = "search_index_not_found"


class IndexOutdatedError(IndexNotFoundError):
    """The index was built with other fields than this version indexes (rebuild it: ``guji index``;
    ``SearchService.sync`` rebuilds it by itself)."""

    code = "search_index_outdated"

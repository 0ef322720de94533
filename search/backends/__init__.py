"""Search backends, registered by name and imported only when asked for (an unused one costs nothing)."""

from __future__ import annotations

import importlib
from typing import Any

from search.errors import SearchBackendError
from search.index import SearchIndex

BACKENDS = {
    "tantivy": "search.backends.tantivy:TantivyIndex",
    "elasticsearch": "search.backends.elasticsearch:ElasticsearchIndex",
}


def backend_class(name: str) -> type:
    try:
        module, _, cls = BACKENDS[name].partition(":")
    except KeyError:
        raise SearchBackendError(f"unknown search backend {name!r}; known: {', '.join(BACKENDS)}", field="backend") from None
    return getattr(importlib.import_module(module), cls)


def open_index(name: str, **options: Any) -> SearchIndex:
    return backend_class(name)(**options)


def index_from_settings(settings: Any) -> SearchIndex:
    """The index the settings ask for: Elasticsearch when ``GUJI_ES_URL`` is set, else Tantivy on disk."""
    name = settings.effective_search_backend
    if name == "elasticsearch":
        if not settings.es_url:
            raise SearchBackendError("GUJI_SEARCH_BACKEND=elasticsearch needs GUJI_ES_URL", field="es_url")
        return open_index(name, url=settings.es_url, prefix=settings.es_index_prefix)
    return open_index(name, path=settings.search_path)

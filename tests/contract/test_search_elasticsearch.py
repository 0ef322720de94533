"""The search contract on a real Elasticsearch 9 server (``scripts/services up es``).

Skipped locally when no server answers; a failure under ``CI=true`` (see tests/_services.py).
"""

from __future__ import annotations

import uuid

import pytest

from search.backends.elasticsearch import ElasticsearchIndex
from tests.contract.search_contract import SearchContract, SerialSearchContract

pytestmark = pytest.mark.elasticsearch


class TestElasticsearchSearch(SearchContract, SerialSearchContract):
    @pytest.fixture(scope="class")
    @classmethod
    def index_factory(cls, es_client):
        made: list[ElasticsearchIndex] = []

        def make() -> ElasticsearchIndex:
            index = ElasticsearchIndex(client=es_client, prefix=f"guji-test-{uuid.uuid4().hex[:8]}")
            made.append(index)
            return index

        yield make
        for index in made:  # a failed test must not leave indices behind
            index.drop()


def test_an_index_with_an_older_mapping_is_rebuilt_by_sync(es_client):
    from search.backends.elasticsearch import MAPPINGS
    from search.errors import IndexOutdatedError
    from search.service import SearchService
    from tests.contract import search_data as data

    index = ElasticsearchIndex(client=es_client, prefix=f"guji-test-{uuid.uuid4().hex[:8]}")
    try:
        # what an earlier version built: no entity fields
        old = {**MAPPINGS, "properties": {k: v for k, v in MAPPINGS["properties"].items()
                                          if not k.startswith("entity") and k != "annotation"}}
        es_client.indices.create(index=f"{index.alias}-v1", mappings=old, aliases={index.alias: {"is_write_index": True}})
        with pytest.raises(IndexOutdatedError, match="guji index"):
            index.checkpoint()
        store = data.build_store()
        svc = SearchService(index, store=store)
        assert svc.sync(store) > 0
        assert index.version() != f"{index.alias}-v1" and svc.search("刘邦").total == 1
    finally:
        index.drop()

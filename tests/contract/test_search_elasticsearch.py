"""The search contract on a real Elasticsearch 9 server (``scripts/services up es``).

Skipped locally when no server answers; a failure under ``CI=true`` (see tests/_services.py).
"""

from __future__ import annotations

import uuid

import pytest

from search.backends.elasticsearch import ElasticsearchIndex
from tests.contract.search_contract import SearchContract

pytestmark = pytest.mark.elasticsearch


class TestElasticsearchSearch(SearchContract):
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

"""The search contract on the embedded engine (Tantivy on disk)."""

from __future__ import annotations

import itertools

import pytest

from search.backends.tantivy import TantivyIndex
from tests.contract.search_contract import SearchContract


class TestTantivySearch(SearchContract):
    @pytest.fixture(scope="class")
    @classmethod
    def index_factory(cls, tmp_path_factory):
        counter = itertools.count()
        return lambda: TantivyIndex(tmp_path_factory.mktemp("tantivy") / f"index{next(counter)}")

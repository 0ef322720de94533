"""The search contract on the embedded engine (Tantivy on disk)."""

from __future__ import annotations

import itertools

import pytest

from search.backends.tantivy import TantivyIndex
from tests.contract.search_contract import SearchContract, SerialSearchContract


class TestTantivySearch(SearchContract, SerialSearchContract):
    @pytest.fixture(scope="class")
    @classmethod
    def index_factory(cls, tmp_path_factory):
        counter = itertools.count()
        return lambda: TantivyIndex(tmp_path_factory.mktemp("tantivy") / f"index{next(counter)}")


def test_an_index_with_an_older_schema_is_rebuilt_by_sync(tmp_path):
    import tantivy

    from search.errors import IndexOutdatedError
    from search.service import SearchService
    from tests.contract import search_data as data

    root = tmp_path / "idx"
    sb = tantivy.SchemaBuilder()  # what an earlier version built: other fields
    sb.add_text_field("id", tokenizer_name="raw")
    (root / "v1").mkdir(parents=True)
    tantivy.Index(sb.build(), path=str(root / "v1"))
    (root / "CURRENT").write_text("v1\n")
    index = TantivyIndex(root)
    with pytest.raises(IndexOutdatedError, match="guji index"):
        index.checkpoint()
    store = data.build_store()
    svc = SearchService(index, store=store)
    with pytest.raises(IndexOutdatedError):  # a search says so (HTTP 503) until it is rebuilt
        svc.search("刘邦")
    assert svc.sync(store) > 0
    assert index.version() != "v1" and svc.search("刘邦").total == 1

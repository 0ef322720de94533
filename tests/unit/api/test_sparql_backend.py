"""Which public SPARQL dataset and query runner the settings select (no server needed: nothing
connects until used)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.context import Context
from api.settings import Settings
from kg.sparql import QueryRunner
from kg.sparql_remote import RemoteQueryRunner
from projections.public_sparql import OxigraphPublicDataset
from projections.remote_sparql import RemoteSparqlDataset, ReplicatedSparqlDataset


def test_embedded_is_the_default(tmp_path):
    ctx = Context(Settings(home=tmp_path, environment="test"))
    try:
        assert isinstance(ctx.public_sparql, OxigraphPublicDataset)
        assert isinstance(ctx.sparql, QueryRunner)
    finally:
        ctx.close()


@pytest.mark.parametrize("backend, url, query", [
    ("oxigraph-server", "http://sparql.example:7878", "http://sparql.example:7878/query"),
    ("fuseki", "http://sparql.example:3030/guji/", "http://sparql.example:3030/guji/query"),
])
def test_a_server_backend_puts_dataset_and_queries_on_it(tmp_path, backend, url, query):
    ctx = Context(Settings(home=tmp_path, environment="test", sparql_backend=backend, sparql_url=url,
                           sparql_timeout=3, sparql_max_results=7))
    try:
        assert isinstance(ctx.public_sparql, RemoteSparqlDataset) and ctx.public_sparql.endpoints.query == query
        assert ctx.public_sparql.state.path.parent == tmp_path / "sparql-remote"
        runner = ctx.sparql
        assert isinstance(runner, RemoteQueryRunner) and [e.query for e in runner.servers] == [query]
        assert (runner.timeout, runner.max_results) == (3, 7)
        assert not (tmp_path / "public").exists()  # no embedded dataset is built beside it
    finally:
        ctx.close()


def test_replicas_are_fed_and_queried_together(tmp_path, monkeypatch):
    monkeypatch.setenv("GUJI_SPARQL_REPLICA_URLS", '["http://r2:7878", "http://r3:7878"]')
    ctx = Context(Settings(home=tmp_path, environment="test", sparql_backend="oxigraph-server", sparql_url="http://r1:7878"))
    try:
        assert isinstance(ctx.public_sparql, ReplicatedSparqlDataset)
        assert [d.url for d in ctx.public_sparql.datasets] == ["http://r1:7878", "http://r2:7878", "http://r3:7878"]
        assert len({d.state.path for d in ctx.public_sparql.datasets}) == 3  # a checkpoint per server
        assert [e.query for e in ctx.sparql.servers] == [f"http://r{i}:7878/query" for i in (1, 2, 3)]
    finally:
        ctx.close()


@pytest.mark.parametrize("kwargs, message", [
    ({"sparql_backend": "fuseki"}, "needs GUJI_SPARQL_URL"),
    ({"sparql_url": "http://h:7878"}, "GUJI_SPARQL_BACKEND is embedded"),
])
def test_backend_and_url_go_together(tmp_path, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        Settings(home=tmp_path, environment="test", **kwargs)


def test_store_size_is_counted_again_only_after_a_write(tmp_path):
    """/healthz's quad count walks the whole store: a poll between writes must not count again."""
    import pyoxigraph as ox

    from api.context import Context
    from api.settings import Settings

    ctx = Context(Settings(home=tmp_path, environment="test"))
    try:
        g = "https://w3id.org/guji/graph/test/size"
        ctx.store.replace_graph(g, [ox.Triple(ox.NamedNode("http://e/a"), ox.NamedNode("http://e/p"), ox.Literal("1"))], agent="t")
        quads, graphs = ctx.store_size()
        counted = []
        real_count = ctx.store.count
        ctx.store.count = lambda: counted.append(1) or real_count()  # instrumented, the store itself is real
        assert ctx.store_size() == (quads, graphs) and counted == []
        ctx.store.replace_graph(g + "2", [ox.Triple(ox.NamedNode("http://e/b"), ox.NamedNode("http://e/p"), ox.Literal("2"))], agent="t")
        assert ctx.store_size(max_age=0)[0] > quads and counted == [1]
    finally:
        ctx.close()

"""The public dataset contract on a SPARQL 1.1 server, plus what only a server-backed dataset and
its query runner must do. A server's test module subclasses :class:`RemoteDatasetContract` and
sets ``engine`` and the fixture ``base_url``.

These tests write to the server (``DROP ALL`` on every rebuild): run them on the test servers of
``scripts/services``, never on a production dataset.
"""

from __future__ import annotations

import json
import time

import httpx
import pyoxigraph as ox
import pytest

from kg.errors import QueryRefusedError, QuerySyntaxError, QueryTimeoutError, QueryTooLargeError, StoreError
from kg.sparql import ResultFormat, execute
from kg.sparql_remote import Endpoints, RemoteQueryRunner
from projections.base import ProjectionError
from projections.public_sparql import OxigraphPublicDataset
from projections.remote_sparql import RemoteSparqlDataset, ServerTimeoutError
from tests.contract.projection_contract import EX, OTHER, TEXT, PublicDatasetContract, t, text_triples

CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


def bindings(payload: bytes) -> list[dict[str, str]]:
    rows = json.loads(payload)["results"]["bindings"]
    return [{k: ("_:" + v["value"] if v["type"] == "bnode" else v["value"]) for k, v in b.items()} for b in rows]


class RemoteDatasetContract(PublicDatasetContract):
    engine: str = ""

    @pytest.fixture
    def base_url(self):  # pragma: no cover - every server overrides it
        raise NotImplementedError

    @pytest.fixture
    def endpoints(self, base_url):
        return Endpoints.of(self.engine, base_url)

    @pytest.fixture
    def runner(self, endpoints):
        r = RemoteQueryRunner(endpoints, timeout=10, max_results=1000)
        yield r
        r.close()

    @pytest.fixture
    def dataset(self, tmp_path, endpoints, runner):
        d = RemoteSparqlDataset(endpoints, tmp_path / "state", verify_seconds=0)
        d.runner = runner  # what the endpoint queries it with (test only)
        yield d
        d.close()

    def select(self, dataset, text, *, default_graph=None, named_graphs=None):
        payload, _, _ = dataset.runner.run(text, ResultFormat.JSON, default_graph=default_graph, named_graphs=named_graphs)
        return bindings(payload)

    def delete_behind(self, dataset, graph):
        httpx.delete(dataset.endpoints.gsp, params={"graph": graph}, timeout=30).raise_for_status()

    # -- the checkpoint on the guji side ---------------------------------------------------------
    def test_a_server_that_lost_its_data_asks_for_a_rebuild(self, store, dataset):
        self.sync(store, dataset)
        assert dataset.checkpoint(store) == store.last_sequence()
        dataset._update("DROP ALL")  # a fresh server, or one restored from an older backup
        assert dataset.checkpoint(store) is None
        assert self.sync(store, dataset).get("rebuilt")
        assert self.titles(dataset) == {"周易"}

    def test_a_count_the_server_cannot_finish_in_time_does_not_stop_the_projection(self, store, dataset, monkeypatch):
        self.sync(store, dataset)

        def too_slow():
            raise ServerTimeoutError("the SPARQL server at test did not finish 'SELECT (COUNT(*)…' within its time limit")

        monkeypatch.setattr(dataset, "remote_triples", too_slow)
        assert dataset.checkpoint(store) == store.last_sequence()  # trusted, with a warning in the log

    def test_the_checkpoint_is_kept_per_server(self, store, dataset, tmp_path, endpoints):
        self.sync(store, dataset)
        other = RemoteSparqlDataset(Endpoints.of(self.engine, "http://127.0.0.1:9/elsewhere"), tmp_path / "state")
        assert other.state.path != dataset.state.path
        assert other.checkpoint(store) is None  # never built there (and not reachable: not even asked)

    def test_a_server_that_is_down_fails_the_projection_and_loses_nothing(self, store, dataset, tmp_path):
        self.sync(store, dataset)
        down = RemoteSparqlDataset(Endpoints.of(self.engine, "http://127.0.0.1:9/guji"), tmp_path / "down")
        change = store.replace_graph(TEXT, text_triples("周易正義"), agent="test")
        with pytest.raises(ProjectionError, match="cannot be reached"):
            down.rebuild(store)
        assert down.checkpoint(store) is None
        # the real one catches up from its checkpoint
        dataset.apply(store, store.changes_since(change.sequence - 1))
        assert self.titles(dataset) == {"周易正義"}

    # -- the query runner ------------------------------------------------------------------------
    def test_answers_are_the_embedded_endpoints_byte_for_byte(self, store, dataset, tmp_path):
        self.sync(store, dataset)
        embedded = OxigraphPublicDataset(tmp_path / "public")
        try:
            embedded.rebuild(store)
            query = f"SELECT ?w ?title ?juan WHERE {{ ?w <{EX}title> ?title . ?w <{EX}juan> ?juan }} ORDER BY ?title"
            for fmt in (ResultFormat.JSON, ResultFormat.XML, ResultFormat.CSV, ResultFormat.TSV):
                remote, used, _ = dataset.runner.run(query, fmt)
                local = execute(embedded._store, query, fmt, default_graph=None, named_graphs=None,
                                max_results=100, union_default_graph=True)
                assert used is fmt and remote == local, fmt
            ask, _, _ = dataset.runner.run(f"ASK {{ ?w <{EX}title> \"周易\"@zh }}")
            assert json.loads(ask) == {"head": {}, "boolean": True}
        finally:
            embedded.close()

    def test_construct_answers_turtle_by_default(self, store, dataset):
        self.sync(store, dataset)
        payload, used, info = dataset.runner.run(f"CONSTRUCT {{ ?w <{EX}title> ?t }} WHERE {{ ?w <{EX}title> ?t }}")
        assert used is ResultFormat.TURTLE and info.form == "CONSTRUCT"
        triples = [q.triple for q in ox.parse(payload, format=ox.RdfFormat.TURTLE)]
        assert triples == [t("work1", "title", ox.Literal("周易", language="zh"))]

    def test_the_protocols_dataset_parameters_are_passed_on(self, store, dataset):
        self.sync(store, dataset)
        store.replace_graph(OTHER, text_triples("尚書"), agent="test")
        self.sync(store, dataset)
        q = f"SELECT ?title WHERE {{ ?w <{EX}title> ?title }}"
        assert {r["title"] for r in self.select(dataset, q, default_graph=[OTHER], named_graphs=[])} == {"尚書"}
        assert self.select(dataset, q, default_graph=[], named_graphs=[OTHER]) == []
        named = f"SELECT ?g WHERE {{ GRAPH ?g {{ ?w <{EX}title> ?title }} }}"
        assert {r["g"] for r in self.select(dataset, named, default_graph=[], named_graphs=[TEXT])} == {TEXT}

    def test_a_syntax_error_says_where(self, runner):
        with pytest.raises(QuerySyntaxError) as err:
            runner.run("SELECT * WHERE {\n  ?s ?p ?o .\n  FILTER(?o = ) }")
        assert err.value.details["line"] == 3 and err.value.details["column"] >= 10

    def test_updates_and_service_are_refused_before_the_server_is_asked(self, endpoints):
        r = RemoteQueryRunner(Endpoints.of(self.engine, "http://127.0.0.1:9/none"))
        with pytest.raises(QueryRefusedError):
            r.run("DROP ALL")
        with pytest.raises(QueryRefusedError):
            r.run("SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }")
        with pytest.raises(StoreError, match="cannot be reached"):
            r.run("ASK {}")

    def test_a_result_over_the_limit_is_refused(self, store, dataset, endpoints):
        self.sync(store, dataset)
        small = RemoteQueryRunner(endpoints, max_results=2)
        try:
            with pytest.raises(QueryTooLargeError):
                small.run("SELECT * WHERE { ?s ?p ?o }")
            with pytest.raises(QueryTooLargeError):
                small.run("CONSTRUCT WHERE { ?s ?p ?o }")
            assert bindings(small.run("SELECT * WHERE { ?s ?p ?o } LIMIT 2")[0])
        finally:
            small.close()

    def test_a_query_past_the_time_limit_is_stopped(self, store, dataset, endpoints):
        many = [t(f"s{i}", f"p{i % 7}", ox.Literal(str(i))) for i in range(1500)]
        store.replace_graph(OTHER, many, agent="test")
        self.sync(store, dataset)
        quick = RemoteQueryRunner(endpoints, timeout=1)
        try:
            started = time.monotonic()
            with pytest.raises(QueryTimeoutError):
                quick.run(CROSS_JOIN)
            assert time.monotonic() - started < 1 + 2.5  # the limit, plus the grace for the server's own answer
        finally:
            quick.close()

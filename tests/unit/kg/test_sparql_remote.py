"""kg.sparql_remote without a server: where an engine's services are, what a query is sent with,
and how a server's parse error becomes a QuerySyntaxError with line and column."""

from __future__ import annotations

import pytest

from kg.sparql_remote import EMPTY_GRAPH, Endpoints, RemoteQueryRunner, syntax_error


def test_endpoints_of_each_engine():
    assert Endpoints.of("oxigraph-server", "http://h:7878/") == Endpoints(
        "oxigraph-server", "http://h:7878/query", "http://h:7878/update", "http://h:7878/store")
    assert Endpoints.of("fuseki", "http://h:3030/guji") == Endpoints(
        "fuseki", "http://h:3030/guji/query", "http://h:3030/guji/update", "http://h:3030/guji/data")
    with pytest.raises(ValueError, match="unknown SPARQL engine"):
        Endpoints.of("virtuoso", "http://h")


@pytest.mark.parametrize("body, line, column", [
    ("error at 2:10: expected one of \",\", \".\"", 2, 10),  # Oxigraph server
    ("Parse error: Encountered \" \"}\" \"} \"\" at line 3, column 7.", 3, 7),  # Fuseki
])
def test_a_servers_parse_error_keeps_line_and_column(body, line, column):
    err = syntax_error(body)
    assert err.details == {"line": line, "column": column} and err.code == "query_syntax_error"


def test_the_column_of_line_one_leaves_out_the_base_guji_put_in_front():
    assert syntax_error("error at 1:40: oops", column_shift=30).details == {"line": 1, "column": 10}
    assert syntax_error("error at 2:40: oops", column_shift=30).details == {"line": 2, "column": 40}
    assert "line" not in syntax_error("something else went wrong").details


@pytest.mark.parametrize("engine, default, named, params", [
    ("oxigraph-server", None, None, [("union-default-graph", "")]),
    ("fuseki", None, None, [("timeout", "2.5")]),
    ("oxigraph-server", ["urn:g"], None, [("default-graph-uri", "urn:g"), ("named-graph-uri", EMPTY_GRAPH)]),
    ("fuseki", [], ["urn:g"], [("default-graph-uri", EMPTY_GRAPH), ("named-graph-uri", "urn:g"), ("timeout", "2.5")]),
])
def test_the_protocols_dataset_and_time_parameters(engine, default, named, params):
    runner = RemoteQueryRunner(Endpoints.of(engine, "http://h"))
    try:
        assert runner._params(engine, default, named, 2.5) == params
    finally:
        runner.close()

import csv
import io
import json
import time
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest

from kg.errors import (
    QueryBusyError, QueryFailedError, QueryRefusedError, QuerySyntaxError, QueryTimeoutError, QueryTooLargeError,
    QueryTooLongError,
)
from kg.sparql import QueryRunner, ResultFormat, inspect_query, public_dataset
from kg.store import CHANGELOG, OxigraphStore

N, L, T = ox.NamedNode, ox.Literal, ox.Triple
G = "https://w3id.org/guji/graph/test/a"
PRIVATE = "https://w3id.org/guji/graph/preservation/x"


@pytest.fixture(scope="module")
def runner(tmp_path_factory):
    path = tmp_path_factory.mktemp("sparql") / "store"
    store = OxigraphStore(path)
    store.replace_graph(G, [T(N(f"http://e/s{i}"), N("http://e/p"), L(f"書{i}", language="zh-Hant")) for i in range(300)], agent="t")
    store.replace_graph(PRIVATE, [T(N("http://e/secret"), N("http://e/p"), L("master file"))], agent="t")
    graphs = store.graphs()
    store.close()
    r = QueryRunner(path, workers=1, timeout=5, max_results=250)
    r.graphs = graphs
    yield r
    r.close()


def run(runner, q, fmt=ResultFormat.JSON, **kw):
    default, named = public_dataset(runner.graphs)
    payload, used, info = runner.run(q, fmt, default_graph=default, named_graphs=named, **kw)
    return payload, used


@pytest.mark.parametrize("q, form", [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
    ("PREFIX e: <http://e/> ASK { e:a e:b e:c }", "ASK"),
    ("# comment with INSERT\nCONSTRUCT WHERE { ?s ?p ?o }", "CONSTRUCT"),
    ("DESCRIBE <http://e/s1>", "DESCRIBE"),
    ('SELECT * WHERE { ?s ?p "DELETE SERVICE" }', "SELECT"),
])
def test_query_forms(q, form):
    info = inspect_query(q)
    assert info.form == form and not info.uses_service


@pytest.mark.parametrize("q", ["INSERT DATA { <http://a> <http://b> <http://c> }", "DROP ALL",
                               "PREFIX e: <http://e/> DELETE WHERE { ?s ?p ?o }", "LOAD <http://example.org/x>"])
def test_updates_are_refused(q):
    with pytest.raises(QueryRefusedError, match="read-only"):
        inspect_query(q)


def test_service_is_refused_unless_allowed():
    q = "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    with pytest.raises(QueryRefusedError, match="SERVICE"):
        inspect_query(q)
    assert inspect_query(q, allow_service=True).uses_service


def test_syntax_error_has_line_and_column(runner):
    with pytest.raises(QuerySyntaxError) as info:  # parsed in the worker, never in the calling process
        run(runner, "SELECT *\nWHERE { ?s ?p }")
    # the parser reports where it gave up: at or just after the unexpected "}" (column 15)
    assert info.value.details["line"] == 2 and 15 <= info.value.details["column"] <= 16


def test_select_formats(runner):
    q = "SELECT ?s ?o WHERE { ?s <http://e/p> ?o } ORDER BY ?s LIMIT 3"
    data = json.loads(run(runner, q)[0])
    assert data["head"]["vars"] == ["s", "o"] and len(data["results"]["bindings"]) == 3
    assert data["results"]["bindings"][0]["o"] == {"type": "literal", "value": "書0", "xml:lang": "zh-hant"}
    root = ET.fromstring(run(runner, q, ResultFormat.XML)[0])
    assert len(root.findall(".//{http://www.w3.org/2005/sparql-results#}result")) == 3
    rows = list(csv.reader(io.StringIO(run(runner, q, ResultFormat.CSV)[0].decode())))
    assert rows[0] == ["s", "o"] and rows[1] == ["http://e/s0", "書0"]
    tsv = run(runner, q, ResultFormat.TSV)[0].decode().splitlines()
    assert tsv[0] == "?s\t?o" and tsv[1] == '<http://e/s0>\t"書0"@zh-hant'


def test_construct_formats(runner):
    q = "CONSTRUCT WHERE { <http://e/s1> ?p ?o }"
    ttl, used = run(runner, q, ResultFormat.TURTLE)
    assert used is ResultFormat.TURTLE
    parsed = list(ox.parse(ttl, format=ox.RdfFormat.TURTLE))
    assert len(parsed) == 1 and parsed[0].object == L("書1", language="zh-hant")
    jsonld = json.loads(run(runner, q, ResultFormat.JSONLD)[0])
    assert jsonld[0]["@id"] == "http://e/s1"
    assert len(list(ox.parse(run(runner, q, ResultFormat.RDFXML)[0], format=ox.RdfFormat.RDF_XML))) == 1


def test_preservation_graphs_are_not_public(runner):
    data = json.loads(run(runner, 'ASK { ?s ?p "master file" }')[0])
    assert data["boolean"] is False
    data = json.loads(run(runner, 'ASK { GRAPH ?g { ?s ?p "master file" } }')[0])
    assert data["boolean"] is False
    data = json.loads(run(runner, f"ASK {{ GRAPH <{CHANGELOG.value}> {{ ?s ?p ?o }} }}")[0])
    assert data["boolean"] is False


def test_result_size_limit(runner):
    with pytest.raises(QueryTooLargeError, match="more than 250 rows"):
        run(runner, "SELECT * WHERE { ?s <http://e/p> ?o }")


def test_long_query_is_stopped_and_the_runner_recovers(runner):
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p1 ?b . ?c ?p2 ?d . ?e ?p3 ?f . ?g ?p4 ?h }"
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError, match="longer than the 0.5 s limit"):
        run(runner, slow, timeout=0.5)
    assert time.monotonic() - started < 5
    data = json.loads(run(runner, "ASK { <http://e/s1> ?p ?o }")[0])
    assert data["boolean"] is True


def test_a_worker_that_dies_gives_a_clear_error_and_the_next_query_works(runner):
    import os
    import signal
    import threading

    # a query that runs long enough to kill its worker for real while it works
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p1 ?b . ?c ?p2 ?d . ?e ?p3 ?f }"

    def kill_soon():
        time.sleep(0.5)
        for w in list(runner._idle) + [p for p in __import__("multiprocessing").active_children() if p.name == "guji-sparql"]:
            pid = getattr(w, "pid", None) or getattr(getattr(w, "process", None), "pid", None)
            if pid:
                os.kill(pid, signal.SIGKILL)

    threading.Thread(target=kill_soon).start()
    with pytest.raises(QueryFailedError, match="stopped its worker"):
        run(runner, slow, timeout=20)
    data = json.loads(run(runner, "ASK { <http://e/s1> ?p ?o }")[0])
    assert data["boolean"] is True


def test_queries_right_after_writes_see_them_while_the_writer_compacts(tmp_path):
    """A read-only worker may open a file list the writer is compacting away; the runner re-opens
    instead of answering a storage error (CI saw 'No such file ... .sst' once)."""
    path = tmp_path / "busy"
    store = OxigraphStore(path)
    runner = QueryRunner(path, workers=1, timeout=20)
    try:
        for i in range(40):
            store.replace_graph(G, [T(N(f"http://e/w{i}-{j}"), N("http://e/p"), L("x" * 200)) for j in range(300)], agent="t")
            if i % 10 == 9:
                store.optimize()  # compaction deletes the files older readers listed
            payload, _, _ = runner.run(f"ASK {{ GRAPH <{G}> {{ <http://e/w{i}-0> ?p ?o }} }}", ResultFormat.JSON,
                                       default_graph=[G], named_graphs=[G])
            assert json.loads(payload)["boolean"] is True
    finally:
        runner.close()
        store.close()


def test_deep_nesting_is_refused_before_any_parser_runs(runner):
    """3,000 nested braces overflowed the parser's stack and killed the server process."""
    deep = "SELECT * WHERE " + "{" * 3000 + " ?s ?p ?o " + "}" * 3000
    started = time.monotonic()
    with pytest.raises(QueryTooLongError, match="nests groups more than 64 levels"):
        run(runner, deep)
    assert time.monotonic() - started < 0.5
    nested_ok = "SELECT * WHERE " + "{" * 20 + " <http://e/s1> ?p ?o " + "}" * 20
    assert json.loads(run(runner, nested_ok)[0])["results"]["bindings"]
    # brackets inside strings and IRIs do not count
    assert inspect_query('SELECT * WHERE { ?s ?p "' + "{" * 500 + '" }').form == "SELECT"


def test_oversized_query_text_is_refused(runner):
    q = "SELECT * WHERE { ?s ?p ?o } #" + "x" * (64 * 1024)
    with pytest.raises(QueryTooLongError, match="at most 65536 bytes"):
        run(runner, q)


def test_an_expensive_values_query_is_time_limited_in_the_worker(runner):
    """Four VALUES lists (1.2 KB) ran 32 s of CPU inside the server process before; now the only
    evaluation is in a worker, under the time limit."""
    values = " ".join(f'"{i}"' for i in range(60))
    q = "SELECT (COUNT(*) AS ?n) WHERE { " + " ".join(f"VALUES ?v{k} {{ {values} }}" for k in range(4)) + " }"
    started = time.monotonic()
    with pytest.raises(QueryTimeoutError):
        run(runner, q, timeout=0.5)
    assert time.monotonic() - started < 3


def test_one_client_cannot_hold_every_worker(tmp_path):
    import threading

    path = tmp_path / "fair"
    store = OxigraphStore(path)
    store.replace_graph(G, [T(N(f"http://e/s{i}"), N("http://e/p"), L(str(i))) for i in range(400)], agent="t")
    store.close()
    runner = QueryRunner(path, workers=2, timeout=3, per_client=1, union_default_graph=True)
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p1 ?b . ?c ?p2 ?d . ?e ?p3 ?f . ?g ?p4 ?h }"
    try:
        t = threading.Thread(target=lambda: pytest.raises(QueryTimeoutError, runner.run, slow, client="greedy"))
        t.start()
        time.sleep(0.3)
        with pytest.raises(QueryBusyError, match="already have 1 query running"):
            runner.run("ASK { ?s ?p ?o }", client="greedy")
        payload, _, _ = runner.run("ASK { ?s ?p ?o }", client="someone else")  # the other worker serves others
        assert json.loads(payload)["boolean"] is True
        t.join()
    finally:
        runner.close()


def test_union_default_graph_over_a_public_dataset(tmp_path):
    path = tmp_path / "public"
    store = OxigraphStore(path)
    store.replace_graph(G, [T(N("http://e/u"), N("http://e/p"), L("union"))], agent="t")
    store.close()
    runner = QueryRunner(path, workers=1, timeout=5, union_default_graph=True)
    try:
        assert json.loads(runner.run('ASK { ?s ?p "union" }')[0])["boolean"] is True
        # an explicit, empty default graph (protocol: only named-graph-uri given) sees nothing by default
        assert json.loads(runner.run('ASK { ?s ?p "union" }', default_graph=[], named_graphs=[G])[0])["boolean"] is False
    finally:
        runner.close()


def test_inspection_is_remembered_but_never_a_refusal():
    """The endpoint inspects a query twice (format, then the runner): the second answer is remembered;
    a refusal is raised every time, and the settings are part of what is remembered."""
    from kg.errors import QueryRefusedError, QueryTooLongError
    from kg.sparql import inspect_query

    for _ in range(2):
        with pytest.raises(QueryRefusedError):
            inspect_query("INSERT DATA { <a:b> <a:c> <a:d> }")
    q = "SELECT * { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"
    assert inspect_query(q, allow_service=True).uses_service
    with pytest.raises(QueryRefusedError):
        inspect_query(q)
    deep = "ASK " + "{" * 10 + "}" * 10
    assert inspect_query(deep).form == "ASK"
    with pytest.raises(QueryTooLongError):
        inspect_query(deep, max_depth=5)
    with pytest.raises(QueryTooLongError):
        inspect_query("ASK {}" + " " * 100, max_bytes=50)

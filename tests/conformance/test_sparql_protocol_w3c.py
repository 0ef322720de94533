"""The W3C SPARQL 1.1 Protocol test suite (query operation) against /sparql.

The tests come from the vendored manifest (tests/fixtures/w3c-sparql-protocol): each one's name,
its HTTP requests (method, path, headers, body) and what the suite accepts (a status class, a
result format, an ASK answer) are read from the TTL with rdflib. The suite is lenient ("any 4xx",
"one of XML, JSON, CSV, TSV"); :data:`EXPECTED` pins what guji answers, keyed by the manifest's
test name, and every query test of the manifest must have an entry, so none is dropped silently.

The seven ``update_*`` tests expect an update to succeed; this endpoint is read-only, so for those
the update request must be refused with a 4xx and must change nothing.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pyoxigraph as ox
import pytest
from fastapi.testclient import TestClient
from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib.collection import Collection

from api.app import create_app
from api.routes.sparql import service_iri
from api.settings import Settings
from kg.store import OxigraphStore
from tests._live import LiveServer

SUITE = Path(__file__).resolve().parents[1] / "fixtures" / "w3c-sparql-protocol"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
CNT = Namespace("http://www.w3.org/2011/content#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")

# What the suite's expectedFormat allows, as media types (RDFa aside: we do not serve HTML).
FORMATS = {
    "boolean": {"application/sparql-results+json", "application/sparql-results+xml"},
    "tabular": {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                "text/tab-separated-values"},
    "RDF": {"text/turtle", "application/n-triples", "application/rdf+xml"},
}


@dataclass(frozen=True)
class Expect:
    """What guji answers to a test's requests: one exact status per request, and why."""

    statuses: tuple[int, ...]
    why: str
    error_code: str | None = None  # the JSON error body's code, for a refused request


# Keyed by the manifest's test name (the local name of its IRI). One entry per query test.
EXPECTED: dict[str, Expect] = {
    "query_post_form": Expect((200,), "ASK {} by URL-encoded POST"),
    "query_dataset_default_graphs_get": Expect((200,), "default-graph-uri twice: the default graph is the merge"),
    "query_dataset_default_graphs_post": Expect((200,), "the same by direct POST"),
    "query_dataset_named_graphs_post": Expect((200,), "named-graph-uri twice, direct POST"),
    "query_dataset_named_graphs_get": Expect((200,), "named-graph-uri twice, GET"),
    "query_dataset_full": Expect((200,), "both default-graph-uri and named-graph-uri"),
    "query_multiple_dataset": Expect((200,), "the protocol's dataset wins over FROM in the query"),
    "query_get": Expect((200,), "ASK {} by GET"),
    "query_content_type_select": Expect((200,), "SELECT answers SPARQL JSON by default"),
    "query_content_type_ask": Expect((200,), "ASK answers SPARQL JSON by default"),
    "query_content_type_describe": Expect((200,), "DESCRIBE answers Turtle by default"),
    "query_content_type_construct": Expect((200,), "relative IRIs resolve against the service IRI"),
    "query_post_direct": Expect((200,), "ASK {} as application/sparql-query"),
    "bad_query_method": Expect((405,), "PUT is no query method", "method_not_allowed"),
    "bad_multiple_queries": Expect((400,), "query given twice", "query_syntax_error"),
    "bad_query_wrong_media_type": Expect((415,), "text/plain body", "unsupported_media_type"),
    "bad_query_missing_form_type": Expect((415,), "a form body without its Content-Type", "unsupported_media_type"),
    "bad_query_missing_direct_type": Expect((415,), "a query body without a Content-Type", "unsupported_media_type"),
    "bad_query_non_utf8": Expect((415,), "charset=UTF-16", "unsupported_media_type"),
    "bad_query_syntax": Expect((400,), "ASK {", "query_syntax_error"),
    "bad_update_get": Expect((403,), "read-only: updates are refused", "query_refused"),
    "bad_multiple_updates": Expect((403,), "read-only: updates are refused", "query_refused"),
    "bad_update_wrong_media_type": Expect((415,), "text/plain body", "unsupported_media_type"),
    "bad_update_missing_form_type": Expect((415,), "a form body without its Content-Type", "unsupported_media_type"),
    "bad_update_non_utf8": Expect((403,), "application/sparql-update: refused before its charset", "query_refused"),
    "bad_update_syntax": Expect((403,), "read-only: refused before parsing", "query_refused"),
    "bad_update_dataset_conflict": Expect((403,), "read-only: updates are refused", "query_refused"),
}


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes | None
    statuses: set[int]  # the status classes the suite accepts: 2, 3, 4
    boolean: bool | None
    format: str | None


@dataclass
class ProtocolTest:
    name: str
    title: str
    graphs: dict[str, Path]  # graph IRI -> data file
    requests: list[Request] = field(default_factory=list)

    @property
    def is_update(self) -> bool:
        return self.name.startswith("update_")


def _request(g: Graph, node) -> Request:
    headers = {}
    hlist = g.value(node, HT.headers)
    for h in Collection(g, hlist) if hlist else []:
        headers[str(g.value(h, HT.fieldName))] = str(g.value(h, HT.fieldValue))
    body = None
    b = g.value(node, HT.body)
    if b is not None:
        body = str(g.value(b, CNT.chars)).encode(str(g.value(b, CNT.characterEncoding) or "utf-8"))
    resp = g.value(node, HT.resp)
    classes = {int(str(s).rsplit("StatusCode", 1)[1][0]) for s in g.objects(resp, MF.expectedStatus)}
    boolean = g.value(resp, MF.expectedBoolean)
    fmt = g.value(resp, MF.expectedFormat)
    path = str(g.value(node, HT.absolutePath))
    assert path.startswith("/sparql/"), path  # the manifest says so; we serve it at /sparql
    return Request(str(g.value(node, HT.methodName)), "/sparql" + path[len("/sparql/"):], headers, body, classes,
                   None if boolean is None else boolean.toPython(), None if fmt is None else str(fmt))


def load_manifest(path: Path = SUITE / "manifest.ttl") -> list[ProtocolTest]:
    g = Graph().parse(path, format="turtle")
    manifest = next(g.subjects(RDF.type, MF.Manifest))
    tests = []
    for node in Collection(g, g.value(manifest, MF.entries)):
        graphs = {str(g.value(d, RDFS.label)): SUITE / Path(urlsplit(str(g.value(d, UT.graph))).path).name
                  for d in g.objects(node, UT.graphData)}
        test = ProtocolTest(str(node).rsplit("#", 1)[1], str(g.value(node, MF.name)), graphs)
        action = g.value(node, MF.action)
        for r in Collection(g, g.value(action, HT.requests)):
            test.requests.append(_request(g, r))
        tests.append(test)
    return tests


TESTS = load_manifest()
QUERY_TESTS = [t for t in TESTS if not t.is_update]
UPDATE_TESTS = [t for t in TESTS if t.is_update]


def test_the_manifest_is_the_one_we_know():
    assert len(TESTS) == 34 and len(QUERY_TESTS) == 27 and len(UPDATE_TESTS) == 7
    assert all(t.requests for t in TESTS)


def test_every_query_test_has_an_expectation():
    names = [t.name for t in QUERY_TESTS]
    assert sorted(set(names) - set(EXPECTED)) == [], "query tests in the manifest with no entry in EXPECTED"
    assert sorted(set(EXPECTED) - set(names)) == [], "entries in EXPECTED that the manifest no longer has"
    for t in QUERY_TESTS:
        assert len(EXPECTED[t.name].statuses) == len(t.requests), t.name


@pytest.fixture(scope="module", params=["in-process", "live server"])
def w3c_client(request, tmp_path_factory):
    """A GUJI_HOME whose store holds every graph the manifest's tests name, and a client over it:
    the app in process, or a real ``guji serve`` over one keep-alive connection, which a direct
    SPARQL worker takes (ADR 0026; a connection the worker closes after an error may land on the
    server's own path when the next one follows within a millisecond) — the same suite for both."""
    home = tmp_path_factory.mktemp("w3c-home")
    store = OxigraphStore(home / "oxigraph")
    graphs = {iri: path for t in TESTS for iri, path in t.graphs.items()}
    for iri, path in sorted(graphs.items()):
        triples = [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)]
        store.replace_graph(iri, triples, agent="w3c-protocol-tests")
    store.close()
    if request.param == "in-process":
        settings = Settings(home=home, environment="test", sparql_timeout=5, sparql_workers=1)
        with TestClient(create_app(settings)) as c:
            c.service_iri = service_iri(c.app.state.context)
            yield c
        return
    server = LiveServer(home, GUJI_SPARQL_TIMEOUT="5", GUJI_SPARQL_WORKERS="1")
    try:
        server.wait_direct_ready(2)
        with httpx.Client(base_url=server.base, timeout=30) as c:
            c.service_iri = server.base + "/sparql"
            before = server.metric("guji_sparql_direct_answered_total")
            yield c
            # a share of the suite went through the direct workers (a refusal closes the connection, and
            # the next one, a millisecond later, lands on the server's path while the worker finishes)
            assert server.metric("guji_sparql_direct_answered_total") - before >= 0.2 * _requests_sent(c)
    finally:
        server.stop()


def _requests_sent(client) -> int:
    return getattr(client, "sparql_requests", 0)


def send(client: TestClient, r: Request):
    if r.path.startswith("/sparql"):
        client.sparql_requests = getattr(client, "sparql_requests", 0) + 1
    return client.request(r.method, r.path, headers=r.headers, content=r.body, follow_redirects=False)


def media_type(response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


def boolean_of(response) -> bool:
    if media_type(response) == "application/sparql-results+xml":
        return ET.fromstring(response.content).find("{http://www.w3.org/2005/sparql-results#}boolean").text == "true"
    return json.loads(response.content)["boolean"]


def check(response, r: Request, status: int, error_code: str | None, name: str) -> None:
    assert response.status_code // 100 in r.statuses, f"{name}: the suite wants {sorted(r.statuses)}xx"
    assert response.status_code == status, f"{name}: {response.status_code} {response.text[:300]}"
    if status >= 400:
        body = response.json()
        assert set(body["error"]) == {"code", "message", "details"} and body["error"]["code"] == error_code
        return
    if r.format:
        assert media_type(response) in FORMATS[r.format], f"{name}: {response.headers.get('content-type')}"
    if r.boolean is not None:
        assert boolean_of(response) is r.boolean


@pytest.mark.parametrize("test", QUERY_TESTS, ids=lambda t: t.name)
def test_query(w3c_client, test: ProtocolTest):
    expect = EXPECTED[test.name]
    for r, status in zip(test.requests, expect.statuses, strict=True):
        check(send(w3c_client, r), r, status, expect.error_code, test.name)


def test_construct_resolves_relative_iris_against_the_service(w3c_client):
    """query_content_type_construct: ``CONSTRUCT { <s> <p> 1 } WHERE {}`` (relative IRIs)."""
    (r,) = next(t for t in TESTS if t.name == "query_content_type_construct").requests
    response = send(w3c_client, r)
    triples = list(ox.parse(response.content, format=ox.RdfFormat.TURTLE))
    here = w3c_client.service_iri.rsplit("/", 1)[0]  # <s> beside .../sparql
    one = ox.Literal("1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    assert [(t.subject, t.predicate, t.object) for t in triples] == [(ox.NamedNode(here + "/s"), ox.NamedNode(here + "/p"), one)]


@pytest.mark.parametrize("test", UPDATE_TESTS, ids=lambda t: t.name)
def test_update_is_refused_and_changes_nothing(w3c_client, test: ProtocolTest):
    before = w3c_client.get("/healthz").json()["quads"]
    update, *checks = test.requests
    response = send(w3c_client, update)
    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "query_refused"
    assert "read-only" in response.json()["error"]["message"]
    for r in checks:  # the suite's follow-up ASK asks whether the update took effect: it must not have
        response = send(w3c_client, r)
        assert response.status_code == 200 and boolean_of(response) is (not r.boolean)
    assert w3c_client.get("/healthz").json()["quads"] == before

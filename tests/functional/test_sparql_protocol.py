"""The SPARQL 1.1 Protocol over HTTP (query operation, read-only)."""

import csv
import io
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest

WORKS = "PREFIX dcterms: <http://purl.org/dc/terms/> SELECT ?id WHERE { ?w dcterms:identifier ?id ; a <http://id.loc.gov/ontologies/bibframe/Work> } ORDER BY ?id"
SAMPLE_IDS = ["GJ3a0001", "GJ4a0001", "GJ4a0002"]


def ids(data):
    return [b["id"]["value"] for b in data["results"]["bindings"]]


def test_get(client):
    r = client.get("/sparql", params={"query": WORKS})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/sparql-results+json")
    assert ids(r.json()) == SAMPLE_IDS


def test_post_form(client):
    r = client.post("/sparql", data={"query": WORKS})
    assert r.status_code == 200 and ids(r.json()) == SAMPLE_IDS


def test_post_direct(client):
    r = client.post("/sparql", content=WORKS.encode(), headers={"content-type": "application/sparql-query"})
    assert r.status_code == 200 and ids(r.json()) == SAMPLE_IDS


@pytest.mark.parametrize("accept, media", [
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("text/html, application/xhtml+xml, */*;q=0.8", "application/sparql-results+json"),
    ("text/csv;q=0.5, application/sparql-results+xml;q=0.9", "application/sparql-results+xml"),
])
def test_select_content_negotiation(client, accept, media):
    r = client.get("/sparql", params={"query": WORKS}, headers={"accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].startswith(media)
    if media == "text/csv":
        assert [row[0] for row in csv.reader(io.StringIO(r.text))][1:] == SAMPLE_IDS
    if media == "application/sparql-results+xml":
        ns = "{http://www.w3.org/2005/sparql-results#}"
        assert [e.text for e in ET.fromstring(r.content).iter(ns + "literal")] == SAMPLE_IDS


@pytest.mark.parametrize("accept, fmt", [
    ("text/turtle", ox.RdfFormat.TURTLE),
    ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    ("application/ld+json", ox.RdfFormat.JSON_LD),
    ("application/rdf+xml", ox.RdfFormat.RDF_XML),
])
def test_construct_content_negotiation(client, accept, fmt):
    q = "CONSTRUCT WHERE { ?w <http://purl.org/dc/terms/identifier> ?id ; a <http://id.loc.gov/ontologies/bibframe/Work> }"
    r = client.get("/sparql", params={"query": q}, headers={"accept": accept})
    assert r.status_code == 200 and r.headers["content-type"].startswith(accept)
    triples = list(ox.parse(r.content, format=fmt))
    assert sorted(t.object.value for t in triples if t.predicate.value.endswith("identifier")) == SAMPLE_IDS


def test_unacceptable_accept_is_refused_clearly(client):
    r = client.get("/sparql", params={"query": WORKS}, headers={"accept": "image/png"})
    assert r.status_code == 406 and r.json()["error"]["code"] == "not_acceptable"
    assert "application/sparql-results+json" in r.json()["error"]["message"]


def test_syntax_error_is_400_with_line_and_column(client):
    r = client.get("/sparql", params={"query": "SELECT *\nWHERE { ?s ?p }"})
    assert r.status_code == 400
    err = r.json()["error"]
    assert err["code"] == "query_syntax_error" and err["details"]["line"] == 2 and "column" in err["details"]


@pytest.mark.parametrize("kwargs", [
    {"data": {"update": "DROP ALL"}},
    {"content": b"DROP ALL", "headers": {"content-type": "application/sparql-update"}},
    {"data": {"query": "INSERT DATA { <http://a> <http://b> <http://c> }"}},
])
def test_updates_are_refused_and_change_nothing(client, kwargs):
    store = client.app.state.context.store
    before = (store.count(), store.last_sequence())
    r = client.post("/sparql", **kwargs)
    assert r.status_code == 403 and r.json()["error"]["code"] == "query_refused"
    assert "read-only" in r.json()["error"]["message"]
    assert (store.count(), store.last_sequence()) == before


def test_service_is_refused(client):
    r = client.get("/sparql", params={"query": "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }"})
    assert r.status_code == 403 and "SERVICE" in r.json()["error"]["message"]


def test_missing_and_repeated_query(client):
    assert client.get("/sparql").status_code == 400
    r = client.get("/sparql?query=ASK%7B%7D&query=ASK%7B%7D")
    assert r.status_code == 400 and "once" in r.json()["error"]["message"]


def test_dataset_parameters(client):
    g = "https://w3id.org/guji/graph/kanripo/GJ4a0002"
    r = client.get("/sparql", params={"query": WORKS, "default-graph-uri": g})
    assert ids(r.json()) == ["GJ4a0002"]
    q = "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g"
    r = client.get("/sparql", params={"query": q, "named-graph-uri": g})
    assert [b["g"]["value"] for b in r.json()["results"]["bindings"]] == [g]


def test_change_log_is_not_in_the_public_dataset(client):
    q = "ASK { GRAPH <https://w3id.org/guji/graph/changelog> { ?s ?p ?o } }"
    assert client.get("/sparql", params={"query": q}).json()["boolean"] is False
    q = "ASK { ?s a <https://w3id.org/guji/ontology#Change> }"
    assert client.get("/sparql", params={"query": q}).json()["boolean"] is False


def test_openapi_documents_the_endpoint(client):
    spec = client.get("/openapi.json").json()
    assert "/sparql" in spec["paths"] and {"get", "post"} <= set(spec["paths"]["/sparql"])


def test_healthz(client):
    body = client.get("/healthz").json()
    assert body["status"] == "ok" and body["quads"] > 300


def test_q_zero_means_not_acceptable(client):
    r = client.get("/sparql", params={"query": WORKS}, headers={"accept": "text/csv;q=0, application/sparql-results+xml"})
    assert r.headers["content-type"].startswith("application/sparql-results+xml")


@pytest.mark.parametrize("kwargs", [
    {"content": b"query=ASK%20%7B%7D"},  # a form without its Content-Type
    {"content": b"ASK {}", "headers": {"content-type": "text/plain"}},
])
def test_post_needs_a_protocol_media_type(client, kwargs):
    r = client.post("/sparql", **kwargs)
    assert r.status_code == 415 and r.json()["error"]["code"] == "unsupported_media_type"
    assert "use application/sparql-query or application/x-www-form-urlencoded" in r.json()["error"]["message"]


@pytest.mark.parametrize("ctype, body", [
    ("application/sparql-query; charset=UTF-16", "ASK {}".encode("utf-16-le")),  # no BOM: also valid UTF-8
    ("application/x-www-form-urlencoded; charset=ISO-8859-1", b"query=ASK%20%7B%7D"),
])
def test_post_refuses_other_charsets(client, ctype, body):
    r = client.post("/sparql", content=body, headers={"content-type": ctype})
    assert r.status_code == 415
    assert r.json()["error"]["message"].endswith("the SPARQL 1.1 Protocol takes UTF-8 only")


def test_post_accepts_an_explicit_utf8_charset(client):
    r = client.post("/sparql", content=WORKS.encode(), headers={"content-type": 'application/sparql-query; charset="UTF-8"'})
    assert r.status_code == 200 and ids(r.json()) == SAMPLE_IDS


def test_update_in_the_url_of_a_form_post_is_refused(client):
    r = client.post("/sparql?update=CLEAR%20ALL", data={"query": "ASK {}"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "query_refused"


def test_post_with_a_query_in_the_url_is_refused(client):
    r = client.post("/sparql?query=ASK%20%7B%7D", content=WORKS.encode(), headers={"content-type": "application/sparql-query"})
    assert r.status_code == 400
    assert r.json()["error"]["message"] == "a POST sends the query in its body, not in the URL (SPARQL 1.1 Protocol)"


def test_percent_escapes_must_be_utf8(client):
    r = client.get("/sparql?query=ASK%20%7B%7D%FF")
    assert r.status_code == 400 and "not valid UTF-8" in r.json()["error"]["message"]

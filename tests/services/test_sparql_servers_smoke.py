"""Smoke tests against the real SPARQL servers (scripts/services): the pinned versions, and the two
things guji relies on: the default graph is the union of the named graphs, and the server itself
stops a query past its time limit (a test server allows GUJI_SPARQL_SERVER_TIMEOUT seconds; Fuseki's
limit per query is tested in tests/contract/remote_sparql_contract.py)."""

from __future__ import annotations

import os
import time
import uuid

import httpx
import pytest

from tests._services import pinned_versions

pytestmark = [pytest.mark.oxigraph, pytest.mark.fuseki]

GRAPH = f"urn:x-guji:smoke:{uuid.uuid4()}"
CROSS_JOIN = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
NT = b'<urn:x:s> <urn:x:p> "\xe5\x8f\xb2\xe8\xa8\x98" .\n'  # "史記"


def ask_default_graph(query_url: str) -> bool:
    r = httpx.post(query_url, data={"query": 'ASK { <urn:x:s> <urn:x:p> "史記" }'},
                   headers={"Accept": "application/sparql-results+json"}, timeout=30)
    r.raise_for_status()
    return r.json()["boolean"]


def test_oxigraph_is_the_pinned_version(oxigraph_url):
    server = httpx.get(oxigraph_url, timeout=10).headers["server"]
    assert server == f"Oxigraph/{pinned_versions()['OXIGRAPH_VERSION']}"


def test_fuseki_is_the_pinned_version(fuseki_url):
    info = httpx.get(fuseki_url.rsplit("/", 1)[0] + "/$/server", timeout=10).json()
    assert info["version"] == pinned_versions()["FUSEKI_VERSION"]
    assert "/guji" in {d["ds.name"] for d in info["datasets"]}


@pytest.mark.parametrize("server", ["oxigraph", "fuseki"])
def test_a_named_graph_is_in_the_default_graph(request, server):
    base = request.getfixturevalue(f"{server}_url")
    gsp, query = (f"{base}/store", f"{base}/query") if server == "oxigraph" else (f"{base}/data", f"{base}/query")
    httpx.put(gsp, params={"graph": GRAPH}, content=NT, headers={"Content-Type": "application/n-triples"},
              timeout=30).raise_for_status()
    try:
        assert ask_default_graph(query)
    finally:
        httpx.delete(gsp, params={"graph": GRAPH}, timeout=30)
    assert not ask_default_graph(query)


def test_the_oxigraph_server_stops_a_query_itself(oxigraph_url):
    """It has no per-request limit: only its start-up --timeout-s stops a query (docs/deploy.md)."""
    limit = float(os.environ.get("GUJI_SPARQL_SERVER_TIMEOUT", "10"))
    nt = "".join(f'<urn:x:s{i}> <urn:x:p> "{i}" .\n' for i in range(1000)).encode()
    httpx.put(f"{oxigraph_url}/store", params={"graph": GRAPH}, content=nt, headers={"Content-Type": "application/n-triples"},
              timeout=30).raise_for_status()
    try:
        started = time.monotonic()
        r = httpx.post(f"{oxigraph_url}/query", data={"query": CROSS_JOIN},
                       headers={"Accept": "application/sparql-results+json"}, timeout=limit + 30)
        assert "The SPARQL operation has been cancelled" in r.text
        assert time.monotonic() - started < limit + 10
    finally:
        httpx.delete(f"{oxigraph_url}/store", params={"graph": GRAPH}, timeout=30)

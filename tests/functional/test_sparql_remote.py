"""The SPARQL endpoint and the review workflow with the public dataset on a SPARQL server.

The same protocol tests as tests/functional/test_sparql_protocol.py, and the review round trip
(an approved annotation reaches the public dataset, a retracted one leaves it), with
``GUJI_SPARQL_BACKEND`` set to a real Oxigraph server and a real Fuseki (``scripts/services``).
Skipped locally when a server does not answer; a failure under ``CI=true``.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.context import SAMPLE_DIR
from api.settings import Settings
from kg.ingest_kanripo import find_works, ingest_work
from kg.store import OxigraphStore
from tests.functional.test_review_workflow import h, test_review_round_trip  # noqa: F401 - re-run here
from tests.functional.test_sparql_protocol import *  # noqa: F403 - every protocol test, re-run here

pytestmark = [pytest.mark.oxigraph, pytest.mark.fuseki]


@pytest.fixture(scope="module", params=["oxigraph-server", "fuseki"])
def client(request, tmp_path_factory):
    url = request.getfixturevalue("oxigraph_url" if request.param == "oxigraph-server" else "fuseki_url")
    home = tmp_path_factory.mktemp(request.param)
    store = OxigraphStore(home / "oxigraph")
    for w in find_works([SAMPLE_DIR / "kanripo"]):
        ingest_work(store, w)
    store.close()
    settings = Settings(home=home, environment="test", sparql_timeout=5, sparql_backend=request.param, sparql_url=url)
    with TestClient(create_app(settings)) as c:
        assert c.app.state.context.sparql.__class__.__name__ == "RemoteQueryRunner"
        yield c


def test_the_public_dataset_is_on_the_server(client):
    health = client.get("/healthz").json()
    sparql = next(p for p in health["projections"] if p["name"] == "sparql")
    assert sparql["state"] == "ok" and sparql["pending"] == 0
    report = client.app.state.context.check_projections()["sparql"]
    assert report["in_sync"], report["drift"]
    assert report["engine"] in ("oxigraph-server", "fuseki")

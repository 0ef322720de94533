import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.context import SAMPLE_DIR
from api.settings import Settings
from kg.ingest_kanripo import find_works, ingest_work
from kg.store import OxigraphStore


@pytest.fixture(scope="module")
def sample_home(tmp_path_factory):
    """A GUJI_HOME holding the bundled sample texts."""
    home = tmp_path_factory.mktemp("home")
    store = OxigraphStore(home / "oxigraph")
    for w in find_works([SAMPLE_DIR / "kanripo"]):
        ingest_work(store, w)
    store.close()
    return home


@pytest.fixture(scope="module")
def client(sample_home):
    app = create_app(Settings(home=sample_home, environment="test", sparql_timeout=5))
    with TestClient(app) as c:
        yield c

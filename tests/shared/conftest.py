import time

import pytest

from kg.ingest_kanripo import find_works, ingest_work
from kg.store import OxigraphStore


@pytest.fixture(scope="session")
def kanripo_store(kanripo_dir, tmp_path_factory):
    """The whole real Kanripo corpus ingested once into a fresh on-disk store."""
    path = tmp_path_factory.mktemp("kanripo") / "oxigraph"
    store = OxigraphStore(path)
    started = time.monotonic()
    results = [ingest_work(store, w) for w in find_works([kanripo_dir])]
    store.ingest_seconds = time.monotonic() - started
    store.ingest_results = results
    yield store
    store.close()

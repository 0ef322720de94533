import pytest

from kg.package import ingest_package
from kg.store import OxigraphStore

from .packages import SAMPLE


@pytest.fixture
def store(tmp_path):
    s = OxigraphStore(tmp_path / "oxigraph")
    result = ingest_package(s, SAMPLE, agent="test")
    assert result.report.valid
    yield s
    s.close()

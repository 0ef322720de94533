"""The public SPARQL dataset contract on a real Oxigraph server (``scripts/services up oxigraph``).

Skipped locally when no server answers; a failure under ``CI=true`` (see tests/_services.py).
"""

from __future__ import annotations

import pytest

from tests.contract.remote_sparql_contract import RemoteDatasetContract

pytestmark = pytest.mark.oxigraph


class TestOxigraphServerPublicDataset(RemoteDatasetContract):
    engine = "oxigraph-server"

    @pytest.fixture
    def base_url(self, oxigraph_url):
        return oxigraph_url

"""The public SPARQL dataset contract on a real Apache Jena Fuseki (``scripts/services up fuseki``).

Skipped locally when no server answers; a failure under ``CI=true`` (see tests/_services.py).
"""

from __future__ import annotations

import pytest

from tests.contract.remote_sparql_contract import RemoteDatasetContract

pytestmark = pytest.mark.fuseki


class TestFusekiPublicDataset(RemoteDatasetContract):
    engine = "fuseki"

    @pytest.fixture
    def base_url(self, fuseki_url):
        return fuseki_url

"""The public SPARQL dataset contract on the embedded default (Oxigraph on disk, no server)."""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

from kg.sparql import ResultFormat, execute
from projections.public_sparql import OxigraphPublicDataset
from tests.contract.projection_contract import PublicDatasetContract


class TestEmbeddedPublicDataset(PublicDatasetContract):
    @pytest.fixture
    def dataset(self, tmp_path):
        d = OxigraphPublicDataset(tmp_path / "public")
        yield d
        d.close()

    def select(self, dataset, text, *, default_graph=None, named_graphs=None):
        # what a query worker runs (kg.sparql.QueryRunner), minus the process around it
        payload = execute(dataset._store, text, ResultFormat.JSON, default_graph=default_graph,
                          named_graphs=named_graphs, max_results=10_000, union_default_graph=True)
        bindings = json.loads(payload)["results"]["bindings"]
        return [{k: ("_:" + v["value"] if v["type"] == "bnode" else v["value"]) for k, v in b.items()} for b in bindings]

    def delete_behind(self, dataset, graph):
        dataset._store.remove_graph(ox.NamedNode(graph))

"""The composition root: builds the stores and services from the one Settings object.

Both the CLI and the FastAPI app get their collaborators here, so there is exactly one place that
knows which backend is configured. Everything is opened lazily: a command that only reads the
store never starts a SPARQL worker, and an unused backend costs nothing.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from api.settings import Settings
from kg.sparql import QueryRunner, public_dataset
from kg.store import OxigraphStore

SAMPLE_DIR = Path(__file__).resolve().parent.parent / "samples"


class Context:
    def __init__(self, settings: Settings, *, read_only: bool = False) -> None:
        self.settings = settings
        self.read_only = read_only

    @cached_property
    def store(self) -> OxigraphStore:
        path = self.settings.oxigraph_path
        if self.read_only and (path / "CURRENT").exists():
            return OxigraphStore.open_read_only(path)
        store = OxigraphStore(path)
        if self.read_only:  # a fresh home: create the store once, then read it
            store.close()
            return OxigraphStore.open_read_only(path)
        return store

    @cached_property
    def sparql(self) -> QueryRunner:
        s = self.settings
        self.store.flush()
        return QueryRunner(
            s.oxigraph_path,
            workers=s.sparql_workers,
            timeout=s.sparql_timeout,
            max_results=s.sparql_max_results,
            allow_service=s.sparql_allow_service,
        )

    def public_dataset(self, default_graph_uris: list[str] | None = None,
                       named_graph_uris: list[str] | None = None) -> tuple[list[str], list[str]]:
        return public_dataset(self.store.graphs(), default_graph_uris, named_graph_uris)

    def close(self) -> None:
        if "sparql" in self.__dict__:
            self.sparql.close()
        if "store" in self.__dict__:
            self.store.close()

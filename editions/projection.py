"""Cross-edition proposals kept live by the projector (``guji serve``), from the change log.

Unlike the read models in :mod:`projections`, this one writes back into the canonical store (the
proposal graphs, and the anchor flag of a copy whose origin moved), through the one write path
(``Store.replace_graphs``), so what it decides is itself in the change log. It reacts to:

- a change of an annotation graph (``gg:annotation/<id>``: approved, corrected, re-anchored,
  retracted or deleted) → :meth:`EditionService.refresh` of that annotation;
- a change of a graph holding juan texts (a Kanripo work, a package) → refresh of every approved
  annotation on the works whose texts it holds (proposals follow the corrected text; accepted
  copies are re-checked).

Its own writes (proposal graphs, private graphs) are ignored, so it never feeds itself. The
checkpoint is a small JSON file under ``$GUJI_HOME``; without it the projection rebuilds (refreshes
every approved annotation), which is idempotent.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from editions.service import EditionService
from kg.graphs import ANNOTATION as ANNOTATIONS
from kg.graphs import PRIVATE
from kg.namespaces import BF, DCTERMS, GUJI
from kg.store import Change, Store


class EditionProposalProjection:
    name = "editions"

    def __init__(self, service: EditionService, state_path: Path) -> None:
        self.service = service
        self.state_path = Path(state_path)
        self._lock = threading.Lock()

    # -- checkpoint ----------------------------------------------------------------------------
    def checkpoint(self, store: Store) -> int | None:
        try:
            return int(json.loads(self.state_path.read_text())["checkpoint"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _save(self, sequence: int) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"checkpoint": sequence}))
        os.replace(tmp, self.state_path)

    # -- applying ------------------------------------------------------------------------------
    def apply(self, store: Store, changes: Sequence[Change]) -> dict[str, Any]:
        with self._lock:
            origins: list[str] = []
            text_graphs: list[str] = []
            for c in changes:
                if c.graph.startswith(ANNOTATIONS):
                    origins.append(c.graph[len(ANNOTATIONS):])
                elif not c.graph.startswith(PRIVATE):  # proposal graphs are private too: never fed by itself
                    text_graphs.append(c.graph)
            for work in self._works_in(store, dict.fromkeys(text_graphs)):
                origins.extend(self.service.approved_on_work(work))
            counts = self.service.refresh(origins) if origins else {}
            if changes:
                self._save(changes[-1].sequence)
            return {"refreshed": len(set(origins)), **counts}

    @staticmethod
    def _works_in(store: Store, graphs) -> list[str]:
        works: set[str] = set()
        for g in graphs:
            rows = store.query(f"""PREFIX guji: <{GUJI}> PREFIX dcterms: <{DCTERMS}> PREFIX bf: <{BF}>
                SELECT DISTINCT ?work WHERE {{ GRAPH <{g}> {{ ?item a guji:DigitalCopy ; bf:itemOf ?inst .
                ?inst bf:instanceOf ?work . ?j dcterms:isPartOf ?item ; guji:text ?t }} }}""")
            works.update(r["work"].value for r in rows)
        return sorted(works)

    def rebuild(self, store: Store) -> dict[str, Any]:
        with self._lock:
            last = store.last_sequence()
            self.state_path.unlink(missing_ok=True)
            origins = self.service.all_origins()
            counts = self.service.refresh(origins)
            self._save(last)
            return {"refreshed": len(origins), **counts}

    def check(self, store: Store) -> dict[str, Any]:
        """In sync when every approved annotation's proposals are what a refresh would write now."""
        checkpoint = self.checkpoint(store)
        last = store.last_sequence()
        drift = []
        if checkpoint != last:
            drift.append({"kind": "checkpoint", "name": "change log", "store": last, "projection": checkpoint})
        return {"in_sync": not drift, "checkpoint": checkpoint, "drift": drift}

    def close(self) -> None:
        pass

"""The search index as a projection (either engine: tantivy embedded, or Elasticsearch)."""

from __future__ import annotations

import hashlib
import json
import random
import threading
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from kg.graphs import is_annotation
from kg.store import Change, Store
from search.documents import to_index_doc
from search.errors import IndexOutdatedError
from search.passages import passages_from_store, source_graphs

SAMPLE = 25


def fingerprint(doc: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, ensure_ascii=False).encode()).hexdigest()[:16]


class SearchProjection:
    name = "search"
    batch = 5000  # change-log entries per apply: annotation changes on one juan re-index it once per step

    def __init__(self, service: Any) -> None:
        self.service = service
        self._lock = threading.RLock()  # the express lane runs inside apply, in the same thread

    @property
    def index(self):
        return self.service.index

    def checkpoint(self, store: Store) -> int | None:
        if self.index.version() is None:
            return None
        try:
            return self.index.checkpoint()
        except IndexOutdatedError:
            return None

    def apply(self, store: Store, changes: Sequence[Change], *, between: Callable[[], None] | None = None) -> dict[str, Any]:
        with self._lock:
            return {"passages": self.service.apply_changes(store, changes, between=between)}

    @staticmethod
    def expressable(change: Change) -> bool:
        """An annotation's graph (public or private): a few juans re-indexed, whatever the text's size."""
        return is_annotation(change.graph)

    def express(self, store: Store, changes: Sequence[Change]) -> dict[str, Any]:
        """Apply annotation changes ahead of a long step (called at its safe points, in its thread)."""
        with self._lock:
            return {"passages": self.service.apply_changes(store, changes, checkpoint=False)}

    def rebuild(self, store: Store) -> dict[str, Any]:
        with self._lock:
            return {"passages": self.service.build_index(store)}

    def check(self, store: Store, *, sample: int = SAMPLE, seed: int | None = None) -> dict[str, Any]:
        """Passages per source graph (every graph) and the stored documents of a sample of passages,
        against what the store gives now."""
        service = self.service
        norm = service.normaliser
        want: Counter[str] = Counter()
        passages: dict[str, Any] = {}
        for p in passages_from_store(store, norm, graphs=source_graphs(store)):
            want[p.graph] += 1
            passages[p.id] = p
        got = self.index.graph_counts() if self.index.version() is not None else {}
        drift = []
        for g in sorted(set(want) | set(got)):
            if want.get(g, 0) != got.get(g, 0):
                drift.append({"kind": "graph", "name": g, "store": want.get(g, 0), "projection": got.get(g, 0)})
        rng = random.Random(seed)
        picked = rng.sample(sorted(passages), min(sample, len(passages)))
        docs = {i: to_index_doc(passages[i], norm).doc for i in picked}
        stored = self.index.stored(picked) if picked and got else {}
        for i in picked:
            if i not in stored:
                drift.append({"kind": "document", "name": i, "store": "present", "projection": "missing"})
            elif fingerprint(stored[i]) != fingerprint(docs[i]):
                drift.append({"kind": "document-content", "name": i, "store": fingerprint(docs[i]), "projection": fingerprint(stored[i])})
        checkpoint = self.checkpoint(store)
        last = store.last_sequence()
        if checkpoint != last:
            drift.append({"kind": "checkpoint", "name": "change log", "store": last, "projection": checkpoint})
        return {"in_sync": not drift, "engine": self.index.name, "graphs": len(want), "passages": sum(want.values()),
                "sampled_documents": len(picked), "checkpoint": checkpoint, "drift": drift}

    def close(self) -> None:
        self.index.close()

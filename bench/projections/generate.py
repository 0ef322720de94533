"""Generated approved annotations over the juans of a store (shared by bench.projections and bench.national).

Each annotation is written exactly as the annotation service stores an approved one: its full graph
(private) and its public graph (``Annotation.public()``), through ``Store.replace_graphs``, so the
change log, the projector and every projection see what a reviewer's approval produces.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime, timezone

import pyoxigraph as ox

from annotation.model import Anchor, Annotation, HistoryEntry, Reading, Review, Status, TextTarget
from annotation.rdf import to_triples
from kg.graphs import annotation_graph
from kg.namespaces import GUJI
from kg.store import OxigraphStore

AGENT = "https://w3id.org/guji/id/agent/account/"
CATEGORIES = ["person", "place", "office", "era", "book-title", "event"]


def juan_texts(store: OxigraphStore) -> list[tuple[str, str]]:
    """(juan IRI, text) of every juan with text in the store."""
    text = ox.NamedNode(GUJI + "text")
    return sorted({(q.subject.value, q.object.value) for q in store.oxigraph.quads_for_pattern(None, text, None)
                   if isinstance(q.subject, ox.NamedNode) and len(q.object.value) > 8})


def annotations(juans: list[tuple[str, str]], n: int, *, seed: int = 1, prefix: str = "BENCH") -> Iterator[Annotation]:
    """``n`` approved annotations spread over ``juans`` (a span of 2-4 characters each, with context)."""
    rng = random.Random(seed)
    now = datetime(2026, 11, 1, tzinfo=timezone.utc).isoformat().replace("+00:00", "Z")
    annotator, reviewer = AGENT + "bench-annotator", AGENT + "bench-reviewer"
    for i in range(n):
        juan, text = juans[rng.randrange(len(juans))]
        length = rng.randint(2, 4)
        start = rng.randrange(0, len(text) - length)
        end = start + length
        aid = f"{prefix}{i:08d}"
        yield Annotation(
            id=aid, canonical=f"urn:guji:bench:{aid}", creator=annotator, created=now, modified=now,
            status=Status.APPROVED, revision=2,
            target=TextTarget(source=juan, start=start, end=end, exact=text[start:end],
                              prefix=text[max(0, start - 8):start], suffix=text[end:end + 8]),
            readings=[Reading(category=CATEGORIES[i % len(CATEGORIES)])],
            review=Review(reviewer=reviewer, at=now, decision="approved"), anchor=Anchor(),
            history=[HistoryEntry(sequence=1, at=now, agent=annotator, action="create"),
                     HistoryEntry(sequence=2, at=now, agent=reviewer, action="approve")])


def write_approved(store: OxigraphStore, items: Iterator[Annotation], *, per_transaction: int = 500) -> int:
    """Write approved annotations (public + private graph each), ``per_transaction`` per write."""
    n, batch = 0, {}
    for a in items:
        batch[annotation_graph(a.id, public=False)] = to_triples(a)
        batch[annotation_graph(a.id, public=True)] = to_triples(a.public())
        n += 1
        if len(batch) >= 2 * per_transaction:
            store.replace_graphs(batch, agent="bench")
            batch = {}
    if batch:
        store.replace_graphs(batch, agent="bench")
    return n

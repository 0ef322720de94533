"""What the live projection costs: N approved annotations on one juan of a work with two editions,
proposed on the other edition in one refresh (what a rebuild or a batch of 500 approvals does), then
accepted in bulk.

    python -m bench.editions.rebuild [--n 2000]

Uses the bundled sample 岳陽樓記 (GJ4a0002: master and QING) in a fresh on-disk store; annotations
are written with the restore path (no HTTP), the refresh and the accept are the service calls the
projection and the HTTP routes make. Prints seconds; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from accounts.identity import Identity, Role  # noqa: E402
from annotation.model import Annotation, Category, HistoryEntry, Reading, Review, Status, TextTarget, new_id, now_iso  # noqa: E402
from annotation.service import AnnotationService  # noqa: E402
from api.context import SAMPLE_DIR  # noqa: E402
from editions.service import EditionService  # noqa: E402
from kg.ingest_kanripo import find_works, ingest_work  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402

JUAN = "https://w3id.org/guji/id/text/GJ4a0002/master/001"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        store = OxigraphStore(Path(tmp) / "oxigraph")
        for w in find_works([SAMPLE_DIR / "kanripo" / "GJ4a0002"]):
            ingest_work(store, w)
        annotations = AnnotationService(store)
        text = annotations.text_of(JUAN)
        rng = random.Random(1)
        now = now_iso()
        batch = []
        for _ in range(args.n):
            s = rng.randrange(len(text) - 3)
            e = s + rng.randint(1, 3)
            aid = new_id()
            batch.append(Annotation(
                id=aid, canonical=f"https://w3id.org/guji/id/annotation/{aid}", creator="https://w3id.org/guji/id/agent/anna",
                created=now, modified=now, status=Status.APPROVED,
                target=TextTarget(source=JUAN, start=s, end=e, exact=text[s:e], prefix=text[max(0, s - 8):s], suffix=text[e:e + 8]),
                readings=[Reading(category=Category.PLACE)],
                review=Review(reviewer="https://w3id.org/guji/id/agent/rita", at=now, decision="approved"),
                history=[HistoryEntry(sequence=1, at=now, agent="https://w3id.org/guji/id/agent/anna", action="create")]))
        annotations.restore(Identity.system(), batch)
        editions = EditionService(store, annotations)
        t = time.perf_counter()
        counts = editions.refresh(editions.all_origins())
        refresh_s = time.perf_counter() - t
        t = time.perf_counter()
        again = editions.refresh(editions.all_origins())
        again_s = time.perf_counter() - t
        t = time.perf_counter()
        total, items = editions.queue(Identity("rita", Role.REVIEWER), limit=500)
        t2 = time.perf_counter()
        editions.queue(Identity("rita", Role.REVIEWER), limit=20)
        print(f"  queue page of 20: {time.perf_counter() - t2:7.2f} s")
        queue_s = time.perf_counter() - t
        t = time.perf_counter()
        done = editions.accept(Identity("vera", Role.REVIEWER), [p["id"] for p in items])
        accept_s = time.perf_counter() - t
        print(f"{args.n} approved annotations on one juan, one other edition")
        print(f"  refresh (propose all):        {refresh_s:7.2f} s  {counts}")
        print(f"  refresh again (no change):    {again_s:7.2f} s  {again}")
        print(f"  queue page of 500 (of {total} pending): {queue_s:7.2f} s")
        print(f"  bulk accept of {len(done)}:            {accept_s:7.2f} s")
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

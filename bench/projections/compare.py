"""A/B: the Neo4j projection of this checkout against another git revision's, same store, same machine.

    python -m bench.projections.compare [--ref main] [--books 500] [--annotations 3000] [--changes 2000]

Builds one store (the sample texts, ``--books`` generated census records, ``--annotations``
approvals), then for each side (``--ref``'s ``projections/neo4j.py`` loaded from git, and this
checkout's): a rebuild (nodes+relationships/s), the catch-up of ``--changes`` new approvals in
the projector's steps (changes/s) and ``check`` (what ``guji sync --check`` runs for Neo4j). The two sides alternate twice, so a busy machine slows both
alike. THE NEO4J AT --neo4j IS REPLACED. Prints one line per run; asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench._util import module_at  # noqa: E402
from bench.national.generate import packages  # noqa: E402
from bench.projections.generate import annotations, juan_texts, write_approved  # noqa: E402
from kg.ingest_kanripo import find_works, ingest_work  # noqa: E402
from kg.package import ingest_package  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", default="main")
    ap.add_argument("--books", type=int, default=500)
    ap.add_argument("--annotations", type=int, default=3000)
    ap.add_argument("--changes", type=int, default=2000)
    ap.add_argument("--neo4j", default="bolt://127.0.0.1:7687")
    args = ap.parse_args(argv)
    import projections.neo4j as here

    tmp = Path(tempfile.mkdtemp(prefix="guji-bench-compare-"))
    try:
        return run(args, tmp, here)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def run(args, tmp: Path, here) -> int:
    ref = module_at(args.ref, "projections/neo4j.py", tmp)
    store = OxigraphStore(tmp / "store")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(store, w)
    for bag in packages(tmp / "packages", args.books, 1000, None):
        ingest_package(store, bag, agent="bench")
    write_approved(store, annotations(juan_texts(store), args.annotations, seed=1, prefix="A"))
    print(f"store: {store.count():,} quads", flush=True)
    for k, (name, mod) in enumerate(((args.ref, ref), ("this checkout", here)) * 2):
        p = mod.Neo4jProjection(args.neo4j)
        t = time.perf_counter()
        done = p.rebuild(store)
        rebuild = time.perf_counter() - t
        items = done.get("nodes", 0) + done.get("relationships", 0)
        since = store.last_sequence()
        write_approved(store, annotations(juan_texts(store), args.changes, seed=10 + k, prefix=f"C{k}"))
        step = max(500, int(getattr(p, "batch", 0) or 0))  # what the projector gives each side
        t, n = time.perf_counter(), 0
        while True:
            changes = store.changes_since(since, limit=step)
            if not changes:
                break
            p.apply(store, changes)
            n, since = n + len(changes), changes[-1].sequence
        catch_up = time.perf_counter() - t
        t = time.perf_counter()
        report = p.check(store)
        check = time.perf_counter() - t
        print(f"{name:>14}: rebuild {items:,} nodes+rels in {rebuild:.1f} s = {items / rebuild:,.0f}/s; "
              f"catch-up {n:,} changes in {catch_up:.1f} s = {n / catch_up:,.0f} changes/s; "
              f"check {check:.1f} s ({'in sync' if report['in_sync'] else 'DRIFT'})", flush=True)
        p.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: projection throughput — Kanripo ingest, Neo4j and search indexing, rebuild and catch-up.

    python -m bench.projections [--books 1000] [--annotations 5000] [--changes 2000]
                                [--neo4j bolt://127.0.0.1:7687] [--es-url http://127.0.0.1:9200] [--quiet]

1. Kanripo: every work under ``../shared/corpus/kanripo`` ingested into a fresh store the way
   ``guji ingest`` does it (``api.operations.ingest``), then the same ingest again (a no-op).
2. ``--books`` generated census records (``bench.national.generate``: microfilm lineage, digital
   copy, a juan of text) in packages of 1,000, and ``--annotations`` approved annotations spread over the Kanripo juans.
3. Neo4j (when one answers at ``--neo4j``; ITS DATA IS REPLACED): a rebuild, in nodes +
   relationships per second; then ``--changes`` more approvals applied from the change log in the
   projector's batches, in changes per second; then ``sync --check``.
4. Search, per engine (tantivy embedded; Elasticsearch when one answers, under a unique index
   prefix dropped at the end): a rebuild in passages per second; then the same ``--changes``
   approvals applied in the projector's batches (each re-indexes the passages of its juan).

Prints a table; asserts nothing. On a shared machine the numbers are noisy: the machine it ran on
is named in docs/capacity.md with each figure.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench._util import log, print_table  # noqa: E402
from bench.projections.generate import annotations, juan_texts, write_approved  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402

ROWS: list[tuple[str, float, str]] = []


def row(step: str, seconds: float, rate: str = "") -> None:
    ROWS.append((step, seconds, rate))
    log(f"{step}: {seconds:.2f} s {rate}")


def kanripo(corpus_dir: Path, home: Path) -> OxigraphStore:
    from api import operations
    from api.context import Context
    from api.settings import Settings

    ctx = Context(Settings(home=home, environment="development"))
    corpus = [corpus_dir]
    t = time.perf_counter()
    out = operations.ingest(ctx, corpus, "kanripo")
    first = time.perf_counter() - t
    row(f"Kanripo ingest ({len(out['sources'])} works, {out['triples']:,} triples)", first, f"{out['triples'] / first:,.0f} triples/s")
    t = time.perf_counter()
    again = operations.ingest(ctx, corpus, "kanripo")
    row(f"Kanripo re-ingest, unchanged ({sum(1 for s in again['sources'] if s.get('skipped'))} skipped unparsed)",
        time.perf_counter() - t)
    return ctx.store


def approvals(store: OxigraphStore, n: int, seed: int, prefix: str) -> int:
    return write_approved(store, annotations(juan_texts(store), n, seed=seed, prefix=prefix))


def apply_in_batches(projection, store: OxigraphStore, since: int, batch: int = 500) -> tuple[int, dict]:
    """What the projector does: the change log after ``since``, in batches, each applied once."""
    total: dict = {}
    n = 0
    while True:
        changes = store.changes_since(since, limit=batch)
        if not changes:
            return n, total
        for k, v in projection.apply(store, changes).items():
            if isinstance(v, (int, float)):
                total[k] = total.get(k, 0) + v
        since = changes[-1].sequence
        n += len(changes)


def neo4j(uri: str, store: OxigraphStore, changes: int) -> None:
    from projections.neo4j import Neo4jProjection

    p = Neo4jProjection(uri)
    try:
        p.ensure_schema()
    except Exception as exc:  # noqa: BLE001
        log(f"neo4j: nothing answers at {uri} ({exc}); skipped")
        return
    t = time.perf_counter()
    done = p.rebuild(store)
    secs = time.perf_counter() - t
    items = done.get("nodes", 0) + done.get("relationships", 0)
    row(f"Neo4j rebuild ({done.get('nodes', 0):,} nodes + {done.get('relationships', 0):,} rels)", secs,
        f"{items / secs:,.0f} nodes+rels/s")
    since = p.checkpoint(store)
    approvals(store, changes, seed=2, prefix="NEO")
    t = time.perf_counter()
    n, done = apply_in_batches(p, store, since)
    secs = time.perf_counter() - t
    items = done.get("nodes", 0) + done.get("relationships", 0)
    row(f"Neo4j catch-up: {n:,} changes ({changes:,} approvals)", secs,
        f"{n / secs:,.0f} changes/s, {items / secs:,.0f} nodes+rels/s")
    t = time.perf_counter()
    check = p.check(store)
    row(f"Neo4j check (in_sync={check['in_sync']})", time.perf_counter() - t)
    p.close()


def search(engine: str, store: OxigraphStore, work: Path, es_url: str, changes: int) -> None:
    from search.service import SearchService

    if engine == "tantivy":
        from search.backends.tantivy import TantivyIndex

        index = TantivyIndex(work / "tantivy")
    else:
        from bench.search.__main__ import es_answers
        from search.backends.elasticsearch import ElasticsearchIndex

        if not es_answers(es_url):
            log(f"elasticsearch: nothing answers at {es_url}; skipped")
            return
        index = ElasticsearchIndex(es_url, prefix=f"guji-bench-proj-{uuid.uuid4().hex[:8]}")
    service = SearchService(index)
    try:
        t = time.perf_counter()
        n = service.build_index(store)
        secs = time.perf_counter() - t
        row(f"search rebuild, {engine} ({n:,} passages)", secs, f"{n / secs:,.0f} passages/s")
        from projections.search import SearchProjection

        # the same number of approvals twice: in the projector's old steps of 500 changes, then in
        # the search projection's own steps (SearchProjection.batch), to show what coalescing buys
        for k, step in enumerate((500, SearchProjection.batch)):
            since = index.checkpoint()
            approvals(store, changes, seed=3 + k, prefix=f"S{engine[:2].upper()}{k}")
            t = time.perf_counter()
            applied = passages = 0
            while True:
                batch = store.changes_since(since, limit=step)
                if not batch:
                    break
                passages += service.apply_changes(store, batch)
                since = batch[-1].sequence
                applied += len(batch)
            secs = time.perf_counter() - t
            row(f"search catch-up, {engine}, steps of {step}: {applied:,} changes ({changes:,} approvals)", secs,
                f"{applied / secs:,.0f} changes/s, {passages / secs:,.0f} passages/s, {passages:,} passages")
    finally:
        if engine != "tantivy":
            index.drop()
        index.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("GUJI_SHARED", ROOT.parent / "shared")))
    ap.add_argument("--books", type=int, default=1000, help="generated physical books in one package (default 1000)")
    ap.add_argument("--annotations", type=int, default=5000, help="approved annotations before the rebuilds (default 5000)")
    ap.add_argument("--changes", type=int, default=2000, help="approvals applied incrementally per projection (default 2000)")
    ap.add_argument("--neo4j", default=os.environ.get("GUJI_TEST_NEO4J_URI", "bolt://127.0.0.1:7687"),
                    help="bolt URI of a Neo4j whose data may be replaced ('' to skip)")
    ap.add_argument("--es-url", default=os.environ.get("GUJI_TEST_ES_URL", "http://127.0.0.1:9200"), help="'' to skip")
    ap.add_argument("--only", default="kanripo,neo4j,tantivy,elasticsearch", help="steps to run")
    args = ap.parse_args(argv)
    only = {s.strip() for s in args.only.split(",")}
    if "kanripo" in only and not (args.shared / "corpus" / "kanripo").is_dir():
        raise SystemExit(f"no Kanripo corpus under {args.shared}/corpus/kanripo (--shared)")
    tmp = Path(tempfile.mkdtemp(prefix="guji-bench-projections-"))
    try:
        # the real corpus, or (without the kanripo step) the project's own sample texts for the annotations
        store = kanripo(args.shared / "corpus" / "kanripo" if "kanripo" in only else ROOT / "samples" / "kanripo", tmp / "home")
        if args.books:
            from bench.national.generate import packages
            from kg.package import ingest_package

            t = time.perf_counter()
            for bag in packages(tmp / "packages", args.books, 1000, args.shared):
                result = ingest_package(store, bag, agent="bench")
                assert result.report.valid, result.report.to_text()[-2000:]
                shutil.rmtree(bag)
            secs = time.perf_counter() - t
            row(f"generate + validate + ingest {args.books:,} books (3 reels, 3 files, 1 juan each)", secs,
                f"{args.books / secs:,.0f} books/s")
        t = time.perf_counter()
        approvals(store, args.annotations, seed=1, prefix="BENCH")
        row(f"write {args.annotations:,} approved annotations (2 graphs each)", time.perf_counter() - t)
        if "neo4j" in only and args.neo4j:
            neo4j(args.neo4j, store, args.changes)
        for engine in ("tantivy", "elasticsearch"):
            if engine in only and (engine == "tantivy" or args.es_url):
                search(engine, store, tmp, args.es_url, args.changes)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print_table(("step", "seconds", " rate"), [(step, f"{secs:.2f}", f" {rate}") for step, secs, rate in ROWS], (72, -8, 0))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Search benchmark: both engines side by side on the whole of ``../shared/corpus``.

    python -m bench.search [--shared DIR] [--store DIR] [--work DIR] [--queries N] [--engines tantivy,elasticsearch]

1. Kanripo is ingested into an Oxigraph store (``kg.ingest_kanripo``; reused when ``--store``
   already holds it) and read back as passages (``search.passages``); the poetry JSON is read
   directly (``bench.search.poetry``), one passage per poem.
2. Normaliser throughput: ``Normaliser.fold`` over every passage text, against OpenCC's own C++
   ``t2s`` over the same text.
3. Indexing, per engine, end to end from passages: normalise + build documents + index + commit
   (``SearchIndex.rebuild``), in documents per second.
4. Query latency, per engine, through ``SearchService.search`` (normalise the query, search,
   facets, snippets and ``matched_by`` of the top 10): p50/p95/p99 over real queries cut from
   the corpus, 2-8 characters, as printed (traditional), converted to simplified, and phrases
   containing variant forms.

Elasticsearch is used when one answers at ``--es-url`` (default ``$GUJI_TEST_ES_URL`` or
http://127.0.0.1:9200); ``scripts/services up es`` starts one.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench._util import log, percentile  # noqa: E402
from bench.search.poetry import read_poems
from search.documents import to_index_doc
from search.normalise import get_normaliser
from search.passages import Passage, passages_from_store, private_use_equivalents
from search.service import SearchService

ROOT = Path(__file__).resolve().parents[2]


def load_kanripo(shared: Path, store_dir: Path) -> tuple[object, float]:
    from kg.ingest_kanripo import find_works, ingest_work
    from kg.store import OxigraphStore

    store = OxigraphStore(store_dir)
    started = time.perf_counter()
    works = find_works([shared / "corpus" / "kanripo"])
    have = set(store.graphs())
    for w in works:
        if f"https://w3id.org/guji/graph/kanripo/{w.name}" not in have:
            log(f"ingest {w.name}")
            ingest_work(store, w, agent="bench")
    return store, time.perf_counter() - started


def make_queries(passages: list[Passage], n: int, seed: int = 7) -> list[tuple[str, str]]:
    """(kind, query): phrases of 2-8 matched characters cut from real passages."""
    import opencc

    t2s = opencc.OpenCC("t2s")
    norm = get_normaliser()
    rng = random.Random(seed)
    variant_chars = {ch for ch, steps in norm._paths.items() if any(s.kind == "variant" for s in steps)}
    out: list[tuple[str, str]] = []
    kinds = ["traditional", "simplified", "variant"]
    tries = 0
    while len(out) < n and tries < n * 1000:
        tries += 1
        kind = kinds[len(out) % 3]
        p = rng.choice(passages)
        kept = [c for c in p.text if norm.is_matched(c)]
        length = rng.randint(2, 8)
        if len(kept) < length:
            continue
        at = rng.randrange(0, len(kept) - length + 1)
        phrase = "".join(kept[at:at + length])
        if kind == "variant":
            if not any(c in variant_chars for c in phrase):
                continue
        elif kind == "simplified":
            simple = t2s.convert(phrase)
            if simple == phrase:
                continue
            phrase = simple
        out.append((kind, phrase))
    return out


def frequent_bigrams(passages: list[Passage], norm, n: int, seed: int = 11) -> list[tuple[str, str]]:
    """The ``n`` character pairs found in the most passages (of a sample), typed in simplified:
    the worst case for phrase search (two very common characters, thousands of hits)."""
    from collections import Counter

    rng = random.Random(seed)
    counts: Counter[str] = Counter()
    for p in rng.sample(passages, min(30000, len(passages))):
        s = norm.fold(p.text)
        counts.update({s[i:i + 2] for i in range(len(s) - 1)})
    return [("frequent", pair) for pair, _ in counts.most_common(n)]


def es_answers(url: str) -> bool:
    try:
        from elasticsearch import Elasticsearch

        with Elasticsearch(url, request_timeout=5) as es:
            es.cluster.health(timeout="3s")
        return True
    except Exception:
        return False


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--shared", type=Path, default=Path(os.environ.get("GUJI_SHARED", ROOT.parent / "shared")))
    ap.add_argument("--store", type=Path, help="Oxigraph directory to (re)use for the Kanripo ingest")
    ap.add_argument("--work", type=Path, help="directory for the Tantivy index (default: a temporary one)")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--rounds", type=int, default=3, help="times each query is run per engine")
    ap.add_argument("--engines", default="tantivy,elasticsearch")
    ap.add_argument("--es-url", default=os.environ.get("GUJI_TEST_ES_URL", "http://127.0.0.1:9200"))
    ap.add_argument("--no-poetry", action="store_true")
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="guji-bench-"))
    store_dir = args.store or tmp / "oxigraph"
    work = args.work or tmp / "tantivy"

    store, ingest_s = load_kanripo(args.shared, store_dir)
    norm = get_normaliser(private_use_equivalents(store))
    t = time.perf_counter()
    passages = list(passages_from_store(store, norm))
    kanripo_n, kanripo_s = len(passages), time.perf_counter() - t
    log(f"kanripo: {kanripo_n} passages ({kanripo_s:.1f}s from the store, ingest {ingest_s:.1f}s)")
    if not args.no_poetry:
        t = time.perf_counter()
        passages.extend(read_poems(args.shared / "corpus" / "poetry"))
        log(f"poetry: {len(passages) - kanripo_n} poems ({time.perf_counter() - t:.1f}s)")
    total_chars = sum(len(p.text) for p in passages)

    # -- normaliser throughput -------------------------------------------------------------------
    import opencc

    texts = [p.text for p in passages]
    cc = opencc.OpenCC("t2s")
    t = time.perf_counter()
    for s in texts:
        cc.convert(s)
    opencc_cps = total_chars / (time.perf_counter() - t)
    t = time.perf_counter()
    for s in texts:
        norm.fold(s)
    fold_cps = total_chars / (time.perf_counter() - t)
    sample = texts[: 20000]
    sample_chars = sum(len(s) for s in sample)
    t = time.perf_counter()
    for s in sample:
        _ = norm.normalise(s).offsets
    aligned_cps = sample_chars / (time.perf_counter() - t)
    t = time.perf_counter()
    for p in passages[:50000]:
        to_index_doc(p, norm)
    doc_rate = min(len(passages), 50000) / (time.perf_counter() - t)

    big = "".join(texts[:20000])
    t = time.perf_counter()
    cc.convert(big)
    opencc_big_cps = len(big) / (time.perf_counter() - t)

    queries = make_queries(passages, args.queries)
    frequent = frequent_bigrams(passages, norm, 30)
    log(f"{len(queries)} queries, e.g. {[q for _, q in queries[:6]]}")

    engines: dict[str, dict[str, float]] = {}
    services: dict[str, SearchService] = {}
    for name in [e.strip() for e in args.engines.split(",") if e.strip()]:
        if name == "tantivy":
            from search.backends.tantivy import TantivyIndex

            index = TantivyIndex(work)
        elif name == "elasticsearch":
            if not es_answers(args.es_url):
                log(f"elasticsearch: nothing answers at {args.es_url}; skipped (scripts/services up es)")
                continue
            from search.backends.elasticsearch import ElasticsearchIndex

            index = ElasticsearchIndex(args.es_url, prefix="guji-bench")
        else:
            raise SystemExit(f"unknown engine {name}")
        log(f"{name}: indexing {len(passages)} passages")
        t = time.perf_counter()
        n = index.rebuild(to_index_doc(p, norm) for p in passages)
        index_s = time.perf_counter() - t
        log(f"{name}: {n} docs in {index_s:.1f}s")
        engines[name] = {"docs": n, "index_s": index_s, "docs_per_s": n / index_s}
        services[name] = SearchService(index, normaliser=norm)

    # queries: the engines take turns on every query (order alternating), so a busy machine
    # slows both alike and the comparison stays fair
    log("querying")
    names = list(services)
    for svc in services.values():
        for _, q in queries[:30]:
            svc.search(q)
    lat: dict[tuple[str, bool], list[tuple[str, float]]] = {(n, f): [] for n in names for f in (True, False)}
    for r in range(args.rounds):
        for i, (kind, q) in enumerate(queries + frequent):
            order = names if (i + r) % 2 == 0 else names[::-1]
            for facets in (True, False):
                for name in order:
                    t = time.perf_counter()
                    services[name].search(q, facets=facets)
                    lat[(name, facets)].append((kind, (time.perf_counter() - t) * 1000))
    for name in names:
        res = engines[name]
        totals = [services[name].search(q, facets=False).total for _, q in queries]
        res["zero_hit_queries"] = sum(1 for h in totals if h == 0)
        res["median_total"] = statistics.median(totals)
        res["max_total"] = max(totals)
        with_f = [ms for k, ms in lat[(name, True)] if k != "frequent"]
        res.update({"svc_p50": percentile(with_f, 0.5), "svc_p95": percentile(with_f, 0.95),
                    "svc_p99": percentile(with_f, 0.99), "svc_mean": statistics.fmean(with_f)})
        res["nofacet_p95"] = percentile([ms for k, ms in lat[(name, False)] if k != "frequent"], 0.95)
        res["frequent_total"] = statistics.median(services[name].search(q, facets=False).total for _, q in frequent)
        for kind in ("traditional", "simplified", "variant", "frequent"):
            res[f"p95_{kind}"] = percentile([ms for k, ms in lat[(name, True)] if k == kind], 0.95)
    if "elasticsearch" in services:
        services["elasticsearch"].index.drop()
        services["elasticsearch"].index.close()

    # -- report ------------------------------------------------------------------------------
    print()
    print(f"corpus: {len(passages):,} passages ({kanripo_n:,} Kanripo folio sides/windows + "
          f"{len(passages) - kanripo_n:,} poems), {total_chars:,} characters; {len(queries)} queries "
          f"(2-8 chars: {sum(1 for k, _ in queries if k == 'traditional')} traditional, "
          f"{sum(1 for k, _ in queries if k == 'simplified')} simplified, {sum(1 for k, _ in queries if k == 'variant')} variant), "
          f"each run {args.rounds} times per engine, engines taking turns, after a warm-up")
    print()
    print("normaliser (one core)                       chars/s")
    print(f"  OpenCC C++ t2s alone (reference)        {opencc_cps / 1e6:8.1f} M")
    print(f"  OpenCC C++ t2s, one {len(big) / 1e6:.1f}M-char string      {opencc_big_cps / 1e6:8.1f} M")
    print(f"  Normaliser.fold (index time)            {fold_cps / 1e6:8.1f} M")
    print(f"  normalise + offsets (snippet time)      {aligned_cps / 1e6:8.1f} M")
    print(f"  passage -> index document               {doc_rate:10,.0f} docs/s")
    print()
    rows = [
        ("documents", "docs", "{:,.0f}"),
        ("indexing end to end (docs/s)", "docs_per_s", "{:,.0f}"),
        ("indexing time (s)", "index_s", "{:.1f}"),
        ("query p50 (ms), top 10 + facets", "svc_p50", "{:.2f}"),
        ("query p95 (ms)", "svc_p95", "{:.2f}"),
        ("query p99 (ms)", "svc_p99", "{:.2f}"),
        ("query mean (ms)", "svc_mean", "{:.2f}"),
        ("  p95 traditional queries", "p95_traditional", "{:.2f}"),
        ("  p95 simplified queries", "p95_simplified", "{:.2f}"),
        ("  p95 variant queries", "p95_variant", "{:.2f}"),
        ("query p95 without facets (ms)", "nofacet_p95", "{:.2f}"),
        ("frequent pairs p95 (ms), see below", "p95_frequent", "{:.2f}"),
        ("frequent pairs: median hits", "frequent_total", "{:,.0f}"),
        ("queries with no hit", "zero_hit_queries", "{:.0f}"),
        ("median hits per query", "median_total", "{:,.0f}"),
        ("most hits for one query", "max_total", "{:,.0f}"),
    ]
    header = f"{'':34}" + "".join(f"{n:>16}" for n in names)
    if len(names) == 2:
        header += f"{names[0] + '/' + names[1]:>28}"
    print(header)
    for label, key, fmt in rows:
        line = f"{label:34}" + "".join(f"{fmt.format(engines[n][key]):>16}" for n in names)
        if len(names) == 2 and engines[names[1]][key]:
            line += f"{engines[names[0]][key] / engines[names[1]][key]:>28.2f}"
        print(line)
    print()
    print(f"frequent pairs: the {len(frequent)} character pairs in the most passages ({', '.join(q for _, q in frequent[:8])} ...),")
    print("  not part of the query set above: the worst case, shown apart.")
    print("targets: embedded p95 <= 20 ms; embedded p95 <= Elasticsearch p95; indexing >= 5,000 docs/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""How much the common tie-break costs (issue 12): equal scores ordered by the work order on
Tantivy (fetch past the page, order the page and its ties) and Elasticsearch (sort by _score, then
order), so a page is the same on both engines.

    python -m bench.search.ties [--passages N] [--queries Q] [--es-url URL]

Builds N passages (default 20,000) from the bundled sample texts, many of them identical copies (as
editions of one text are), so single-character queries tie by the thousand. Prints the latency of
page 1, 10 and 100 (10 hits each) per engine, p50/p95 in ms, and whether both engines gave the same
pages.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from api.context import SAMPLE_DIR
from bench._util import percentile
from kg.kanripo import read_juan
from search.documents import to_index_doc
from search.normalise import get_normaliser
from search.passages import Passage
from search.service import SearchService


def passages(n: int) -> list[Passage]:
    texts = []
    for f in sorted(SAMPLE_DIR.glob("kanripo/*/*/*.txt")):
        juan = read_juan(f)
        texts += [juan.text[i:i + 120] for i in range(0, len(juan.text), 120) if juan.text[i:i + 120].strip()]
    out = []
    for i in range(n):
        text = texts[i % len(texts)]
        src = f"GJ{i // 500:04d}"
        out.append(Passage(id=f"{src}/E/001/{i}", graph=f"urn:bench:{src}", source_id=src, title="bench", edition="E",
                           juan="001", juan_seq=1, seq=i, start=0, end=len(text), text=text, dynasty="晉", category="集部"))
    return out


def timed(svc: SearchService, q: str, page: int) -> tuple[float, list[str]]:
    t0 = time.perf_counter()
    r = svc.search(q, page=page, size=10, facets=False)
    return (time.perf_counter() - t0) * 1000, [h.id for h in r.hits]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--passages", type=int, default=20_000)
    ap.add_argument("--queries", type=int, default=20)
    ap.add_argument("--es-url", default=os.environ.get("GUJI_TEST_ES_URL", "http://127.0.0.1:9200"))
    args = ap.parse_args()
    norm = get_normaliser()
    ps = passages(args.passages)
    docs = [to_index_doc(p, norm) for p in ps]
    engines = {}
    from search.backends.tantivy import TantivyIndex

    tmp = Path(tempfile.mkdtemp())
    engines["tantivy"] = SearchService(TantivyIndex(tmp / "t"), normaliser=norm)
    try:
        from elasticsearch import Elasticsearch

        from search.backends.elasticsearch import ElasticsearchIndex

        client = Elasticsearch(args.es_url, request_timeout=60)
        client.cluster.health()
        engines["elasticsearch"] = SearchService(ElasticsearchIndex(client=client, prefix=f"guji-bench-{uuid.uuid4().hex[:8]}"),
                                                 normaliser=norm)
    except Exception as exc:  # noqa: BLE001 - no server: Tantivy alone
        print(f"elasticsearch: not used ({exc.__class__.__name__})")
    for name, svc in engines.items():
        t0 = time.perf_counter()
        svc.index.rebuild(iter(docs))
        print(f"{name}: indexed {len(docs)} passages in {time.perf_counter() - t0:.1f} s")
    chars = sorted({c for p in ps[:200] for c in p.text if "\u4e00" <= c <= "\u9fff"})[: args.queries]
    same = True
    print(f"{'engine':14} {'page':>5} {'p50 ms':>8} {'p95 ms':>8}   ({len(chars)} single-character queries, ties by the thousand)")
    pages: dict[tuple[str, str, int], list[str]] = {}
    for name, svc in engines.items():
        for page in (1, 10, 100):
            lat = []
            for q in chars:
                ms, ids = timed(svc, q, page)
                lat.append(ms)
                pages[(name, q, page)] = ids
            lat.sort()
            print(f"{name:14} {page:>5} {statistics.median(lat):8.2f} {percentile(lat, 0.95):8.2f}")
    if len(engines) == 2:
        same = all(pages[("tantivy", q, p)] == pages[("elasticsearch", q, p)] for q in chars for p in (1, 10, 100))
        print(f"same pages on both engines: {same}")
    for svc in engines.values():
        svc.index.drop()
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())

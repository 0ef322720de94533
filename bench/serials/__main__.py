"""Benchmark: a v2 package of a daily newspaper (package format v2, ADR 0021).

    python -m bench.serials [--days 3650] [--per-reel 250]

Generates one newspaper with one issue a day for ``--days`` days (two articles and a ~300-character
service text per issue; ``--per-reel`` issues on each reel, four frames an issue), then measures:
validate (BagIt checksums, tables, v2 cross checks, SHACL), ingest into a fresh Oxigraph store,
building the Tantivy index, a search with and without a one-day date filter (median of 20), and
frame → issue/page lookups (median of 20). Prints a table; asserts nothing. Numbers depend on the
machine: say whether it was shared when quoting them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import bagit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench._util import load_average, median_ms  # noqa: E402

from kg.catalog import Catalog  # noqa: E402
from kg.package import ingest_package, validate_package  # noqa: E402
from kg.package.serials import ARTICLES, BOOKS_V2, FILES_V2, FRAMES_V2, ISSUE_FRAMES, ISSUES, REELS_V2, SERIALS  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402
from scripts.make_sample_v2_package import _csv  # noqa: E402

WORDS = "天津北平上海南京廣州漢口各埠商情市面米麥棉紗價格漲落本埠新聞社論春耕農貸電車碼頭船隻學校圖書館民眾教育"


def make(root: Path, days: int, per_reel: int) -> Path:
    out = root / "bench-news"
    out.mkdir()
    start = date(1930, 1, 1)
    issues, articles, frames, files = [], [], [], []
    reels = [dict(reel_id=f"R{n + 1}", serial_id="N", generation="母片", base="涤纶", colour="黑白", width_mm="35",
                  reduction_ratio="1:18", polarity="负片", shooting_unit="bench", shooting_date="2026-06", storage_location="A",
                  derived_from="book") for n in range((days + per_reel - 1) // per_reel)]
    (out / "texts").mkdir()
    for k in range(days):
        d = (start + timedelta(days=k)).isoformat()
        iid = f"N-{d}"
        issues.append(dict(issue_id=iid, serial_id="N", number=str(k + 1), whole_number=str(k + 1), date=d, pages="4"))
        articles += [dict(article_id=f"{iid}-A1", issue_id=iid, title="社論", authors="本報", page_start="1", page_end="1"),
                     dict(article_id=f"{iid}-A2", issue_id=iid, title="本埠新聞", authors="本報記者", page_start="2", page_end="4")]
        n = k % per_reel
        frames.append(dict(reel_id=f"R{k // per_reel + 1}", issue_id=iid, page_start="1", page_end="4",
                           frame_start=str(4 * n + 1), frame_end=str(4 * n + 4)))
        body = "".join(WORDS[(k * 7 + i * 13) % len(WORDS)] for i in range(300))
        raw = f"#+TITLE: 津沽日報 {d}\n天津本埠{body[:150]}¶\n{body[150:]}¶\n".encode("utf-8")
        rel = f"texts/{iid}.txt"
        (out / rel).write_bytes(raw)
        files.append(dict(file_id=f"{iid}-TXT", issue_id=iid, level="服务级", path=rel, format="text/plain",
                          sha256=hashlib.sha256(raw).hexdigest(), size=str(len(raw)), derived_from="book"))
    serial = dict(serial_id="N", title="津沽日報", material_type="报纸", frequency="日刊", publisher="bench", place="天津",
                  start_date=start.isoformat(), holding_library="bench")
    for name, rows, table in (("books.csv", [], BOOKS_V2), ("reels.csv", reels, REELS_V2), ("frames.csv", [], FRAMES_V2),
                              ("files.csv", files, FILES_V2), ("serials.csv", [serial], SERIALS), ("issues.csv", issues, ISSUES),
                              ("articles.csv", articles, ARTICLES), ("issue_frames.csv", frames, ISSUE_FRAMES)):
        (out / name).write_text(_csv(rows, table.names), encoding="utf-8")
    (out / "submission.json").write_text(json.dumps({
        "package_version": "2", "batch": "bench-news", "submitting_unit": "bench", "contact": {"name": "b", "email": "b@example.org"},
        "date": "2026-12-04", "counts": {"books": 0, "reels": len(reels), "files": len(files), "gaiji": 0,
                                         "serials": 1, "issues": len(issues), "articles": len(articles)}}), encoding="utf-8")
    bagit.make_bag(str(out), {"External-Identifier": "bench-news"}, checksums=["sha256"])
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=3650)
    ap.add_argument("--per-reel", type=int, default=250)
    args = ap.parse_args()
    from search.backends.tantivy import TantivyIndex
    from search.service import SearchService

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        t = time.perf_counter()
        pkg = make(root, args.days, args.per_reel)
        made = time.perf_counter() - t
        t = time.perf_counter()
        result = validate_package(pkg)
        validated = time.perf_counter() - t
        assert result.report.valid, result.report.to_text()[:2000]
        store = OxigraphStore(root / "store")
        t = time.perf_counter()
        ingest_package(store, pkg, agent="bench")
        ingested = time.perf_counter() - t
        svc = SearchService(TantivyIndex(root / "index"), store=store)
        t = time.perf_counter()
        passages = svc.build_index(store)
        indexed = time.perf_counter() - t
        day = (date(1930, 1, 1) + timedelta(days=args.days // 2)).isoformat()
        one = svc.search("天津", date_from=day, date_to=day)
        all_ms = median_ms(lambda: svc.search("天津"))
        day_ms = median_ms(lambda: svc.search("天津", date_from=day, date_to=day))
        month_ms = median_ms(lambda: svc.search("天津", date_from=day[:7], date_to=day[:7]))
        cat = Catalog(store)
        frame_ms = median_ms(lambda: cat.reel_frame("R3", 7))
        print(f"v2 package, one daily newspaper: {args.days} issues, {2 * args.days} articles, "
              f"{(args.days + args.per_reel - 1) // args.per_reel} reels ({args.per_reel} issues each)")
        print(f"{'generate':32} {made:8.2f} s")
        print(f"{'validate (bag, tables, SHACL)':32} {validated:8.2f} s   {args.days / validated:8.0f} issues/s   "
              f"{result.report.counts.get('triples', 0)} triples")
        print(f"{'ingest (validate + write)':32} {ingested:8.2f} s")
        print(f"{'tantivy index':32} {indexed:8.2f} s   {passages} passages")
        print(f"{'search 天津 (no filter)':32} {all_ms:8.2f} ms  median of 20")
        print(f"{'search 天津, one day':32} {day_ms:8.2f} ms  ({one.total} hit: {one.hits[0].date if one.hits else '-'})")
        print(f"{'search 天津, one month':32} {month_ms:8.2f} ms")
        print(f"{'frame → issue/page (R3, 7)':32} {frame_ms:8.2f} ms")
        print(load_average())
        store.close()


if __name__ == "__main__":
    main()

"""Benchmark: validation and ingest throughput of a generated submission package.

    python -m bench.package [--books 1000 10000 100000] [--neo4j bolt://127.0.0.1:7687]

Generates a package of N physical books (each with a master reel, two frame ranges, an
inspection, a preservation master and a small service image in the bag), then measures, each in
a fresh process (so the peak RSS is that step's): validate (BagIt checksums + tables + cross
checks + SHACL) and validate + ingest into a fresh Oxigraph store; and the Neo4j projection when
a server is given. Prints the books/s and peak RSS table; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import bagit

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench._util import peak_rss_mb  # noqa: E402

from kg.package import ingest_package, validate_package  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402
from scripts.make_sample_package import png  # noqa: E402


def write_csv(path: Path, header: list[str], rows) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def generate(root: Path, n: int) -> Path:
    bag = root / f"bench-{n}"
    (bag / "images").mkdir(parents=True)
    image = png(8, 8, 128)
    digest, size = hashlib.sha256(image).hexdigest(), len(image)
    books, reels, frames, inspections, files = [], [], [], [], []
    titles = ["史記", "漢書", "後漢書", "三國志", "資治通鑑", "文選", "杜工部集", "李太白集", "說文解字", "爾雅"]
    for i in range(1, n + 1):
        b = f"B{i:06d}"
        books.append([b, f"110000-0002-{i:07d}", "guji 基准图书馆", f"善 {i:06d}", titles[i % 10], str(1 + i % 130),
                      "佚名", "明", "撰", "明刻本", "刻本", "明萬曆間", str(1573 + i % 47), "半葉十行行二十字", "", "", "", "",
                      "线装", str(1 + i % 12), "", "", "", "", "史部", "", ""])
        reels.append([f"R{i:06d}", b, "母片", "涤纶", "35", "1:12", "负片", "guji 基准缩微中心", "2005-03-01", f"A-{i % 100:02d}", "book"])
        frames.append([f"R{i:06d}", "1", "1a", "5b", "1", "10"])
        frames.append([f"R{i:06d}", "2", "1a", "3b", "11", "16"])
        inspections.append([f"R{i:06d}", "2024-05-01", "王基准", "1.02", "120", "", "0", ""])
        (bag / "images" / f"{b}.png").write_bytes(image)
        files.append([f"{b}-TIF", b, "保存级", f"preservation://bench/{b}.tif", "image/tiff", "600", "0" * 64, "1000000", "book", "1", ""])
        files.append([f"{b}-IMG", b, "服务级", f"images/{b}.png", "image/png", "300", digest, str(size), f"file:{b}-TIF", "1", "1a"])
    from kg.package.schema import BOOKS, FILES, FRAMES, INSPECTIONS, REELS

    write_csv(bag / "books.csv", BOOKS.names, books)
    write_csv(bag / "reels.csv", REELS.names, reels)
    write_csv(bag / "frames.csv", FRAMES.names, frames)
    write_csv(bag / "inspections.csv", INSPECTIONS.names, inspections)
    write_csv(bag / "files.csv", FILES.names, files)
    (bag / "submission.json").write_text(json.dumps({
        "package_version": "1", "batch": f"bench-{n}", "submitting_unit": "guji 基准图书馆",
        "contact": {"name": "基准", "email": "bench@example.org"}, "date": "2026-11-22",
        "counts": {"books": n, "reels": n, "files": 2 * n, "gaiji": 0}}, ensure_ascii=False), encoding="utf-8")
    bagit.make_bag(str(bag), {"Source-Organization": "guji 基准图书馆", "Bagging-Date": "2026-11-22"}, checksums=["sha256"])
    return bag


def _measure(step: str, bag: str, store_dir: str, shacl: bool = True) -> None:
    """One step in this (fresh) process: prints {"seconds", "peak_mb", ...} as JSON."""
    t = time.perf_counter()
    if step == "validate":
        result = validate_package(bag, shacl=shacl)
        assert result.report.valid, result.report.to_text()[-2000:]
        extra = {"triples": result.report.counts["triples"]}
    else:
        store = OxigraphStore(store_dir)
        seen: dict = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase in ("loading", "published") and "validated" not in seen:  # validation is over: its time and peak
                seen.update(validated=time.perf_counter() - t, validated_peak_mb=peak_rss_mb())

        result = ingest_package(store, bag, agent="bench", shacl=shacl, progress=progress)
        assert result.report.valid and result.changes, result.report.to_text()[-2000:]
        extra = {"quads": store.count(), **seen}
    print(json.dumps({"seconds": time.perf_counter() - t, "peak_mb": peak_rss_mb(), **extra}))


def _run(step: str, bag: Path, store_dir: Path, shacl: bool = True) -> dict:
    import subprocess

    out = subprocess.run([sys.executable, "-m", "bench.package", "--step", step, "--bag", str(bag), "--store", str(store_dir)] + ([] if shacl else ["--no-shacl"]),
                         cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--books", type=int, nargs="+", default=[10_000], help="package sizes, e.g. --books 1000 10000 100000")
    ap.add_argument("--neo4j", default=None, help="bolt URI of a Neo4j to project into (its data is replaced)")
    ap.add_argument("--ingest-only", action="store_true",
                    help="one run per size: validate is timed inside the ingest, up to the first load (halves a 100k run)")
    ap.add_argument("--no-shacl", action="store_true", help="also measure both steps without SHACL (what the streaming path itself costs)")
    ap.add_argument("--step", choices=["validate", "ingest"], help=argparse.SUPPRESS)
    ap.add_argument("--bag", help=argparse.SUPPRESS)
    ap.add_argument("--store", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.step:
        _measure(args.step, args.bag, args.store, shacl=not args.no_shacl)
        return
    table = []
    for n in args.books:
        tmp = Path(tempfile.mkdtemp(prefix="guji-bench-package-"))
        try:
            t = time.perf_counter()
            bag = generate(tmp, n)
            gen = time.perf_counter() - t
            i = _run("ingest", bag, tmp / "store")
            if args.ingest_only:  # the validation inside the ingest, up to its first load
                v = {"seconds": i.get("validated", i["seconds"]), "peak_mb": i.get("validated_peak_mb", i["peak_mb"]), "triples": i["quads"]}
            else:
                v = _run("validate", bag, tmp / "unused")
            table.append((n, gen, v, i))
            if args.no_shacl:
                vn = _run("validate", bag, tmp / "unused", shacl=False)
                shutil.rmtree(tmp / "store-noshacl", ignore_errors=True)
                inn = _run("ingest", bag, tmp / "store-noshacl", shacl=False)
                table.append((f"{n} (no SHACL)", gen, vn, inn))
            print(f"{n} books: generated in {gen:.1f} s; validate {v['seconds']:.1f} s, peak {v['peak_mb']:.0f} MB; "
                  f"validate + ingest {i['seconds']:.1f} s, peak {i['peak_mb']:.0f} MB ({v['triples']} triples, {i['quads']} quads)",
                  flush=True)
            if args.neo4j:
                from projections.neo4j import Neo4jProjection

                store = OxigraphStore(tmp / "store")
                projection = Neo4jProjection(args.neo4j)
                t = time.perf_counter()
                done = projection.sync(store, rebuild=True)
                print(f"  Neo4j projection: {done.get('nodes', 0)} nodes, {done.get('relationships', 0)} rels in {time.perf_counter() - t:.1f} s")
                projection.close()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("\n| books | validate books/s | validate peak RSS | validate + ingest books/s | validate + ingest peak RSS |")
    print("|---|---|---|---|---|")
    for label, _gen, v, i in table:
        n = int(str(label).split()[0])
        print(f"| {label if isinstance(label, str) else f'{label:,}'} | {n / v['seconds']:,.0f} | {v['peak_mb']:,.0f} MB | {n / i['seconds']:,.0f} | {i['peak_mb']:,.0f} MB |")


if __name__ == "__main__":
    main()

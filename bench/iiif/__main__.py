"""Benchmark: page images — pyramid build at ingest, IIIF tiles cold and warm, manifest of a 400-folio copy.

    python -m bench.iiif [--folios 400] [--tiles 300]

Generates a submission package with one book whose juan has ``--folios`` folio sides, each with a
rendered page image (scripts/make_sample_package.py's page renderer: vertical text, block frame,
fish tail; Debian fonts-noto-cjk), then measures:

1. pyramid build (images.store, libvips tiled pyramidal TIFF): images/s and disk per image;
2. validate + ingest of the package (images checked, pyramids made, graphs written);
3. over HTTP against a real ``guji serve`` on that home: the manifest of the 400-folio copy
   (first request and repeats), and Image API tiles (256 px at full resolution, random pages):
   p50/p95 from a cold cache (first request of each tile) and a warm one (the same tiles again).
Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bagit
import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench._util import load_average, percentile  # noqa: E402

from images.store import PyramidStore  # noqa: E402
from kg.package import ingest_package  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402
from scripts import make_sample_package as sample  # noqa: E402

TEXT = ("晉太元中武陵人捕魚爲業緣溪行忘路之遠近忽逢桃花林夾岸數百步中無雜樹芳草鮮美落英繽紛漁人甚異之復前行欲窮其林"
        "林盡水源便得一山山有小口髣髴若有光便捨船從口入初極狹纔通人復行數十步豁然開朗土地平曠屋舍儼然")


def folio_name(i: int) -> str:
    return f"{i // 2 + 1}{'ab'[i % 2]}"


def generate(root: Path, folios: int) -> tuple[Path, list[Path]]:
    bag = root / "bench-iiif-001"
    shutil.copytree(sample.OUT, bag)
    for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"):
        (bag / name).unlink()
    for p in list((bag / "data").iterdir()):
        shutil.move(str(p), str(bag / p.name))
    (bag / "data").rmdir()
    rng = random.Random(16)
    lines = ["#+TITLE: 桃花源記", "#+PROPERTY: JUAN 卷一"]
    images: list[Path] = []
    rows = list(csv.DictReader((bag / "files.csv").open(encoding="utf-8")))
    header = list(rows[0])
    rows = [r for r in rows if r["book_id"] != "B1" or not r["file_id"].startswith("B1-IMG")]
    for i in range(folios):
        folio = folio_name(i)
        page = ["".join(rng.choice(TEXT) for _ in range(18)) for _ in range(9)]
        lines.append(f"<pb:B1_MING_001-{folio}>¶")
        lines.extend(line + "¶" for line in page)
        data = sample.page_image(page, title="桃花源記", folio=folio, columns=9, rows=20)
        rel = f"images/B1/001-{folio}.png"
        (bag / rel).parent.mkdir(parents=True, exist_ok=True)
        (bag / rel).write_bytes(data)
        images.append(bag / rel)
        rows.append({**dict.fromkeys(header, ""), "file_id": f"B1-IMG-{i + 1}", "book_id": "B1", "level": "服务级", "path": rel,
                     "format": "image/png", "resolution_dpi": "300", "sha256": hashlib.sha256(data).hexdigest(),
                     "size": str(len(data)), "derived_from": "book", "juan": "1", "folio": folio})
    text = "\n".join(lines) + "\n"
    (bag / "texts/B1/001.txt").write_text(text, encoding="utf-8")
    for r in rows:
        if r["file_id"] == "B1-TXT-1":
            r["sha256"], r["size"] = hashlib.sha256(text.encode()).hexdigest(), str(len(text.encode()))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    (bag / "files.csv").write_text(buf.getvalue(), encoding="utf-8")
    sub = json.loads((bag / "submission.json").read_text(encoding="utf-8"))
    sub["counts"]["files"] = len(rows)
    sub["batch"] = "bench-iiif-001"
    (bag / "submission.json").write_text(json.dumps(sub, ensure_ascii=False, indent=2), encoding="utf-8")
    bagit.make_bag(str(bag), {"External-Identifier": sub["batch"]}, checksums=["sha256"])
    return bag, [bag / "data" / p.relative_to(bag) for p in images]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folios", type=int, default=400)
    ap.add_argument("--tiles", type=int, default=300)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-iiif-"))
    out: list[tuple[str, str]] = []
    try:
        t = time.perf_counter()
        bag, images = generate(work, args.folios)
        out.append(("generate package (render pages)", f"{args.folios} images in {time.perf_counter() - t:.1f} s"))
        src_bytes = sum(p.stat().st_size for p in images)

        pyr = PyramidStore(work / "pyramids-only")
        t = time.perf_counter()
        for p in images:
            pyr.add(p, hashlib.sha256(p.read_bytes()).hexdigest())
        dt = time.perf_counter() - t
        out.append(("pyramid build", f"{len(images) / dt:.1f} images/s ({dt * 1000 / len(images):.1f} ms each)"))
        out.append(("disk per image", f"pyramid {pyr.disk_bytes() / len(images) / 1024:.0f} KiB, source PNG {src_bytes / len(images) / 1024:.0f} KiB"))

        home = work / "home"
        store = OxigraphStore(home / "oxigraph")
        t = time.perf_counter()
        result = ingest_package(store, bag, agent="bench", pyramids=PyramidStore(home / "images"))
        out.append(("validate + ingest (checks, pyramids, graphs)", f"{time.perf_counter() - t:.1f} s, valid={result.report.valid}"))
        store.close()

        port = free_port()
        env = {**os.environ, "GUJI_HOME": str(home), "GUJI_ENVIRONMENT": "test", "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(port)], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.2)
            with httpx.Client(base_url=base, timeout=60) as c:
                times = []
                for _ in range(6):
                    t = time.perf_counter()
                    r = c.get("/iiif/books/110000-0001-0000001/manifest")
                    times.append((time.perf_counter() - t) * 1000)
                    assert r.status_code == 200 and len(r.json()["items"]) == args.folios, r.text[:300]
                out.append((f"manifest, {args.folios}-folio copy (HTTP)",
                            f"first {times[0]:.0f} ms, then median {statistics.median(times[1:]):.0f} ms, {len(r.content) / 1024:.0f} KiB"))
                info = c.get("/iiif/image/bench-iiif-001~B1-IMG-1/info.json").json()
                W, H = info["width"], info["height"]
                rng = random.Random(7)
                requests = []
                for _ in range(args.tiles):
                    n = rng.randrange(args.folios) + 1
                    x, y = rng.randrange((W + 255) // 256) * 256, rng.randrange((H + 255) // 256) * 256
                    w, h = min(256, W - x), min(256, H - y)
                    requests.append(f"/iiif/image/bench-iiif-001~B1-IMG-{n}/{x},{y},{w},{h}/{w},/0/default.jpg")
                requests = list(dict.fromkeys(requests))
                cold, warm = [], []
                for url in requests:
                    t = time.perf_counter()
                    r = c.get(url)
                    assert r.status_code == 200, (url, r.text[:300])
                    cold.append((time.perf_counter() - t) * 1000)
                for url in requests:
                    t = time.perf_counter()
                    assert c.get(url).status_code == 200
                    warm.append((time.perf_counter() - t) * 1000)
                out.append((f"tile, cold cache ({len(requests)} tiles)", f"p50 {percentile(cold, .5):.1f} ms, p95 {percentile(cold, .95):.1f} ms"))
                out.append((f"tile, warm cache (same {len(requests)})", f"p50 {percentile(warm, .5):.1f} ms, p95 {percentile(warm, .95):.1f} ms"))
                etag = c.get(requests[0]).headers["etag"]
                t = time.perf_counter()
                assert c.get(requests[0], headers={"If-None-Match": etag}).status_code == 304
                out.append(("tile revalidated (If-None-Match → 304)", f"{(time.perf_counter() - t) * 1000:.1f} ms"))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(30)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    width = max(len(k) for k, _ in out)
    print(f"bench.iiif ({os.cpu_count()} CPUs)")
    for k, v in out:
        print(f"  {k:<{width}}  {v}")
    print(f"  {load_average()}")


if __name__ == "__main__":
    main()

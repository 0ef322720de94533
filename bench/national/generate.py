"""A simulated national catalogue as submission packages: census records (physical books), each with
its microfilm lineage (master → print master → service copy, with frames and an inspection), a digital
copy (a preservation master kept off-line, service images scanned from the service film) and a
transcribed juan; written in chunks of ``chunk`` books per package, as submitting units deliver them.

The text of each juan is cut from real Kanripo text when ``../shared`` is there (so search and
annotation see realistic characters), otherwise from a fixed character list. Everything is
deterministic for a given seed.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import re
from collections.abc import Iterator
from pathlib import Path

import bagit

from kg.package.schema import BOOKS, FILES, FRAMES, INSPECTIONS, REELS

TITLES = ["史記", "漢書", "後漢書", "三國志", "資治通鑑", "文選", "杜工部集", "李太白集", "說文解字", "爾雅",
          "論語集注", "孟子注疏", "楚辭章句", "水經注", "太平御覽", "昭明文選", "陶淵明集", "韓昌黎集"]
DYNASTIES = [("明", "明刻本", "刻本", "明萬曆間", 1573, 47), ("清", "清刻本", "刻本", "清乾隆間", 1736, 60),
             ("清", "清抄本", "抄本", "清", None, 0), ("元", "元刻明修本", "刻本", "元至正間", 1341, 27)]
SIBU = ["经部", "史部", "子部", "集部"]
PROVINCES = ["110000", "310000", "320000", "330000", "370000", "420000", "440000", "510000", "610000", "210000"]
FALLBACK = "天地玄黃宇宙洪荒日月盈昃辰宿列張寒來暑往秋收冬藏閏餘成歲律呂調陽雲騰致雨露結爲霜金生麗水玉出崑岡"


def _png() -> bytes:
    from scripts.make_sample_package import png

    return png(8, 8, 128)


def source_text(shared: Path | None, limit: int = 400_000) -> str:
    """Plain characters of real Kanripo text (markup removed), or a fixed list when absent."""
    if shared is not None:
        files = sorted((shared / "corpus" / "kanripo").glob("*/master/*.txt"))[:40]
        chars: list[str] = []
        for f in files:
            body = re.sub(r"<[^>]*>|#\+[^\n]*|[¶\s()/（）]|&[^;]*;", "", f.read_text(encoding="utf-8"))
            chars.append(body)
            if sum(map(len, chars)) > limit:
                break
        text = "".join(chars)[:limit]
        if len(text) > 10_000:
            return text
    return FALLBACK * 100


def _csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def juan_file(book: str, title: str, text: str, folios: int = 3, lines: int = 6, per_line: int = 20) -> str:
    out = [f"#+TITLE: {title}", "#+PROPERTY: JUAN 卷一"]
    at = 0
    for f in range(1, folios + 1):
        for side in "ab":
            out.append(f"<pb:{book}_NAT_001-{f}{side}>¶")
            for _ in range(lines):
                out.append(text[at:at + per_line] + "¶")
                at += per_line
    return "\n".join(out) + "\n"


def package(root: Path, chunk_no: int, first: int, n: int, corpus: str, *, seed: int = 1) -> Path:
    """One submission package of ``n`` census records numbered from ``first``."""
    rng = random.Random(seed * 1_000_003 + chunk_no)
    province = PROVINCES[chunk_no % len(PROVINCES)]
    unit = f"guji 模拟图书馆 {province}"
    batch = f"national-{chunk_no:05d}"
    bag = root / batch
    (bag / "images").mkdir(parents=True)
    (bag / "texts").mkdir()
    image = _png()
    img_digest, img_size = hashlib.sha256(image).hexdigest(), len(image)
    books, reels, frames, inspections, files = [], [], [], [], []
    for i in range(first, first + n):
        b = f"N{i:07d}"
        title = TITLES[i % len(TITLES)]
        dyn, edition, etype, written, y0, span = DYNASTIES[i % len(DYNASTIES)]
        year = str(y0 + rng.randrange(span)) if y0 else ""
        books.append([b, f"{province}-{chunk_no % 10000:04d}-{i:07d}", unit, f"善 {i:07d}", title, str(1 + i % 120),
                      "佚名", dyn, "撰", edition, etype, written, year, "半葉十行行二十字", "", "白口", "單黑魚尾",
                      "左右雙邊", "线装", str(1 + i % 12), "", "", "", "", SIBU[i % 4], "", ""])
        for gen, suffix, polarity, derived in (("母片", "M", "负片", "book"), ("拷贝母片", "P", "正片", f"reel:R{i:07d}-M"),
                                               ("服务片", "S", "负片", f"reel:R{i:07d}-P")):
            reels.append([f"R{i:07d}-{suffix}", b, gen, "涤纶" if suffix != "S" else "醋酸", "35", "1:12", polarity,
                          "guji 模拟缩微中心", "2005-03-01", f"{suffix}-{i % 100:02d}", derived])
            frames.append([f"R{i:07d}-{suffix}", "1", "1a", "3b", "1", "6"])
        inspections.append([f"R{i:07d}-M", "2024-05-01", "王模拟", "1.02", "120", "", str(i % 3), ""])
        at = rng.randrange(0, len(corpus) - 800)
        text = juan_file(b, title, corpus[at:at + 720])
        (bag / "texts" / f"{b}.txt").write_text(text, encoding="utf-8")
        tb = text.encode("utf-8")
        (bag / "images" / f"{b}-1a.png").write_bytes(image)
        files.append([f"{b}-TIF", b, "保存级", f"preservation://national/{b}/001-1a.tif", "image/tiff", "600", "0" * 64,
                      "1000000", "book", "1", ""])
        files.append([f"{b}-IMG", b, "服务级", f"images/{b}-1a.png", "image/png", "300", img_digest, str(img_size),
                      f"reel:R{i:07d}-S", "1", "1a"])
        files.append([f"{b}-TXT", b, "服务级", f"texts/{b}.txt", "text/plain", "", hashlib.sha256(tb).hexdigest(),
                      str(len(tb)), f"file:{b}-IMG", "1", ""])
    _csv(bag / "books.csv", BOOKS.names, books)
    _csv(bag / "reels.csv", REELS.names, reels)
    _csv(bag / "frames.csv", FRAMES.names, frames)
    _csv(bag / "inspections.csv", INSPECTIONS.names, inspections)
    _csv(bag / "files.csv", FILES.names, files)
    (bag / "submission.json").write_text(json.dumps({
        "package_version": "1", "batch": batch, "submitting_unit": unit,
        "contact": {"name": "模拟", "email": "national@example.org"}, "date": "2026-11-22",
        "counts": {"books": n, "reels": 3 * n, "files": 3 * n, "gaiji": 0}}, ensure_ascii=False), encoding="utf-8")
    bagit.make_bag(str(bag), {"Source-Organization": unit, "Bagging-Date": "2026-11-22"}, checksums=["sha256"])
    return bag


def packages(root: Path, records: int, chunk: int, shared: Path | None, *, seed: int = 1) -> Iterator[Path]:
    """The packages of ``records`` census records, ``chunk`` per package, generated one at a time."""
    corpus = source_text(shared)
    for k, first in enumerate(range(1, records + 1, chunk)):
        yield package(root, k, first, min(chunk, records + 1 - first), corpus, seed=seed)

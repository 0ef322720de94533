#!/usr/bin/env python3
"""Write the bundled sample submission package (samples/package/guji-sample-2026-001).

Three books written for the project (never copied from ../shared), one per lineage:
  1. 桃花源記: book → master reel → print master → service copy → service images → text
  2. 千字文: digitised straight from the book (preservation TIFF → service image → text)
  3. 岳陽樓記: 数转模 — preservation TIFF scanned from the book, then a master reel written from it

Run it again after changing it; the output is deterministic. The broken-package fixtures in
tests/fixtures/packages are made from this sample by tests/fixtures/packages/make_broken.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
import struct
import sys
import zlib
from pathlib import Path

import bagit

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "samples" / "package" / "guji-sample-2026-001"
BATCH = "guji-sample-2026-001"
PUA = "\ue000"


def png(width: int, height: int, shade: int) -> bytes:
    """A small flat grey PNG (bench/package makes thousands of stand-in images with it)."""
    raw = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")


FONT = "/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc"  # Debian fonts-noto-cjk
FONT_INDEX = 3  # Noto Serif CJK TC: traditional forms
NUMERALS = "〇一二三四五六七八九十"


def folio_lines(text: str) -> dict[str, list[str]]:
    """The printed lines of each folio side of a Kanripo-format text: {"1a": [...], ...}."""
    pages: dict[str, list[str]] = {}
    current = None
    for raw in text.splitlines():
        m = re.match(r"<pb:[^>]*_\d+-(\d+[ab])>", raw)
        if m:
            current = m.group(1)
            pages[current] = []
            raw = raw[m.end():]
        line = raw.replace("¶", "")
        if current and line and not line.startswith("#"):
            pages[current].append(line)
    return pages


def page_image(lines: list[str], *, title: str, folio: str, columns: int, rows: int, film: str | None = None,
               gaiji: dict[str, str] | None = None) -> bytes:
    """One folio side (半葉) as a scan would show it: the block frame (版框) with double side borders
    (左右雙邊), ruled columns (界欄), the text set vertically right to left, and at the fold the
    centre column (版心) with its fish tail (魚尾), the title and the leaf number. ``film`` makes it
    a frame scanned from microfilm (grey, the film edge and the frame number outside the page)."""
    from PIL import Image, ImageDraw, ImageFont

    cell = 44
    W, H = 120 + (columns + 1) * cell + 60, 200 + rows * cell
    paper, ink = ((236, 226, 200), (40, 34, 30)) if film is None else ((214, 214, 210), (28, 28, 28))
    img = Image.new("RGB", (W, H), paper)
    d = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, int(cell * 0.78), index=FONT_INDEX)
    small = ImageFont.truetype(FONT, int(cell * 0.5), index=FONT_INDEX)
    left, top, right, bottom = 60, 100, W - 60, H - 100
    side_a = folio.endswith("a")  # side a is the right half of the leaf: the fold (版心) is on its left
    d.rectangle([left, top, right, bottom], outline=ink, width=4)
    for x in (left + 8, right - 8):  # 左右雙邊
        d.line([x, top, x, bottom], fill=ink, width=1)
    inner_l, inner_r = left + 8, right - 8
    bx0, bx1 = (inner_l, inner_l + cell) if side_a else (inner_r - cell, inner_r)
    tx0, tx1 = (bx1, inner_r) if side_a else (inner_l, bx0)
    for k in range(columns + 1):
        x = tx1 - k * (tx1 - tx0) / columns
        d.line([x, top, x, bottom], fill=ink, width=1)
    d.line([bx0, top, bx0, bottom], fill=ink, width=1)
    d.line([bx1, top, bx1, bottom], fill=ink, width=1)
    # the fish tail: a black band with a swallow-tail notch, a quarter down the centre column
    fy = top + (bottom - top) // 4
    d.polygon([(bx0, fy), (bx1, fy), (bx1, fy + 26), ((bx0 + bx1) / 2, fy + 14), (bx0, fy + 26)], fill=ink)
    y = fy + 40
    for ch in title:
        d.text(((bx0 + bx1) / 2, y), ch, font=small, fill=ink, anchor="mt")
        y += cell * 0.6
    leaf = int(folio[:-1])
    d.text(((bx0 + bx1) / 2, bottom - 40 - cell), NUMERALS[leaf] if leaf <= 10 else str(leaf), font=small, fill=ink, anchor="mt")
    colw = (tx1 - tx0) / columns
    for i, line in enumerate(lines[:columns]):
        cx = tx1 - (i + 0.5) * colw
        step = min(cell, (bottom - top - 20) / max(rows, len(line)))
        for j, ch in enumerate(line):
            cy = top + 10 + j * step
            if ch == "\u3000":
                continue
            if gaiji and ch in gaiji:
                _compose(d, gaiji[ch], cx, cy, int(step * 0.8), ink)
            else:
                d.text((cx, cy), ch, font=font, fill=ink, anchor="mt")
    if film is not None:  # the frame on the film: dark film around the page, the frame number in the margin
        framed = Image.new("RGB", (W + 80, H + 120), (30, 30, 30))
        framed.paste(img, (40, 60))
        fd = ImageDraw.Draw(framed)
        fd.text((50, H + 75), film, font=small, fill=(200, 200, 200))
        img = framed.convert("L")
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def glyph_image(ids: str) -> bytes:
    """The glyph of a character outside Unicode (gaiji.csv glyph_image), drawn from its IDS."""
    from PIL import Image, ImageDraw

    img = Image.new("L", (64, 64), 255)
    _compose(ImageDraw.Draw(img), ids, 32, 4, 56, 0)
    out = io.BytesIO()
    img.save(out, "PNG", optimize=True)
    return out.getvalue()


def _compose(d, ids: str, cx: float, cy: float, size: int, ink) -> None:
    """Draw a character outside Unicode from its IDS ⿰A⿱BC (left A; right B over C)."""
    from PIL import ImageFont

    m = re.fullmatch("⿰(.)⿱(.)(.)", ids)
    assert m, ids
    half = ImageFont.truetype(FONT, size // 2, index=FONT_INDEX)
    d.text((cx - size * 0.25, cy), m.group(1), font=ImageFont.truetype(FONT, size, index=FONT_INDEX), fill=ink, anchor="mt")
    d.text((cx + size * 0.25, cy), m.group(2), font=half, fill=ink, anchor="mt")
    d.text((cx + size * 0.25, cy + size // 2), m.group(3), font=half, fill=ink, anchor="mt")


TEXTS = {
    "texts/B1/001.txt": (
        "#+TITLE: 桃花源記\n#+PROPERTY: JUAN 卷一\n"
        "<pb:B1_MING_001-1a>¶\n桃花源記¶\n　　　　　晉　陶潛　撰¶\n"
        "晉太元中武陵人捕魚爲業緣溪行忘路之遠近忽¶\n逢桃花林夾岸數百步中無雜樹芳草鮮美落英繽¶\n"
        "<pb:B1_MING_001-1b>¶\n紛漁人甚異之復前行欲窮其林林盡水源便得一山¶\n"
        "山有小口髣髴若有光便捨船從口入初極狹纔通人¶\n"
        "<pb:B1_MING_001-2a>¶\n復行數十步豁然開朗土地平曠屋舍儼然有良田美¶\n池桑竹之屬阡陌交通雞犬相聞其中往來種作男¶\n"
        "女衣著悉如外人黃髮垂髫並怡然自樂見漁人乃¶\n大驚問所從來具答之便要還家設酒殺雞作食村¶\n"
        "中聞有此人咸來問訊自云先世避秦時亂率妻子¶\n邑人來此絕境不復出焉遂與外人間隔問今是何¶\n"
        "<pb:B1_MING_001-2b>¶\n世乃不知有漢無論魏晉此人一一爲具言所聞皆¶\n歎惋餘人各復延至其家皆出酒食停數日辭去此¶\n"
        "中人語云不足爲外人道也既出得其船便扶向路¶\n處處誌之及郡下詣太守說如此太守即遣人隨其¶\n"
        "往尋向所誌遂迷不復得路南陽劉子驥高尚士也¶\n聞之欣然規往未果尋病終後遂無問津者¶\n"
    ),
    "texts/B2/001.txt": (
        "#+TITLE: 千字文\n#+PROPERTY: JUAN 一卷\n"
        "<pb:B2_QING_001-1a>¶\n千字文¶\n　　　梁　周興嗣　次韻¶\n"
        f"天地玄黃宇宙洪荒日月盈昃辰宿列張寒來暑往¶\n秋收冬藏閏餘成歲律呂調陽雲騰致雨露結爲霜{PUA}¶\n"
    ),
}

BOOKS = [
    dict(book_id="B1", census_no="110000-0001-0000001", holding_library="guji 示例图书馆", call_number="善 001",
         title="桃花源記", juan_count="1", responsibility="陶潛", responsibility_dynasty="晉", responsibility_mode="撰",
         edition_statement="明刻本（示例）", edition_type="刻本", date_as_written="明嘉靖間", year="1540",
         layout="半葉九行行十八字", frame_size="19.8×13.6cm", banxin="白口", yuwei="單黑魚尾", bianlan="左右雙邊",
         binding="线装", volumes="1", juan_extant="全", juan_missing="", seals="「guji示例」朱文方印",
         notes="示例数据，非真实藏品", sibu="集部", grade="", work_id="GJ4a0001"),
    dict(book_id="B2", census_no="110000-0001-0000002", holding_library="guji 示例图书馆", call_number="善 002",
         title="千字文", juan_count="1", responsibility="周興嗣", responsibility_dynasty="南朝梁", responsibility_mode="撰",
         edition_statement="清抄本（示例）", edition_type="抄本", date_as_written="清", year="",
         layout="半葉八行行十字", frame_size="", banxin="", yuwei="", bianlan="", binding="线装", volumes="1",
         juan_extant="", juan_missing="", seals="", notes="示例数据，非真实藏品", sibu="经部", grade="", work_id="GJ3a0001"),
    dict(book_id="B3", census_no="110000-0001-0000003", holding_library="guji 示例图书馆", call_number="善 003",
         title="岳陽樓記", juan_count="1", responsibility="范仲淹", responsibility_dynasty="宋", responsibility_mode="撰",
         edition_statement="清刻本（示例）", edition_type="刻本", date_as_written="清乾隆間", year="1760",
         layout="半葉十行行二十字", frame_size="", banxin="", yuwei="", bianlan="四周單邊", binding="线装", volumes="1",
         juan_extant="", juan_missing="", seals="", notes="示例数据，非真实藏品", sibu="集部", grade="", work_id="GJ4a0002"),
]

REELS = [
    dict(reel_id="R1-M", book_id="B1", generation="母片", base="涤纶", width_mm="35", reduction_ratio="1:12", polarity="负片",
         shooting_unit="guji 示例缩微中心", shooting_date="2003-05-12", storage_location="母片库 A-01-03", derived_from="book"),
    dict(reel_id="R1-P", book_id="B1", generation="拷贝母片", base="涤纶", width_mm="35", reduction_ratio="1:12", polarity="正片",
         shooting_unit="guji 示例缩微中心", shooting_date="2003-06-02", storage_location="拷贝片库 B-02-11", derived_from="reel:R1-M"),
    dict(reel_id="R1-S", book_id="B1", generation="服务片", base="醋酸", width_mm="35", reduction_ratio="1:12", polarity="负片",
         shooting_unit="guji 示例缩微中心", shooting_date="2003-06-20", storage_location="阅览室 C-01", derived_from="reel:R1-P"),
    dict(reel_id="R3-M", book_id="B3", generation="母片", base="涤纶", width_mm="35", reduction_ratio="1:14", polarity="负片",
         shooting_unit="guji 示例缩微中心", shooting_date="2021-09-01", storage_location="母片库 A-07-01", derived_from="file:B3-TIF-1"),
]

FRAMES = [
    dict(reel_id=r, juan="1", folio_start="1a", folio_end="1b", frame_start="1", frame_end="2") for r in ("R1-M", "R1-P", "R1-S")
] + [
    dict(reel_id=r, juan="1", folio_start="2a", folio_end="2b", frame_start="3", frame_end="4") for r in ("R1-M", "R1-P", "R1-S")
] + [dict(reel_id="R3-M", juan="1", folio_start="1a", folio_end="2b", frame_start="1", frame_end="4")]

INSPECTIONS = [
    dict(reel_id="R1-S", date="2024-03-18", inspector="王示例", density="1.05", resolution="120", residual_thiosulfate="0.7",
         vinegar_level="1", defects="片头轻微划痕"),
    dict(reel_id="R1-M", date="2024-03-18", inspector="王示例", density="1.10", resolution="125", residual_thiosulfate="0.5",
         vinegar_level="0", defects=""),
]

GAIJI = [dict(local_id="GJ0001", pua="U+E000", ids="⿰言⿱亠口", glyph_image="gaiji/GJ0001.png", nearest="諳", occurrences="1")]

COLLATION = [dict(book_id="B1", kind="校勘", base_text="明刻本（示例）", witnesses="《陶淵明集》宋刻遞修本（示例）",
                  people="李示例；張示例", start_date="2025-01-06", end_date="2025-02-28")]


def write_csv(path: Path, rows: list[dict]) -> None:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def main() -> None:
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    b1, b2 = folio_lines(TEXTS["texts/B1/001.txt"]), folio_lines(TEXTS["texts/B2/001.txt"])
    gaiji = {PUA: GAIJI[0]["ids"]}
    payload: dict[str, bytes] = {
        # B1 was scanned from the service copy R1-S: folio 1a is frame 1 (frames.csv), and so on
        **{f"images/B1/001-{folio}.png": page_image(lines, title="桃花源記", folio=folio, columns=9, rows=20,
                                                     film=f"R1-S  {n:04d}")
           for n, (folio, lines) in enumerate(b1.items(), start=1)},
        "images/B2/001-1a.png": page_image(b2["1a"], title="千字文", folio="1a", columns=8, rows=21, gaiji=gaiji),
        "gaiji/GJ0001.png": glyph_image(GAIJI[0]["ids"]),
        **{k: v.encode("utf-8") for k, v in TEXTS.items()},
    }
    for rel, data in payload.items():
        p = OUT / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)

    def f(file_id, book, level, rel, fmt, dpi, derived, juan="1", data=None, size=None, folio=""):
        data = payload.get(rel, data)
        digest = hashlib.sha256(data).hexdigest()
        return dict(file_id=file_id, book_id=book, level=level, path=rel, format=fmt, resolution_dpi=dpi,
                    sha256=digest, size=str(size if size is not None else len(data)), derived_from=derived, juan=juan,
                    folio=folio)

    master_b2 = b"preservation master TIFF of B2 folio 1a (kept in the preservation store, not in the package)"
    master_b3 = b"preservation master TIFF of B3 folio 1a (kept in the preservation store, not in the package)"
    files = [
        f("B1-IMG-1", "B1", "服务级", "images/B1/001-1a.png", "image/png", "300", "reel:R1-S", folio="1a"),
        f("B1-IMG-2", "B1", "服务级", "images/B1/001-1b.png", "image/png", "300", "reel:R1-S", folio="1b"),
        f("B1-TXT-1", "B1", "服务级", "texts/B1/001.txt", "text/plain", "", "file:B1-IMG-1"),
        f("B2-TIF-1", "B2", "保存级", "preservation://guji-sample/B2/001-1a.tif", "image/tiff", "600", "book", data=master_b2),
        f("B2-IMG-1", "B2", "服务级", "images/B2/001-1a.png", "image/png", "300", "file:B2-TIF-1", folio="1a"),
        f("B2-TXT-1", "B2", "服务级", "texts/B2/001.txt", "text/plain", "", "file:B2-IMG-1"),
        f("B3-TIF-1", "B3", "保存级", "preservation://guji-sample/B3/001-1a.tif", "image/tiff", "600", "book", data=master_b3),
        # appended (not inserted) so that the rows above keep their line numbers in the broken fixtures
        f("B1-IMG-3", "B1", "服务级", "images/B1/001-2a.png", "image/png", "300", "reel:R1-S", folio="2a"),
        f("B1-IMG-4", "B1", "服务级", "images/B1/001-2b.png", "image/png", "300", "reel:R1-S", folio="2b"),
    ]
    write_csv(OUT / "books.csv", BOOKS)
    write_csv(OUT / "collation.csv", COLLATION)
    write_csv(OUT / "gaiji.csv", GAIJI)
    write_csv(OUT / "reels.csv", REELS)
    write_csv(OUT / "frames.csv", FRAMES)
    write_csv(OUT / "inspections.csv", INSPECTIONS)
    write_csv(OUT / "files.csv", files)
    submission = {
        "package_version": "1", "batch": BATCH, "submitting_unit": "guji 示例图书馆",
        "contact": {"name": "示例联系人", "email": "sample@example.org", "phone": "010-00000000"},
        "date": "2026-11-22",
        "rights": "http://creativecommons.org/licenses/by/4.0/",
        "counts": {"books": len(BOOKS), "reels": len(REELS), "files": len(files), "gaiji": len(GAIJI)},
        "notes": "guji 项目自编示例包 / a sample package written for the guji project",
    }
    (OUT / "submission.json").write_text(json.dumps(submission, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    bagit.make_bag(str(OUT), {"Source-Organization": "guji 示例图书馆", "Contact-Name": "示例联系人",
                              "Contact-Email": "sample@example.org", "External-Identifier": BATCH,
                              "Bagging-Date": "2026-11-22", "guji-Package-Version": "1"}, checksums=["sha256"])
    print(OUT)


if __name__ == "__main__":
    sys.exit(main())

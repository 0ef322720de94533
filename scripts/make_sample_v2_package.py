#!/usr/bin/env python3
"""Write the bundled v2 sample package (samples/package/guji-sample-2026-v2): serials and 民国 material.

Written for the project (titles, texts and numbers are invented, never copied from ../shared):
  - 學林月刊 (S1), a monthly periodical: three issues (1935-01 to 1935-03), two articles each,
    filmed on a colour reel (R2) with one frame per page, one frame range per issue;
  - 津門晨報 (S2), a daily newspaper: three daily issues (1935-03-01 to 03-03), one article each,
    on one black-and-white reel (R3) that holds all three issues;
  - 國語新讀本 (B1), a 民国 book with modern pagination (page_count, frames by page) on reel R1.
Every issue has a service-level text (the search index finds its day). Deterministic: run it
again after changing it. Package format: docs/submission-package.md (version 2).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from pathlib import Path

import bagit

ROOT = Path(__file__).resolve().parent.parent
BATCH = "guji-sample-2026-v2"
OUT = ROOT / "samples" / "package" / BATCH
DATE = "2026-12-04"

BOOKS = [dict(book_id="B1", census_no="110000-0002-0000001", holding_library="guji 示例文献中心", call_number="民/0001",
              title="國語新讀本", juan_count="", responsibility="示例編者", responsibility_dynasty="", responsibility_mode="編",
              edition_statement="民國二十四年鉛印本", edition_type="铅印本", date_as_written="民國二十四年", year="1935",
              layout="", binding="", volumes="1", sibu="", material_type="民国图书", page_count="4",
              publisher="示例書局", place="上海")]

SERIALS = [
    dict(serial_id="S1", title="學林月刊", material_type="期刊", issn="", cn="", frequency="月刊", publisher="學林社",
         place="北平", start_date="1935-01", end_date="1937-07", holding_library="guji 示例文献中心", call_number="刊/0001",
         notes="示例期刊"),
    dict(serial_id="S2", title="津門晨報", material_type="报纸", issn="", cn="", frequency="日刊", publisher="津門晨報社",
         place="天津", start_date="1934-10-10", end_date="", holding_library="guji 示例文献中心", call_number="报/0001",
         notes="示例报纸"),
]

MONTHS = ["一", "二", "三"]
ISSUES = [
    *[dict(issue_id=f"S1-1935-0{m}", serial_id="S1", volume="1", number=str(m), whole_number=str(m), date=f"1935-0{m}-15",
           date_as_written=f"中華民國二十四年{MONTHS[m - 1]}月十五日", pages="8", title="創刊號" if m == 1 else "") for m in (1, 2, 3)],
    *[dict(issue_id=f"S2-1935-03-0{d}", serial_id="S2", volume="", number=str(140 + d), whole_number=str(140 + d),
           date=f"1935-03-0{d}", date_as_written=f"中華民國二十四年三月{MONTHS[d - 1]}日", pages="4", title="") for d in (1, 2, 3)],
]

ARTICLES = [
    dict(article_id="A1", issue_id="S1-1935-01", title="發刊詞", authors="學林社同人", section="卷頭", page_start="1", page_end="2"),
    dict(article_id="A2", issue_id="S1-1935-01", title="論國語統一之步驟", authors="示例甲", section="論著", page_start="3", page_end="8"),
    dict(article_id="A3", issue_id="S1-1935-02", title="鄉村教育之實驗", authors="示例乙", section="論著", page_start="1", page_end="5"),
    dict(article_id="A4", issue_id="S1-1935-02", title="讀書雜記", authors="示例丙；示例丁", section="雜俎", page_start="6", page_end="8"),
    dict(article_id="A5", issue_id="S1-1935-03", title="圖書館與民眾教育", authors="示例甲", section="論著", page_start="1", page_end="6"),
    dict(article_id="A6", issue_id="S1-1935-03", title="本社啟事", authors="", section="社務", page_start="7", page_end="8"),
    dict(article_id="A7", issue_id="S2-1935-03-01", title="本埠新聞：海河開凍", authors="本報記者", section="本埠", page_start="3", page_end="3"),
    dict(article_id="A8", issue_id="S2-1935-03-02", title="社論：春耕與農貸", authors="", section="社論", page_start="1", page_end="1"),
    dict(article_id="A9", issue_id="S2-1935-03-03", title="本埠新聞：電車新線通車", authors="本報記者", section="本埠", page_start="3", page_end="3"),
]

TEXTS = {
    "S1-1935-01": "發刊詞\n學術者天下之公器也本刊之作願與海內學人共相切磋天津北平之士多所贊助\n論國語統一之步驟\n國語之統一宜自小學始次及於社會教育",
    "S1-1935-02": "鄉村教育之實驗\n定縣之實驗以識字為先天津亦有平民學校之設\n讀書雜記\n讀顧氏日知錄有感",
    "S1-1935-03": "圖書館與民眾教育\n圖書館者民眾之大學也天津北平各館閱覽人數逐年增加\n本社啟事\n本刊自下期起增加篇幅",
    "S2-1935-03-01": "本埠新聞\n海河開凍天津各碼頭船隻漸多市面轉旺",
    "S2-1935-03-02": "社論\n春耕與農貸天津附近各縣農民亟待貸款以資耕作",
    "S2-1935-03-03": "本埠新聞\n電車新線通車天津東站至北站往來便利",
}

REELS = [
    dict(reel_id="R1", book_id="B1", serial_id="", generation="母片", base="涤纶", colour="黑白", width_mm="35", reduction_ratio="1:12",
         polarity="负片", shooting_unit="guji 示例缩微中心", shooting_date="2026-05", storage_location="示例库房 A-01", derived_from="book"),
    dict(reel_id="R2", book_id="", serial_id="S1", generation="母片", base="涤纶", colour="彩色", width_mm="35", reduction_ratio="1:14",
         polarity="正片", shooting_unit="guji 示例缩微中心", shooting_date="2026-06", storage_location="示例库房 C-01（冷藏）", derived_from="book"),
    dict(reel_id="R3", book_id="", serial_id="S2", generation="母片", base="涤纶", colour="黑白", width_mm="35", reduction_ratio="1:18",
         polarity="负片", shooting_unit="guji 示例缩微中心", shooting_date="2026-06", storage_location="示例库房 A-02", derived_from="book"),
]

FRAMES = [dict(reel_id="R1", juan="", folio_start="", folio_end="", frame_start="1", frame_end="4", page_start="1", page_end="4")]

ISSUE_FRAMES = [
    *[dict(reel_id="R2", issue_id=f"S1-1935-0{m}", page_start="1", page_end="8", frame_start=str(8 * (m - 1) + 1), frame_end=str(8 * m))
      for m in (1, 2, 3)],
    *[dict(reel_id="R3", issue_id=f"S2-1935-03-0{d}", page_start="1", page_end="4", frame_start=str(4 * (d - 1) + 1), frame_end=str(4 * d))
      for d in (1, 2, 3)],
]


def _csv(rows: list[dict], columns: list[str]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([r.get(c, "") for c in columns])
    return buf.getvalue()


def main() -> Path:
    from kg.package.serials import ARTICLES as T_ARTICLES, BOOKS_V2, FILES_V2, FRAMES_V2, ISSUE_FRAMES as T_ISSUE_FRAMES
    from kg.package.serials import ISSUES as T_ISSUES, REELS_V2, SERIALS as T_SERIALS

    if OUT.exists():
        shutil.rmtree(OUT)
    data = OUT  # bagit.make_bag moves the payload into data/
    data.mkdir(parents=True)
    files = []
    for issue_id, text in TEXTS.items():
        serial = issue_id.split("-")[0]
        title = next(s["title"] for s in SERIALS if s["serial_id"] == serial)
        body = f"#+TITLE: {title} {issue_id.split('-', 1)[1]}\n" + "".join(f"{line}¶\n" for line in text.split("\n"))
        raw = body.encode("utf-8")
        rel = f"texts/{serial}/{issue_id}.txt"
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_bytes(raw)
        files.append(dict(file_id=f"{issue_id}-TXT", book_id="", issue_id=issue_id, level="服务级", path=rel, format="text/plain",
                          sha256=hashlib.sha256(raw).hexdigest(), size=str(len(raw)), derived_from="book"))
    files.append(dict(file_id="S2-TIF-1", book_id="", issue_id="S2-1935-03-02", level="保存级", path="storage://示例存储/S2/1935-03-02/001.tif",
                      format="image/tiff", resolution_dpi="400", sha256="0" * 63 + "1", size="52428800", derived_from="reel:R3", page="1"))
    tables = {
        "books.csv": _csv(BOOKS, BOOKS_V2.names), "reels.csv": _csv(REELS, REELS_V2.names), "frames.csv": _csv(FRAMES, FRAMES_V2.names),
        "files.csv": _csv(files, FILES_V2.names), "serials.csv": _csv(SERIALS, T_SERIALS.names), "issues.csv": _csv(ISSUES, T_ISSUES.names),
        "articles.csv": _csv(ARTICLES, T_ARTICLES.names), "issue_frames.csv": _csv(ISSUE_FRAMES, T_ISSUE_FRAMES.names),
    }
    for name, content in tables.items():
        (data / name).write_text(content, encoding="utf-8")
    submission = {
        "package_version": "2", "batch": BATCH, "submitting_unit": "guji 示例文献中心",
        "contact": {"name": "示例联系人", "email": "sample@example.org", "phone": "010-00000000"}, "date": DATE,
        "rights": "http://creativecommons.org/licenses/by/4.0/",
        "counts": {"books": len(BOOKS), "reels": len(REELS), "files": len(files), "gaiji": 0,
                   "serials": len(SERIALS), "issues": len(ISSUES), "articles": len(ARTICLES)},
        "notes": "guji 项目自编示例包（第2版格式：期刊、报纸、民国图书）/ a v2 sample package written for the guji project",
    }
    (data / "submission.json").write_text(json.dumps(submission, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    bagit.make_bag(str(OUT), {"Source-Organization": "guji 示例文献中心", "Contact-Name": "示例联系人", "Contact-Email": "sample@example.org",
                              "External-Identifier": BATCH, "Bagging-Date": DATE, "guji-Package-Version": "2"}, checksums=["sha256"])
    # bagit writes the date of the day it runs into bag-info.txt; keep the output deterministic
    return OUT


if __name__ == "__main__":
    import sys

    sys.path.insert(0, str(ROOT))
    print(main())

"""Test data for the browser tests, written at run time (nothing copied from ../shared).

- ``write_long_work``: a Kanripo work (one juan of about 12,000 characters) made of the characters of
  the bundled sample texts in a scrambled order, with folio breaks every ten printed lines, double-column commentary, a character
  outside the Basic Multilingual Plane (𫝊, as in the real SBCK texts) and a 外字 entity.
- ``annotations_for``: N approved annotations spread over a juan text (some overlapping), written
  in one transaction through the annotation service's restore (exactly as an export re-imports).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from api.context import SAMPLE_DIR

LONG_ID = "GJ9z0001"
LONG_EDITION = "TEST"
SUPPLEMENTARY = "𫝊"  # U+2B74A: two UTF-16 code units, one code point
LINE_CHARS = 20
LINES_PER_SIDE = 10


def _sample_characters() -> str:
    """The characters of the bundled sample texts (markup and headers removed)."""
    out = []
    for f in sorted(SAMPLE_DIR.glob("kanripo/*/*/*.txt")):
        for line in f.read_text(encoding="utf-8").splitlines():
            if line.startswith("#") or line.startswith("<pb:"):
                continue
            line = re.sub(r"<[^>]*>|&KR\d+;|[¶()/*\s　]", "", line)
            out.append(line)
    return "".join(out)


def write_long_work(root: Path, *, target_chars: int = 12_000) -> Path:
    """Write ``root/GJ9z0001/TEST/`` and return the work folder."""
    source = _sample_characters()
    step = next(k for k in range(7919, 10 ** 6) if math.gcd(k, len(source)) == 1)
    # the sample characters in a scrambled order: real characters, but none of the samples'
    # phrases, so a search for a sample phrase finds the samples only
    chars = "".join(source[(i * step) % len(source)] for i in range(len(source)))
    work = root / LONG_ID
    ed = work / LONG_EDITION
    ed.mkdir(parents=True, exist_ok=True)
    lines = [
        "# -*- mode: mandoku-view; -*-",
        "#+TITLE: 瀏覽器測試長卷",
        f"#+PROPERTY: ID {LONG_ID}",
        f"#+PROPERTY: BASEEDITION {LONG_EDITION}",
        "#+PROPERTY: JUAN 卷一",
    ]
    pos, n_line, folio, written = 0, 0, 0, 0
    while written < target_chars:
        if n_line % (LINES_PER_SIDE) == 0:
            folio += 1
            side = "a" if folio % 2 else "b"
            lines.append(f"<pb:{LONG_ID}_{LONG_EDITION}_001-{(folio + 1) // 2}{side}>¶")
        take = chars[pos % len(chars):pos % len(chars) + LINE_CHARS]
        if len(take) < LINE_CHARS:
            take += chars[:LINE_CHARS - len(take)]
        pos += LINE_CHARS
        line = take
        if n_line % 7 == 3:  # a supplementary-plane character in the text
            line = line[:5] + SUPPLEMENTARY + line[6:]
        if n_line % 11 == 5:  # double-column commentary inside the line
            line = line[:8] + "(" + line[8:12] + "/" + line[12:16] + ")" + line[16:]
        if n_line == 2:
            line = line[:10] + "&KR0001;" + line[11:]
        lines.append(line + "¶")
        written += LINE_CHARS
        n_line += 1
    (ed / f"{LONG_ID}_001.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (ed / "Readme.org").write_text(
        f"#+TITLE: 瀏覽器測試長卷 / {LONG_EDITION}\n* 版本\n |      {LONG_EDITION}|【guji 測試本】|\n目次\n"
        f" - [[file:{LONG_ID}_001.txt::001-1a][瀏覽器測試長卷 卷一]]\n", encoding="utf-8")
    return work


CATEGORIES = ["person", "place", "office", "era", "book-title", "event"]


def annotations_for(source: str, text: str, n: int, *, creator: str = "bench", reviewer: str = "bench-reviewer"):
    """``n`` approved annotations over ``text`` (code-point offsets), about one every len/n characters."""
    from annotation.model import (Annotation, HistoryEntry, Reading, Review, Status, TextTarget, agent_iri,
                                  annotation_iri, new_id, now_iso)

    cps = list(text)  # code points
    step = max(1, len(cps) // n)
    out = []
    now = now_iso()
    for i in range(n):
        start = (i * step) % max(1, len(cps) - 4)
        length = 2 + (i % 3)
        if i % 10 == 9:  # some spans overlap the previous one
            start = max(0, start - 1)
        end = min(len(cps), start + length)
        aid = new_id()
        category = CATEGORIES[i % len(CATEGORIES)]
        reading = Reading(category=category, authority=f"https://w3id.org/guji/id/authority/{category}/bench{i % 50}",
                          label=f"測試{i % 50}")
        a = Annotation(
            id=aid, canonical=annotation_iri(aid), creator=agent_iri(creator), created=now, modified=now,
            status=Status.APPROVED, revision=3,
            target=TextTarget(source=source, start=start, end=end, exact="".join(cps[start:end]),
                              prefix="".join(cps[max(0, start - 8):start]), suffix="".join(cps[end:end + 8])),
            readings=[reading],
            review=Review(reviewer=agent_iri(reviewer), at=now, decision="approved"),
            history=[HistoryEntry(sequence=1, at=now, agent=agent_iri(creator), action="create")])
        out.append(a)
    return out


SHORT_ID = "GJ9z0002"
#: the annotation test's text: 𫝊 (one code point, two UTF-16 units) comes before 陶潛, so an
#: offset counted in UTF-16 units would be one too many
SHORT_LINES = ["列𫝊第一", "晉太元中武陵人陶潛作桃花源記", "(注文甲/注文乙)其後遂無問津者", "岳陽樓記范仲淹撰"]


def write_short_work(root: Path) -> Path:
    work = root / SHORT_ID
    ed = work / LONG_EDITION
    ed.mkdir(parents=True, exist_ok=True)
    lines = ["# -*- mode: mandoku-view; -*-", "#+TITLE: 瀏覽器測試短篇", f"#+PROPERTY: ID {SHORT_ID}",
             f"#+PROPERTY: BASEEDITION {LONG_EDITION}", "#+PROPERTY: JUAN 卷一", f"<pb:{SHORT_ID}_{LONG_EDITION}_001-1a>¶"]
    lines += [f"{line}¶" for line in SHORT_LINES[:2]]
    lines.append(f"<pb:{SHORT_ID}_{LONG_EDITION}_001-1b>¶")
    lines += [f"{line}¶" for line in SHORT_LINES[2:]]
    (ed / f"{SHORT_ID}_001.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (ed / "Readme.org").write_text(f"#+TITLE: 瀏覽器測試短篇 / {LONG_EDITION}\n* 版本\n |      {LONG_EDITION}|【guji 測試本】|\n",
                                   encoding="utf-8")
    return work

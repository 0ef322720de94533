"""Statements of responsibility read from a text's byline (題署): ``晉　陶潛　撰``.

A byline is a short line of the printed page whose parts stand apart by ideographic spaces: an
optional title, the dynasty, the person's name (its characters sometimes spaced out:
``唐　　　李　　　延　　　壽　　　撰``) and the mode of responsibility (撰, 注, 輯, 次韻 ...).
Only such lines are read; prose that happens to contain 撰 is never taken for a byline.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass


# modes of responsibility (著作方式), longest first so 集解 wins over 集
MODES = tuple(sorted({"撰", "著", "注", "註", "疏", "輯", "辑", "編", "编", "纂", "述", "校", "箋", "傳", "譯", "译", "評", "评",
                      "選", "选", "集", "次韻", "編次", "集解", "集注", "集註", "音義", "正義", "索隱", "補注", "撰集", "編輯",
                      "輯注", "校注", "校正", "重修", "刪定", "奉敕撰", "奉勅撰"}, key=len, reverse=True))
_SPACES = re.compile(r"[\s\u3000]+")
_HAN = re.compile(r"^[\u3400-\u9fff\U00020000-\U0003134f]+$")
MAX_LINE = 40  # a byline is short
HEAD_LINES = 40  # bylines stand near the top of a juan


@dataclass(frozen=True)
class Byline:
    person: str
    dynasty: str | None  # as written, e.g. 晉
    dynasty_iri: str | None  # the gujiv:dynasty concept
    mode: str
    line: str

    def key(self) -> tuple[str, str | None, str]:
        return (self.person, self.dynasty_iri, self.mode)


# bare dynasty names of bylines that the scheme keeps under a longer label: in a byline 梁 沈約 /
# 梁 周興嗣 is the Southern Liang (後梁 authors are written 後梁), 齊 and 陳 likewise
BYLINE_DYNASTIES = {"梁": "nanliang", "齊": "nanqi", "陳": "nanchen", "齐": "nanqi", "陈": "nanchen"}


def _dynasty(value: str) -> str | None:
    from kg.package import vocab  # imported late: kg.package imports the Kanripo ingest, which imports this

    found = vocab.lookup("dynasty", value)
    if found is None and value in BYLINE_DYNASTIES:
        found = vocab.lookup("dynasty", BYLINE_DYNASTIES[value])
    return found


def parse_line(line: str) -> Byline | None:
    """The byline in one line of text, or None."""
    raw = line.replace("¶", "").strip()
    if not raw or len(raw) > MAX_LINE or raw.startswith(("#", "<")):
        return None
    raw = raw.lstrip("*").strip()
    tokens = [t for t in _SPACES.split(raw) if t]
    if len(tokens) < 2 or not all(_HAN.match(t) for t in tokens):
        return None
    mode = tokens[-1]
    if mode not in MODES:
        # "沈約注" written together after a spaced dynasty: split a known mode off the last token
        tail = next((m for m in MODES if mode.endswith(m) and len(mode) > len(m)), None)
        if tail is None:
            return None
        tokens = [*tokens[:-1], mode[: -len(tail)], tail]
        mode = tail
    before = tokens[:-1]
    for i, t in enumerate(before):
        iri = _dynasty(t) if len(t) <= 3 else None
        if iri and i + 1 < len(before):
            name = "".join(before[i + 1:])
            if 1 < len(name) <= 5:
                return Byline(name, t, iri, mode, raw)
            return None
    # no dynasty: only a lone name (王　肅　注), never a title followed by a mode
    name = "".join(before)
    if len(before) <= 3 and 1 < len(name) <= 4 and (len(before) > 1 or line.startswith("\u3000")):
        return Byline(name, None, None, mode, raw)
    return None


def bylines(texts: list[str]) -> list[Byline]:
    """The distinct bylines at the head of these juan texts, most frequent first (ties: first seen)."""
    seen: Counter = Counter()
    first: dict[tuple, Byline] = {}
    for text in texts:
        for line in text.split("\n")[:HEAD_LINES]:
            b = parse_line(line)
            if b is not None:
                seen[b.key()] += 1
                first.setdefault(b.key(), b)
    order = {k: n for n, k in enumerate(first)}
    return [first[k] for k in sorted(first, key=lambda k: (-seen[k], order[k]))]

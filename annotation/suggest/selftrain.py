"""Extra training sentences from the punctuated Kanripo texts in ``../shared`` (ADR 0023, amendment 2).

CHisIEC's training set is ≈ 109,000 characters and the tagger overfits it in 3–4 epochs. The
punctuated Kanripo editions (史記, 論語, 楚辭 … — those whose lines carry 。and ，) are 1.9 M
characters of the same kind of prose, without entity labels. Two kinds of signal come from them:

- **Titles (distant supervision).** Their editors put book titles in 《…》. The brackets are
  removed and the title inside is a BOOK span: the tagger sees 易曰, 詩云, 書稱 … as CHisIEC writes
  them (its titles are never bracketed) and learns titles from the words around them.
- **Persons, places, offices (self-training).** A model trained on CHisIEC alone tags the
  sentences; its spans are kept as labels where it is sure of every character (the probability
  of the chosen tag ≥ ``sure``); where it is not, those characters carry no loss at all (weight 0),
  so the second model neither copies the first one's doubts nor learns that they are O.

Which sentences: every one with a title, then others picked at random up to ``max_chars``
(a fixed seed). Nothing is written anywhere: the sentences live for the training run only.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .normalize import fold

_MARKUP = re.compile(r"<[^>]*>|¶")
_SENTENCE_END = re.compile(r"(?<=[。！？])(?![」』])|(?<=[。！？][」』])")
_SPACE = re.compile(r"\s+")
_TITLE = re.compile(r"《([^《》〈〉\n]{1,20})》")
_INNER = re.compile(r"[〈〉]")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]")


@dataclass
class ExtraSentence:
    text: str
    books: list[tuple[int, int]]  # title spans in ``text`` (the brackets removed)


def punctuated_files(shared: Path | None, min_density: float = 0.03) -> list[Path]:
    """The Kanripo text files whose editions are punctuated (。or ， in ≥ ``min_density`` of the
    characters), one edition per text (``tls`` before ``master``: the same text twice otherwise)."""
    root = shared / "corpus" / "kanripo" if shared else None
    if root is None or not root.is_dir():
        return []
    out: list[Path] = []
    for text_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        for edition in ("tls", "master"):
            files = sorted((text_dir / edition).glob("*.txt"))
            if not files:
                continue
            sample = "".join(f.read_text(encoding="utf-8", errors="replace") for f in files[:3])
            marks = sample.count("。") + sample.count("，")
            if marks >= min_density * max(1, len(sample)):
                out += files
            break
    return out


def sentences(files: list[Path], max_len: int = 160) -> list[ExtraSentence]:
    """Sentences (split after 。！？, at most ``max_len`` characters, at least 6 CJK ones) with the
    titles their editors bracketed, the brackets removed. The editions print a clause a line
    (``¶`` ends it): the lines of a paragraph are joined; headings (``*``), tables (``|``) and the
    file header are left out."""
    out: list[ExtraSentence] = []
    for path in files:
        for paragraph in _paragraphs(path.read_text(encoding="utf-8", errors="replace")):
            for piece in _SENTENCE_END.split(paragraph):
                piece = piece.strip()
                if not piece or len(piece) > max_len + 40:
                    continue
                sent = _strip_titles(piece)
                if sent is not None and len(sent.text) <= max_len and len(_CJK.findall(sent.text)) >= 6:
                    out.append(sent)
    return out


def _paragraphs(text: str) -> list[str]:
    out: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if line.startswith(("#", "*")) or "|" in line:
            line = ""
        line = _SPACE.sub("", _MARKUP.sub("", line))
        if line:
            current.append(line)
        elif current:
            out.append("".join(current))
            current = []
    if current:
        out.append("".join(current))
    return out


def _strip_titles(piece: str) -> ExtraSentence | None:
    text: list[str] = []
    books: list[tuple[int, int]] = []
    pos = 0
    for m in _TITLE.finditer(piece):
        text.append(piece[pos : m.start()])
        start = sum(len(t) for t in text)
        title = _INNER.sub("", m.group(1))
        text.append(title)
        if title:
            books.append((start, start + len(title)))
        pos = m.end()
    text.append(piece[pos:])
    joined = "".join(text)
    if "《" in joined or "》" in joined:  # unbalanced brackets: leave the sentence out
        return None
    return ExtraSentence(joined, books)


def pick(extra: list[ExtraSentence], max_chars: int, seed: int = 0, per_title: int = 5) -> list[ExtraSentence]:
    """Sentences with a title (at most ``per_title`` for each title: 周易 brackets its 象 and 彖
    hundreds of times), then a random sample of the others, up to ``max_chars``."""
    rng = random.Random(seed)
    with_titles = [s for s in extra if s.books]
    others = [s for s in extra if not s.books]
    rng.shuffle(with_titles)
    rng.shuffle(others)
    seen: dict[str, int] = {}
    kept = []
    for s in with_titles:
        names = [s.text[a:b] for a, b in s.books]
        if all(seen.get(n, 0) >= per_title for n in names):
            continue
        for n in names:
            seen[n] = seen.get(n, 0) + 1
        kept.append(s)
    with_titles = kept
    out, total = [], 0
    for s in with_titles + others:
        if total + len(s.text) > max_chars:
            if s.books:
                continue
            break
        out.append(s)
        total += len(s.text)
    return out


def pseudo_labels(tagger, extra: list[ExtraSentence], sure: float = 0.9, single: frozenset[str] = frozenset(),
                  batch_chars: int = 16384) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(tags, weights) per sentence: the ``tagger``'s decoded tags where it is sure of them
    (weight 1), no loss where it is not (weight 0); the bracketed titles are BOOK, weight 1.
    A one-character title (易, 詩 — or 蒙, 復: 周易 brackets its hexagrams) is BOOK only when it
    is one of ``single`` (folded: the training corpus's one-character titles); else its
    character carries no loss."""
    from . import tagger as T

    tags_out: list[np.ndarray] = []
    weights_out: list[np.ndarray] = []
    batch: list[ExtraSentence] = []
    size = 0

    def flush() -> None:
        probs = tagger.probabilities([s.text for s in batch])
        decoded = T.decode_batch([p.copy() for p in probs])
        for sent, p, spans in zip(batch, probs, decoded):
            spans = [sp for sp in spans if sp[2] != "BOOK" and not any(a < sp[1] and sp[0] < b for a, b in sent.books)]
            books = [(a, b) for a, b in sent.books if b - a > 1 or fold(sent.text[a:b]) in single]
            tags = T.gold_tags(len(sent.text), spans + [(a, b, "BOOK") for a, b in books])
            weight = (p[np.arange(len(tags)), tags] >= sure).astype(np.float32)
            for a, b in sent.books:
                weight[a:b] = 1.0 if (a, b) in books else 0.0
            tags_out.append(tags)
            weights_out.append(weight)
        batch.clear()

    for sent in extra:
        batch.append(sent)
        size += len(sent.text)
        if size >= batch_chars:
            flush()
            size = 0
    if batch:
        flush()
    return tags_out, weights_out

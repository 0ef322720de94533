"""Readers for the CHisIEC NER corpus (CoNLL, one character per line, BIOES tags)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from annotation.errors import CorpusFormatError

NER_LABELS = ("PER", "LOC", "OFI", "BOOK")


@dataclass(frozen=True)
class GoldSentence:
    text: str
    entities: tuple[tuple[int, int, str], ...] = field(default_factory=tuple)  # (start, end, label)


def read_conll(path: Path) -> list[GoldSentence]:
    """Read a CoNLL BIOES file: ``char<TAB>tag`` per line, blank line between sentences."""
    sentences: list[GoldSentence] = []
    chars: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, raw in enumerate(fh, start=1):
            line = raw.rstrip("\n")
            if not line.strip():
                if chars:
                    sentences.append(_sentence(chars, tags, path, lineno))
                    chars, tags = [], []
                continue
            parts = line.split()
            if len(parts) != 2 or len(parts[0]) != 1:
                raise CorpusFormatError("expected one character and one tag", file=str(path), line=lineno)
            chars.append(parts[0])
            tags.append(parts[1])
    if chars:
        sentences.append(_sentence(chars, tags, path, lineno))
    return sentences


def _sentence(chars: list[str], tags: list[str], path: Path, lineno: int) -> GoldSentence:
    return GoldSentence("".join(chars), tuple(bioes_to_spans(tags, file=str(path), line=lineno)))


def bioes_to_spans(tags: Iterable[str], **where: object) -> Iterator[tuple[int, int, str]]:
    """BIOES tags → (start, end, label). A broken sequence (I without B ...) is closed leniently."""
    start: int | None = None
    label: str | None = None
    i = -1
    for i, tag in enumerate(tags):
        if tag == "O":
            if start is not None:
                yield (start, i, label)  # unterminated B-I-: keep what we have
            start, label = None, None
            continue
        prefix, _, lab = tag.partition("-")
        if prefix not in "BIES" or not lab:
            raise CorpusFormatError(f"bad tag {tag!r}", **where)
        if prefix == "S":
            if start is not None:
                yield (start, i, label)
            yield (i, i + 1, lab)
            start, label = None, None
        elif prefix == "B":
            if start is not None:
                yield (start, i, label)
            start, label = i, lab
        elif prefix in "IE":
            if start is None or lab != label:
                if start is not None:
                    yield (start, i, label)
                start, label = i, lab
            if prefix == "E":
                yield (start, i + 1, label)
                start, label = None, None
    if start is not None:
        yield (start, i + 1, label)


def spans_to_bioes(length: int, spans: Iterable[tuple[int, int, str]]) -> list[str]:
    tags = ["O"] * length
    for start, end, label in spans:
        if end - start == 1:
            tags[start] = f"S-{label}"
        else:
            tags[start] = f"B-{label}"
            for k in range(start + 1, end - 1):
                tags[k] = f"I-{label}"
            tags[end - 1] = f"E-{label}"
    return tags

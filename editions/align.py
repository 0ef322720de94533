"""Aligning two editions of one juan, character by character.

Both texts go through the search normaliser (:mod:`search.normalise`) first: punctuation, spaces
and marks leave the match stream, and every other character is folded to one canonical form
(爲/為→为, 徳/德→德, 㫖/旨 …), so the same passage printed with different 異體字 is the same stream.
The folded streams are aligned; the alignment is carried back to the ORIGINAL texts through the
normaliser's offsets, so everything outside this module counts Unicode code points of the texts as
stored (a character outside the BMP such as 𫝊 or a private-use 外字 is one position).

The alignment is the re-anchoring alignment of :mod:`annotation.anchors` (common prefix/suffix,
then anchors that occur exactly once in each text, chained in increasing order), applied
recursively with shorter anchors inside the gaps (32 → 16 → 8 → 4 → 2 characters; the short ones
only in short gaps, where a unique match is not a coincidence). An inserted or deleted note is a gap
on one side only; a variant reading (one character for another) is a gap of the same length on
both sides between two aligned stretches: it is kept as a *substitution* (position known, text
different) and reported apart from the identical characters.

A 300,000-character juan aligns in about a second; see ``bench/editions/coverage.py``.
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import cache

from annotation.anchors import Block, Level, aligned_blocks
from search.normalise import Normaliser, get_normaliser

#: anchor lengths tried in a gap, longest first, with the largest gap (characters on the shorter
#: side) in which each is trusted: a 2-character match that is unique in a 100-character gap is a
#: real correspondence far more often than one unique in 100,000
LEVELS: tuple[tuple[int, int], ...] = ((32, 1 << 62), (16, 1 << 62), (8, 1 << 62), (4, 4000), (2, 300))
#: a gap of the same length on both sides, no longer than this, is a substitution (variant reading)
MAX_SUBSTITUTION = 4


#: anchors at least this long may occur several times in B (up to REPEATS)
REPEATED_MIN_K = 16
REPEATS = 4
_LEVELS = tuple(Level(k, min_gap=k, max_gap=max_gap, repeats=REPEATS if k >= REPEATED_MIN_K else 1) for k, max_gap in LEVELS)


@cache
def _normaliser() -> Normaliser:
    return get_normaliser()


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of two texts the alignment covers, counted on matched characters (punctuation and
    spaces left out): ``identical`` pairs are the same after folding, ``substituted`` pairs stand
    at the same place with a different character (a variant reading)."""

    chars_a: int
    chars_b: int
    identical: int
    substituted: int

    @property
    def aligned(self) -> int:
        return self.identical + self.substituted

    def share_a(self) -> float:
        return self.aligned / self.chars_a if self.chars_a else 1.0

    def share_b(self) -> float:
        return self.aligned / self.chars_b if self.chars_b else 1.0

    def __add__(self, other: "Coverage") -> "Coverage":
        return Coverage(self.chars_a + other.chars_a, self.chars_b + other.chars_b,
                        self.identical + other.identical, self.substituted + other.substituted)


@dataclass(frozen=True, slots=True)
class Mapped:
    """Where a span of text A stands in text B: ``[start, end)`` in B's code points, and how sure.

    ``kind``: ``identical`` (the same characters), ``variant`` (the same after folding: 為/爲),
    ``substituted`` (some characters differ: a variant reading at the same place)."""

    start: int
    end: int
    kind: str
    differing: int = 0  # characters of the span that are substitutions


class Alignment:
    """The alignment of text ``a`` with text ``b`` (original strings), built by :func:`align`."""

    def __init__(self, a: str, b: str, blocks: list[Block], substitutions: list[Block], offsets_a: list[int],
                 offsets_b: list[int]) -> None:
        self.a, self.b = a, b
        self.blocks = blocks  # in folded-stream coordinates: fa[x.a:x.a+x.size] == fb[x.b:x.b+x.size]
        self.substitutions = substitutions  # same shape, the characters differ
        self.offsets_a, self.offsets_b = offsets_a, offsets_b
        pairs = sorted([(x.a, x.b, x.size, True) for x in blocks] + [(x.a, x.b, x.size, False) for x in substitutions])
        self._starts = [p[0] for p in pairs]
        self._pairs = pairs

    @property
    def coverage(self) -> Coverage:
        return Coverage(len(self.offsets_a), len(self.offsets_b), sum(x.size for x in self.blocks),
                        sum(x.size for x in self.substitutions))

    def _folded_at(self, i: int) -> tuple[int, bool] | None:
        """The folded index in B aligned with folded index ``i`` of A, and whether identical."""
        k = bisect_left(self._starts, i + 1) - 1
        if k < 0:
            return None
        a, b, size, same = self._pairs[k]
        if a <= i < a + size:
            return b + (i - a), same
        return None

    def map_span(self, start: int, end: int) -> Mapped | None:
        """Where A's ``[start, end)`` (code points) is in B, or None when any of its characters is
        not aligned, or its characters are not contiguous in B (an insertion inside the span)."""
        offs = self.offsets_a
        i0, i1 = bisect_left(offs, start), bisect_left(offs, end)
        if i0 >= i1:
            return None  # no matched character inside (punctuation only)
        first = self._folded_at(i0)
        if first is None:
            return None
        j0 = first[0]
        differing = 0
        for n, i in enumerate(range(i0, i1)):
            got = self._folded_at(i)
            if got is None or got[0] != j0 + n:
                return None
            differing += not got[1]
        j1 = j0 + (i1 - i0) - 1
        s, e = self.offsets_b[j0], self.offsets_b[j1] + 1
        if differing:
            kind = "substituted"
        elif self.b[s:e] == self.a[offs[i0]:offs[i1 - 1] + 1]:
            kind = "identical"
        else:
            kind = "variant"
        return Mapped(s, e, kind, differing)

    def inverse(self) -> "Alignment":
        """The same alignment seen from B."""
        flip = lambda xs: [Block(x.b, x.a, x.size) for x in xs]  # noqa: E731
        return Alignment(self.b, self.a, sorted(flip(self.blocks), key=lambda x: x.a),
                         sorted(flip(self.substitutions), key=lambda x: x.a), self.offsets_b, self.offsets_a)


def align_folded(fa: str, fb: str) -> tuple[list[Block], list[Block]]:
    """Identical stretches and substitutions of two folded streams, each in increasing order."""
    merged = aligned_blocks(fa, fb, _LEVELS)
    substitutions = []
    for left, right in zip(merged, merged[1:]):
        ga, gb = right.a - (left.a + left.size), right.b - (left.b + left.size)
        if 0 < ga == gb <= MAX_SUBSTITUTION:
            substitutions.append(Block(left.a + left.size, left.b + left.size, ga))
    return merged, substitutions


def align(a: str, b: str, *, normaliser: Normaliser | None = None) -> Alignment:
    """Align the original texts ``a`` and ``b`` (the same juan in two editions)."""
    norm = normaliser or _normaliser()
    na, nb = norm.normalise(a), norm.normalise(b)
    blocks, subs = align_folded(na.chars, nb.chars)
    return Alignment(a, b, blocks, subs, na.offsets, nb.offsets)


class EditionAlignment:
    """Two editions of a work aligned juan by juan.

    Each juan of edition A is aligned with the juan of B that has the same number. When that covers
    less than half of it (a juan boundary drawn elsewhere, an empty or a misfiled juan: WYG's 前漢紀
    has juan 29 inside its juan 28, and its juan 30 file repeats the whole book), the neighbouring
    juans of B (±1, ±2) are tried and the best one is kept. Juan by juan rather than whole editions
    at once: a text repeated inside an edition leaves no anchor unique in the whole edition.
    """

    MIN_SHARE = 0.5
    MIN_KEEP = 0.2  # below this, two juans are different texts (a preface against a 提要): no pair
    NEIGHBOURS = (1, -1, 2, -2)

    def __init__(self, juans_a: list[tuple[str, str]], juans_b: list[tuple[str, str]], *,
                 normaliser: Normaliser | None = None, lazy: bool = False) -> None:
        """``juans_*``: (juan IRI or name, text), in juan order, each edition's own. ``lazy``: align a
        juan only when a span of it is mapped (what a live proposal needs: one juan, not the work)."""
        self.juans_a, self.juans_b = juans_a, juans_b
        self._norm = normaliser
        self._index = {name: i for i, (name, _) in enumerate(juans_a)}
        self.pairs: dict[str, tuple[str, Alignment] | None] = {}
        if not lazy:
            shift = 0  # where the previous juan was found: an edition that splits a juan shifts the rest
            for i, (name, _) in enumerate(juans_a):
                found = self._best(i, shift)
                self.pairs[name] = None if found is None else (juans_b[found[0]][0], found[1])
                if found is not None:
                    shift = found[0] - i

    def _best(self, i: int, shift: int) -> tuple[int, Alignment] | None:
        text = self.juans_a[i][1]
        best: tuple[int, Alignment] | None = None
        for k in dict.fromkeys((i + shift, i, *(i + shift + d for d in self.NEIGHBOURS), *(i + d for d in self.NEIGHBOURS))):
            if not 0 <= k < len(self.juans_b):
                continue
            al = align(text, self.juans_b[k][1], normaliser=self._norm)
            if best is None or al.coverage.aligned > best[1].coverage.aligned:
                best = (k, al)
            if best[1].coverage.share_a() >= self.MIN_SHARE:
                break
        if best is None or best[1].coverage.share_a() < self.MIN_KEEP:
            return None
        return best

    def pair(self, juan: str) -> tuple[str, Alignment] | None:
        """The juan of B that ``juan`` of A is aligned with, and the alignment (computed on demand)."""
        if juan not in self.pairs:
            i = self._index.get(juan)
            found = None if i is None else self._best(i, 0)
            self.pairs[juan] = None if found is None else (self.juans_b[found[0]][0], found[1])
        return self.pairs[juan]

    @property
    def coverage(self) -> Coverage:
        """Characters of A aligned (each A juan once), over all characters of A and of B."""
        chars_b = sum(len(_normaliser().fold(t)) if self._norm is None else len(self._norm.fold(t)) for _, t in self.juans_b)
        total = Coverage(0, 0, 0, 0)
        for name, _ in self.juans_a:
            found = self.pair(name)
            if found is not None:
                total += found[1].coverage
        chars_a = sum(len((self._norm or _normaliser()).fold(t)) for _, t in self.juans_a)
        return Coverage(chars_a, chars_b, total.identical, total.substituted)

    def map_span(self, juan: str, start: int, end: int) -> tuple[str, Mapped] | None:
        """Where ``[start, end)`` of juan ``juan`` (edition A) is in edition B: (B's juan, span in it)."""
        pair = self.pair(juan)
        if pair is None:
            return None
        b_juan, al = pair
        if not 0 <= start < end <= len(al.a):
            return None
        m = al.map_span(start, end)
        return None if m is None else (b_juan, m)

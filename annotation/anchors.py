"""Anchors: resolving a selection against a juan's text, and re-anchoring after the text changes.

Everything counts Unicode code points (Python ``str`` indices), never UTF-16 units or bytes, and
never tokens: a span of unsegmented classical Chinese is just a range of characters. Characters
outside the Basic Multilingual Plane (𫝊) and private-use characters (the store's outside-Unicode
glyphs, U+100000 + n) are one code point each.

Re-anchoring (after a text correction) never moves an annotation silently:

1. The old and the new text are aligned (:func:`equal_blocks`: common prefix/suffix, then unique
   16-character anchors, so a 300,000-character juan aligns in well under a second). A span that
   lies inside an unchanged stretch is carried over exactly (its offsets may shift; its context
   may be refreshed); the service records that in the history.
2. A span the edit touched is looked for by quote + prefix + suffix in the new text. Exactly one
   match: it moves there (``reanchored``, with from/to in the history). Several matches, or the
   quote only without its context: ``needs_review``. No occurrence of the quote: ``orphaned``.
   Flagged annotations keep their old selectors until a person decides.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from annotation.errors import TargetMismatchError
from annotation.model import CONTEXT_CHARS, TextSelection, TextTarget

ANCHOR_K = 16  # length of the unique anchors used to align old and new text


def context(text: str, start: int, end: int, n: int = CONTEXT_CHARS) -> tuple[str, str]:
    return text[max(0, start - n):start], text[end:end + n]


def find_all(text: str, needle: str) -> list[int]:
    if not needle:
        return []
    out, i = [], text.find(needle)
    while i != -1:
        out.append(i)
        i = text.find(needle, i + 1)
    return out


def _show(s: str, limit: int = 40) -> str:
    shown = s if len(s) <= limit else s[:limit] + "…"
    return repr(shown)


def _utf16_hint(text: str, start: int, end: int, exact: str | None) -> str:
    """When a client counted UTF-16 units (JavaScript), say so and where the quote really is."""
    if not exact or all(ord(c) < 0x10000 for c in text[:end + 1]):
        return ""
    # convert UTF-16 offsets to code points
    units, cp, mapping = 0, 0, {}
    for cp, ch in enumerate(text):
        mapping[units] = cp
        units += 2 if ord(ch) > 0xFFFF else 1
        if units > end:
            break
    mapping[units] = cp + 1
    s, e = mapping.get(start), mapping.get(end)
    if s is not None and e is not None and text[s:e] == exact:
        return (f"; the offsets look like UTF-16 code units (JavaScript string indices): offsets here are Unicode "
                f"code points, and the quote is at [{s}, {e})")
    return ""


def resolve(text: str, sel: TextSelection, *, n: int = CONTEXT_CHARS) -> TextTarget:
    """Check a client's selection against ``text`` and fill in what is missing.

    - With a TextPositionSelector: it must lie inside the text; ``exact`` (when given) must equal
      the text at that position; ``prefix``/``suffix`` (when given) must equal the text before/after.
    - With only a TextQuoteSelector: the quote (with any prefix/suffix given) must occur exactly once.
    Raises :class:`TargetMismatchError` saying precisely what does not agree.
    """
    where = f"<{sel.source}>"
    if sel.start is None and sel.end is None:
        if not sel.exact:
            raise TargetMismatchError("the target needs a TextPositionSelector (start, end) or a TextQuoteSelector (exact)",
                                  field="target.selector")
        prefix, suffix = sel.prefix or "", sel.suffix or ""
        hits = [i + len(prefix) for i in find_all(text, prefix + sel.exact + suffix)]
        if not hits:
            raise TargetMismatchError(f"the quote {_show(sel.exact)} (with the given prefix/suffix) does not occur in the text of {where}",
                                  field="target.selector.exact", source=sel.source)
        if len(hits) > 1:
            raise TargetMismatchError(
                f"the quote {_show(sel.exact)} occurs {len(hits)} times in the text of {where} (at code points "
                f"{', '.join(map(str, hits[:10]))}{' …' if len(hits) > 10 else ''}): add a TextPositionSelector or a longer prefix/suffix",
                field="target.selector.exact", source=sel.source, occurrences=hits[:50])
        start, end = hits[0], hits[0] + len(sel.exact)
    else:
        if sel.start is None or sel.end is None:
            raise TargetMismatchError("a TextPositionSelector needs both start and end", field="target.selector")
        start, end = sel.start, sel.end
        if start >= end:
            raise TargetMismatchError(f"the TextPositionSelector is empty or reversed: start {start} must be less than end {end}",
                                  field="target.selector.start")
        if end > len(text):
            raise TargetMismatchError(
                f"the TextPositionSelector [{start}, {end}) lies outside the text of {where}, which has {len(text)} "
                f"characters (Unicode code points){_utf16_hint(text, start, end, sel.exact)}",
                field="target.selector.end", source=sel.source, length=len(text))
        actual = text[start:end]
        if sel.exact is not None and sel.exact != actual:
            raise TargetMismatchError(
                f"the TextQuoteSelector exact {_show(sel.exact)} does not match the text at TextPositionSelector "
                f"[{start}, {end}) of {where}, which is {_show(actual)}{_utf16_hint(text, start, end, sel.exact)}",
                field="target.selector.exact", source=sel.source, expected=actual)
    actual = text[start:end]
    if sel.prefix is not None and text[max(0, start - len(sel.prefix)):start] != sel.prefix:
        raise TargetMismatchError(
            f"the TextQuoteSelector prefix {_show(sel.prefix)} does not match the text before [{start}, {end}) of {where}, "
            f"which is {_show(text[max(0, start - len(sel.prefix)):start])}",
            field="target.selector.prefix", source=sel.source)
    if sel.suffix is not None and text[end:end + len(sel.suffix)] != sel.suffix:
        raise TargetMismatchError(
            f"the TextQuoteSelector suffix {_show(sel.suffix)} does not match the text after [{start}, {end}) of {where}, "
            f"which is {_show(text[end:end + len(sel.suffix)])}",
            field="target.selector.suffix", source=sel.source)
    prefix, suffix = context(text, start, end, n)
    return TextTarget(source=sel.source, start=start, end=end, exact=actual,
                      prefix=sel.prefix if sel.prefix else prefix, suffix=sel.suffix if sel.suffix else suffix)


# -- aligning old and new text ------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Block:
    """``old[a:a+size] == new[b:b+size]``: a stretch the edit did not touch."""

    a: int
    b: int
    size: int


def _common_prefix(old: str, new: str, a0: int, a1: int, b0: int, b1: int) -> int:
    n = min(a1 - a0, b1 - b0)
    lo, hi = 0, n  # binary search on slice equality: C-speed comparisons
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[a0:a0 + mid] == new[b0:b0 + mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(old: str, new: str, a0: int, a1: int, b0: int, b1: int) -> int:
    n = min(a1 - a0, b1 - b0)
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old[a1 - mid:a1] == new[b1 - mid:b1]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _unique_kgrams(s: str, lo: int, hi: int, k: int) -> dict[str, int]:
    seen: dict[str, int] = {}
    for i in range(lo, hi - k + 1):
        g = s[i:i + k]
        seen[g] = -1 if g in seen else i
    return {g: i for g, i in seen.items() if i >= 0}


def _kgram_positions(s: str, lo: int, hi: int, k: int, repeats: int) -> dict[str, tuple[int, ...]]:
    """Positions of every k-gram of ``s[lo:hi]`` occurring at most ``repeats`` times."""
    seen: dict[str, list[int]] = {}
    for i in range(lo, hi - k + 1):
        seen.setdefault(s[i:i + k], []).append(i)
    return {g: tuple(p) for g, p in seen.items() if len(p) <= repeats}


def _increasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest chain of pairs increasing in both coordinates (pairs sorted by the first)."""
    tails: list[int] = []
    tail_idx: list[int] = []
    prev = [-1] * len(pairs)
    for idx, (_, b) in enumerate(pairs):
        pos = bisect_right(tails, b)
        if pos > 0 and tails[pos - 1] == b:
            continue
        if pos == len(tails):
            tails.append(b)
            tail_idx.append(idx)
        else:
            tails[pos] = b
            tail_idx[pos] = idx
        prev[idx] = tail_idx[pos - 1] if pos > 0 else -1
    out, i = [], tail_idx[-1] if tail_idx else -1
    while i != -1:
        out.append(pairs[i])
        i = prev[i]
    return out[::-1]


@dataclass(frozen=True, slots=True)
class Level:
    """One round of anchors in :func:`aligned_blocks`: ``k``-character sequences occurring once in
    the first text's gap and at most ``repeats`` times in the second's, tried in a gap of at least
    ``min_gap`` and at most ``max_gap`` characters (on its shorter side)."""

    k: int
    min_gap: int
    max_gap: int = 1 << 62
    repeats: int = 1


def aligned_blocks(a: str, b: str, levels: tuple[Level, ...]) -> list[Block]:
    """Stretches that are the same in ``a`` and ``b``, in order, not overlapping, merged.

    Common prefix and suffix first; in the changed middle, the anchors of the first level that
    applies (chained in increasing order in both texts, the longest chain) are extended forwards,
    and each gap between them is aligned the same way with the next levels. Past the last level a
    gap is aligned by its prefix and suffix only. With ``repeats`` > 1 an anchor may occur several
    times in ``b`` (a text held twice): the chain picks one copy.
    """
    blocks: list[Block] = []

    def add(x: int, y: int, size: int) -> None:
        if size > 0:
            blocks.append(Block(x, y, size))

    def gap(a0: int, a1: int, b0: int, b1: int, level: int) -> None:
        p = _common_prefix(a, b, a0, a1, b0, b1)
        add(a0, b0, p)
        a0, b0 = a0 + p, b0 + p
        s = _common_suffix(a, b, a0, a1, b0, b1)
        a1, b1 = a1 - s, b1 - s
        add(a1, b1, s)
        while level < len(levels):
            lv = levels[level]
            if min(a1 - a0, b1 - b0) < lv.min_gap:
                level += 1
                continue
            if min(a1 - a0, b1 - b0) > lv.max_gap:
                return
            ua = _unique_kgrams(a, a0, a1, lv.k)
            if lv.repeats > 1:  # for one i, later j first, so that the chain uses i once
                ub_all = _kgram_positions(b, b0, b1, lv.k, lv.repeats)
                pairs = sorted(((i, j) for g, i in ua.items() for j in ub_all.get(g, ())), key=lambda q: (q[0], -q[1]))
            else:
                ub = _unique_kgrams(b, b0, b1, lv.k)
                pairs = sorted((i, ub[g]) for g, i in ua.items() if g in ub)
            chain = _increasing(pairs)
            if not chain:
                level += 1
                continue
            ca, cb = a0, b0
            for i, j in chain:
                if i < ca or j < cb:  # inside the previous anchor's extension
                    continue
                size = _common_prefix(a, b, i, a1, j, b1)
                gap(ca, i, cb, j, level + 1)
                add(i, j, size)
                ca, cb = i + size, j + size
            gap(ca, a1, cb, b1, level + 1)
            return

    gap(0, len(a), 0, len(b), 0)
    blocks.sort(key=lambda bl: bl.a)
    merged: list[Block] = []
    for bl in blocks:
        if merged and merged[-1].a + merged[-1].size == bl.a and merged[-1].b + merged[-1].size == bl.b:
            last = merged.pop()
            merged.append(Block(last.a, last.b, last.size + bl.size))
        else:
            merged.append(bl)
    return merged


def equal_blocks(old: str, new: str, *, k: int = ANCHOR_K) -> list[Block]:
    """Stretches that are the same in both texts, in order, not overlapping.

    Common prefix and suffix first; in the changed middle (longer than ``k`` on both sides),
    16-character sequences that occur exactly once in each text anchor the alignment (in increasing
    order), and each anchor is extended both ways. Between anchors only prefix/suffix extension is
    used, so several edits closer together than the anchors count as one changed stretch:
    conservative, never a wrong alignment of a unique stretch.
    """
    return aligned_blocks(old, new, (Level(k, min_gap=k + 1),))


def map_span(blocks: list[Block], start: int, end: int) -> tuple[int, int] | None:
    """Where the old span [start, end) is in the new text, if it lies inside one unchanged stretch."""
    starts = [bl.a for bl in blocks]
    i = bisect_right(starts, start) - 1
    if i < 0:
        return None
    bl = blocks[i]
    if start >= bl.a and end <= bl.a + bl.size:
        shift = bl.b - bl.a
        return start + shift, end + shift
    return None


@dataclass
class Outcome:
    """What re-anchoring decided for one target."""

    kind: str  # unchanged | carried | reanchored | needs_review | orphaned
    target: TextTarget
    reason: str = ""
    candidates: list[int] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return self.kind in ("needs_review", "orphaned")


def reanchor(target: TextTarget, old_text: str, new_text: str, blocks: list[Block], *, n: int = CONTEXT_CHARS) -> Outcome:
    """Decide where ``target`` (anchored in ``old_text``) belongs in ``new_text``; never guess."""
    s, e = target.start, target.end
    if old_text[s:e] == target.exact:
        mapped = map_span(blocks, s, e)
        if mapped is not None:
            ns, ne = mapped
            prefix, suffix = context(new_text, ns, ne, n)
            moved = TextTarget(source=target.source, start=ns, end=ne, exact=target.exact, prefix=prefix, suffix=suffix)
            if moved == target:
                return Outcome("unchanged", target)
            if (ns, ne) != (s, e):
                why = f"the text before it changed: offsets [{s}, {e}) → [{ns}, {ne}); the quote itself is untouched"
            else:
                why = "the text next to it changed; the quote and its offsets are untouched, its prefix/suffix are refreshed"
            return Outcome("carried", moved, why)
    # the edit touched the span (or the stored quote does not match the old text): search by quote
    whole = target.prefix + target.exact + target.suffix
    hits = [i + len(target.prefix) for i in find_all(new_text, whole)]
    if len(hits) == 1:
        ns = hits[0]
        ne = ns + len(target.exact)
        prefix, suffix = context(new_text, ns, ne, n)
        moved = TextTarget(source=target.source, start=ns, end=ne, exact=target.exact, prefix=prefix, suffix=suffix)
        return Outcome("reanchored", moved,
                       f"the text at [{s}, {e}) changed; the quote with its prefix and suffix occurs once in the corrected text, "
                       f"at [{ns}, {ne})", hits)
    if len(hits) > 1:
        return Outcome("needs_review", target,
                       f"the text at [{s}, {e}) changed and the quote with its prefix and suffix occurs {len(hits)} times in the "
                       f"corrected text (at {', '.join(map(str, hits[:10]))}): which one is meant needs a person", hits)
    bare = find_all(new_text, target.exact)
    if bare:
        return Outcome("needs_review", target,
                       f"the text at [{s}, {e}) changed; the quote occurs {len(bare)} time(s) in the corrected text (at "
                       f"{', '.join(map(str, bare[:10]))}) but never with its old prefix and suffix", bare)
    return Outcome("orphaned", target, f"the text at [{s}, {e}) changed and the quote {_show(target.exact)} no longer occurs in the corrected text")

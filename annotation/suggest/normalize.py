"""Character-aligned script folding for the suggestion pipeline.

The model and the gazetteers work on one folded form of the text, while every offset we report
points into the ORIGINAL line. So folding must give exactly one output character per input code
point.

We use the project's one text normaliser (``search.normalise``: 外字, compatibility forms,
variant forms 㑹→會 徳→德 爲→為, then OpenCC traditional→simplified, per character), so that a
suggestion sees the text the way search does; punctuation and spaces, which search drops from its
match stream, are kept here as they are (a suggestion needs every position). The per-character
fold is length-preserving by construction.

If that normaliser is not importable (another engineer's package is being reworked), we fall back
to OpenCC ``t2s`` over the whole line, which is phrase-aware and almost always length-preserving;
a line whose conversion changes length is converted character by character instead.
"""

from __future__ import annotations

import logging
from functools import lru_cache

import opencc

log = logging.getLogger(__name__)

_T2S = opencc.OpenCC("t2s")
_S2T = opencc.OpenCC("s2t")


class _FoldTable(dict):
    """``str.translate`` table filled on demand from the search normaliser's per-character fold."""

    def __init__(self, fold_char) -> None:
        super().__init__()
        self._fold_char = fold_char

    def __missing__(self, codepoint: int) -> str:
        ch = chr(codepoint)
        out = self._fold_char(ch)
        if not isinstance(out, str) or len(out) != 1:
            out = ch
        self[codepoint] = out
        return out


@lru_cache(maxsize=1)
def _table() -> _FoldTable | None:
    try:
        from search.normalise import get_normaliser

        return _FoldTable(get_normaliser().fold_char)
    except Exception as exc:  # noqa: BLE001 - any failure means: use the OpenCC fallback
        log.warning("search normaliser unavailable (%s); folding with OpenCC t2s only", exc)
        return None


@lru_cache(maxsize=65536)
def _opencc_char(ch: str) -> str:
    out = _T2S.convert(ch)
    return out if len(out) == 1 else ch


def fold(text: str) -> str:
    """Fold ``text`` (variants → standard, traditional → simplified), one code point per code point."""
    table = _table()
    if table is not None:
        return text.translate(table)
    out = _T2S.convert(text)
    if len(out) == len(text):
        return out
    return "".join(_opencc_char(ch) for ch in text)


def to_traditional(text: str) -> str:
    """Simplified → traditional with OpenCC ``s2t``, aligned the same way as :func:`fold`.

    s2t is one-to-many ambiguous (后→後/后, 发→發/髮, 于→於/于, 云→雲/云 ...); OpenCC picks by
    its phrase dictionary, which is what a reader converting a text with the usual tools gets. Used
    to build the traditional evaluation set.
    """
    out = _S2T.convert(text)
    if len(out) == len(text):
        return out
    pieces = []
    for ch in text:
        conv = _S2T.convert(ch)
        pieces.append(conv if len(conv) == 1 else ch)
    return "".join(pieces)


@lru_cache(maxsize=1)
def fold_signature() -> str:
    """A fingerprint of the fold over every BMP ideograph (CJK Unified + Extension A + compatibility):
    stored with each gazetteer and model, so that a change of folding tables (or the OpenCC
    fallback) is noticed and the derived data rebuilt instead of silently mismatching."""
    import hashlib

    chars = "".join(chr(c) for r in ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF)) for c in range(r[0], r[1] + 1))
    return hashlib.sha256(fold(chars).encode("utf-8")).hexdigest()[:16]

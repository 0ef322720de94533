"""Display conversion between traditional and simplified characters, one character at a time.

Display only: the stored text never changes, and because every character maps to exactly one
character, code-point offsets (folio markers, highlights, annotations) stay where they are. OpenCC's
phrase rules are not used for the same reason the search normaliser avoids them: they would make
a character's display depend on its neighbours and could change the number of characters.
"""

from __future__ import annotations

import threading

DIRECTIONS = {"hans": "t2s", "hant": "s2t"}

_cache: dict[str, dict[str, str]] = {d: {} for d in DIRECTIONS}
_converters: dict[str, object] = {}
_lock = threading.Lock()


def _converter(direction: str):
    import opencc

    with _lock:
        if direction not in _converters:
            _converters[direction] = opencc.OpenCC(DIRECTIONS[direction])
        return _converters[direction]


def char_map(chars: str, to: str) -> dict[str, str]:
    """``{character: display form}`` for the characters that change (others are left out).

    ``to`` is ``hans`` (show simplified) or ``hant`` (show traditional). A character OpenCC would
    turn into several characters, or none, keeps its own form.
    """
    if to not in DIRECTIONS:
        raise ValueError(f"to must be one of {', '.join(DIRECTIONS)}, got {to!r}")
    cache = _cache[to]
    wanted = sorted({c for c in chars if c not in cache and not c.isspace()})
    if wanted:
        converted = _converter(to).convert("\n".join(wanted)).split("\n")
        if len(converted) != len(wanted):  # pragma: no cover - OpenCC keeps line breaks
            converted = wanted
        with _lock:
            for source, target in zip(wanted, converted):
                cache[source] = target if len(target) == 1 else source
    return {c: cache[c] for c in set(chars) if c in cache and cache[c] != c}

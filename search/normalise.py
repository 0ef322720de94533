"""The one text normaliser, run on the text at index time and on the query at search time.

``normalise(text)`` gives the *match stream* of a text: the characters that take part in matching
(punctuation, spaces, symbols and combining marks are left out), each folded to one canonical
character. Folding is a per-character table, built once from:

1. the 字符集外字 table: a private-use code point (``U+100000 + n`` for Kanripo ``&KR….;``) is
   replaced by the Unicode equivalent the store declares for it;
2. Unicode compatibility forms (CJK compatibility ideographs, Kangxi radicals, full-width Latin);
3. a short curated supplement of variant forms (``data/variants_supplement.tsv``: 𫝊→傳 ...);
4. OpenCC traditional → simplified (the C++ ``opencc`` package, its ``t2s`` character
   dictionaries: 後→后, 為→为 ...); a character with several readings there is joined with all of
   them (藉 → 藉 借), so a query finds it whichever reading an input method picked;
5. other variant forms (異體字) → the standard traditional form, char-converter's directed
   ``v2t`` table (㑹→會, 衞→衛, 徳→德 ...), then 4 again;
6. yitizi, for rare forms that none of the above knows, towards a variant in Big5 or GB 2312.

Steps repeat until the character no longer changes, so every character has one canonical form
and a recorded path to it (used to explain a hit: ``matched_by``).

Why per character and not OpenCC's phrase conversion: phrase rules depend on the neighbours
(乾隆 keeps 乾, 乾燥 → 干燥), so a query could fold differently from the same characters inside a
longer text and miss them. A per-character fold keeps the one property search needs: if ``q``
occurs in ``t``, ``fold(q)`` occurs in ``fold(t)`` at the same place. OpenCC's C++ converter is
still what decides every traditional→simplified mapping: it runs once over every CJK code point
to build the table, and ``str.translate`` applies the table at about the speed OpenCC itself runs.

Every kept character stays one character (all mappings are 1:1), so the match stream is aligned
with the original: ``Normalised.offsets[i]`` is the code-point offset in the original text of the
``i``-th matched character. The original text is never altered; only matching uses the fold.
"""

from __future__ import annotations

import importlib.util
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

# Unicode categories that never take part in matching (decided on the ORIGINAL character, so the
# exact and the folded stream keep the same positions).
_DROP_CATEGORIES = {"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Zs", "Zl", "Zp", "Sm", "Sc", "Sk", "So",
                    "Cc", "Cf", "Mn", "Me"}
# Blocks of symbols that are really ideograph components: kept (and folded by NFKC).
_KEEP_RANGES = ((0x2E80, 0x2FDF),)
# Ranges scanned for folds: CJK radicals, symbols, ideographs, compatibility ideographs, full-width forms.
_CJK_RANGES = (
    (0x2E80, 0x2FDF), (0x3000, 0x303F), (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF),
    (0xFF00, 0xFFEF), (0x20000, 0x323AF), (0x2F800, 0x2FA1F),
)
_PUA_RANGES = ((0xE000, 0xF8FF), (0xF0000, 0xFFFFD), (0x100000, 0x10FFFD))
_MAX_STEPS = 8

KIND_ORDER = ("private-use", "variant", "compatibility", "simplified", "traditional", "case")


def is_private_use(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _PUA_RANGES)


@dataclass(frozen=True, slots=True)
class FoldStep:
    """One step of a character's path to its canonical form, e.g. 爲→為 (variant, char-converter)."""

    source: str
    target: str
    kind: str  # simplified | variant | compatibility | private-use | case
    table: str  # opencc | char-converter | yitizi | guji-supplement | unicode | store

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "target": self.target, "kind": self.kind, "table": self.table}


@dataclass(frozen=True, slots=True)
class MatchedBy:
    """Why a typed character matched a different character of the text."""

    query: str
    text: str
    how: str
    folded_to: str
    steps: tuple[FoldStep, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "text": self.text, "how": self.how, "folded_to": self.folded_to,
                "steps": [s.as_dict() for s in self.steps]}


class Normalised:
    """The match stream of one text: ``chars`` (one per matched character) aligned with ``source``."""

    __slots__ = ("source", "chars", "_drop", "_offsets")

    def __init__(self, source: str, chars: str, drop: Mapping[int, Any]) -> None:
        self.source = source
        self.chars = chars
        self._drop = drop
        self._offsets: list[int] | None = None

    @property
    def offsets(self) -> list[int]:
        """Original code-point offset of every character of ``chars``."""
        if self._offsets is None:
            drop = self._drop
            self._offsets = [i for i, ch in enumerate(self.source) if ord(ch) not in drop]
        return self._offsets

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The original ``[start, end)`` covering the normalised characters ``[start, end)``."""
        offsets = self.offsets
        return offsets[start], offsets[end - 1] + 1

    def __len__(self) -> int:
        return len(self.chars)

    def __repr__(self) -> str:
        return f"Normalised({self.chars!r})"


class _Tables:
    """Per-character fold paths and the translate tables derived from them (built once).

    Every path ends at the character's canonical form, which is what the fold table maps it to.
    """

    def __init__(self, paths: dict[str, tuple[FoldStep, ...]], drop: dict[int, None]) -> None:
        self.paths = paths
        self.drop = drop
        self.keep_only: dict[int, Any] = dict(drop)
        self.fold: dict[int, Any] = dict(drop)
        for ch, steps in paths.items():
            if steps:
                self.fold[ord(ch)] = steps[-1].target


class Normaliser:
    """Folds text for matching; the same instance serves indexing and querying."""

    def __init__(self, tables: _Tables, private_use: Mapping[str, str] | None = None) -> None:
        self._base = tables
        self.private_use = dict(private_use or {})
        if self.private_use:
            paths = dict(tables.paths)
            fold = dict(tables.fold)
            for pua, eq in self.private_use.items():
                head = FoldStep(pua, eq, "private-use", "store")
                steps = (head, *tables.paths.get(eq, ()))
                paths[pua] = steps
                fold[ord(pua)] = steps[-1].target
            self._paths, self._fold = paths, fold
        else:
            self._paths, self._fold = tables.paths, tables.fold
        self._keep = tables.keep_only

    @classmethod
    def default(cls) -> Normaliser:
        return _default_normaliser()

    def with_private_use(self, equivalents: Mapping[str, str]) -> Normaliser:
        """A normaliser that also maps the private-use characters declared in the 字符集外字 table.

        ``equivalents`` maps one private-use character to one Unicode character; anything else is
        ignored (an equivalent that is an IDS or a string can not keep the text aligned).
        """
        clean = {k: v for k, v in equivalents.items()
                 if len(k) == 1 and len(v) == 1 and is_private_use(k) and not is_private_use(v)}
        if clean == self.private_use:
            return self
        return Normaliser(self._base, clean)

    # -- streams -------------------------------------------------------------------------------
    def fold(self, text: str) -> str:
        """The folded match stream of ``text`` (what the index holds in its ``norm`` field)."""
        return text.translate(self._fold)

    def keep(self, text: str) -> str:
        """The unfolded match stream (``exact`` mode): the same positions, characters as written."""
        return text.translate(self._keep)

    def normalise(self, text: str, *, exact: bool = False) -> Normalised:
        return Normalised(text, self.keep(text) if exact else self.fold(text), self._base.drop)

    def is_matched(self, ch: str) -> bool:
        """Whether ``ch`` takes part in matching (punctuation, spaces, marks do not)."""
        return ord(ch) not in self._base.drop

    # -- characters ----------------------------------------------------------------------------
    def fold_char(self, ch: str) -> str:
        steps = self._paths.get(ch)
        return steps[-1].target if steps else ch

    def steps(self, ch: str) -> tuple[FoldStep, ...]:
        return self._paths.get(ch, ())

    def explain(self, typed: str, found: str) -> MatchedBy | None:
        """Why the typed character ``typed`` matched ``found`` in the text (None when identical)."""
        if typed == found:
            return None
        t_steps, q_steps = self.steps(found), self.steps(typed)
        canon = t_steps[-1].target if t_steps else found
        t_kinds = {s.kind for s in t_steps}
        q_kinds = {s.kind for s in q_steps}
        if "private-use" in t_kinds or "private-use" in q_kinds:
            how = "private-use"
        elif "variant" in t_kinds or "variant" in q_kinds:
            how = "variant"
        elif "compatibility" in t_kinds or "compatibility" in q_kinds:
            how = "compatibility"
        elif "simplified" in t_kinds:
            how = "simplified"  # the text has the traditional form (or one of several) of what was typed
        elif "simplified" in q_kinds:
            how = "traditional"  # typed traditional, the text is simplified
        else:
            how = "case"
        steps = t_steps + tuple(s for s in q_steps if s not in t_steps)
        return MatchedBy(typed, found, how, canon, steps)


# -- building the tables ---------------------------------------------------------------------
def _load_supplement() -> dict[str, str]:
    path = Path(__file__).with_name("data") / "variants_supplement.tsv"
    table: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        variant, standard, *_ = line.split("\t")
        table[variant] = standard
    return table


def _load_char_converter() -> dict[str, str]:
    """char-converter's directed variant → standard traditional table (first reading of each)."""
    import msgpack  # a dependency of char-converter

    spec = importlib.util.find_spec("char_converter")  # located, not imported: its module needs pkg_resources
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("char-converter is not installed (pip install -e .)")
    path = Path(next(iter(spec.submodule_search_locations))) / "data" / "v2t.msgpack"
    with path.open("rb") as fh:
        raw = msgpack.unpack(fh, raw=False)
    return {k: v[0] for k, v in raw.items() if len(k) == 1 and v and len(v[0]) == 1}


def _opencc_t2s(chars: Iterable[str]) -> dict[str, str]:
    """Every character's OpenCC t2s form, one character at a time (no phrase context)."""
    import opencc

    chars = list(chars)
    converted = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
    if len(converted) != len(chars):  # pragma: no cover - OpenCC never joins lines
        raise RuntimeError("OpenCC changed the number of lines while building the fold table")
    return {a: b for a, b in zip(chars, converted) if a != b and len(b) == 1}


def _opencc_candidates() -> dict[str, list[str]]:
    """Every reading OpenCC's t2s character dictionaries list (乾 → 干 乾, 藉 → 藉 借, 餘 → 余 馀).

    The converter only ever gives the first; the dictionaries are read with OpenCC's own
    ``opencc_dict`` tool (shipped in the package). Empty when the tool is not there.
    """
    import subprocess
    import tempfile

    spec = importlib.util.find_spec("opencc")
    if spec is None or not spec.submodule_search_locations:
        return {}
    root = Path(next(iter(spec.submodule_search_locations))) / "clib"
    tool, share = root / "bin" / "opencc_dict", root / "share" / "opencc"
    if not tool.exists():
        return {}
    out: dict[str, list[str]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("TSCharacters", "TSCharactersExt"):
            src, dst = share / f"{name}.ocd2", Path(tmp) / f"{name}.txt"
            if not src.exists():
                continue
            try:
                subprocess.run([str(tool), "-i", str(src), "-o", str(dst), "-f", "ocd2", "-t", "text"],
                               check=True, capture_output=True, timeout=30)
            except (OSError, subprocess.SubprocessError):
                return {}
            for line in dst.read_text(encoding="utf-8").splitlines():
                key, _, values = line.partition("\t")
                if len(key) == 1:
                    out.setdefault(key, []).extend(v for v in values.split(" ") if len(v) == 1)
    return out


def _simplified_classes(t2s: dict[str, str], candidates: dict[str, list[str]]) -> dict[str, str]:
    """Character → the one simplified form of its class.

    A class joins a traditional character with every simplified reading OpenCC lists for it, so a
    query typed in any of them finds the text whatever reading the context would pick (藉口 and
    借口, 乾坤 and 干坤). The class's form is the character OpenCC's converter gives most often,
    among those it leaves unchanged (乾 幹 榦 干 → 干; 餘 余 馀 → 余).
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in t2s.items():
        parent[find(a)] = find(b)
    for a, values in candidates.items():
        for b in values:
            if find(a) != find(b):
                parent[find(a)] = find(b)
    members: dict[str, list[str]] = {}
    for x in list(parent):
        members.setdefault(find(x), []).append(x)
    out: dict[str, str] = {}
    for group in members.values():
        votes: dict[str, int] = {}
        for m in group:
            first = t2s.get(m, m)
            votes[first] = votes.get(first, 0) + 1
        fixed = [m for m in group if m not in t2s] or group
        form = min(fixed, key=lambda m: (-votes.get(m, 0), m))
        for m in group:
            if m != form:
                out[m] = form
    return out


def _encodable(ch: str, codec: str) -> bool:
    try:
        ch.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


# Planes 2-3 are ideographs, 4-13 unassigned, 15-16 private use: nothing there is dropped.
_DROP_SCAN = ((0, 0x1FFFF), (0xE0000, 0xE0FFF))


def _drop_table() -> dict[int, None]:
    cat = unicodedata.category
    drop: dict[int, None] = {}
    for lo, hi in _DROP_SCAN:
        for cp in range(lo, hi + 1):
            if cat(chr(cp)) in _DROP_CATEGORIES and not any(k_lo <= cp <= k_hi for k_lo, k_hi in _KEEP_RANGES):
                drop[cp] = None
    return drop


def _build_tables() -> _Tables:
    import yitizi

    drop = _drop_table()
    cjk = [chr(cp) for lo, hi in _CJK_RANGES for cp in range(lo, hi + 1) if cp not in drop]
    t2s = _opencc_t2s(cjk)
    simp = _simplified_classes(t2s, _opencc_candidates())
    v2t = _load_char_converter()
    supplement = _load_supplement()
    yitizi_data = yitizi.yitizi_data
    standard_cache: dict[str, bool] = {}

    def standard(ch: str) -> bool:
        if ch not in standard_cache:
            standard_cache[ch] = _encodable(ch, "big5") or _encodable(ch, "gb2312")
        return standard_cache[ch]

    def step(ch: str) -> FoldStep | None:
        """The next step towards the canonical form: what OpenCC knows first, variant tables after."""
        cp = ord(ch)
        if 0x41 <= cp <= 0x5A:
            return FoldStep(ch, ch.lower(), "case", "unicode")
        if 0x2E80 <= cp <= 0x2FDF or 0xF900 <= cp <= 0xFAFF or 0xFF00 <= cp <= 0xFFEF or 0x2F800 <= cp <= 0x2FA1F:
            nf = unicodedata.normalize("NFKC", ch)
            if len(nf) == 1 and nf != ch and nf != " ":
                return FoldStep(ch, nf, "compatibility", "unicode")
        if ch in supplement:
            return FoldStep(ch, supplement[ch], "variant", "guji-supplement")
        if ch in simp:
            return FoldStep(ch, simp[ch], "simplified", "opencc")
        target = v2t.get(ch)
        # v2t also maps simplified characters to their traditional form (饥→飢); that is not a
        # variant, and following it would undo the simplification
        if target and target != ch and simp.get(target, target) != ch:
            return FoldStep(ch, target, "variant", "char-converter")
        if ch in yitizi_data and not standard(ch):
            variants = yitizi.get(ch)
            pick = next((v for v in variants if _encodable(v, "big5")), None) or next(
                (v for v in variants if standard(v)), None)
            if pick:
                return FoldStep(ch, pick, "variant", "yitizi")
        return None

    # only characters some table (or a compatibility block) maps can have a path
    compat = [chr(cp) for lo, hi in ((0x2E80, 0x2FDF), (0xF900, 0xFAFF), (0xFF00, 0xFFEF), (0x2F800, 0x2FA1F))
              for cp in range(lo, hi + 1)]
    candidates = set(simp) | set(v2t) | set(supplement) | set(compat) | {chr(c) for c in range(0x41, 0x5B)}
    candidates.update(k for k in yitizi_data if len(k) == 1 and ord(k) not in drop)
    paths: dict[str, tuple[FoldStep, ...]] = {}
    for ch in candidates:
        if ord(ch) in drop:
            continue
        steps: list[FoldStep] = []
        seen = [ch]
        cur = ch
        for _ in range(_MAX_STEPS):
            s = step(cur)
            if s is None:
                break
            if s.target in seen:  # a cycle: end at its smallest member, so every start agrees
                low = min(seen[seen.index(s.target):])
                steps = steps[: seen.index(low)]
                break
            steps.append(s)
            seen.append(s.target)
            cur = s.target
        if steps:
            paths[ch] = tuple(steps)
    # A path stopped by _MAX_STEPS may end on a character that still folds: follow it on.
    for ch, steps in list(paths.items()):
        for _ in range(_MAX_STEPS):
            more = paths.get(steps[-1].target)
            if not more or steps[-1].target == ch:
                break
            steps = steps + more
        paths[ch] = steps
    return _Tables(_explained(paths, v2t, t2s), drop)


def _explained(paths: dict[str, tuple[FoldStep, ...]], v2t: dict[str, str],
               t2s: dict[str, str]) -> dict[str, tuple[FoldStep, ...]]:
    """Paths as shown in ``matched_by``: a variant form is shown as such on its way to the same end.

    The fold goes to OpenCC first (爲 → 为 directly), but 爲 is a variant of 為; when the variant
    table's standard form folds to the same character, the shown path is 爲 → 為 (variant),
    為 → 为 (simplified). Only the explanation changes, never where a character folds to.
    """
    def end(ch: str) -> str:
        steps = paths.get(ch)
        return steps[-1].target if steps else ch

    shown: dict[str, tuple[FoldStep, ...]] = {}
    for ch, steps in paths.items():
        target = v2t.get(ch)
        if (target and target != ch and steps[0].kind == "simplified" and end(target) == end(ch)
                and t2s.get(target) != ch and v2t.get(target) != ch):
            rest = paths.get(target, ())
            if not rest or rest[0].target != ch:
                shown[ch] = (FoldStep(ch, target, "variant", "char-converter"), *rest)
                continue
        shown[ch] = steps
    return shown


@cache
def _default_normaliser() -> Normaliser:
    return Normaliser(_build_tables())


def get_normaliser(private_use: Mapping[str, str] | None = None) -> Normaliser:
    """The process-wide normaliser (tables built on first use, ~1 s), with the given 外字 equivalents."""
    base = _default_normaliser()
    return base.with_private_use(private_use) if private_use else base


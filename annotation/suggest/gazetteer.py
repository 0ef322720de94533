"""Gazetteers: authority lists and training-data names, matched longest-first on folded text.

Sources (all read from ``../shared``, never copied into the repository):

- CBDB office titles (``cbdb_entity_offices.csv``) → OFI
- CBDB place names (``cbdb_entity_addresses.csv`` and the "upper+lower" combinations in
  ``cbdb_address_belongs_combination_pairs.csv``) → LOC
- names in the CHisIEC training corpus (``ner_train.txt``) → PER, LOC, OFI, BOOK
  (the development set is never read here)

Every term is folded (traditional→simplified, see :mod:`.normalize`) so that one list serves
traditional and simplified input. Terms shorter than two characters are dropped: a single
character (汉, 亮, 帝 ...) is far more often not a name than a name, so a lookup table can not
decide; the statistical model can.

A list compiled from authority records still contains entries that are ordinary words in running
text (CBDB has 大中, 宾客, 资源 ...). :meth:`Gazetteer.prune` measures each term on annotated
training text and drops those that are mostly *not* an entity of that label there.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from annotation.errors import SuggestDataMissingError, SuggestModelError

from .corpus import GoldSentence
from .normalize import fold, fold_signature

# a term is kept only when it is all CJK ideographs (BMP, extension A, supplementary planes)
_CJK_TERM = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff]{2,}")

#: which label wins when the same folded term comes from lists of different labels and the
#: training data does not decide (an office list entry is rarely a person's name, etc.)
LABEL_PRIORITY = ("BOOK", "OFI", "LOC", "PER")

FORMAT_VERSION = 1
# context that makes a two-character list term an office or a place (compared folded)
_OFI_BEFORE = frozenset(fold("為拜除遷授任領兼加守知行判權攝贈封徵召補轉累歷官"))
_OFI_AFTER = frozenset(fold("事"))
_LOC_BEFORE = frozenset(fold("於至知守鎮出入還徙屯攻克取據過歸居赴如適往奔走趨抵次"))
_LOC_AFTER = frozenset(fold("州縣郡人城"))


@dataclass
class Gazetteer:
    """Folded term → label, with where each term came from (for reporting)."""

    terms: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # term → first source name
    _counts: dict[str, dict[str, int]] = field(default_factory=lambda: defaultdict(Counter))  # term → label votes
    confirmed: set[str] | None = None  # terms the training corpus has as entities (None: not recorded)

    def confirmed_terms(self) -> set[str]:
        """Terms some annotator marked as an entity in the training text (not only a list entry)."""
        if self.confirmed is not None:
            return self.confirmed
        return {t for t, src in self.sources.items() if src == "chisiec-train" and t in self.terms}

    def in_context(self, folded: str, start: int, end: int, label: str) -> bool:
        """Rules mode: may this match be proposed here? A two-character office or place known
        only from a list (大觀, 天下 …: common words too) needs a neighbour that says so —
        為/拜/知 … before an office, 於/至/知 … before or 州/縣/郡/人/城 after a place."""
        if end - start != 2 or label not in ("OFI", "LOC"):
            return True
        if folded[start:end] in self.confirmed_terms():
            return True
        before = folded[start - 1] if start else ""
        after = folded[end] if end < len(folded) else ""
        if label == "OFI":
            return before in _OFI_BEFORE or after in _OFI_AFTER
        return before in _LOC_BEFORE or after in _LOC_AFTER

    def add(self, words: Iterable[str], label: str, source: str, weight: int = 1) -> int:
        added = 0
        for word in words:
            term = fold(word.strip())
            if not _CJK_TERM.fullmatch(term):
                continue
            votes = self._counts[term]
            votes[label] += weight
            best = max(votes, key=lambda lab: (votes[lab], -LABEL_PRIORITY.index(lab)))
            if term not in self.terms:
                added += 1
                self.sources[term] = source
            self.terms[term] = best
            self._aho_dirty = True
        return added

    def __len__(self) -> int:
        return len(self.terms)

    def by_label(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = defaultdict(list)
        for term, label in self.terms.items():
            out[label].append(term)
        return {label: sorted(terms) for label, terms in sorted(out.items())}

    def source_counts(self) -> dict[str, int]:
        saved = getattr(self, "_saved_counts", None)
        return dict(saved) if saved is not None else dict(Counter(self.sources.values()))

    # -- pruning on annotated text ------------------------------------------------------------

    def prune(self, sentences: Iterable[GoldSentence], min_precision: float = 0.5, min_seen: int = 2) -> int:
        """Drop terms that, where they occur in annotated text, are mostly not that entity.

        A term is measured at every place it occurs (folded substring match, overlapping
        occurrences included). It is kept when it was seen fewer than ``min_seen`` times
        (no evidence) or when at least ``min_precision`` of its occurrences are a gold span
        with the same label. Returns how many terms were dropped.
        """
        maxlen = max((len(t) for t in self.terms), default=0)
        seen: Counter[str] = Counter()
        right: Counter[str] = Counter()
        for sent in sentences:
            text = fold(sent.text)
            gold = {(s, e): lab for s, e, lab in sent.entities}
            n = len(text)
            for i in range(n):
                for j in range(i + 2, min(n, i + maxlen) + 1):
                    label = self.terms.get(text[i:j])
                    if label is None:
                        continue
                    seen[text[i:j]] += 1
                    if gold.get((i, j)) == label:
                        right[text[i:j]] += 1
        dropped = [t for t, k in seen.items() if k >= min_seen and right[t] / k < min_precision]
        self._aho_dirty = True
        for term in dropped:
            del self.terms[term]
            self.sources.pop(term, None)
        return len(dropped)

    # -- matching --------------------------------------------------------------------------------

    def match(self, folded: str) -> list[tuple[int, int, str]]:
        """Leftmost-longest, non-overlapping matches in an already folded string.

        An Aho–Corasick automaton over all terms (pyahocorasick, C) finds every occurrence in one
        pass (≈ 700k chars/s with 100k terms); the longest match at each start is then taken
        left to right. Same result as trying every length at every position, ten times faster."""
        automaton = self._automaton()
        best: dict[int, tuple[int, str]] = {}
        for end, (length, label) in automaton.iter(folded):
            start = end - length + 1
            held = best.get(start)
            if held is None or length > held[0]:
                best[start] = (length, label)
        out = []
        pos = 0
        for start in sorted(best):
            if start >= pos:
                length, label = best[start]
                out.append((start, start + length, label))
                pos = start + length
        return out

    def _automaton(self):
        import ahocorasick

        key = (len(self.terms), id(self.terms))
        cached = getattr(self, "_aho", None)
        if cached is None or cached[0] != key or getattr(self, "_aho_dirty", False):
            automaton = ahocorasick.Automaton()
            for term, label in self.terms.items():
                if len(term) >= 2:
                    automaton.add_word(term, (len(term), label))
            if len(automaton):
                automaton.make_automaton()
            cached = (key, automaton if len(automaton) else _EmptyAutomaton())
            self._aho = cached
            self._aho_dirty = False
        return cached[1]

    @property
    def max_len(self) -> int:
        cached = getattr(self, "_max_len", None)
        if cached is None or cached[0] != len(self.terms):
            cached = (len(self.terms), max((len(t) for t in self.terms), default=0))
            self._max_len = cached
        return cached[1]

    # -- persistence -----------------------------------------------------------------------------

    def to_json(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"format": FORMAT_VERSION, "fold": fold_signature(), "terms": self.by_label(),
                "sources": self.source_counts(), "confirmed": sorted(self.confirmed_terms())}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False, indent=0), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def from_json(cls, path: Path) -> "Gazetteer":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SuggestModelError(f"can not read gazetteer: {exc}", file=str(path)) from exc
        if data.get("format") != FORMAT_VERSION:
            raise SuggestModelError("gazetteer was written by another version; rebuild it", file=str(path))
        if data.get("fold") != fold_signature():
            raise SuggestModelError("gazetteer was folded with other tables; rebuild it", file=str(path))
        gaz = cls()
        for label, terms in data["terms"].items():
            for term in terms:
                gaz.terms[term] = label
        gaz._saved_counts = data.get("sources", {})
        if "confirmed" in data:
            gaz.confirmed = set(data["confirmed"])
        return gaz


# -- sources -------------------------------------------------------------------------------------


def _csv_column(path: Path, column: str) -> list[str]:
    return list(_csv_column_cached(path, column, path.stat().st_mtime if path.is_file() else 0.0))


@lru_cache(maxsize=8)
def _csv_column_cached(path: Path, column: str, _mtime: float) -> tuple[str, ...]:
    if not path.is_file():
        raise SuggestDataMissingError("authority list not found", file=str(path))
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        if column not in (reader.fieldnames or []):
            raise SuggestDataMissingError(f"column {column!r} missing", file=str(path))
        return tuple(row[column] for row in reader if row.get(column))


def cbdb_offices(cbdb_dir: Path) -> list[str]:
    return _csv_column(cbdb_dir / "cbdb_entity_offices.csv", "office_name")


def cbdb_places(cbdb_dir: Path) -> list[str]:
    places = _csv_column(cbdb_dir / "cbdb_entity_addresses.csv", "addr_chn")
    pairs = cbdb_dir / "cbdb_address_belongs_combination_pairs.csv"
    if pairs.is_file():
        places += _csv_column(pairs, "combined")
    return places


def corpus_names(sentences: Iterable[GoldSentence]) -> dict[str, Counter[str]]:
    names: dict[str, Counter[str]] = defaultdict(Counter)
    for sent in sentences:
        for start, end, label in sent.entities:
            names[label][sent.text[start:end]] += 1
    return names


def build_gazetteer(
    cbdb_dir: Path | None,
    train: list[GoldSentence] | None,
    *,
    prune: bool = True,
    min_precision: float = 0.5,
    titles: Iterable[str] = (),
) -> Gazetteer:
    """Authority lists + training names (+ ``titles``: BOOK terms from elsewhere, e.g. the
    titles Kanripo's editors bracketed), pruned on the training text."""
    gaz = Gazetteer()
    if train:
        for label, names in corpus_names(train).items():
            for name, count in names.items():
                gaz.add([name], label, "chisiec-train", weight=count)
    if cbdb_dir is not None:
        gaz.add(cbdb_offices(cbdb_dir), "OFI", "cbdb-offices")
        gaz.add(cbdb_places(cbdb_dir), "LOC", "cbdb-places")
    if titles:
        gaz.add(titles, "BOOK", "kanripo-titles")
    if prune and train:
        gaz.prune(train, min_precision=min_precision)
    return gaz


class _EmptyAutomaton:
    @staticmethod
    def iter(_text: str):
        return iter(())

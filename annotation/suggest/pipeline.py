"""The spaCy pipeline: one token per character, never a word segmenter.

Since ADR 0023 the model mode runs the character tagger of :mod:`.tagger` without spaCy; this
pipeline still carries the patterns (``guji_patterns``), the rules mode's reference path
(``through_spacy``) and spaCy models built before ADR 0023 (``ner``).

    tokenizer        spaCy's Chinese tokenizer with ``segmenter = "char"`` (checked at build time):
                     every code point is a token, so a span can start and end at any character
                     and token offsets are code-point offsets into the line
    guji_features    folds each character (traditional→simplified) into ``NORM``, the folded
                     character bigram into ``LEMMA``, and the gazetteer's leftmost-longest match
                     (B-/I-label) into ``TAG``; keeps the gazetteer spans in ``doc.spans["gazetteer"]``
    ner              (model mode only) spaCy's transition-based NER over those three features
    guji_patterns    《…》 book titles and reign-era dates → ``doc.spans["patterns"]``
    guji_merge       one non-overlapping list → ``doc.spans["suggestions"]``

``guji_features`` and ``ner`` are what a trained model directory holds (``nlp.to_disk``); the
gazetteer is saved inside it so that the model sees at run time the same features it was trained
with. The pattern and merge components are added at run time: they carry no learned state.
"""

from __future__ import annotations

import re
from pathlib import Path

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Span as SpacySpan

from .dates import CLAUSE_BREAK, DateFinder, ReignCalendar
from .gazetteer import Gazetteer
from .normalize import fold
from .persons import person_spans

TOKENIZER_CONFIG = {"nlp": {"tokenizer": {"segmenter": "char"}}}
GAZ_SPANS, PATTERN_SPANS, SUGGESTION_SPANS = "gazetteer", "patterns", "suggestions"

_BOOK = re.compile(r"《([^《》\n]{1,60})》")

if not Doc.has_extension("guji_dates"):
    Doc.set_extension("guji_dates", default=None)  # {(start, end): [DateReading, ...]}


def blank_pipeline() -> Language:
    nlp = spacy.blank("zh", config=TOKENIZER_CONFIG)
    segmenter = getattr(nlp.tokenizer, "segmenter", None)
    if str(getattr(segmenter, "value", segmenter)) != "char":  # never let a word segmenter in
        raise RuntimeError(f"spaCy Chinese tokenizer is not in character mode: {segmenter!r}")
    return nlp


class FeatureComponent:
    """Folded character (NORM), folded bigram (LEMMA) and gazetteer match (TAG) for every token."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.gazetteer = Gazetteer()

    def __call__(self, doc: Doc) -> Doc:
        text = doc.text
        folded = fold(text)
        tags = ["O"] * len(text)
        spans = []
        for start, end, label in self.gazetteer.match(folded):
            tags[start] = f"B-{label}"
            for k in range(start + 1, end):
                tags[k] = f"I-{label}"
            span = doc.char_span(start, end, label=label)
            if span is not None:
                spans.append(span)
        for token in doc:
            i = token.idx
            token.norm_ = folded[i : i + len(token.text)]
            token.lemma_ = folded[i : i + len(token.text) + 1]
            token.tag_ = tags[i]
        doc.spans[GAZ_SPANS] = spans
        return doc

    def to_disk(self, path: Path, exclude=()) -> None:
        self.gazetteer.to_json(Path(path) / "gazetteer.json")

    def from_disk(self, path: Path, exclude=()) -> "FeatureComponent":
        self.gazetteer = Gazetteer.from_json(Path(path) / "gazetteer.json")
        return self


@Language.factory("guji_features")
def make_features(nlp: Language, name: str) -> FeatureComponent:
    return FeatureComponent(nlp, name)


class PatternComponent:
    """《…》 → BOOK (the title inside the brackets); reign-era dates → DATE with their readings."""

    def __init__(self, nlp: Language, name: str) -> None:
        self.name = name
        self.finder: DateFinder | None = None
        self.resolver = None  # TableDateResolver

    def configure(self, calendar: ReignCalendar, cache_dir: Path | None = None) -> None:
        """Dates are read from tables built once from the calendar (cached in ``cache_dir``)."""
        from .calendar_tables import CalendarTables, TableDateResolver

        self.finder = DateFinder(calendar)
        self.resolver = TableDateResolver(calendar, CalendarTables.load_or_build(calendar, cache_dir))

    def __call__(self, doc: Doc) -> Doc:
        return self._annotate(doc, self._find(doc))

    def _find(self, doc: Doc):
        text = doc.text
        books = [(m.start(1), m.end(1)) for m in _BOOK.finditer(text)]
        dates = []
        if self.finder is not None:
            taken = {i for s, e in books for i in range(s, e)}
            dates = [d for d in self.finder.find(fold(text)) if not any(i in taken for i in range(d.start, d.end))]
        return books, dates

    def _annotate(self, doc: Doc, hits) -> Doc:
        books, dates = hits
        text = doc.text
        spans = [span for s, e in books if (span := doc.char_span(s, e, label="BOOK")) is not None]
        readings = {}
        for found in dates:
            span = doc.char_span(found.start, found.end, label="DATE")
            if span is None:
                continue
            context = CLAUSE_BREAK.split(text[: found.start])[-1][-12:] if found.anchored else ""
            readings[(found.start, found.end)] = self.resolver.readings(text[found.start : found.end], context)
            spans.append(span)
        doc.spans[PATTERN_SPANS] = sorted(spans, key=lambda sp: sp.start)
        doc._.guji_dates = readings
        return doc


def rules_spans(text: str, patterns: "PatternComponent", gazetteer: Gazetteer | None) -> list[tuple]:
    """The spans of one line in the rules/patterns modes (see :func:`rules_spans_batch`)."""
    return rules_spans_batch([text], patterns, gazetteer)[0]


def rules_spans_batch(texts: list[str], patterns: "PatternComponent", gazetteer: Gazetteer | None) -> list[list[tuple]]:
    """The rules/patterns modes without spaCy: the same spans, many times faster.

    Per line, ``(start, end, label, source, readings)`` per span, in order: 《…》 titles and dates
    first (exact), then gazetteer matches that overlap none of them — what ``guji_features`` →
    ``guji_patterns`` → ``guji_merge(use_gazetteer=True)`` give, without building a Doc (the Doc,
    its tokens and span groups cost more than the matching). The lines of a batch are joined with
    newlines and searched in one pass (no pattern, date or gazetteer term crosses a newline), which
    removes the per-line cost of folding and of each regular expression and automaton call."""
    joined = "\n".join(texts)
    folded = fold(joined)
    n = len(joined)
    taken = bytearray(n)
    spans: list[tuple] = []
    for m in _BOOK.finditer(joined):
        s, e = m.start(1), m.end(1)
        spans.append((s, e, "BOOK", "pattern", None))
        taken[s:e] = b"\x01" * (e - s)
    if patterns.finder is not None:
        dates = []
        for found in patterns.finder.find(folded):
            if 1 in taken[found.start : found.end]:
                continue
            dates.append(found)
        for found in dates:
            context = _context(joined, found.start) if found.anchored else ""
            readings = patterns.resolver.readings(joined[found.start : found.end], context)
            spans.append((found.start, found.end, "DATE", "pattern", readings))
            taken[found.start : found.end] = b"\x01" * (found.end - found.start)
    if gazetteer is not None:
        for s, e, label in gazetteer.match(folded):
            if 1 not in taken[s:e] and gazetteer.in_context(folded, s, e, label):
                spans.append((s, e, label, "gazetteer", None))
                taken[s:e] = b"\x01" * (e - s)
        spans.sort(key=lambda t: t[0])
        spans = with_persons(folded, spans, taken)
    spans.sort(key=lambda t: t[0])
    out: list[list[tuple]] = []
    k = 0
    line_start = 0
    for text in texts:
        line_end = line_start + len(text)
        mine = []
        while k < len(spans) and spans[k][0] < line_end:
            s, e, label, source, readings = spans[k]
            mine.append((s - line_start, e - line_start, label, source, readings))
            k += 1
        out.append(mine)
        line_start = line_end + 1
    return out


def with_persons(folded: str, spans: list[tuple], taken: bytearray) -> list[tuple]:
    """``spans`` (in order) with the persons the prose shapes show (:mod:`.persons`, rules mode);
    a span a person grew over (李[敬玄] → 李敬玄) is replaced by it."""
    found = person_spans(folded, spans, taken)
    if not found:
        return spans
    grown = {(s + 1, e) for s, e, *_ in found}
    return [sp for sp in spans if sp[2] != "PER" or (sp[0], sp[1]) not in grown] + found


def add_persons(text: str, spans: list[tuple]) -> list[tuple]:
    """``spans`` of one line (or piece) found some other way — the tagger's, merged with the
    patterns' — with the persons the prose shapes show in what is left (范仲淹為…，歐陽修知… : a
    name opening a clause before its verb), as the rules path adds them."""
    taken = bytearray(len(text))
    for s, e, *_ in spans:
        taken[s:e] = b"\x01" * (e - s)
    return sorted(with_persons(fold(text), sorted(spans, key=lambda t: t[0]), taken), key=lambda t: t[0])


def _context(text: str, start: int) -> str:
    """The clause just before ``start`` (at most 12 characters): what may name the date's regime."""
    window = text[max(0, start - 12) : start]
    parts = CLAUSE_BREAK.split(window)
    return parts[-1]


@Language.factory("guji_patterns")
def make_patterns(nlp: Language, name: str) -> PatternComponent:
    return PatternComponent(nlp, name)


class MergeComponent:
    """Patterns first (they are exact), then model entities, else gazetteer spans; no overlaps."""

    def __init__(self, nlp: Language, name: str, use_ents: bool = True, use_gazetteer: bool = False) -> None:
        self.name = name
        self.use_ents = use_ents
        self.use_gazetteer = use_gazetteer
        self.gazetteer: Gazetteer | None = None  # rules mode: the one guji_features matches with

    def __call__(self, doc: Doc) -> Doc:
        taken = [False] * len(doc)
        chosen: list[SpacySpan] = []
        layers = [("pattern", list(doc.spans.get(PATTERN_SPANS, [])))]
        if self.use_ents:
            layers.append(("model", list(doc.ents)))
        if self.use_gazetteer:
            gaz = self.gazetteer
            folded = fold(doc.text)
            layers.append(("gazetteer", [sp for sp in doc.spans.get(GAZ_SPANS, [])
                                         if gaz is None or gaz.in_context(folded, sp.start_char, sp.end_char, sp.label_)]))
        for source, spans in layers:
            for span in spans:
                if any(taken[span.start : span.end]):
                    continue
                for k in range(span.start, span.end):
                    taken[k] = True
                chosen.append(SpacySpan(doc, span.start, span.end, label=span.label_, kb_id=source))
        if self.use_gazetteer:  # rules mode: the persons the prose shapes show, as rules_spans_batch adds them
            chosen = self._with_persons(doc, chosen)
        doc.spans[SUGGESTION_SPANS] = sorted(chosen, key=lambda s: s.start)
        return doc


    @staticmethod
    def _with_persons(doc: Doc, chosen: list[SpacySpan]) -> list[SpacySpan]:
        chosen = sorted(chosen, key=lambda sp: sp.start_char)
        taken = bytearray(len(doc.text))
        for sp in chosen:
            taken[sp.start_char : sp.end_char] = b"\x01" * (sp.end_char - sp.start_char)
        by_offsets = {(sp.start_char, sp.end_char, sp.label_): sp for sp in chosen}
        out = []
        for s, e, label, source, _ in with_persons(fold(doc.text),
                                                   [(sp.start_char, sp.end_char, sp.label_, sp.kb_id_, None) for sp in chosen], taken):
            span = by_offsets.get((s, e, label)) or doc.char_span(s, e, label=label, kb_id=source)
            if span is not None:
                out.append(span)
        return out


@Language.factory("guji_merge", default_config={"use_ents": True, "use_gazetteer": False})
def make_merge(nlp: Language, name: str, use_ents: bool, use_gazetteer: bool) -> MergeComponent:
    return MergeComponent(nlp, name, use_ents, use_gazetteer)


def ner_config(width: int = 96, depth: int = 4, rows: int = 6000) -> dict:
    """A small CNN over character features; trains in minutes on two CPU cores."""
    return {
        "model": {
            "@architectures": "spacy.TransitionBasedParser.v2",
            "state_type": "ner",
            "extra_state_tokens": False,
            "hidden_width": 64,
            "maxout_pieces": 2,
            "use_upper": True,
            "nO": None,
            "tok2vec": {
                "@architectures": "spacy.Tok2Vec.v2",
                "embed": {
                    "@architectures": "spacy.MultiHashEmbed.v2",
                    "width": width,
                    "attrs": ["NORM", "LEMMA", "TAG"],
                    "rows": [rows, rows, 50],
                    "include_static_vectors": False,
                },
                "encode": {
                    "@architectures": "spacy.MaxoutWindowEncoder.v2",
                    "width": width,
                    "window_size": 1,
                    "maxout_pieces": 3,
                    "depth": depth,
                },
            },
        }
    }

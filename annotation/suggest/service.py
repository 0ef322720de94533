"""SuggestionService: machine suggestions (pre-annotation) for one line of text at a time.

Suggestions are proposals for a person: nothing here writes to any store. An annotator accepts
one, and only then does the annotation service create an annotation.

Modes (``info().mode``):

- ``model``: the trained model (``$GUJI_HOME/models/suggest-ner``, built by
  ``guji suggest --train``; the character tagger of :mod:`.tagger`, or a spaCy model built before
  ADR 0023) proposes PER/LOC/OFI/BOOK, with the gazetteers as its input features; patterns add
  《…》 titles and dates, and win where they overlap the model.
- ``rules``: no model: the gazetteers (CBDB lists + training-corpus names, when ``../shared`` is
  there) propose PER/LOC/OFI/BOOK by leftmost-longest match; patterns as above.
- ``patterns``: neither a model nor ``../shared``: only 《…》 titles and dates (sanmiao's own
  reign calendar).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from annotation.errors import SuggestModelError

from .config import SuggestConfig
from .corpus import read_conll
from .dates import ReignCalendar
from .gazetteer import Gazetteer, build_gazetteer
from .models import LineSuggestions, Span
from .pipeline import SUGGESTION_SPANS, add_persons, blank_pipeline, rules_spans_batch

log = logging.getLogger(__name__)


@dataclass
class SuggestInfo:
    mode: str  # "model" | "rules" | "patterns"
    model_path: str | None = None
    model_meta: dict | None = None
    gazetteer_terms: int = 0
    gazetteer_sources: dict[str, int] = field(default_factory=dict)
    calendar: str = "sanmiao"
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"mode={self.mode}"]
        if self.model_path:
            parts.append(f"model={self.model_path}")
        parts.append(f"gazetteer={self.gazetteer_terms} terms")
        parts.append(f"calendar={self.calendar}")
        return ", ".join(parts) + "".join(f"; {n}" for n in self.notes)


class SuggestionService:
    """Pre-annotation over characters. Build once, call :meth:`suggest` / :meth:`suggest_lines` many times.

    Collaborators can be given (tests, the API): ``gazetteer`` replaces the one built from
    ``../shared``; ``calendar`` replaces the reign calendar. The pipeline is built lazily on first use.
    """

    def __init__(
        self,
        config: SuggestConfig | None = None,
        *,
        gazetteer: Gazetteer | None = None,
        calendar: ReignCalendar | None = None,
        batch_size: int = 64,
        through_spacy: bool = False,
    ) -> None:
        self.config = config or SuggestConfig()
        self._gazetteer = gazetteer
        self._calendar = calendar
        self._batch_size = batch_size
        self._through_spacy = through_spacy
        self._batch_chars = 32768  # rules/patterns: lines joined up to about this many characters  # rules/patterns through the spaCy pipeline (tests compare)
        self._tagger_chars = 16384  # model mode: lines joined up to about this many characters
        self._nlp = None
        self._tagger = None  # CharTagger, when the model is one (ADR 0023)
        self._info: SuggestInfo | None = None
        self._model_stamp = self._stamp()
        self._lock = threading.Lock()
        self._run_lock = threading.Lock()

    # -- public ----------------------------------------------------------------------------------

    def suggest(self, text: str) -> list[Span]:
        """Suggestions for one line; offsets are code points into ``text``."""
        return next(iter(self.suggest_lines([text]))).spans

    def suggest_lines(self, lines: Iterable[str]) -> Iterator[LineSuggestions]:
        """One :class:`LineSuggestions` per line, in order (lines are processed in batches).

        Safe to call from several threads (an API worker pool): batches run one at a time.
        """
        nlp = self._pipeline()
        if self._tagger is not None:  # the character tagger: no spaCy Doc (ADR 0023)
            yield from self._tagger_lines(lines, nlp.get_pipe("guji_patterns"))
            return
        if self._info.mode != "model" and not self._through_spacy:  # no model: the same spans without spaCy (see rules_spans)
            patterns = nlp.get_pipe("guji_patterns")
            gazetteer = nlp.get_pipe("guji_features").gazetteer if self._info.mode == "rules" else None
            for batch in _batches(lines, 4096, max_chars=self._batch_chars):
                found = rules_spans_batch(batch, patterns, gazetteer)
                yield from [_rules_line(text, spans) for text, spans in zip(batch, found)]
            return
        for batch in _batches(lines, self._batch_size):
            pieces = [_pieces(text) for text in batch]  # very long lines go through the model in pieces
            flat = [text[a:b] for text, cuts in zip(batch, pieces) for a, b in cuts]
            with self._run_lock:
                docs = [self._line(doc) for doc in nlp.pipe(flat, batch_size=self._batch_size)]
            k = 0
            for text, cuts in zip(batch, pieces):
                spans = []
                for a, _b in cuts:
                    for sp in docs[k].spans:
                        sp.start, sp.end = sp.start + a, sp.end + a
                        spans.append(sp)
                    k += 1
                yield LineSuggestions(spans=spans)

    def _tagger_lines(self, lines: Iterable[str], patterns) -> Iterator[LineSuggestions]:
        """Patterns first (《…》 titles, dates: exact), then the tagger's spans that overlap none.
        A line longer than 2 × PIECE is read in pieces cut at clause breaks (bounded memory)."""
        tagger = self._tagger
        for batch in _batches(lines, 1024, max_chars=self._tagger_chars):
            pieces = [_pieces(text) for text in batch]
            flat = [text[a:b] for text, cuts in zip(batch, pieces) for a, b in cuts]
            found = rules_spans_batch(flat, patterns, None)
            predicted = []
            with self._run_lock:  # pieces of a long line in sub-batches: memory bounded by _tagger_chars
                for part in _batches(flat, 1024, max_chars=self._tagger_chars):
                    predicted += tagger.spans(part)
            k = 0
            for text, cuts in zip(batch, pieces):
                spans = []
                for a, _b in cuts:
                    merged = add_persons(flat[k], _merge(found[k], predicted[k]))  # prose shapes in the gaps
                    spans += [(s + a, e + a, label, source, readings) for s, e, label, source, readings in merged]
                    k += 1
                yield _rules_line(text, spans)

    def model_changed(self) -> bool:
        """A model was built (or rebuilt) since this service was made: a new service would use it."""
        return self.config.use_model and self._stamp() != self._model_stamp

    def _stamp(self) -> int | None:
        try:
            return (self.config.model_path / "meta.json").stat().st_mtime_ns
        except OSError:
            return None

    def info(self) -> SuggestInfo:
        self._pipeline()
        return self._info

    # -- building ----------------------------------------------------------------------------------

    def _pipeline(self):
        if self._nlp is None:
            with self._lock:
                if self._nlp is None:
                    self._nlp = self._build()
        return self._nlp

    def _build(self):
        cfg = self.config
        notes: list[str] = []
        calendar = self._calendar or ReignCalendar(
            cfg.cbdb_dir / "dyna_cal.xml" if cfg.cbdb_dir else None, civ=cfg.civ
        )
        nlp, info = None, None
        if cfg.use_model and (cfg.model_path / "meta.json").is_file():
            nlp, info = self._load_model(cfg.model_path, notes)
            if info is not None and self._tagger is not None:  # spaCy only for the patterns below
                nlp = blank_pipeline()
                nlp.add_pipe("guji_features").gazetteer = self._tagger.gazetteer
        if nlp is None:
            nlp, info = self._rules_pipeline(notes)
        nlp.add_pipe("guji_patterns").configure(calendar, cfg.home / "cache")
        merge = nlp.add_pipe("guji_merge", config={"use_ents": info.mode == "model" and self._tagger is None,
                                                    "use_gazetteer": info.mode == "rules"})
        if info.mode == "rules":
            merge.gazetteer = nlp.get_pipe("guji_features").gazetteer
        info.calendar = calendar.source
        if "guji_features" in nlp.pipe_names:
            nlp.get_pipe("guji_features").gazetteer._automaton()  # built now, not on the first line
        if self._tagger is not None:
            self._tagger.warm()
        if cfg.shared is None:
            notes.append(
                "shared data not found (set GUJI_SHARED): CBDB reign calendar and gazetteers unavailable"
            )
        info.notes = notes
        self._info = info
        log.info("guji suggest: %s", info.summary())
        return nlp

    def _load_model(self, path: Path, notes: list[str]):
        import spacy

        from . import pipeline  # noqa: F401  (registers the guji_* factories before loading)
        from .training import META_FILE

        from .tagger import CharTagger

        try:
            if CharTagger.present(path):
                self._tagger = CharTagger.from_disk(path)
                if self._gazetteer is not None:
                    self._tagger.gazetteer = self._gazetteer
                nlp = None
            else:  # a spaCy model built before ADR 0023
                nlp = spacy.load(path)
        except Exception as exc:  # a stale or broken model must not take suggestions down
            self._tagger = None
            notes.append(f"model at {path} not loadable ({exc}); using rules until: guji suggest --train")
            log.warning("suggestion model at %s not loadable: %s", path, exc)
            return None, None
        if self._tagger is not None:
            gaz = self._tagger.gazetteer
        else:
            if self._gazetteer is not None:
                nlp.get_pipe("guji_features").gazetteer = self._gazetteer
            gaz = nlp.get_pipe("guji_features").gazetteer
        meta = None
        meta_path = path / META_FILE
        if meta_path.is_file():
            try:
                meta = json.loads(meta_path.read_text(encoding="utf-8"))
            except ValueError as exc:
                raise SuggestModelError(f"model metadata unreadable: {exc}", file=str(meta_path)) from exc
        info = SuggestInfo(
            mode="model", model_path=str(path), model_meta=meta,
            gazetteer_terms=len(gaz), gazetteer_sources=(meta or {}).get("gazetteer_sources", gaz.source_counts()),
        )
        return nlp, info

    def _rules_pipeline(self, notes: list[str]):
        cfg = self.config
        gaz = self._gazetteer
        if gaz is None:
            gaz = self._gazetteer_from_shared(notes)
        nlp = blank_pipeline()
        nlp.add_pipe("guji_features").gazetteer = gaz
        mode = "rules" if len(gaz) else "patterns"
        if cfg.use_model and not (cfg.model_path / "meta.json").is_file():
            notes.append(f"no trained model at {cfg.model_path} (build it with: guji suggest --train)")
        return nlp, SuggestInfo(mode=mode, gazetteer_terms=len(gaz), gazetteer_sources=gaz.source_counts())

    def _gazetteer_from_shared(self, notes: list[str]) -> Gazetteer:
        """Authority lists + training names, cached under $GUJI_HOME (derived from ../shared, never committed)."""
        cfg = self.config
        if cfg.shared is None:
            return Gazetteer()
        cache = cfg.home / "models" / "suggest-gazetteer.json"
        sources = [p for p in ((cfg.chisiec_dir or Path("-")) / "ner_train.txt",) if p.is_file()]
        if cfg.cbdb_dir:
            sources += sorted(cfg.cbdb_dir.glob("*.csv"))
        newest = max((p.stat().st_mtime for p in sources), default=0)
        if cache.is_file() and cache.stat().st_mtime >= newest:
            try:
                cached = Gazetteer.from_json(cache)
                if cached.confirmed is not None:  # written before confirmed terms were kept: rebuild
                    return cached
            except SuggestModelError as exc:
                notes.append(f"gazetteer cache ignored: {exc}")
        train = read_conll(cfg.chisiec_dir / "ner_train.txt") if cfg.chisiec_dir and sources else None
        gaz = build_gazetteer(cfg.cbdb_dir, train)
        try:
            gaz.to_json(cache)
        except OSError as exc:  # a read-only home still gets suggestions
            notes.append(f"gazetteer cache not written: {exc}")
        return gaz

    # -- output ------------------------------------------------------------------------------------

    @staticmethod
    def _line(doc) -> LineSuggestions:
        readings = doc._.guji_dates or {}
        spans = []
        for span in doc.spans[SUGGESTION_SPANS]:
            start, end = span.start_char, span.end_char
            spans.append(
                Span(
                    start=start,
                    end=end,
                    label=span.label_,
                    text=doc.text[start:end],
                    source=span.kb_id_ or "model",
                    dates=readings.get((start, end), []) if span.label_ == "DATE" else None,
                )
            )
        return LineSuggestions(spans=spans)


def _merge(patterns: list[tuple], model: list[tuple[int, int, str]]) -> list[tuple]:
    """Pattern spans, then model spans overlapping none of them, in order of start."""
    if not model:
        return patterns
    taken = bytearray(max(e for _s, e, _l in model))
    for s, e, *_ in patterns:
        taken[s:e] = b"\x01" * len(taken[s:e])
    out = list(patterns)
    for s, e, label in model:
        if 1 not in taken[s:e]:
            out.append((s, e, label, "model", None))
    out.sort(key=lambda t: t[0])
    return out


def _rules_line(text: str, spans: list[tuple]) -> LineSuggestions:
    return LineSuggestions(
        spans=[
            Span.trusted(s, e, label, text[s:e], source, (readings or []) if label == "DATE" else None)
            for s, e, label, source, readings in spans
        ]
    )


PIECE = 2000  # the model reads a line longer than this in pieces of about this size


def _pieces(text: str) -> list[tuple[int, int]]:
    """Cuts of a line for the model: whole when short; else pieces ending at a clause break
    (。，；…) near every PIECE characters, or at PIECE exactly when there is none (unpunctuated)."""
    if len(text) <= PIECE * 2:
        return [(0, len(text))]
    from .dates import CLAUSE_BREAK

    cuts, start = [], 0
    while len(text) - start > PIECE * 2:
        window = text[start + PIECE // 2 : start + PIECE]
        breaks = [m.end() for m in CLAUSE_BREAK.finditer(window)]
        end = start + PIECE // 2 + breaks[-1] if breaks else start + PIECE
        cuts.append((start, end))
        start = end
    cuts.append((start, len(text)))
    return cuts


def _batches(lines: Iterable[str], size: int, max_chars: int | None = None) -> Iterator[list[str]]:
    """Lines in batches of ``size`` lines (and, when given, about ``max_chars`` characters)."""
    batch: list[str] = []
    chars = 0
    for line in lines:
        if not isinstance(line, str):
            raise TypeError(f"suggest_lines expects str lines, got {type(line).__name__}")
        batch.append(line)
        chars += len(line)
        if len(batch) >= size or (max_chars is not None and chars >= max_chars):
            yield batch
            batch = []
            chars = 0
    if batch:
        yield batch

"""The rules and patterns modes without spaCy give exactly what the spaCy pipeline gives."""

from __future__ import annotations

import re

from annotation.suggest import SuggestConfig, SuggestionService

_MARKUP = re.compile(r"<[^>]*>|¶")


def _lines(kanripo_dir, dev_sentences) -> list[str]:
    juan = kanripo_dir / "KR2a0024" / "WYG" / "KR2a0024_002.txt"
    body = [_MARKUP.sub("", x) for x in juan.read_text(encoding="utf-8").splitlines() if not x.startswith("#")]
    # punctuated dev sentences, an unpunctuated juan, empty lines and characters outside the BMP
    return [s.text for s in dev_sentences] + body + ["", "𫝊𠀀著《史記》，開元二十三年冬十月甲子", "   "]


def _dicts(service, lines):
    return [r.to_dict() for r in service.suggest_lines(lines)]


def test_rules_mode_without_spacy_is_the_same(tmp_path, shared_dir, kanripo_dir, dev_sentences):
    lines = _lines(kanripo_dir, dev_sentences)
    config = SuggestConfig(home=tmp_path, shared_dir=shared_dir, use_model=False)
    fast = SuggestionService(config)
    slow = SuggestionService(config, through_spacy=True)
    assert fast.info().mode == "rules"
    got, want = _dicts(fast, lines), _dicts(slow, lines)
    assert len(got) == len(lines)
    assert sum(len(r["spans"]) for r in want) > 1000
    for line, a, b in zip(lines, got, want):
        assert a == b, line


def test_patterns_mode_without_spacy_is_the_same(tmp_path, sanmiao_calendar):
    lines = ["開元二十三年，帝幸東都。", "九月乙丑朔，日有食之。乙亥，以怯薛官", "", "太史公作《史記》百三十篇",
             "漢武帝建元元年，始以年紀事", "建元元年歲在辛丑", "唐開元二十三年冬十月甲子，詔"]
    config = SuggestConfig(home=tmp_path, shared_dir=None)
    fast = SuggestionService(config, calendar=sanmiao_calendar)
    slow = SuggestionService(config, calendar=sanmiao_calendar, through_spacy=True)
    assert _dicts(fast, lines) == _dicts(slow, lines)


def test_a_batch_does_not_change_any_line(tmp_path, shared_dir, dev_sentences):
    """Lines are searched joined: a line's spans are the same alone as in a batch."""
    lines = [s.text for s in dev_sentences[:40]]
    service = SuggestionService(SuggestConfig(home=tmp_path, shared_dir=shared_dir, use_model=False))
    together = _dicts(service, lines)
    alone = [_dicts(service, [line])[0] for line in lines]
    assert together == alone

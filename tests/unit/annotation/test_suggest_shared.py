"""Suggestions with the real data in ../shared: rules path, model path, F1 on CHisIEC dev.

The thresholds are what the implementation measurably reaches, less a margin for CPU
nondeterminism; the full numbers are in ``python -m bench.suggest`` and docs/suggest.md.
Nothing here trains on dev: models are trained on ner_train.txt only.
"""

from __future__ import annotations

import pytest

from annotation.suggest import SuggestConfig, SuggestionService
from annotation.suggest.corpus import GoldSentence
from annotation.suggest.evaluate import score_spans
from annotation.suggest.normalize import to_traditional
from annotation.suggest.training import train_model

pytestmark = pytest.mark.shared

DEV_SLICE = slice(0, 100)


def _f1(service: SuggestionService, sentences: list[GoldSentence]) -> float:
    predicted = [[(s.start, s.end, s.label) for s in r.spans] for r in service.suggest_lines([x.text for x in sentences])]
    return score_spans(sentences, predicted)["ALL"].f1


def _traditional(sentences: list[GoldSentence]) -> list[GoldSentence]:
    return [GoldSentence(to_traditional(s.text), s.entities) for s in sentences]


def _offsets_are_code_points(service: SuggestionService, sentences: list[GoldSentence]) -> None:
    for sent, result in zip(sentences, service.suggest_lines([s.text for s in sentences])):
        for span in result.spans:
            assert sent.text[span.start : span.end] == span.text


# -- rules: gazetteers (CBDB + training names) and patterns ---------------------------------------


def test_rules_mode_uses_authority_lists(rules_service):
    info = rules_service.info()
    assert info.mode == "rules"
    assert info.calendar == "sanmiao+cbdb"
    assert info.gazetteer_terms > 50_000  # CBDB offices and places are in


def test_rules_f1_on_dev_slice(rules_service, dev_sentences):
    sentences = dev_sentences[DEV_SLICE]
    assert _f1(rules_service, sentences) >= 0.57  # measured 0.605
    assert _f1(rules_service, _traditional(sentences)) >= 0.57  # measured 0.605
    _offsets_are_code_points(rules_service, sentences)


def test_supplementary_character_before_a_gazetteer_entity(rules_service):
    text = "𫝊𫝊以荆州刺史"
    spans = {(s.start, s.end, s.label) for s in rules_service.suggest(text)}
    assert {(3, 5, "LOC"), (5, 7, "OFI")} <= spans


def test_short_list_words_need_context_in_rules_mode(rules_service):
    """大觀 is on CBDB's office list and a common word: alone it is not an office."""
    assert rules_service.suggest("此則岳陽樓之大觀也") == []
    gaz = rules_service._nlp.get_pipe("guji_features").gazetteer
    assert gaz.terms.get("大观") == "OFI" and "大观" not in gaz.confirmed_terms()
    # with context the same kind of term is proposed; longer and training-confirmed terms always
    got = {(s.text, s.label) for s in rules_service.suggest("范仲淹為參知政事，歐陽修知滁州")}
    assert {("參知政事", "OFI"), ("滁州", "LOC")} <= got
    folded = "除大观"
    assert gaz.in_context(folded, 1, 3, "OFI")
    assert not gaz.in_context("之大观也", 1, 3, "OFI")


def test_cbdb_reign_calendar_adds_eras_sanmiao_lacks(rules_service):
    (span,) = [s for s in rules_service.suggest("紹武元年，立於廣州") if s.label == "DATE"]
    assert [(d.era, d.regime, d.year, d.source) for d in span.dates] == [("紹武", "南明", 1646, "cbdb")]


# -- model: trained on 700 sentences of ner_train, 3 epochs (~1 min with the Kanripo vectors) ---------


@pytest.fixture(scope="module")
def small_model(tmp_path_factory, shared_dir):
    home = tmp_path_factory.mktemp("home-model")
    config = SuggestConfig(home=home, shared_dir=shared_dir)
    report = train_model(config, epochs=3, limit=700, max_seconds=300)
    return config, report


def test_model_is_built_reproducibly_into_guji_home(small_model):
    config, report = small_model
    assert (config.model_path / "guji-suggest.json").is_file()
    assert (config.model_path / "guji_features" / "gazetteer.json").is_file()
    assert report.epochs_run == 3 and report.train_sentences == 630


def test_model_mode(small_model, dev_sentences):
    config, _ = small_model
    service = SuggestionService(config)
    assert service.info().mode == "model"
    sentences = dev_sentences[DEV_SLICE]
    _offsets_are_code_points(service, sentences)
    assert _f1(service, sentences) >= 0.62  # measured 0.662 (700 training sentences, 3 epochs; spaCy model: 0.629)
    # patterns still apply in model mode
    kinds = {(s.label, s.text) for s in service.suggest("𫝊作《史記》，開元二十三年成")}
    assert {("BOOK", "史記"), ("DATE", "開元二十三年")} <= kinds


def test_model_reads_a_very_long_line_in_pieces(small_model, dev_sentences):
    """A whole juan on one line: read in pieces cut at clause breaks, offsets into the whole line."""
    from annotation.suggest.service import _pieces

    config, _ = small_model
    service = SuggestionService(config)
    line = "".join(s.text for s in dev_sentences)  # 13,602 characters, punctuated
    cuts = _pieces(line)
    assert len(cuts) > 3 and cuts[0][0] == 0 and cuts[-1][1] == len(line)
    assert all(a[1] == b[0] for a, b in zip(cuts, cuts[1:]))  # nothing lost or read twice
    assert all(line[b - 1] in "，。；：！？、" for _a, b in cuts[:-1])  # cut after a clause break
    (whole,) = service.suggest_lines([line])
    assert all(line[sp.start : sp.end] == sp.text for sp in whole.spans)
    pieces = list(service.suggest_lines([line[a:b] for a, b in cuts]))
    expected = [(sp.start + a, sp.end + a, sp.label) for (a, _b), got in zip(cuts, pieces) for sp in got.spans]
    assert [(sp.start, sp.end, sp.label) for sp in whole.spans] == expected
    assert len(expected) > 500


def test_rules_only_flag_ignores_the_model(small_model):
    config, _ = small_model
    service = SuggestionService(SuggestConfig(home=config.home, shared_dir=config.shared_dir, use_model=False))
    assert service.info().mode == "rules"


# -- model: the full training set; quality floors on dev (a few minutes on 2 cores) --------------------


@pytest.mark.slow
def test_full_model_quality_floor_on_dev(tmp_path, shared_dir, dev_sentences):
    """The character tagger (ADR 0023) trained as ``guji suggest --train`` does, cut to 6 epochs
    (the best held-out epoch has been 3–5): floors a little under what it measured, per label,
    simplified and traditional. Issue 14 asks 0.80 overall and BOOK 0.60: not reached (ADR 0023)."""
    config = SuggestConfig(home=tmp_path, shared_dir=shared_dir)
    train_model(config, epochs=6, max_seconds=600)
    service = SuggestionService(config)
    assert service.info().mode == "model"
    for sentences in (dev_sentences, _traditional(dev_sentences)):
        predicted = [[(s.start, s.end, s.label) for s in r.spans]
                     for r in service.suggest_lines([x.text for x in sentences])]
        scores = score_spans(sentences, predicted)
        assert scores["ALL"].f1 >= 0.73  # measured 0.755 (12 epochs, best 3; dilations 1, 2, 4)
        assert scores["PER"].f1 >= 0.72 and scores["LOC"].f1 >= 0.72 and scores["OFI"].f1 >= 0.72  # 0.751/0.775/0.762
        assert scores["BOOK"].f1 >= 0.12  # 0.294: 5 of 24 titles (no 《》 in the corpus)


def test_a_spacy_model_built_before_adr_0023_still_loads(tmp_path, shared_dir, dev_sentences):
    """A home with the old spaCy model keeps model mode until it is rebuilt."""
    from annotation.suggest.training import train_spacy_model

    config = SuggestConfig(home=tmp_path, shared_dir=shared_dir)
    train_spacy_model(config, epochs=1, limit=150, max_seconds=300)
    assert (config.model_path / "config.cfg").is_file()
    service = SuggestionService(config)
    assert service.info().mode == "model" and service._tagger is None
    sentences = dev_sentences[:20]
    _offsets_are_code_points(service, sentences)
    kinds = {(s.label, s.text) for s in service.suggest("作《史記》，開元二十三年成")}
    assert {("BOOK", "史記"), ("DATE", "開元二十三年")} <= kinds

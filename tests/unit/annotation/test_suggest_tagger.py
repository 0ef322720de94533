"""The character tagger (ADR 0023): a real training run cut to seconds on a small made-up corpus
(no ../shared needed), the spans it gives through SuggestionService (shape, code-point offsets,
odd characters, empty and very long lines), and a service seeing a newly built model.

The quality floor on CHisIEC dev with the full model is in test_suggest_shared.py (slow)."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from annotation.suggest import SuggestConfig, SuggestionService
from annotation.suggest.corpus import spans_to_bioes
from annotation.suggest.tagger import ALLOWED, TAGS, CharTagger, decode, viterbi
from annotation.suggest.training import train_model

SURNAMES = "王李張劉陳楊趙黃周吳徐孫胡朱高林何郭馬羅梁宋鄭謝唐許鄧馮曹彭曾蕭田董潘袁蔡蔣余杜葉程蘇魏呂丁任沈姚盧姜崔鍾譚陸汪范金石廖賈夏韋付方白鄒孟熊秦邱江尹薛閻段雷侯龍史陶黎賀顧毛郝龔邵萬錢嚴覃武戴莫孔向湯"
GIVEN = "仲淹修之安石光軾轍堅觀甫白維浩然居易禹錫宗元愈翱籍郊島商隱牧庭筠韜偃琦弼亮羽飛雲超忠義勇德信仁禮智"
PLACES = ["荆州", "揚州", "益州", "涼州", "并州", "徐州", "青州", "兗州", "豫州", "冀州", "幽州", "交州"]
OFFICES = ["刺史", "太守", "長史", "司馬", "別駕", "從事"]
SHAPES = ["{p}為{l}{o}", "以{p}為{l}{o}", "{p}出為{l}{o}，有政績", "詔{p}還朝", "{p}卒於{l}", "拜{p}{l}{o}"]


def _corpus(rng: random.Random, n: int) -> list[tuple[str, list[tuple[int, int, str]]]]:
    out = []
    for _ in range(n):
        shape = rng.choice(SHAPES)
        per = rng.choice(SURNAMES[:60]) + "".join(rng.choice(GIVEN[:30]) for _ in range(rng.choice((1, 2))))
        loc, ofi = rng.choice(PLACES[:8]), rng.choice(OFFICES)
        text, spans, pos = "", [], 0
        for piece in shape.replace("}", "}\0").split("\0"):
            for key, value, label in (("{p}", per, "PER"), ("{l}", loc, "LOC"), ("{o}", ofi, "OFI")):
                if key in piece:
                    head = piece.replace(key, "")
                    text += head
                    spans.append((len(text), len(text) + len(value), label))
                    text += value
                    break
            else:
                text += piece
        out.append((text, spans))
    return out


@pytest.fixture(scope="module")
def made_up(tmp_path_factory):
    """A 'shared' folder holding only a CoNLL training file of 400 made-up sentences; a model
    trained on it for 6 epochs (a few seconds of training)."""
    root = tmp_path_factory.mktemp("made-up")
    shared = root / "shared"
    (shared / "corpus" / "chisiec").mkdir(parents=True)
    lines = []
    for text, spans in _corpus(random.Random(7), 400):
        lines += [f"{ch}\t{tag}" for ch, tag in zip(text, spans_to_bioes(len(text), spans))] + [""]
    (shared / "corpus" / "chisiec" / "ner_train.txt").write_text("\n".join(lines), encoding="utf-8")
    config = SuggestConfig(home=root / "home", shared_dir=shared)
    before = SuggestionService(config)
    assert before.info().mode == "rules"
    report = train_model(config, epochs=6, width=64, dilations=(1, 2), max_seconds=300)
    return config, report, before


def test_training_builds_a_model_that_finds_unseen_names(made_up):
    config, report, _ = made_up
    assert report.epochs_run == 6 and report.train_sentences == 360 and report.val_f1 >= 0.9
    assert CharTagger.present(config.model_path)
    service = SuggestionService(config)
    assert service.info().mode == "model"
    # a surname, given name and place the training sentences never had together (韓, 翱 as first
    # given character, 交州 unseen): the context 為 … 刺史 carries the person
    spans = {(s.start, s.end, s.label, s.source) for s in service.suggest("韓翱為荆州刺史")}
    assert {(0, 2, "PER", "model"), (3, 5, "LOC", "model"), (5, 7, "OFI", "model")} <= spans


def test_the_prose_shapes_of_persons_fill_the_models_gaps():
    """Model mode adds what the rules path finds by a name's place in the prose (a name opening a
    clause before its verb: issue 14's own sentence) where the model proposed nothing; what the
    model proposed stays, and nothing overlaps."""
    from annotation.suggest.pipeline import add_persons

    text = "范仲淹為參知政事，歐陽修知滁州"
    model = [(0, 3, "PER", "model", None), (4, 8, "OFI", "model", None), (13, 15, "LOC", "model", None)]
    spans = add_persons(text, model)
    assert set(model) < set(spans) and (9, 12, "PER", "pattern", None) in spans
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))  # in order, no overlaps
    taken = [(0, 3, "PER", "model", None), (9, 14, "PER", "model", None)]  # the model's own (wrong) span stays
    assert add_persons(text, taken) == taken


def test_service_sees_the_new_model(made_up):
    _config, _report, before = made_up
    assert before.model_changed()  # made before training: a new service would use the model


def test_offsets_are_code_points_with_odd_characters(made_up):
    config, _, _ = made_up
    service = SuggestionService(config)
    lines = ["𫝊𫝊王安石為荆州刺史", "\ue000\ue001王安石為荆州刺史", "", "   ", "王安石\U000f0000為荆州刺史",
             "作《史記》，開元二十三年成"]
    results = list(service.suggest_lines(lines))
    assert len(results) == len(lines)
    for text, result in zip(lines, results):
        for span in result.spans:
            assert text[span.start : span.end] == span.text
            assert span.source in ("model", "pattern")
    assert results[2].spans == [] and results[3].spans == []
    # two supplementary-plane (then private-use) characters before: one code point each (the
    # model may take them into the name, at line start in this corpus a name begins)
    for result in results[:2]:
        got = {(s.end, s.label) for s in result.spans}
        assert {(5, "PER"), (8, "LOC"), (10, "OFI")} <= got
    kinds = {(s.label, s.text) for s in results[5].spans}
    assert {("BOOK", "史記"), ("DATE", "開元二十三年")} <= kinds
    assert results[5].model_dump(exclude_none=True)["spans"][0].keys() >= {"start", "end", "label", "text", "source"}
    for result in results:  # offsets are Python ints: the CLI writes them as JSON
        assert all(type(s.start) is int and type(s.end) is int for s in result.spans)
        json.loads(result.to_json())


def test_a_very_long_line_is_read_in_bounded_pieces(made_up):
    """300,000 characters on one line: the spans are those of its pieces, offsets into the whole line."""
    from annotation.suggest.service import _pieces

    config, _, _ = made_up
    service = SuggestionService(config)
    sentence = "以王安石為荆州刺史，"
    line = sentence * 30_000
    (result,) = service.suggest_lines([line])
    assert len(line) == 300_000
    persons = [s for s in result.spans if s.label == "PER"]
    assert len(persons) == 30_000
    assert all(line[s.start : s.end] == "王安石" for s in persons)
    cuts = _pieces(line)
    assert max(b - a for a, b in cuts) <= 4000


def test_batches_do_not_change_a_lines_spans(made_up):
    config, _, _ = made_up
    service = SuggestionService(config)
    lines = [t for t, _ in _corpus(random.Random(99), 50)]
    together = [[(s.start, s.end, s.label) for s in r.spans] for r in service.suggest_lines(lines)]
    alone = [[(s.start, s.end, s.label) for s in service.suggest(t)] for t in lines]
    assert together == alone


def test_viterbi_keeps_the_bioes_constraints():
    rng = np.random.default_rng(0)
    for _ in range(50):
        probs = rng.dirichlet(np.ones(len(TAGS)) * 0.3, size=12).astype("f")
        tags = viterbi(np.log(probs))
        assert TAGS[tags[0]][0] in "OBS" and TAGS[tags[-1]][0] in "OES"
        assert all(ALLOWED[a, b] for a, b in zip(tags[:-1], tags[1:]))
        for s, e, label in decode(probs):
            assert 0 <= s < e <= 12 and label in ("PER", "LOC", "OFI", "BOOK")
    sure = np.zeros((5, len(TAGS)), dtype="f")
    sure[:, 0] = 1.0
    assert decode(sure) == [] and decode(np.zeros((0, len(TAGS)), dtype="f")) == []


def test_cli_json_with_the_tagger(made_up, monkeypatch):
    """`guji suggest --json` in model mode: one JSON object per line, offsets in code points."""
    import typer
    from typer.testing import CliRunner

    from api.cli_suggest import register

    config, _, _ = made_up
    monkeypatch.setenv("GUJI_HOME", str(config.home))
    monkeypatch.setenv("GUJI_SHARED", str(config.shared_dir))
    app = typer.Typer()
    register(app)
    app.command("version")(lambda: None)  # a second command: typer keeps "suggest" a sub-command
    text = "𫝊王安石為荆州刺史\n\n以王安石為荆州刺史\n"
    result = CliRunner().invoke(app, ["suggest", "--json"], input=text.encode("utf-8"))
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == 3 and rows[1] == {"spans": []}
    assert "mode=model" in result.stderr
    for line, row in zip(text.splitlines(), rows):
        for span in row["spans"]:
            assert line[span["start"] : span["end"]] == span["text"] and span["source"] == "model"
    assert {"start": 1, "end": 4, "label": "PER", "text": "王安石", "source": "model"} in rows[2]["spans"]

"""Training on pseudo-labelled Kanripo sentences (ADR 0023, amendment 2): the sentences and their
bracketed titles, the per-character loss weights, and a real training run on a made-up 'shared'
folder where titles are only learnable from the Kanripo text (no ../shared needed)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from annotation.suggest import SuggestConfig, SuggestionService
from annotation.suggest.corpus import spans_to_bioes
from annotation.suggest.selftrain import ExtraSentence, pick, pseudo_labels, punctuated_files, sentences
from annotation.suggest.tagger import TAG_INDEX
from annotation.suggest.training import train_model

HEADER = "# -*- mode: mandoku-view -*-\n#+TITLE: 試\n#+PROPERTY: ID KR9z0001\n"


def test_sentences_join_a_paragraphs_clauses_and_drop_the_brackets(tmp_path):
    path = tmp_path / "KR9z0001_001.txt"
    path.write_text(HEADER + "<pb:KR9z0001_tls_1-1a>¶\n** 1 卷\n太史公曰：¶\n余讀《司馬兵法》，¶\n閎廓深遠。"
                    "《易》曰：¶\n「亢龍有悔。」又曰：《象》云：天行健¶\n\n國名|王子號|\n短句。\n", encoding="utf-8")
    got = sentences([path])
    assert [s.text for s in got] == ["太史公曰：余讀司馬兵法，閎廓深遠。", "易曰：「亢龍有悔。」", "又曰：象云：天行健"]
    assert [[s.text[a:b] for a, b in s.books] for s in got] == [["司馬兵法"], ["易"], ["象"]]


def test_an_unbalanced_bracket_leaves_the_sentence_out(tmp_path):
    path = tmp_path / "KR9z0001_001.txt"
    path.write_text(HEADER + "余讀《司馬兵法，閎廓深遠矣。\n", encoding="utf-8")
    assert sentences([path]) == []


def test_only_punctuated_editions_are_read_and_one_edition_a_text(tmp_path):
    root = tmp_path / "corpus" / "kanripo"
    for edition, body in (("tls", "王曰：「善。」\n" * 20), ("master", "王曰：「善。」\n" * 20)):
        (root / "KR9z0001" / edition).mkdir(parents=True)
        (root / "KR9z0001" / edition / "KR9z0001_001.txt").write_text(HEADER + body, encoding="utf-8")
    (root / "KR9z0002" / "WYG").mkdir(parents=True)
    (root / "KR9z0002" / "WYG" / "KR9z0002_001.txt").write_text(HEADER + "王曰善" * 50, encoding="utf-8")
    files = punctuated_files(tmp_path)
    assert [f.relative_to(root).as_posix() for f in files] == ["KR9z0001/tls/KR9z0001_001.txt"]
    assert punctuated_files(None) == [] and punctuated_files(tmp_path / "nowhere") == []


def test_pick_caps_each_title_and_the_characters():
    extra = [ExtraSentence("象曰：雲上於天", [(0, 1)]) for _ in range(50)]
    extra += [ExtraSentence("余讀司馬兵法矣", [(2, 6)])]
    extra += [ExtraSentence("王北略中山之地", []) for _ in range(100)]
    chosen = pick(extra, max_chars=200, per_title=5)
    assert sum(1 for s in chosen if s.books == [(0, 1)]) == 5
    assert any(s.books == [(2, 6)] for s in chosen)
    assert sum(len(s.text) for s in chosen) <= 200


class _Fixed:
    """A stand-in with the one method pseudo_labels calls: fixed tag probabilities per sentence."""

    def __init__(self, probs):
        self.probs = probs

    def probabilities(self, lines):
        return [p.copy() for p in self.probs]


def test_pseudo_labels_weigh_sure_characters_and_titles():
    text = "王安石讀易及象"  # 王安石 PER, sure; 讀 unsure; 易 and 象 bracketed one-character titles
    n = len(text)
    probs = np.full((n, len(TAG_INDEX)), 0.0, dtype="f")
    gold = [TAG_INDEX[t] for t in spans_to_bioes(n, [(0, 3, "PER")])]
    probs[np.arange(n), gold] = 0.97
    probs[3] = 0.0
    probs[3, 0], probs[3, TAG_INDEX["S-LOC"]] = 0.55, 0.45
    probs += 0.03 / len(TAG_INDEX)
    sent = ExtraSentence(text, [(4, 5), (6, 7)])
    (tags,), (weights,) = pseudo_labels(_Fixed([probs]), [sent], sure=0.9, single=frozenset("易"))
    assert [t for t in tags[:3]] == [TAG_INDEX["B-PER"], TAG_INDEX["I-PER"], TAG_INDEX["E-PER"]]
    assert tags[4] == TAG_INDEX["S-BOOK"] and weights[4] == 1.0  # 易: a title the training set knows
    assert weights[6] == 0.0  # 象: a one-character title it does not know carries no loss
    assert weights[3] == 0.0 and list(weights[:3]) == [1.0, 1.0, 1.0]


# -- a real run: titles only the Kanripo text shows -------------------------------------------------

SURNAMES = "王李張劉陳楊趙黃周吳徐孫胡朱高林何郭馬羅"
GIVEN = "仲淹修之安石光軾轍堅觀甫白維浩然居易"
PLACES = ["荆州", "揚州", "益州", "涼州", "并州", "徐州"]
TITLES = ["兵法", "國語"] + [a + b for a in "春山樂禹月世周漢" for b in "秋經記貢令本書志"]


def _person(rng):
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)


@pytest.fixture(scope="module")
def with_kanripo(tmp_path_factory):
    """CHisIEC-like training sentences without a single title; a punctuated 'Kanripo' text whose
    editor bracketed titles (read 《X》 / 《X》曰); both models trained the same way."""
    rng = random.Random(3)
    root = tmp_path_factory.mktemp("kanripo-run")
    shared = root / "shared"
    (shared / "corpus" / "chisiec").mkdir(parents=True)
    lines = []
    for _ in range(300):
        per, loc = _person(rng), rng.choice(PLACES)
        text = f"{per}至{loc}，{rng.choice('讀論')}之。"
        spans = [(0, 3, "PER"), (4, 6, "LOC")]
        lines += [f"{ch}\t{tag}" for ch, tag in zip(text, spans_to_bioes(len(text), spans))] + [""]
    (shared / "corpus" / "chisiec" / "ner_train.txt").write_text("\n".join(lines), encoding="utf-8")
    body = []
    for _ in range(600):  # the training run keeps at most 5 sentences a title
        title = rng.choice(TITLES)
        body.append(rng.choice([f"{_person(rng)}讀《{title}》，至{rng.choice(PLACES)}。",
                                f"《{title}》曰：「{_person(rng)}至{rng.choice(PLACES)}。」"]))
    text_dir = shared / "corpus" / "kanripo" / "KR9z0001" / "tls"
    text_dir.mkdir(parents=True)
    (text_dir / "KR9z0001_001.txt").write_text(HEADER + "\n\n".join(body) + "\n", encoding="utf-8")
    alone = SuggestConfig(home=root / "alone", shared_dir=shared)
    both = SuggestConfig(home=root / "both", shared_dir=shared)
    train_model(alone, epochs=8, width=64, dilations=(1, 2), max_seconds=300)
    report = train_model(both, epochs=8, width=64, dilations=(1, 2), self_training=True, teacher_epochs=8, max_seconds=300)
    return alone, both, report


def test_titles_are_learnt_from_the_kanripo_brackets(with_kanripo):
    alone, both, report = with_kanripo
    assert report.train_sentences == 270
    # titles only the Kanripo text had (in brackets), here without them, with persons it never had
    line = "王安石讀兵法，至荆州。國語曰：「李光至益州。」"
    found = {(s.text, s.label) for s in SuggestionService(both).suggest(line)}
    assert {("兵法", "BOOK"), ("國語", "BOOK")} <= found
    without = {(s.text, s.label) for s in SuggestionService(alone).suggest(line)}
    assert not any(label == "BOOK" for _t, label in without)

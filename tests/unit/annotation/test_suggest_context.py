"""The tagger's wider view (ADR 0023, amendment 3): the dilated convolution window (values at the
sequence ends, gradient against finite differences, no row seeing another sentence) and the masked
character pretraining (a hidden character is really hidden; a predictable one is learnt)."""

from __future__ import annotations

import random

import numpy as np
import pytest
from thinc.types import Ragged

from annotation.suggest import pretrain as P
from annotation.suggest.gazetteer import Gazetteer
from annotation.suggest.tagger import N_FEATURES, CharTagger, build_model, dilated_window

CHARS = "甲乙丙丁戊己庚辛壬癸"


def test_dilated_window_values_stay_inside_each_sequence():
    X = np.arange(1, 10, dtype="f").reshape(9, 1)  # sequences [1..5], [6], [7 8 9]
    Y, _ = dilated_window(2)(Ragged(X, np.array([5, 1, 3], dtype="i")), is_train=False)
    assert Y.dataXd.tolist() == [
        [0, 1, 3], [0, 2, 4], [1, 3, 5], [2, 4, 0], [3, 5, 0],
        [0, 6, 0],
        [0, 7, 9], [0, 8, 0], [7, 9, 0],
    ]
    assert Y.lengths.tolist() == [5, 1, 3]


@pytest.mark.parametrize("dilation", [1, 2, 4])
def test_dilated_window_gradient_matches_finite_differences(dilation):
    rng = np.random.default_rng(dilation)
    lengths = np.array([6, 1, 4, 2], dtype="i")
    X = rng.normal(size=(int(lengths.sum()), 3))
    R = rng.normal(size=(len(X), 9))  # loss = sum(window(X) * R)
    layer = dilated_window(dilation)
    _, backprop = layer(Ragged(X, lengths), is_train=True)
    analytic = backprop(Ragged(R, lengths)).dataXd
    numeric = np.zeros_like(X)
    eps = 1e-4
    for i in range(X.shape[0]):
        for j in range(X.shape[1]):
            up, down = X.copy(), X.copy()
            up[i, j] += eps
            down[i, j] -= eps
            f_up = (layer(Ragged(up, lengths), is_train=False)[0].dataXd * R).sum()
            f_down = (layer(Ragged(down, lengths), is_train=False)[0].dataXd * R).sum()
            numeric[i, j] = (f_up - f_down) / (2 * eps)
    assert np.abs(numeric - analytic).max() < 1e-6
    assert np.abs(analytic).max() > 0.1  # not trivially zero


def test_a_dilated_model_reads_each_line_alone():
    """A line's probabilities do not depend on the lines batched with it (no padding between
    them: the window itself stops at each line's ends)."""
    rng = np.random.default_rng(0)
    model = build_model(dilations=[1, 2, 4], pieces=1)
    lines = [rng.integers(1, 5000, size=(n, N_FEATURES)).astype(np.uint64) for n in (9, 1, 40, 3)]
    model.initialize(X=lines)
    together = model.predict(lines)
    for line, p in zip(lines, together):
        alone = model.predict([line])[0]
        assert np.abs(alone - p).max() < 1e-5


def _tagger() -> CharTagger:
    vectors = np.random.default_rng(0).normal(size=(len(CHARS), 64)).astype("f")
    return CharTagger.new(Gazetteer(), vectors=(CHARS, vectors), width=64, dilations=[1, 2, 4], pieces=1)


def _pretrain(texts: list[str]) -> dict:
    tagger = _tagger()
    tagger.initialize(tagger.features(texts[:8]), None)
    return P.pretrain(tagger, texts, max_chars=120_000, seed=0)


def test_a_hidden_character_cannot_be_read_from_its_neighbours_features(monkeypatch):
    """Random text, each sentence seen once: nothing but the character itself tells it, so the
    hidden one is guessed at chance (1 in 10). With its own bigrams and trigram left visible the
    same run reads it off them: the check can fail."""
    rng = random.Random(0)
    texts = ["".join(rng.choice(CHARS) for _ in range(rng.randrange(8, 30))) for _ in range(7000)]
    assert _pretrain(texts)["accuracy"] < 0.2
    monkeypatch.setattr(P, "HIDE_OWN", [0, 6])
    assert _pretrain(texts)["accuracy"] > 0.6


def test_a_character_its_context_decides_is_learnt():
    rng = random.Random(1)
    texts = []
    for _ in range(300):
        k = rng.randrange(10)
        texts.append("".join(CHARS[(k + i) % 10] for i in range(rng.randrange(8, 30))))
    assert _pretrain(texts)["accuracy"] > 0.9


def test_hide_blanks_the_character_and_the_ngrams_holding_it():
    tagger = _tagger()
    x = tagger.features(["甲乙丙丁戊"])[0]
    h = P.hide(x, np.array([2]))
    assert (h[2, P.HIDE_OWN] == 0).all()
    assert h[1, 2] == 0 and h[1, 3] == 0 and h[1, 1] == x[1, 1]  # (乙丙), (甲乙丙) gone; (甲乙) stays
    assert h[3, 1] == 0 and h[3, 3] == 0 and h[3, 2] == x[3, 2]
    assert (h[0][[0, 1, 2, 3, 6]] == x[0][[0, 1, 2, 3, 6]]).all() and (h[4][[0, 1, 2, 3, 6]] == x[4][[0, 1, 2, 3, 6]]).all()


@pytest.mark.parametrize("shape, window", [({"depth": 2}, "expand_window"), ({"dilations": [1, 2, 4, 8]}, "dilated_window")])
def test_a_saved_model_loads_with_its_own_windows(tmp_path, shape, window):
    """Models built before amendment 3 have no ``dilations`` in tagger.json: they load as the ±1
    windows they were trained with; a dilated one loads dilated. Both predict what they did."""
    tagger = CharTagger.new(Gazetteer(), width=64, pieces=1, **shape)
    lines = ["甲乙丙丁", "戊", "己庚辛壬癸甲乙丙丁戊己庚"]
    tagger.initialize(tagger.features(lines), None)
    before = tagger.probabilities(lines)
    tagger.to_disk(tmp_path / "m")
    loaded = CharTagger.from_disk(tmp_path / "m")
    assert ("dilations" in loaded.config) == ("dilations" in shape)
    names = [node.name for node in loaded.model.walk()]
    assert any(n.startswith(window) for n in names)
    assert not any(n.startswith({"expand_window": "dilated_window", "dilated_window": "expand_window"}[window]) for n in names)
    for a, b in zip(before, loaded.probabilities(lines)):
        assert np.abs(a - b).max() < 1e-6


def test_titles_from_elsewhere_are_book_terms_of_the_gazetteer():
    from annotation.suggest.gazetteer import build_gazetteer
    from annotation.suggest.normalize import fold

    gaz = build_gazetteer(None, None, titles=["資暇錄", "易", "史記"])
    assert gaz.terms == {fold("資暇錄"): "BOOK", fold("史記"): "BOOK"}  # one character is never a term
    assert gaz.source_counts() == {"kanripo-titles": 2}
    assert fold("資暇錄") not in gaz.confirmed_terms()  # not from the training corpus
    assert build_gazetteer(None, None).terms == {}

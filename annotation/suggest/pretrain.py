"""Self-supervised pretraining of the tagger's encoder on Kanripo (ADR 0023, amendment 3).

CHisIEC's training set is ≈ 109,000 characters; the punctuated Kanripo texts in ``../shared`` are
≈ 1.9 M characters of the same prose without labels. Before the tagger learns its tags, its
encoder (the embeddings and the convolution layers, :func:`.tagger.build_model`) learns to
predict a hidden character from the characters around it — a masked character model, the cheap
and download-free form of what a pretrained language model gives published systems.

- The classes are the rows of the character vectors (the most frequent folded characters,
  :mod:`.charvectors`; column 6 of the features); a position whose character is not among them
  is never hidden.
- Hiding ``mask_rate`` of the positions removes everything that names the character: its own
  features (character, bigrams, trigram, vector row) and the bigram and trigram of each neighbour
  that contain it. The gazetteer is not read (the columns are 0): the task is the text's.
- The output layer (a softmax over the classes) is thrown away afterwards; the encoder's weights
  stay and the tagger is trained from them (:func:`.training.train_model`, ``pretrain_chars``).

Nothing is written anywhere; the text lives for the training run only.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np

HIDE_OWN = [0, 1, 2, 3, 4, 6, 7]


def encoder_of(model):
    """The layers of a dilated tagger model up to (not including) its softmax: a thinc chain
    sharing their weights with ``model``."""
    from thinc.api import chain

    names = [layer.name for layer in model.layers]
    if not names or names[0] != "list2ragged":
        raise ValueError("pretraining needs a model built with dilations")
    return chain(*model.layers[:-2])


def hide(x: np.ndarray, masked: np.ndarray) -> np.ndarray:
    """A copy of one sentence's features with the characters at ``masked`` (indices) unnamed."""
    x = x.copy()
    x[:, 4] = 0
    x[:, 7] = 0
    if not len(masked):
        return x
    x[masked[:, None], HIDE_OWN] = 0
    before = masked[masked > 0] - 1  # (previous, this) bigram and trigram of the one before
    x[before, 2] = 0
    x[before, 3] = 0
    after = masked[masked < len(x) - 1] + 1
    x[after, 1] = 0
    x[after, 3] = 0
    return x


def pretrain(tagger, texts: list[str], *, max_chars: int, mask_rate: float = 0.15, learn_rate: float = 0.002,
             batch_size: int = 64, seed: int = 0, max_seconds: float = 300.0,
             say: Callable[[str], None] = lambda m: None) -> dict:
    """Train ``tagger``'s encoder (already initialised) to predict hidden characters of ``texts``,
    over at most ``max_chars`` characters (passes over ``texts`` as needed) or ``max_seconds``.
    Returns {"chars", "masked", "seconds", "accuracy" (of the last 10 % of batches)}."""
    from thinc.api import Adam, Softmax
    from thinc.types import Ragged

    from . import tagger as T

    if tagger.vocab is None:
        raise ValueError("pretraining needs the character vectors (their rows are the classes)")
    t_start = time.perf_counter()
    encoder = encoder_of(tagger.model)
    width = tagger.config.get("width", 64)
    n_classes = len(tagger.chars) + 1
    head = Softmax(n_classes, width)
    head.initialize(X=np.zeros((2, width), dtype="f"), Y=np.zeros((2, n_classes), dtype="f"))
    T.use_fast_ops(head)
    X = T.features(texts, None, tagger.vocab)
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    optimizer = Adam(learn_rate)
    order: list[int] = []
    chars = masked_total = 0
    hits: list[tuple[int, int]] = []
    while chars < max_chars and time.perf_counter() - t_start < max_seconds:
        if not order:
            order = list(range(len(X)))
            rng.shuffle(order)
        batch = [X[i] for i in order[:batch_size]]
        del order[:batch_size]
        xs, targets, rows = [], [], []
        offset = 0
        for x in batch:
            candidates = np.flatnonzero(x[:, 6] > 0)
            masked = candidates[np_rng.random(len(candidates)) < mask_rate]
            xs.append(hide(x, masked))
            targets.append(x[masked, 6].astype(np.int64))
            rows.append(masked + offset)
            offset += len(x)
        target = np.concatenate(targets)
        rows_all = np.concatenate(rows)
        chars += offset
        if not len(target):
            continue
        with T._one_blas_thread():
            H, back_enc = encoder.begin_update(xs)
            P, back_head = head.begin_update(H.dataXd[rows_all])
            dP = P.copy()
            dP[np.arange(len(target)), target] -= 1.0
            dP /= len(target)
            dH = back_head(dP)
            dData = np.zeros_like(H.dataXd)
            dData[rows_all] = dH
            back_enc(Ragged(dData, H.lengths))
        encoder.finish_update(optimizer)
        head.finish_update(optimizer)
        masked_total += len(target)
        hits.append((int((P.argmax(axis=1) == target).sum()), len(target)))
        if len(hits) % 200 == 0:
            last = hits[-200:]
            say(f"pretraining: {chars} characters, accuracy {sum(h for h, _ in last) / max(1, sum(n for _, n in last)):.3f} "
                f"({time.perf_counter() - t_start:.0f}s)")
    tail = hits[-max(1, len(hits) // 10):]
    return {"chars": chars, "masked": masked_total, "seconds": round(time.perf_counter() - t_start, 1),
            "accuracy": round(sum(h for h, _ in tail) / max(1, sum(n for _, n in tail)), 4)}

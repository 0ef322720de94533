"""Build the suggestion model from ``../shared`` into ``$GUJI_HOME/models/suggest-ner``.

The model is the character tagger of :mod:`.tagger` (ADR 0023); :func:`train_spacy_model` still
builds the spaCy model it replaced (ADR 0004), for comparison.

Reproducible (fixed seed, data checksums recorded) and bounded (``max_seconds``): the model is
never committed, it is rebuilt from the shared data (``guji suggest --train`` or
``python -m annotation.suggest.training``).

Data: CHisIEC ``ner_train.txt`` only. 10 % of it is held out for choosing the epoch; the
development set (``ner_dev.txt``) is never read here, it is for evaluation alone.

Gazetteer features: the model sees, for each character, whether a gazetteer matches there. Names
taken from the training corpus would match every training sentence they came from, and the model
would learn to trust the gazetteer blindly. So each training sentence gets its features from a
gazetteer built WITHOUT its own fold (5 folds), the way it will meet unseen text; the saved model
carries the gazetteer built from all training sentences.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import spacy
from spacy.tokens import Doc
from spacy.training import Example
from spacy.util import compounding, fix_random_seed, minibatch

from annotation.errors import SuggestDataMissingError

from .config import SuggestConfig
from .corpus import NER_LABELS, GoldSentence, read_conll
from .evaluate import score_spans
from .gazetteer import Gazetteer, build_gazetteer
from .pipeline import blank_pipeline, ner_config

log = logging.getLogger(__name__)

META_FILE = "guji-suggest.json"
FORMAT_VERSION = 2  # 2: the character tagger (ADR 0023); 1: spaCy NER (ADR 0004)


@dataclass
class TrainReport:
    path: str
    seconds: float
    epochs_run: int
    best_epoch: int
    val_f1: float
    val_history: list[float] = field(default_factory=list)
    train_sentences: int = 0
    val_sentences: int = 0
    gazetteer_terms: int = 0


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()



def _training_split(config: SuggestConfig, rng: random.Random, limit: int | None, val_fraction: float,
                    say: Callable[[str], None]) -> tuple[list, list]:
    """CHisIEC's training sentences, shuffled by ``rng`` (cut to ``limit``), split into what the model
    learns from and what chooses its epoch (never dev)."""
    chisiec = config.chisiec_dir
    if chisiec is None or not (chisiec / "ner_train.txt").is_file():
        raise SuggestDataMissingError(
            "CHisIEC training data not found; set GUJI_SHARED to the shared data folder",
            file=str((chisiec or Path("shared/corpus/chisiec")) / "ner_train.txt"),
        )
    sentences = read_conll(chisiec / "ner_train.txt")
    order = list(range(len(sentences)))
    rng.shuffle(order)
    if limit is not None:
        order = order[:limit]
    n_val = max(1, int(len(order) * val_fraction))
    val = [sentences[i] for i in order[:n_val]]
    train = [sentences[i] for i in order[n_val:]]
    say(f"training sentences: {len(train)}, held out for choosing the epoch: {len(val)}")
    return train, val


def train_spacy_model(
    config: SuggestConfig,
    *,
    out_dir: Path | None = None,
    epochs: int = 12,
    max_seconds: float = 600.0,
    seed: int = 0,
    folds: int = 5,
    val_fraction: float = 0.1,
    limit: int | None = None,
    width: int = 96,
    progress: Callable[[str], None] | None = None,
) -> TrainReport:
    """The spaCy CNN model of ADR 0004 (before ADR 0023): kept to compare against (``bench.suggest
    --old``) and loadable by the service; :func:`train_model` builds the model in use."""
    say = progress or log.info
    cbdb = config.cbdb_dir
    out_dir = out_dir or config.model_path
    t_start = time.perf_counter()
    fix_random_seed(seed)
    rng = random.Random(seed)
    train, val = _training_split(config, rng, limit, val_fraction, say)

    parts = [train[k::folds] for k in range(folds)]
    fold_gaz = [build_gazetteer(cbdb, [s for j, p in enumerate(parts) if j != k for s in p]) for k in range(folds)]
    val_gaz = build_gazetteer(cbdb, train)
    say(f"gazetteers built ({time.perf_counter() - t_start:.1f}s)")

    nlp = blank_pipeline()
    features = nlp.add_pipe("guji_features")
    ner = nlp.add_pipe("ner", config=ner_config(width=width))
    for label in NER_LABELS:
        ner.add_label(label)

    def featurize(text: str, gaz: Gazetteer) -> Doc:
        features.gazetteer = gaz
        return features(nlp.make_doc(text))

    def example(sent: GoldSentence, gaz: Gazetteer) -> Example:
        predicted = featurize(sent.text, gaz)
        reference = Doc(nlp.vocab, words=[t.text for t in predicted], spaces=[bool(t.whitespace_) for t in predicted])
        reference.ents = [reference.char_span(s, e, label=lab) for s, e, lab in sent.entities]
        return Example(predicted, reference)

    examples = [example(s, fold_gaz[k]) for k, part in enumerate(parts) for s in part]
    val_docs = [featurize(s.text, val_gaz) for s in val]
    optimizer = nlp.initialize(lambda: examples)

    best_f1, best_epoch, best_bytes, history = -1.0, -1, None, []
    epochs_run = 0
    for epoch in range(epochs):
        rng.shuffle(examples)
        losses: dict[str, float] = {}
        for batch in minibatch(examples, size=compounding(4.0, 32.0, 1.001)):
            nlp.update(batch, sgd=optimizer, drop=0.2, losses=losses)
        epochs_run += 1
        predicted = [[(e.start_char, e.end_char, e.label_) for e in ner(doc.copy()).ents] for doc in val_docs]
        f1 = score_spans(val, predicted)["ALL"].f1
        history.append(round(f1, 4))
        elapsed = time.perf_counter() - t_start
        say(f"epoch {epoch + 1}: loss {losses.get('ner', 0):.0f}, held-out F1 {f1:.3f} ({elapsed:.0f}s)")
        if f1 > best_f1:
            best_f1, best_epoch, best_bytes = f1, epoch + 1, ner.to_bytes()
        if elapsed > max_seconds:
            say(f"stopping: time budget of {max_seconds:.0f}s used")
            break

    ner.from_bytes(best_bytes)
    features.gazetteer = build_gazetteer(cbdb, train + val)
    seconds = time.perf_counter() - t_start

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    nlp.to_disk(tmp)
    sources = _sources(config.chisiec_dir, cbdb)
    report = TrainReport(
        path=str(out_dir),
        seconds=round(seconds, 1),
        epochs_run=epochs_run,
        best_epoch=best_epoch,
        val_f1=round(best_f1, 4),
        val_history=history,
        train_sentences=len(train),
        val_sentences=len(val),
        gazetteer_terms=len(features.gazetteer),
    )
    meta = {
        "format": 1,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "spacy": spacy.__version__,
        "seed": seed,
        "width": width,
        "sources": sources,
        "gazetteer_sources": features.gazetteer.source_counts(),
        "report": asdict(report),
    }
    (tmp / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    say(f"model saved to {out_dir} (best epoch {best_epoch}, held-out F1 {best_f1:.3f}, {seconds:.0f}s)")
    return report


def train_model(
    config: SuggestConfig,
    *,
    out_dir: Path | None = None,
    epochs: int = 12,
    max_seconds: float = 600.0,
    seed: int = 0,
    folds: int = 5,
    val_fraction: float = 0.1,
    limit: int | None = None,
    width: int = 64,
    depth: int = 3,
    dilations: tuple[int, ...] | None = (1, 2, 4),
    pieces: int = 1,
    dropout: float = 0.1,
    feature_dropout: float = 0.25,
    use_vectors: bool = True,
    learn_rate: float = 0.002,
    batch_size: int = 32,
    self_training: bool = False,
    extra_chars: int = 200_000,
    teacher_epochs: int = 12,
    extra_per_epoch: int = 0,
    average: bool = False,
    pretrain_chars: int = 0,
    pretrain_seconds: float = 300.0,
    book_titles: bool = False,
    progress: Callable[[str], None] | None = None,
) -> TrainReport:
    """Train the character tagger (:mod:`.tagger`), keep the epoch that scores best on the held-out
    part of the training set, save it (whole, renamed into place) to ``out_dir``.

    ``self_training`` (off by default; ADR 0023, amendment 2: +0.010 overall on dev, mean of 3 seeds, for ≈ 5× the
    training time): a first model
    (``teacher_epochs``) labels ``extra_chars`` characters of the punctuated Kanripo texts
    (:mod:`.selftrain`: its sure characters, and the titles their editors bracketed); a second
    model is trained on CHisIEC plus ``extra_per_epoch`` characters of them an epoch.
    ``average``: keep the optimiser's running average of the weights instead of the last ones.
    ``dilations`` (default ``(1, 2, 4)``, ADR 0023 amendment 4; ``depth`` is then ignored):
    dilated convolution layers, a view of ±7 characters (:func:`.tagger.dilated_window`); ``None``:
    ``depth`` layers of ±1 windows (the network before the amendment). ``pretrain_chars`` (needs ``dilations`` and the vectors):
    first train the encoder to predict hidden characters of that many characters of the
    punctuated Kanripo sentences (:mod:`.pretrain`, at most ``pretrain_seconds``).
    ``book_titles``: the titles bracketed 《…》 in those sentences are BOOK terms of every gazetteer."""
    import numpy as np
    from thinc.api import Adam
    from thinc.api import fix_random_seed as thinc_seed

    from . import tagger as T

    say = progress or log.info
    cbdb = config.cbdb_dir
    out_dir = out_dir or config.model_path
    t_start = time.perf_counter()
    thinc_seed(seed)
    rng = random.Random(seed)
    train, val = _training_split(config, rng, limit, val_fraction, say)

    vectors = None
    if use_vectors:
        from .charvectors import build_vectors, kanripo_files

        vectors = build_vectors(kanripo_files(config.shared), dims=width, seed=seed)
        say(f"character vectors: {len(vectors[0]) if vectors else 0} characters from Kanripo "
            f"({time.perf_counter() - t_start:.1f}s)")
    shape = dict(width=width, depth=depth, pieces=pieces, dropout=dropout)
    if dilations:
        shape["dilations"] = list(dilations)
    kanripo = None
    if pretrain_chars or book_titles:
        from .selftrain import punctuated_files, sentences

        kanripo = sentences(punctuated_files(config.shared))
    titles = sorted({s.text[a:b] for s in kanripo or () for a, b in s.books}) if book_titles else []
    if book_titles:
        say(f"Kanripo titles for the gazetteer: {len(titles)}")
    tagger = T.CharTagger.new(build_gazetteer(cbdb, train, titles=titles), vectors=vectors, **shape)
    parts = [train[k::folds] for k in range(folds)]
    X: list = []
    Y: list = []
    for k, part in enumerate(parts):
        gaz = build_gazetteer(cbdb, [s for j, p in enumerate(parts) if j != k for s in p], titles=titles)
        X += tagger.features([s.text for s in part], gaz)
        Y += [T.gold_tags(len(s.text), s.entities) for s in part]
    say(f"gazetteers built ({time.perf_counter() - t_start:.1f}s)")
    if pretrain_chars and tagger.vocab is not None:
        _pretrain(kanripo, tagger, X, Y, max_chars=pretrain_chars, max_seconds=pretrain_seconds, seed=seed,
                  learn_rate=learn_rate, say=say, t_start=t_start)
    fit = dict(epochs=epochs, max_seconds=max_seconds, t_start=t_start, feature_dropout=feature_dropout,
               learn_rate=learn_rate, batch_size=batch_size, seed=seed, say=say, average=average)
    first_fit = dict(fit, epochs=min(epochs, teacher_epochs)) if self_training else fit
    best_f1, best_epoch, best_bytes, history, epochs_run = _fit(tagger, X, Y, None, val, rng, **first_fit)
    if self_training:
        extra = _extra_sentences(config, train, best_bytes, tagger, max_chars=extra_chars, seed=seed,
                                 say=say, t_start=t_start)
        if extra is not None:
            texts, tags, weights = extra
            first = (best_f1, best_epoch)
            tagger = T.CharTagger.new(tagger.gazetteer, vectors=vectors, **shape)
            thinc_seed(seed)
            X2 = X + tagger.features(texts)
            Y2 = Y + tags
            W2 = [None] * len(X) + weights
            best_f1, best_epoch, best_bytes, history, epochs_run = _fit(
                tagger, X2, Y2, W2, val, rng, n_extra=len(texts), extra_per_epoch=extra_per_epoch, **fit)
            say(f"with the Kanripo sentences: held-out F1 {best_f1:.3f} (epoch {best_epoch}); "
                f"CHisIEC alone: {first[0]:.3f} (epoch {first[1]})")
    tagger.model.from_bytes(best_bytes)
    tagger.gazetteer = build_gazetteer(cbdb, train + val, titles=titles)
    seconds = time.perf_counter() - t_start

    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_dir.with_name(out_dir.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tagger.to_disk(tmp)
    report = TrainReport(
        path=str(out_dir), seconds=round(seconds, 1), epochs_run=epochs_run, best_epoch=best_epoch,
        val_f1=round(best_f1, 4), val_history=history, train_sentences=len(train), val_sentences=len(val),
        gazetteer_terms=len(tagger.gazetteer),
    )
    meta = {
        "format": FORMAT_VERSION,
        "kind": "char-tagger",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "seed": seed,
        "model": tagger.config,
        "sources": _sources(config.chisiec_dir, cbdb),
        "gazetteer_sources": tagger.gazetteer.source_counts(),
        "report": asdict(report),
    }
    (tmp / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    # meta.json: what services watch (its time stamp says a model was built); written last
    (tmp / "meta.json").write_text(json.dumps({"name": "guji-suggest", "kind": "char-tagger"}), encoding="utf-8")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    tmp.rename(out_dir)
    say(f"model saved to {out_dir} (best epoch {best_epoch}, held-out F1 {best_f1:.3f}, {seconds:.0f}s)")
    return report


def _extra_sentences(config: SuggestConfig, train: list, best_bytes: bytes, tagger, *, max_chars: int, seed: int,
                     say: Callable[[str], None], t_start: float):
    """Sentences of the punctuated Kanripo texts labelled by ``tagger`` at its best epoch, with
    their bracketed titles as BOOK (:mod:`.selftrain`): (texts, tags, weights), or None when
    ../shared has no punctuated text."""
    from .normalize import fold
    from .selftrain import pick, pseudo_labels, punctuated_files, sentences

    files = punctuated_files(config.shared)
    if not files:
        say("no punctuated Kanripo text: CHisIEC alone")
        return None
    tagger.model.from_bytes(best_bytes)  # the teacher: the first model at its best epoch
    extra = pick(sentences(files), max_chars, seed=seed)
    single = frozenset(fold(t) for s in train for a, b, label in s.entities if label == "BOOK" and b - a == 1
                       for t in [s.text[a:b]])
    tags, weights = pseudo_labels(tagger, extra, single=single)
    sure = sum(float(w.sum()) for w in weights) / max(1, sum(len(w) for w in weights))
    say(f"Kanripo: {len(extra)} sentences, {sum(len(s.text) for s in extra)} characters, "
        f"{sum(len(s.books) for s in extra)} titles, {sure:.1%} of characters labelled "
        f"({time.perf_counter() - t_start:.0f}s)")
    return [s.text for s in extra], tags, weights


def _pretrain(kanripo: list, tagger, X: list, Y: list, *, max_chars: int, max_seconds: float, seed: int,
              learn_rate: float, say: Callable[[str], None], t_start: float) -> None:
    """Initialise ``tagger`` and pretrain its encoder on the punctuated Kanripo sentences
    (:mod:`.pretrain`); :func:`_fit` then starts from these weights."""
    from .pretrain import pretrain

    if not kanripo:
        say("no punctuated Kanripo text: no pretraining")
        return
    texts = [s.text for s in kanripo]
    tagger.initialize(X, Y)
    stats = pretrain(tagger, texts, max_chars=max_chars, max_seconds=max_seconds, seed=seed, learn_rate=learn_rate,
                     say=say)
    tagger.initialized = True
    say(f"pretrained on {stats['chars']} Kanripo characters ({len(texts)} sentences), hidden-character accuracy "
        f"{stats['accuracy']:.3f} ({time.perf_counter() - t_start:.0f}s)")


def _fit(tagger, X: list, Y: list, W: list | None, val: list, rng: random.Random, *, epochs: int, max_seconds: float,
         t_start: float, feature_dropout: float, learn_rate: float, batch_size: int, seed: int,
         say: Callable[[str], None], average: bool = False, n_extra: int = 0, extra_per_epoch: int = 0):
    """Train ``tagger`` on (X, Y) — W: per-character loss weights, ``None`` for 1 everywhere — and
    return the epoch best on ``val``: (F1, epoch, weights as bytes, F1 per epoch, epochs run).
    The last ``n_extra`` sentences are pseudo-labelled: each epoch takes every other sentence and
    the next ``extra_per_epoch`` characters of them (0: all of them)."""
    import numpy as np
    from thinc.api import Adam

    from . import tagger as T

    if not getattr(tagger, "initialized", False):  # pretrained weights are kept
        tagger.initialize(X, Y)
    optimizer = Adam(learn_rate)

    best_f1, best_epoch, best_bytes, history = -1.0, -1, None, []
    epochs_run = 0
    np_rng = np.random.default_rng(seed)
    labelled = list(range(len(X) - n_extra))
    pool = list(range(len(X) - n_extra, len(X)))  # the pseudo-labelled sentences, a slice an epoch
    rng.shuffle(pool)
    at = 0
    for epoch in range(epochs):
        rng.shuffle(labelled)
        index = labelled
        if pool:
            index = list(labelled)
            chars = 0
            while chars < (extra_per_epoch or float("inf")) and len(index) < len(X):
                index.append(pool[at % len(pool)])
                chars += len(X[index[-1]])
                at += 1
            rng.shuffle(index)
        loss = 0.0
        for b in range(0, len(index), batch_size):
            batch = index[b : b + batch_size]
            xs = [X[i] for i in batch]
            if feature_dropout:  # hide the n-grams of some characters: lean on context, vectors, gazetteer
                xs = [x.copy() for x in xs]
                for x in xs:
                    x[np_rng.random(len(x)) < feature_dropout, 1:4] = 0
            with T._one_blas_thread():
                probs, backprop = tagger.model.begin_update(xs)
            weights = [None if W is None else W[i] for i in batch]
            total = sum(len(Y[i]) if w is None else float(w.sum()) for i, w in zip(batch, weights))
            grads = []
            for p, i, w in zip(probs, batch, weights):
                rows = np.arange(len(Y[i]))
                g = p.copy()
                g[rows, Y[i]] -= 1.0
                if w is None:
                    loss -= float(np.log(p[rows, Y[i]] + 1e-9).sum())
                else:  # characters of weight 0 carry no loss (an unsure pseudo-label)
                    loss -= float((w * np.log(p[rows, Y[i]] + 1e-9)).sum())
                    g *= w[:, None]
                grads.append(g / max(total, 1.0))
            with T._one_blas_thread():
                backprop(grads)
            tagger.model.finish_update(optimizer)
        epochs_run += 1
        with tagger.model.use_params(optimizer.averages if average else {}):
            f1 = score_spans(val, tagger.spans([s.text for s in val]))["ALL"].f1
            if f1 > best_f1:
                best_f1, best_epoch, best_bytes = f1, epoch + 1, tagger.model.to_bytes()
        history.append(round(f1, 4))
        elapsed = time.perf_counter() - t_start
        say(f"epoch {epoch + 1}/{epochs}: loss {loss:.0f}, held-out F1 {f1:.3f} ({elapsed:.0f}s)")
        if elapsed > max_seconds:
            say(f"stopping: time budget of {max_seconds:.0f}s used")
            break

    return best_f1, best_epoch, best_bytes, history, epochs_run


def _sources(chisiec: Path, cbdb: Path | None) -> dict[str, str]:
    sources = {"ner_train.txt": _sha256(chisiec / "ner_train.txt")}
    if cbdb is not None:
        for name in ("cbdb_entity_offices.csv", "cbdb_entity_addresses.csv", "cbdb_address_belongs_combination_pairs.csv"):
            if (cbdb / name).is_file():
                sources[name] = _sha256(cbdb / name)
    return sources


def start_background_training(config: SuggestConfig, *, extra_args: tuple[str, ...] = ()) -> "subprocess.Popen | None":
    """Build the model in a separate, low-priority process, unless there is one already, one is
    being built (``models/training.pid`` names a live process) or the training data is missing.
    Its progress goes to ``$GUJI_HOME/logs/suggest-training.log``; the model directory appears
    whole (renamed into place) when it is done, and services pick it up then
    (:meth:`SuggestionService.model_changed`)."""
    import os
    import subprocess

    if (config.model_path / META_FILE).is_file() or config.chisiec_dir is None:
        return None
    pid_file = config.home / "models" / "training.pid"
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
        return None  # a build is under way
    except (OSError, ValueError):
        pass
    log_dir = config.home / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, GUJI_HOME=str(config.home))
    if config.shared_dir is not None:
        env["GUJI_SHARED"] = str(config.shared_dir)
    with open(log_dir / "suggest-training.log", "ab") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "annotation.suggest.training", *extra_args], env=env, stdout=log_file,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=lambda: os.nice(10),
        )
    pid_file.write_text(str(proc.pid))
    return proc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the guji suggestion model from the shared data.")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--max-seconds", type=float, default=600.0)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--limit", type=int, default=None, help="train on the first N sentences only (tests)")
    parser.add_argument("--no-vectors", action="store_true", help="no Kanripo character vectors")
    parser.add_argument("--self-training", action="store_true",
                        help="add pseudo-labelled Kanripo sentences (ADR 0023, amendment 2)")
    parser.add_argument("--extra-chars", type=int, default=200_000, help="Kanripo characters added to the training set")
    parser.add_argument("--average", action="store_true", help="keep the running average of the weights, not the last")
    parser.add_argument("--extra-per-epoch", type=int, default=0, help="Kanripo characters an epoch (0: all)")
    parser.add_argument("--teacher-epochs", type=int, default=12, help="epochs of the model that labels them")
    args = parser.parse_args(argv)
    report = train_model(
        SuggestConfig(), out_dir=args.out, epochs=args.epochs, max_seconds=args.max_seconds, seed=args.seed,
        limit=args.limit, use_vectors=not args.no_vectors,
        self_training=args.self_training, extra_chars=args.extra_chars, teacher_epochs=args.teacher_epochs, extra_per_epoch=args.extra_per_epoch,
        average=args.average, progress=lambda m: print(m, file=sys.stderr, flush=True),
    )
    print(json.dumps(asdict(report), ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

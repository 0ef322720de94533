"""Relations between suggested entities (CHisIEC's 12 types: 任职, 上下级, 父母 …).

A multi-class averaged perceptron over ordered entity pairs of one line (head, tail), with
features a reader would use: the two labels and their order, the distance, the characters and
bigrams between them, the characters just outside them, and the last character of an office or
place (州, 史 …). Pairs further apart than ``MAX_GAP`` characters are not considered (95 % of the
training relations are within 38). Trained on ``re_train.json`` (a fixed 90 % of it; the other
10 % is the dev split ``bench.suggest.relations`` scores), in seconds, without a GPU; saved as
JSON under ``$GUJI_HOME/models/suggest-relations.json`` and built on first use when missing.

Output (``guji suggest --json --relations``): ``{"head": i, "tail": j, "type": "任职"}`` with
``i``/``j`` indexing the line's ``spans``; types are the names in ``re_types.json``.
"""

from __future__ import annotations

import hashlib
import json
import random
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from annotation.errors import SuggestDataMissingError, SuggestModelError

from .normalize import fold

MAX_GAP = 40
NONE = "NONE"
ENTITY_LABELS = ("PER", "LOC", "OFI", "BOOK")
MODEL_FILE = "suggest-relations.json"
FORMAT = 1


@dataclass(frozen=True)
class RelSentence:
    text: str
    entities: list[tuple[int, int, str]]  # (start, end, label)
    relations: list[tuple[int, int, str]]  # (head index, tail index, type)


def read_re(path: Path) -> list[RelSentence]:
    if not path.is_file():
        raise SuggestDataMissingError("CHisIEC relation training set not found", file=str(path))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise SuggestDataMissingError(f"not JSON: {exc}", file=str(path)) from exc
    out = []
    for item in data:
        ents = [(int(e["start"]), int(e["end"]), str(e["type"])) for e in item["entities"]]
        rels = [(int(r["head"]), int(r["tail"]), str(r["type"])) for r in item["relations"]]
        out.append(RelSentence(str(item["tokens"]), ents, rels))
    return out


def split(sentences: list[RelSentence], dev_share: float = 0.1, seed: int = 14) -> tuple[list, list]:
    """A fixed train/dev split of re_train.json (CHisIEC publishes no relation dev set here)."""
    order = list(range(len(sentences)))
    random.Random(seed).shuffle(order)
    cut = int(len(order) * dev_share)
    dev = {i for i in order[:cut]}
    return [s for i, s in enumerate(sentences) if i not in dev], [s for i, s in enumerate(sentences) if i in dev]


def relation_types(path: Path) -> list[str]:
    return list(json.loads(path.read_text(encoding="utf-8"))["relations"])


def pairs(entities: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """Ordered (head, tail) candidates: entity spans of a line no more than MAX_GAP apart."""
    out = []
    for i, (si, ei, li) in enumerate(entities):
        if li not in ENTITY_LABELS:
            continue
        for j, (sj, ej, lj) in enumerate(entities):
            if i == j or lj not in ENTITY_LABELS:
                continue
            gap = max(si, sj) - min(ei, ej)
            if 0 <= gap <= MAX_GAP:
                out.append((i, j))
    return out


def features(folded: str, entities: list[tuple[int, int, str]], i: int, j: int) -> list[str]:
    si, ei, li = entities[i]
    sj, ej, lj = entities[j]
    forward = si < sj
    a, b = (ei, sj) if forward else (ej, si)
    between = folded[a:b]
    gap = len(between)
    others = sum(1 for k, (s, e, _l) in enumerate(entities) if k not in (i, j) and a <= s and e <= b)
    f = [f"t={li}>{lj}", f"d={'f' if forward else 'b'}{li}{lj}", f"g={min(gap, 10) if gap < 10 else gap // 5 * 5}",
         f"o={min(others, 3)}", f"go={min(gap, 6)}|{min(others, 2)}|{li}{lj}"]
    f += [f"c={c}" for c in set(between)]
    f += [f"b={between[k:k + 2]}" for k in range(len(between) - 1)]
    f += [f"cl={c}|{li}{lj}" for c in set(between[:3])]
    f += [f"cr={c}|{li}{lj}" for c in set(between[-3:])]
    first, last = (si, ej) if forward else (sj, ei)
    f.append(f"pre={folded[first - 1] if first else '^'}")
    f.append(f"post={folded[last] if last < len(folded) else '$'}")
    if li in ("OFI", "LOC"):
        f.append(f"hl={folded[ei - 1]}")
    if lj in ("OFI", "LOC"):
        f.append(f"tl={folded[ej - 1]}")
    return f


class RelationModel:
    """Averaged multi-class perceptron: weights[feature][class]."""

    def __init__(self, classes: list[str], weights: dict[str, dict[str, float]] | None = None, meta: dict | None = None):
        self.classes = classes
        self.weights = weights or {}
        self.meta = meta or {}

    def scores(self, feats: list[str]) -> dict[str, float]:
        s: dict[str, float] = defaultdict(float)
        for f in feats:
            w = self.weights.get(f)
            if w:
                for c, v in w.items():
                    s[c] += v
        return s

    def predict(self, feats: list[str]) -> str:
        s = self.scores(feats)
        return max(self.classes, key=lambda c: (s.get(c, 0.0), c == NONE))

    def relations(self, text: str, entities: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
        folded = fold(text)
        out = []
        for i, j in pairs(entities):
            label = self.predict(features(folded, entities, i, j))
            if label != NONE:
                out.append((i, j, label))
        return out

    # -- training ---------------------------------------------------------------------------------

    @classmethod
    def train(cls, sentences: list[RelSentence], types: list[str], epochs: int = 8, seed: int = 14,
              progress: Callable[[str], None] | None = None) -> "RelationModel":
        classes = [*types, NONE]
        examples = []
        for s in sentences:
            folded = fold(s.text)
            gold = {(h, t): r for h, t, r in s.relations}
            for i, j in pairs(s.entities):
                examples.append((features(folded, s.entities, i, j), gold.get((i, j), NONE)))
        weights: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        totals: dict[tuple[str, str], float] = defaultdict(float)
        stamps: dict[tuple[str, str], int] = defaultdict(int)
        step = 0
        rng = random.Random(seed)
        model = cls(classes)
        started = time.perf_counter()
        for epoch in range(1, epochs + 1):
            rng.shuffle(examples)
            wrong = 0
            for feats, gold in examples:
                step += 1
                model.weights = weights
                guess = model.predict(feats)
                if guess == gold:
                    continue
                wrong += 1
                for f in feats:
                    for c, delta in ((gold, 1.0), (guess, -1.0)):
                        key = (f, c)
                        totals[key] += (step - stamps[key]) * weights[f][c]
                        stamps[key] = step
                        weights[f][c] += delta
            if progress:
                progress(f"relations epoch {epoch}/{epochs}: {wrong} of {len(examples)} pairs wrong "
                         f"({time.perf_counter() - started:.0f}s)")
        averaged: dict[str, dict[str, float]] = {}
        for f, row in weights.items():
            out_row = {}
            for c, w in row.items():
                key = (f, c)
                total = totals[key] + (step - stamps[key]) * w
                avg = total / step
                if abs(avg) > 1e-4:
                    out_row[c] = round(avg, 5)
            if out_row:
                averaged[f] = out_row
        meta = {"format": FORMAT, "epochs": epochs, "pairs": len(examples), "sentences": len(sentences),
                "seconds": round(time.perf_counter() - started, 1), "max_gap": MAX_GAP}
        return cls(classes, averaged, meta)

    # -- persistence ------------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"meta": self.meta, "classes": self.classes, "weights": self.weights},
                                  ensure_ascii=False), encoding="utf-8")
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> "RelationModel":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SuggestModelError(f"relation model unreadable: {exc}", file=str(path)) from exc
        if data.get("meta", {}).get("format") != FORMAT:
            raise SuggestModelError("relation model written by another version; rebuild it", file=str(path))
        return cls(data["classes"], data["weights"], data["meta"])


def current_model(home: Path, chisiec_dir: Path) -> RelationModel | None:
    """The saved relation model under ``home/models`` when it was trained on this re_train.json, else None."""
    path = home / "models" / MODEL_FILE
    source = chisiec_dir / "re_train.json"
    if not path.is_file() or not source.is_file():
        return None
    try:
        model = RelationModel.load(path)
    except SuggestModelError:
        return None
    return model if model.meta.get("source_sha256") == hashlib.sha256(source.read_bytes()).hexdigest()[:16] else None


def load_or_train(home: Path, chisiec_dir: Path | None, progress: Callable[[str], None] | None = None) -> RelationModel:
    """The relation model under ``home/models``; trained there first (≈ 1 min) when missing or stale."""
    path = home / "models" / MODEL_FILE
    if chisiec_dir is None:
        raise SuggestDataMissingError("relations need the CHisIEC data in ../shared (set GUJI_SHARED)")
    source = chisiec_dir / "re_train.json"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:16] if source.is_file() else None
    if path.is_file():
        try:
            model = RelationModel.load(path)
            if model.meta.get("source_sha256") == digest:
                return model
        except SuggestModelError:
            pass
    sentences = read_re(source)
    train, _dev = split(sentences)
    if progress:
        progress(f"training the relation model on {len(train)} sentences of re_train.json (once)")
    model = RelationModel.train(train, relation_types(chisiec_dir / "re_types.json"), progress=progress)
    model.meta["source_sha256"] = digest
    try:
        model.save(path)
    except OSError:
        pass
    return model


if __name__ == "__main__":  # python -m annotation.suggest.relations HOME CHISIEC_DIR: build the model (the server's background build)
    import sys

    load_or_train(Path(sys.argv[1]), Path(sys.argv[2]), progress=lambda m: print(m, file=sys.stderr, flush=True))

"""Exact-span precision / recall / F1 per label (the CoNLL convention: a span counts only when
start, end and label all agree)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .corpus import NER_LABELS, GoldSentence


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def support(self) -> int:
        return self.tp + self.fn


def score_spans(
    gold: Sequence[GoldSentence],
    predicted: Iterable[Iterable[tuple[int, int, str]]],
    labels: Sequence[str] = NER_LABELS,
) -> dict[str, Score]:
    """Scores per label and ``"ALL"`` (micro average). Predicted labels outside ``labels``
    (DATE: the corpus does not annotate dates) are ignored, neither right nor wrong."""
    scores = {label: Score() for label in labels}
    scores["ALL"] = Score()
    for sent, pred in zip(gold, predicted, strict=True):
        g = {s for s in sent.entities if s[2] in scores}
        p = {s for s in pred if s[2] in labels}
        for label in labels:
            gl = {s for s in g if s[2] == label}
            pl = {s for s in p if s[2] == label}
            for key in (label, "ALL"):
                scores[key].tp += len(gl & pl)
                scores[key].fp += len(pl - gl)
                scores[key].fn += len(gl - pl)
    return scores


def format_table(scores: dict[str, Score], title: str = "") -> str:
    lines = [f"**{title}**", ""] if title else []
    lines += ["| label | P | R | F1 | gold |", "|---|---:|---:|---:|---:|"]
    for label, s in scores.items():
        name = "**overall**" if label == "ALL" else label
        lines.append(f"| {name} | {s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {s.support} |")
    return "\n".join(lines)

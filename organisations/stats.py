"""Statistics of a project or an organisation's projects, from their annotations.

- **by status**: annotations per review status (deleted ones not counted);
- **reviewed per week**: approvals and rejections per ISO week (``2026-W49``), from the history
  (a retraction counts as a rejection in its week);
- **agreement**: where two or more annotators marked *the same span* (same juan, same start and end,
  in code points), each pair of annotations by different annotators on it is compared on its
  preferred reading: ``category`` agreement (same category) and ``authority`` agreement (same
  category and the same authority record, or both without one). ``observed`` is the share of pairs
  that agree; ``scott_pi`` corrects the category agreement for chance with the pooled category
  distribution of the compared annotations (Scott's π: (Po − Pe) / (1 − Pe); undefined — null —
  when every compared annotation has the same category). Drafts are the annotator's own and are not
  compared; submitted, approved and rejected annotations are.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from itertools import combinations

from annotation.model import Annotation, Status

COMPARED = ("submitted", "approved", "rejected")
_DONE = {"approve": "approved", "reject": "rejected"}


@dataclass
class Row:
    """What statistics need of an annotation (read with one query, not the whole annotation)."""

    id: str
    creator: str
    status: str
    source: str
    start: int
    end: int
    category: str | None  # of the preferred reading
    authority: str | None
    reviews: list[tuple[str, str]] = field(default_factory=list)  # (approve|reject, time)

    @classmethod
    def of(cls, a: Annotation) -> "Row":
        r = a.readings[0] if a.readings else None
        return cls(a.id, a.creator, a.status.value, a.target.source, a.target.start, a.target.end,
                   r.category.value if r else None, r.authority if r else None,
                   [(h.action, h.at) for h in a.history if h.action in _DONE])


def iso_week(at: str) -> str:
    d = datetime.fromisoformat(at.replace("Z", "+00:00"))
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def by_status(annotations: list[Row]) -> dict[str, int]:
    counts = Counter(a.status for a in annotations if a.status != Status.DELETED.value)
    return {s.value: counts.get(s.value, 0) for s in (Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.REJECTED)}


def reviewed_per_week(annotations: list[Row]) -> list[dict]:
    weeks: dict[str, Counter] = defaultdict(Counter)
    for a in annotations:
        for action, at in a.reviews:
            weeks[iso_week(at)][_DONE[action]] += 1
    return [{"week": w, "approved": c["approved"], "rejected": c["rejected"], "reviewed": c["approved"] + c["rejected"]}
            for w, c in sorted(weeks.items())]


def agreement(annotations: list[Row]) -> dict:
    spans: dict[tuple[str, int, int], dict[str, Row]] = defaultdict(dict)
    for a in sorted(annotations, key=lambda a: a.id):  # the latest annotation of an annotator on a span counts
        if a.status in COMPARED and a.category:
            spans[(a.source, a.start, a.end)][a.creator] = a
    pairs = category = authority = 0
    pooled: Counter = Counter()
    shared = 0
    for by_creator in spans.values():
        if len(by_creator) < 2:
            continue
        shared += 1
        for x, y in combinations(sorted(by_creator.values(), key=lambda a: a.creator), 2):
            pairs += 1
            pooled[x.category] += 1
            pooled[y.category] += 1
            if x.category == y.category:
                category += 1
                if x.authority == y.authority:
                    authority += 1
    po = category / pairs if pairs else None
    total = sum(pooled.values())
    pe = sum((n / total) ** 2 for n in pooled.values()) if total else None
    pi = (po - pe) / (1 - pe) if pairs and pe is not None and pe < 1 else None
    return {"spans": shared, "pairs": pairs,
            "category": {"agreed": category, "observed": round(po, 4) if po is not None else None,
                         "scott_pi": round(pi, 4) if pi is not None else None},
            "authority": {"agreed": authority, "observed": round(authority / pairs, 4) if pairs else None}}


def summary(annotations: list[Row]) -> dict:
    live = [a for a in annotations if a.status != Status.DELETED.value]
    return {"annotations": len(live), "by_status": by_status(live), "annotators": len({a.creator for a in live}),
            "reviewed_per_week": reviewed_per_week(live), "agreement": agreement(live)}

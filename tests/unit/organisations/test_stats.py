"""Statistics: by status, reviewed per ISO week, agreement on shared spans (docs/organisations.md)."""

from __future__ import annotations

from annotation.model import Annotation, HistoryEntry, Reading, Status, TextTarget
from organisations.stats import Row, agreement, by_status, iso_week, reviewed_per_week

J = "https://w3id.org/guji/id/text/X/master/001"
A = "https://w3id.org/guji/id/agent/"


def ann(i, creator, start, end, category="person", status=Status.SUBMITTED, authority=None, history=()):
    """A stored annotation as the statistics read it (Row.of: the same fields the service's query reads)."""
    return Row.of(Annotation(id=f"01J{i:023d}", canonical=f"urn:x:{i}", creator=A + creator, created="2026-12-01T00:00:00Z",
                      modified="2026-12-01T00:00:00Z", status=status,
                      target=TextTarget(source=J, start=start, end=end, exact="x" * (end - start), prefix="", suffix=""),
                      readings=[Reading(category=category, authority=authority)], history=list(history)))


def test_iso_week_crosses_the_year_like_iso_8601():
    assert iso_week("2026-12-31T10:00:00Z") == "2026-W53"
    assert iso_week("2027-01-04T00:00:00Z") == "2027-W01"


def test_by_status_and_weeks():
    h = [HistoryEntry(sequence=1, at="2026-11-30T09:00:00Z", agent=A + "r", action="approve"),
         HistoryEntry(sequence=2, at="2026-12-07T09:00:00Z", agent=A + "r", action="reject", reason="x")]
    xs = [ann(1, "a", 0, 2, status=Status.APPROVED, history=h[:1]), ann(2, "b", 0, 2, status=Status.REJECTED, history=h),
          ann(3, "c", 0, 2, status=Status.DRAFT), ann(4, "c", 0, 2, status=Status.DELETED)]
    assert by_status(xs) == {"draft": 1, "submitted": 0, "approved": 1, "rejected": 1}
    assert reviewed_per_week(xs) == [{"week": "2026-W49", "approved": 2, "rejected": 0, "reviewed": 2},
                                     {"week": "2026-W50", "approved": 0, "rejected": 1, "reviewed": 1}]


def test_agreement_pairs_only_different_annotators_on_the_same_span():
    xs = [ann(1, "a", 0, 2, "person", authority="http://x/p1"), ann(2, "b", 0, 2, "person", authority="http://x/p1"),
          ann(3, "c", 0, 2, "place"),  # span 0-2: pairs a-b (agree, same record), a-c, b-c (disagree)
          ann(4, "a", 5, 7, "person"), ann(5, "b", 5, 7, "person", authority="http://x/p2"),  # same category, not record
          ann(6, "a", 9, 11, "office"), ann(7, "a", 9, 11, "place"),  # one annotator twice: no pair
          ann(8, "b", 5, 8, "person"),  # a different span
          ann(9, "c", 5, 7, "person", status=Status.DRAFT)]  # drafts are not compared
    g = agreement(xs)
    assert (g["spans"], g["pairs"]) == (2, 4)
    assert g["category"]["agreed"] == 2 and g["category"]["observed"] == 0.5
    assert g["authority"]["agreed"] == 1
    # Scott's pi with pooled categories over the 8 compared readings: 6 person, 2 place
    pe = (6 / 8) ** 2 + (2 / 8) ** 2
    assert g["category"]["scott_pi"] == round((0.5 - pe) / (1 - pe), 4)


def test_agreement_when_nobody_overlaps_or_everyone_agrees():
    assert agreement([ann(1, "a", 0, 2)])["pairs"] == 0
    g = agreement([ann(1, "a", 0, 2), ann(2, "b", 0, 2)])
    assert g["category"]["observed"] == 1.0 and g["category"]["scott_pi"] is None  # chance agreement is 1: undefined

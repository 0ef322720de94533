"""Work identity (kg.works): folding a work into another and back, identifiers in packages."""

import pyoxigraph as ox
import pytest

from kg.errors import ValidationError
from kg.works import SAME_AS, WORK, resolve, rewrite, unrewrite, work_iri_for

N = ox.NamedNode
OLD, NEW = WORK + "census/110000-0001-0000001", WORK + "GJ4a0001"
INST = N("https://w3id.org/guji/id/instance/census/110000-0001-0000001")
BF = "http://id.loc.gov/ontologies/bibframe/"


def graph():
    return [ox.Triple(N(OLD), N(BF + "title"), N(OLD + "/title")),
            ox.Triple(INST, N(BF + "instanceOf"), N(OLD)),
            ox.Triple(N(OLD + "/title"), N(BF + "mainTitle"), ox.Literal("桃花源記"))]


def test_rewrite_folds_subject_and_object_and_says_same_as():
    out = rewrite(graph(), {OLD: NEW})
    assert ox.Triple(N(NEW), N(BF + "title"), N(OLD + "/title")) in out
    assert ox.Triple(INST, N(BF + "instanceOf"), N(NEW)) in out
    assert ox.Triple(N(OLD), SAME_AS, N(NEW)) in out
    assert not any(N(OLD) in (t.subject, t.object) for t in out if t.predicate != SAME_AS)


def test_unrewrite_gives_the_graph_back():
    assert set(unrewrite(rewrite(graph(), {OLD: NEW}), OLD, NEW)) == set(graph())


def test_rewrite_is_idempotent_and_untouched_without_the_work():
    once = rewrite(graph(), {OLD: NEW})
    assert set(rewrite(once, {OLD: NEW})) == set(once)
    other = [ox.Triple(N("urn:x:a"), N("urn:x:p"), N("urn:x:b"))]
    assert rewrite(other, {OLD: NEW}) == other


def test_chains_resolve_and_cycles_are_refused():
    assert resolve({"a": "b", "b": "c"}) == {"a": "c", "b": "c"}
    with pytest.raises(ValidationError, match="cycle"):
        resolve({"a": "b", "b": "a"})


@pytest.mark.parametrize("value, iri", [
    ("KR2a0001", WORK + "KR2a0001"), (" GJ4a0001 ", WORK + "GJ4a0001"),
    (WORK + "census/110000-0001-0000002", WORK + "census/110000-0001-0000002"),
    ("kr2a0001", None), ("https://example.org/work/1", None), ("", None),
])
def test_work_id_cells(value, iri):
    assert work_iri_for(value) == iri

"""Project roles in the annotation policy (in-process, real store): a project's reviewers see and
review what is handed in within their project only; the SPARQL listing filter agrees with the
policy for identities with project roles; global reviewers keep reviewing everything."""

from __future__ import annotations

import itertools

import pytest

from annotation.errors import AnnotationNotFoundError, AuthenticationRequiredError, PermissionDeniedError
from annotation.policies import ANONYMOUS, AnnotationPolicy, Identity, Role
from annotation.rdf import from_triples, to_triples
from annotation.service import AnnotationService
from tests.unit.annotation.test_service import J, TEXT, data, put_text  # noqa: F401  (the same text and helpers)
from kg.store import OxigraphStore

P1, P2 = "https://w3id.org/guji/id/project/p1", "https://w3id.org/guji/id/project/p2"
ORG = "https://w3id.org/guji/id/agent/org/nlc"
ANN = Identity("ann", Role.ANNOTATOR, projects=((P1, "annotator"),))
AMY = Identity("amy", Role.ANNOTATOR, projects=((P2, "annotator"),))
REV1 = Identity("rev1", Role.ANNOTATOR, projects=((P1, "reviewer"),))
REV2 = Identity("rev2", Role.ANNOTATOR, projects=((P2, "reviewer"),))
ADM1 = Identity("adm1", Role.ANNOTATOR, projects=((P1, "admin"),))
RITA = Identity("rita", Role.REVIEWER)
CARL = Identity("carl", Role.ANNOTATOR)


def delegation(identity, source, project):
    """The organisation service's rule, reduced: the caller's one project, if any."""
    return (identity.projects[0][0], ORG) if identity.projects else None


@pytest.fixture
def svc(tmp_path):
    store = OxigraphStore(tmp_path / "store")
    put_text(store, TEXT)
    return AnnotationService(store, delegation=delegation)


def submitted(svc, who):
    a = svc.create(who, data()).annotation
    svc.submit(who, a.id)
    return a


def test_project_reviewer_reviews_only_their_project(svc):
    a1, a2 = submitted(svc, ANN), submitted(svc, AMY)
    assert (a1.project, a1.organisation) == (P1, ORG) and a2.project == P2
    with pytest.raises(AnnotationNotFoundError):  # another project's: not even visible
        svc.review(REV1, a2.id, "approve")
    with pytest.raises(PermissionDeniedError):  # no project role at all: refused before the record is read
        svc.review(CARL, a1.id, "approve")
    with pytest.raises(AuthenticationRequiredError):
        svc.review(ANONYMOUS, a1.id, "approve")
    assert svc.review(REV1, a1.id, "approve").annotation.status.value == "approved"
    assert svc.review(RITA, a2.id, "approve").annotation.status.value == "approved"  # global reviewers: everything


def test_project_reviewer_corrects_approved_annotations_of_their_project_only(svc):
    from annotation.model import AnnotationUpdate

    a1, a2 = submitted(svc, ANN), submitted(svc, AMY)
    for a in (a1, a2):
        svc.review(RITA, a.id, "approve")
    change = AnnotationUpdate(**(data(exact="范仲淹").model_dump() | {"note": "字希文"}))
    assert svc.update(REV1, a1.id, change, if_match="*").annotation.note == "字希文"
    with pytest.raises(PermissionDeniedError):
        svc.update(REV1, a2.id, change, if_match="*")  # approved (public) but another project's


def test_four_eyes_in_a_project(svc):
    mine = svc.create(ADM1, data()).annotation  # a project admin annotates too
    svc.submit(ADM1, mine.id)
    with pytest.raises(PermissionDeniedError):
        svc.review(ADM1, mine.id, "approve")


def test_listing_filter_agrees_with_the_policy_for_project_roles(svc):
    made = {}
    for who, status in itertools.product([ANN, AMY, CARL], ["draft", "submitted", "approved", "rejected"]):
        a = svc.create(who, data()).annotation
        if status != "draft":
            svc.submit(who, a.id)
        if status in ("approved", "rejected"):
            svc.review(RITA, a.id, "approve" if status == "approved" else "reject", "x")
        made[a.id] = svc._load(a.id).annotation
    for who in [ANONYMOUS, ANN, AMY, REV1, REV2, ADM1, RITA, CARL]:
        listed = {s.annotation.id for s in svc.list(who, limit=None).items}
        expected = {i for i, a in made.items() if AnnotationPolicy.allows("read", who, a)}
        assert listed == expected, who
    # beyond what is approved (public), a project reviewer sees their project's hand-ins only
    seen = {made[i].project for i in (s.annotation.id for s in svc.list(REV1, limit=None).items) if made[i].status.value != "approved"}
    assert seen == {P1}


def test_project_and_organisation_survive_the_round_trip(svc):
    a = submitted(svc, ANN)
    back = from_triples(a.id, to_triples(a))
    assert (back.project, back.organisation) == (P1, ORG)
    assert back == a

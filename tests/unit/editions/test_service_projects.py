"""Cross-edition proposals and annotation projects (organisations/): a project's reviewer sees and
accepts the proposals of their project's annotations only; a copy keeps the origin's project and
organisation (the credit goes with the work)."""

import pytest

from accounts.errors import PermissionDeniedError
from annotation.model import AnnotationCreate, Category, Reading, TextSelection
from annotation.policies import Identity, Role
from annotation.service import AnnotationService
from api.context import SAMPLE_DIR
from editions.service import EditionService
from kg.ingest_kanripo import find_works, ingest_work
from kg.store import OxigraphStore

JUAN = "https://w3id.org/guji/id/text/GJ4a0002/master/001"
P1, P2 = "https://w3id.org/guji/id/project/p1", "https://w3id.org/guji/id/project/p2"
ORG = "https://w3id.org/guji/id/agent/org/nlc"
ANN = Identity("ann", Role.ANNOTATOR, projects=((P1, "annotator"),))
REV1 = Identity("rev1", Role.ANNOTATOR, projects=((P1, "reviewer"),))
REV2 = Identity("rev2", Role.ANNOTATOR, projects=((P2, "reviewer"),))


def delegation(identity, source, project):
    return (identity.projects[0][0], ORG) if identity.projects else None


@pytest.fixture
def svc(tmp_path):
    store = OxigraphStore(tmp_path / "oxigraph")
    for w in find_works([SAMPLE_DIR / "kanripo" / "GJ4a0002"]):
        ingest_work(store, w)
    annotations = AnnotationService(store, delegation=delegation)
    yield EditionService(store, annotations)
    store.close()


def test_project_reviewers_see_and_accept_their_projects_proposals_only(svc):
    text = svc.annotations.text_of(JUAN)
    s = text.index("洞庭")
    a = svc.annotations.create(ANN, AnnotationCreate(target=TextSelection(source=JUAN, start=s, end=s + 2),
                                                     readings=[Reading(category=Category.PLACE)])).annotation
    svc.annotations.submit(ANN, a.id)
    origin = svc.annotations.review(REV1, a.id, "approve").annotation
    assert origin.project == P1
    assert svc.refresh([origin.id])["proposed"] == 1
    total, items = svc.queue(REV2)
    assert total == 0 and items == []
    total, items = svc.queue(REV1)
    assert [i["id"] for i in items] == [f"{origin.id}.QING"]
    with pytest.raises(PermissionDeniedError):
        svc.accept(REV2, [f"{origin.id}.QING"])
    done = svc.accept(REV1, [f"{origin.id}.QING"])
    copy = svc.annotations.get(Identity.system(), done[0]["annotation"]).annotation
    assert (copy.project, copy.organisation, copy.creator) == (P1, ORG, origin.creator)
    assert copy.derived_from.endswith(origin.id) and copy.target.source.endswith("/QING/001")

"""The organisations service on a real store: statistics read with queries agree with the stored
annotations; refused writes store nothing; scope and project choice."""

from __future__ import annotations

import pytest

from accounts.identity import Identity, Role
from accounts.users import UserStore
from annotation.model import AnnotationCreate, Category, Reading, Status, TextSelection
from annotation.service import AnnotationFilter, AnnotationService
from kg.errors import ValidationError
from kg.store import OxigraphStore
from organisations.errors import OrganisationInputError
from organisations.members import MemberStore
from organisations.model import MemberState, OrganisationCreate, ProjectCreate, ProjectRole
from organisations.service import OrganisationService
from organisations.stats import Row
from tests.unit.annotation.test_service import J, TEXT, put_text

OTHER = "https://w3id.org/guji/id/text/GJ9a0002/master/001"
ROOT = Identity("root", Role.ADMIN)


@pytest.fixture
def world(tmp_path):
    store = OxigraphStore(tmp_path / "store")
    put_text(store, TEXT)
    put_text(store, "桃花源記晉太元中武陵人捕魚為業", OTHER)
    users = UserStore(tmp_path / "users.sqlite3", fast_hashing=True)
    for n in ("a1", "a2", "rev"):
        users.add(n, "annotator")
    holder = {}
    ann = AnnotationService(store, delegation=lambda *x: holder["org"].delegation(*x))
    org = holder["org"] = OrganisationService(store, MemberStore(tmp_path / "o.sqlite3"), users=users, annotations=ann)
    org.create_organisation(ROOT, OrganisationCreate(id="nlc", name="中国国家图书馆", authority="CN-110000-NLC"))
    org.create_project(ROOT, ProjectCreate(id="p1", organisation="nlc", name="P1", scope=[J]))
    org.create_project(ROOT, ProjectCreate(id="p2", organisation="nlc", name="P2", scope=[J, OTHER]))
    return store, ann, org


def who(org, name, *projects, role=ProjectRole.ANNOTATOR):
    for p in projects:
        org.members.put(p, name, role, MemberState.ACTIVE, "root")
    return org.with_projects(Identity(name, Role.ANNOTATOR))


def make(ann, identity, start, category=Category.PERSON, authority=None, project=None, source=J):
    text = ann.text_of(source)
    return ann.create(identity, AnnotationCreate(target=TextSelection(source=source, start=start, end=start + 2,
                                                                      exact=text[start:start + 2]),
                                                 readings=[Reading(category=category, authority=authority)],
                                                 project=project)).annotation


def test_statistics_rows_agree_with_the_stored_annotations(world):
    store, ann, org = world
    a1, a2 = who(org, "a1", "p1"), who(org, "a2", "p1")
    rev = who(org, "rev", "p1", role=ProjectRole.REVIEWER)
    made = [make(ann, a1, 10, authority="http://x/fan"), make(ann, a2, 10, Category.PLACE), make(ann, a1, 20)]
    ann.submit(a1, made[0].id)
    ann.submit(a2, made[1].id)
    ann.review(rev, made[0].id, "approve")
    ann.review(rev, made[1].id, "reject", "地名不確")
    ann.review(rev, made[0].id, "reject", "撤回")  # a retraction after approval: two review steps
    every = (Status.DRAFT, Status.SUBMITTED, Status.APPROVED, Status.REJECTED)
    stored = [Row.of(s.annotation) for s in ann.list(Identity.system(), AnnotationFilter(project=org.project("p1")["iri"], status=every),
                                                     limit=None).items]
    read = org._annotations([org.project("p1")["iri"]])
    key = lambda r: r.id  # noqa: E731
    for r in read:
        r.reviews.sort()
    for r in stored:
        r.reviews.sort()
    assert sorted(read, key=key) == sorted(stored, key=key)
    assert len(stored) == 3 and sum(len(r.reviews) for r in stored) == 3


def test_project_choice(world):
    store, ann, org = world
    both = who(org, "a1", "p1", "p2")
    with pytest.raises(OrganisationInputError) as e:  # two projects cover J: say which
        make(ann, both, 10)
    assert e.value.details["projects"] == ["p1", "p2"]
    assert make(ann, both, 10, project="p2").project.endswith("/p2")
    assert make(ann, both, 0, project="p2", source=OTHER).project.endswith("/p2")  # only p2 covers OTHER: chosen
    assert make(ann, both, 0, source=OTHER).project.endswith("/p2")
    with pytest.raises(OrganisationInputError):
        make(ann, both, 0, project="p1", source=OTHER)
    with pytest.raises(OrganisationInputError):
        make(ann, both, 0, project="nope")


def test_refused_writes_store_nothing(world):
    store, ann, org = world
    before = store.last_sequence()
    graphs = set(store.graphs())
    with pytest.raises(ValidationError):
        org.create_project(ROOT, ProjectCreate(id="p3", organisation="nlc", name="P3", scope=["https://w3id.org/guji/id/text/NOPE"]))
    with pytest.raises(ValidationError):
        org.create_project(ROOT, ProjectCreate(id="p3", organisation="nlc", name="P3", scope=[J], admins=["ghost"]))
    with pytest.raises(Exception):
        org.create_organisation(Identity("a1", Role.ANNOTATOR), OrganisationCreate(id="x", name="x", authority="CN-1"))
    assert store.last_sequence() == before and set(store.graphs()) == graphs
    assert org.members.of_project("p3") == []


def test_scope_follows_new_texts(world):
    """The scope's juans are remembered between creates, and forgotten when a text is written."""
    store, ann, org = world
    work = "https://w3id.org/guji/id/work/GJ9a0003"
    late = "https://w3id.org/guji/id/text/GJ9a0003/master/001"
    import pyoxigraph as ox

    from kg.namespaces import BF, DCTERMS
    N = ox.NamedNode
    def write(juans):  # noqa: E306
        triples = [ox.Triple(N(work + "/i"), N(BF + "instanceOf"), N(work)), ox.Triple(N(work + "/c"), N(BF + "itemOf"), N(work + "/i"))]
        for j in juans:
            triples += [ox.Triple(N(j), N(DCTERMS + "isPartOf"), N(work + "/c")),
                        ox.Triple(N(j), N("https://w3id.org/guji/ontology#text"), ox.Literal("范仲淹滕子京巴陵郡"))]
        store.replace_graph("https://w3id.org/guji/graph/test/GJ9a0003", triples, agent="test")
    write([late])
    org.create_project(ROOT, ProjectCreate(id="p3", organisation="nlc", name="P3", scope=[work]))
    a = who(org, "a1", "p3")
    assert make(ann, a, 0, source=late).project.endswith("/p3")
    second = late[:-3] + "002"
    write([late, second])  # a juan added to the work: in scope at once
    assert make(ann, a, 0, source=second).project.endswith("/p3")

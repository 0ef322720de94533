"""Every guji: term the code actually writes (texts, packages, annotations, change log) is declared
in ontologies/guji.ttl: the ontology describes the data, not an idea of it."""

from pathlib import Path

import pyoxigraph as ox
import rdflib

from kg.ingest_kanripo import find_works, ingest_work
from kg.namespaces import GUJI, RDF
from kg.ontology import load_ontology_graph
from kg.package import ingest_package
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[3]


def test_every_written_guji_term_is_declared(tmp_path):
    from annotation.model import AnnotationCreate, Category, Reading, TextSelection
    from annotation.policies import Identity, Role
    from annotation.service import AnnotationService

    store = OxigraphStore(tmp_path / "s")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(store, w)
    assert ingest_package(store, ROOT / "samples" / "package" / "guji-sample-2026-001", agent="t").report.valid
    juan = "https://w3id.org/guji/id/text/GJ4a0002/master/001"
    svc = AnnotationService(store)
    text = svc.text_of(juan)
    a, r = Identity("alice", Role.ANNOTATOR), Identity("rita", Role.REVIEWER)
    at = text.index("范仲淹")
    created = svc.create(a, AnnotationCreate(target=TextSelection(source=juan, start=at, end=at + 3, exact="范仲淹"),
                                             readings=[Reading(category=Category.PERSON, authority="https://w3id.org/guji/id/entity/fan",
                                                               label="范仲淹", provisional=True)])).annotation
    svc.submit(a, created.id)
    svc.review(r, created.id, "approve")
    # an organisation, a project and an annotation made in it (organisations/)
    from accounts.users import UserStore
    from organisations.members import MemberStore
    from organisations.model import OrganisationCreate, ProjectCreate
    from organisations.service import OrganisationService

    users = UserStore(tmp_path / "users.sqlite3", fast_hashing=True)
    users.add("pam", "annotator")
    orgs = OrganisationService(store, MemberStore(tmp_path / "o.sqlite3"), users=users, annotations=svc)
    orgs.create_organisation(Identity("root", Role.ADMIN), OrganisationCreate(id="nlc", name="中国国家图书馆", authority="CN-110000-NLC"))
    orgs.create_project(Identity("root", Role.ADMIN), ProjectCreate(id="p", organisation="nlc", name="P", guideline="g",
                                                                    scope=[juan], admins=["pam"]))
    svc.delegation = orgs.delegation
    pam = orgs.with_projects(Identity("pam", Role.ANNOTATOR))
    svc.create(pam, AnnotationCreate(target=TextSelection(source=juan, start=at, end=at + 3, exact="范仲淹"),
                                     readings=[Reading(category=Category.PERSON)]))

    used = set()
    for q in store.oxigraph:
        if q.predicate.value.startswith(GUJI):
            used.add(q.predicate.value)
        if q.predicate.value == RDF + "type" and isinstance(q.object, ox.NamedNode) and q.object.value.startswith(GUJI):
            used.add(q.object.value)
    declared = {str(s) for s in load_ontology_graph().subjects(rdflib.RDF.type, None) if str(s).startswith(GUJI)}
    assert len(used) > 60
    assert sorted(used - declared) == []

"""The annotation service: workflow, permissions, history, ETags, storage graphs, re-anchoring."""

from __future__ import annotations

import itertools
from datetime import datetime

import pyoxigraph as ox
import pytest

from annotation.errors import (
    AnnotationGoneError,
    AnnotationNotFoundError,
    AuthenticationRequiredError,
    InvalidReviewError,
    InvalidTransitionError,
    PermissionDeniedError,
    PreconditionFailedError,
    PreconditionRequiredError,
    TargetMismatchError,
)
from annotation.model import AnchorState, AnnotationCreate, Category, Reading, Status, TextSelection
from annotation.policies import ANONYMOUS, AnnotationPolicy, Identity, Role
from annotation.rdf import to_triples
from annotation.service import HISTORY_GRAPH_BASE, PRIVATE_GRAPH_BASE, PUBLIC_GRAPH_BASE, AnnotationFilter, AnnotationService
from kg.namespaces import GUJI
from kg.sparql import is_public_graph
from kg.store import OxigraphStore

J = "https://w3id.org/guji/id/text/GJ9a0001/master/001"
TEXT = "岳陽樓記　　　　宋　范仲淹　撰慶曆四年春滕子京謫守巴陵郡滕宗諒字子京河南人越明年政通人和百廢具興乃重修岳陽樓增其舊制"
ALICE, CAROL = Identity("alice", Role.ANNOTATOR), Identity("carol", Role.ANNOTATOR)
RITA, VERA = Identity("rita", Role.REVIEWER), Identity("vera", Role.REVIEWER)
ROOT, LIB = Identity("root", Role.ADMIN), Identity("lib", Role.SUBMITTER)


def put_text(store: OxigraphStore, text: str, juan: str = J) -> None:
    store.replace_graph("https://w3id.org/guji/graph/test/" + juan.rsplit("/", 3)[1], [
        ox.Triple(ox.NamedNode(juan), ox.NamedNode(GUJI + "text"), ox.Literal(text))], agent="test")


@pytest.fixture
def store(tmp_path):
    s = OxigraphStore(tmp_path / "store")
    put_text(s, TEXT)
    return s


@pytest.fixture
def svc(store):
    return AnnotationService(store)


def data(exact="范仲淹", start=10, category=Category.PERSON, **kw) -> AnnotationCreate:
    return AnnotationCreate(target=TextSelection(source=J, start=start, end=start + len(exact) if start is not None else None, exact=exact),
                            readings=[Reading(category=category, **kw)])


def approved(svc, who=ALICE, reviewer=RITA, **kw):
    a = svc.create(who, data(**kw)).annotation
    svc.submit(who, a.id)
    return svc.review(reviewer, a.id, "approve")


# -- storage --------------------------------------------------------------------------------------

def test_draft_is_private_approved_is_public_and_the_move_is_one_transaction(svc, store):
    a = svc.create(ALICE, data()).annotation
    assert PRIVATE_GRAPH_BASE + a.id in store.graphs() and not is_public_graph(PRIVATE_GRAPH_BASE + a.id)
    svc.submit(ALICE, a.id)
    seq = store.last_sequence()
    svc.review(RITA, a.id, "approve")
    changes = store.changes_since(seq)
    # the public view, the private rest of its history, the draft's graph emptied: one transaction
    assert {c.graph for c in changes} == {PUBLIC_GRAPH_BASE + a.id, HISTORY_GRAPH_BASE + a.id, PRIVATE_GRAPH_BASE + a.id}
    assert len({c.at for c in changes}) == 1  # written together
    assert store.count(PRIVATE_GRAPH_BASE + a.id) == 0 and store.count(PUBLIC_GRAPH_BASE + a.id) > 0
    assert store.count(HISTORY_GRAPH_BASE + a.id) > 0  # the create and submit entries
    assert is_public_graph(PUBLIC_GRAPH_BASE + a.id) and not is_public_graph(HISTORY_GRAPH_BASE + a.id)
    assert all(c.agent == "https://w3id.org/guji/id/agent/rita" for c in changes)  # attributed


def test_the_public_graph_of_an_approved_annotation_holds_its_approved_states_only(svc, store):
    a = svc.create(ALICE, data(note="初稿附記")).annotation
    svc.submit(ALICE, a.id)
    svc.review(RITA, a.id, "reject", "初審意見")
    svc.update(ALICE, a.id, data(label="范仲淹"), if_match=svc.get(ALICE, a.id).etag)
    svc.submit(ALICE, a.id)
    svc.review(VERA, a.id, "approve", "覆審可")
    svc.update(RITA, a.id, data(label="范文正"), if_match=svc.get(RITA, a.id).etag)  # corrects the approved version
    public = " ".join(str(t) for t in store.triples(PUBLIC_GRAPH_BASE + a.id))
    for private in ("初稿附記", "初審意見", "覆審可", '"create"', '"reject"', '"submit"'):
        assert private not in public
    # the public: the approval (who, when) and the change of the approved version, in full
    seen = svc.get(ANONYMOUS, a.id)
    assert [(e.sequence, e.action, e.before, e.after, e.reason) for e in seen.annotation.history] == [
        (6, "approve", None, None, None),
        (7, "update", {"readings": [{"category": "person", "label": "范仲淹", "provisional": False}]},
         {"readings": [{"category": "person", "label": "范文正", "provisional": False}]}, None)]
    assert seen.annotation.review.reviewer.endswith("/vera") and seen.annotation.review.reason is None
    assert svc.get(CAROL, a.id).annotation == seen.annotation  # another annotator is the public here
    # the creator and the reviewers: everything, which is exactly the two graphs together
    full = svc.get(ALICE, a.id)
    assert [e.action for e in full.annotation.history] == ["create", "submit", "reject", "update", "submit", "approve", "update"]
    assert full.annotation.review.reason == "覆審可" and svc.get(VERA, a.id).annotation == full.annotation
    assert set(to_triples(full.annotation)) == set(store.triples(PUBLIC_GRAPH_BASE + a.id)) | set(store.triples(HISTORY_GRAPH_BASE + a.id))
    assert seen.etag == full.etag  # one resource, one state

    # retracted: all of it private again, in one graph
    svc.review(RITA, a.id, "reject", "撤回")
    assert store.count(PUBLIC_GRAPH_BASE + a.id) == 0 and store.count(HISTORY_GRAPH_BASE + a.id) == 0
    assert [e.action for e in svc.history(ALICE, a.id)][-1] == "reject"


def test_split_histories_moves_an_old_public_history_out_of_the_public_graph(svc, store):
    a = svc.create(ALICE, data()).annotation
    svc.submit(ALICE, a.id)
    svc.review(RITA, a.id, "reject", "舊日理由")
    svc.submit(ALICE, a.id)
    full = svc.review(RITA, a.id, "approve").annotation
    # as stored before history graphs existed: everything in the public graph
    store.replace_graphs({PUBLIC_GRAPH_BASE + a.id: to_triples(full), HISTORY_GRAPH_BASE + a.id: []}, agent="test")
    assert "舊日理由" in " ".join(str(t) for t in store.triples(PUBLIC_GRAPH_BASE + a.id))
    etag = svc.get(ALICE, a.id).etag
    assert svc.split_histories(ROOT) == 1 and svc.split_histories(ROOT) == 0
    assert "舊日理由" not in " ".join(str(t) for t in store.triples(PUBLIC_GRAPH_BASE + a.id))
    assert svc.get(ALICE, a.id).annotation == full and svc.get(ALICE, a.id).etag == etag
    with pytest.raises(PermissionDeniedError):
        svc.split_histories(RITA)


def test_etag_is_the_stored_graph_and_changes_with_it(svc):
    s1 = svc.create(ALICE, data())
    assert svc.get(ALICE, s1.annotation.id).etag == s1.etag
    s2 = svc.submit(ALICE, s1.annotation.id)
    assert s2.etag != s1.etag and svc.get(ALICE, s1.annotation.id).etag == s2.etag


def test_no_blank_nodes(svc, store):
    a = svc.create(ALICE, data()).annotation
    assert not any(isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)
                   for t in store.triples(PRIVATE_GRAPH_BASE + a.id))


# -- workflow -------------------------------------------------------------------------------------

def test_full_history_who_when_before_after(svc):
    a = svc.create(ALICE, data()).annotation
    svc.submit(ALICE, a.id)
    svc.review(RITA, a.id, "reject", "應連姓氏標注")
    s = svc.get(ALICE, a.id)
    svc.update(ALICE, a.id, data(category=Category.PERSON, label="范仲淹"), if_match=s.etag)
    svc.submit(ALICE, a.id)
    svc.review(VERA, a.id, "approve")
    h = svc.history(ALICE, a.id)  # the creator (and reviewers) see it all; the public the approval only
    assert [(e.sequence, e.action, e.agent.rsplit("/", 1)[1], e.reason) for e in svc.history(ANONYMOUS, a.id)] == [
        (6, "approve", "vera", None)]
    assert svc.history(RITA, a.id) == h
    assert [(e.sequence, e.action, e.agent.rsplit("/", 1)[1]) for e in h] == [
        (1, "create", "alice"), (2, "submit", "alice"), (3, "reject", "rita"),
        (4, "update", "alice"), (5, "submit", "alice"), (6, "approve", "vera")]
    assert h[0].before is None and h[0].after["target"]["exact"] == "范仲淹"
    assert h[2].reason == "應連姓氏標注" and h[2].after["status"] == "rejected"
    # the edit of a rejected annotation: only what changed, and it went back to draft
    assert h[3].before == {"readings": [{"category": "person", "provisional": False}], "status": "rejected"}
    assert h[3].after == {"readings": [{"category": "person", "label": "范仲淹", "provisional": False}], "status": "draft"}
    times = [datetime.fromisoformat(e.at.replace("Z", "+00:00")) for e in h]
    assert times == sorted(times)
    final = svc.get(ANONYMOUS, a.id).annotation
    assert final.status is Status.APPROVED and final.review.reviewer.endswith("/vera") and final.revision == 6


@pytest.mark.parametrize("who, action, error", [
    (CAROL, "review", PermissionDeniedError),     # an annotator can not review
    (ALICE, "review", PermissionDeniedError),     # nor review their own
    (LIB, "review", PermissionDeniedError),       # a submitting unit is not a reviewer
    (ANONYMOUS, "review", AuthenticationRequiredError),
    (CAROL, "submit", AnnotationNotFoundError),   # someone else's draft does not exist for carol
    (RITA, "withdraw", PermissionDeniedError),    # a reviewer can not withdraw alice's submission
])
def test_who_may_do_what(svc, who, action, error):
    a = svc.create(ALICE, data()).annotation
    svc.submit(ALICE, a.id)
    if action == "submit":
        svc.withdraw(ALICE, a.id)
    with pytest.raises(error):
        if action == "review":
            svc.review(who, a.id, "approve")
        elif action == "submit":
            svc.submit(who, a.id)
        else:
            svc.withdraw(who, a.id)
    assert svc.get(ALICE, a.id).annotation.status in (Status.SUBMITTED, Status.DRAFT)


def test_four_eyes_reviewer_can_not_approve_own_but_admin_can(svc):
    a = svc.create(RITA, data()).annotation
    svc.submit(RITA, a.id)
    with pytest.raises(PermissionDeniedError, match="does not review their own"):
        svc.review(RITA, a.id, "approve")
    assert svc.review(ROOT, a.id, "approve").annotation.status is Status.APPROVED


def test_state_machine(svc):
    a = svc.create(ALICE, data()).annotation
    with pytest.raises(AnnotationNotFoundError):  # a reviewer does not see drafts at all
        svc.review(RITA, a.id, "approve")
    with pytest.raises(InvalidTransitionError, match="can not approve .* it is draft"):
        svc.review(ROOT, a.id, "approve")
    s = svc.submit(ALICE, a.id)
    with pytest.raises(InvalidTransitionError, match="awaiting review"):
        svc.update(ALICE, a.id, data(), if_match=s.etag)
    with pytest.raises(InvalidTransitionError):
        svc.submit(ALICE, a.id)
    with pytest.raises(InvalidReviewError, match="needs a reason"):
        svc.review(RITA, a.id, "reject", "  ")
    assert svc.withdraw(ALICE, a.id).annotation.status is Status.DRAFT


def test_edit_rules(svc):
    s = svc.create(ALICE, data())
    a = s.annotation
    with pytest.raises(AnnotationNotFoundError):  # a reviewer does not see (or edit) someone else's draft
        svc.update(RITA, a.id, data(), if_match=s.etag)
    svc.submit(ALICE, a.id)
    s = svc.get(RITA, a.id)
    with pytest.raises(PermissionDeniedError):  # ... nor a submitted one: reviewing is not editing
        svc.update(RITA, a.id, data(category=Category.PLACE), if_match=s.etag)
    s = svc.review(RITA, a.id, "approve")
    with pytest.raises(PermissionDeniedError, match="after approval a reviewer or admin"):
        svc.update(ALICE, a.id, data(category=Category.PLACE), if_match=s.etag)
    s2 = svc.update(RITA, a.id, data(category=Category.PLACE), if_match=s.etag)  # reviewers correct approved ones
    assert s2.annotation.status is Status.APPROVED and s2.annotation.readings[0].category is Category.PLACE
    assert s2.annotation.history[-1].agent.endswith("/rita")
    with pytest.raises(PermissionDeniedError):
        svc.create(LIB, data())


def test_if_match(svc):
    s = svc.create(ALICE, data())
    with pytest.raises(PreconditionRequiredError):
        svc.update(ALICE, s.annotation.id, data(), if_match=None)
    with pytest.raises(PreconditionFailedError):
        svc.update(ALICE, s.annotation.id, data(category=Category.ERA), if_match='"abc"')
    with pytest.raises(PreconditionFailedError):  # weak validators never match If-Match
        svc.update(ALICE, s.annotation.id, data(category=Category.ERA), if_match=f'W/"{s.etag}"')
    assert svc.update(ALICE, s.annotation.id, data(category=Category.ERA), if_match="*").annotation.revision == 2
    with pytest.raises(PreconditionFailedError):  # optional on workflow steps, but checked when sent
        svc.submit(ALICE, s.annotation.id, if_match=f'"{s.etag}"')


def test_delete_keeps_a_tombstone_with_history(svc, store):
    s = approved(svc)
    a = s.annotation
    with pytest.raises(PermissionDeniedError):
        svc.delete(ALICE, a.id, if_match=s.etag)  # approved: only an admin deletes
    svc.delete(ROOT, a.id, if_match=s.etag)
    with pytest.raises(AnnotationGoneError):
        svc.get(ROOT, a.id)
    assert store.count(PUBLIC_GRAPH_BASE + a.id) == 0
    tomb = svc._load(a.id)
    assert tomb.graph == PRIVATE_GRAPH_BASE + a.id and tomb.annotation.status is Status.DELETED
    assert tomb.annotation.history[-1].action == "delete" and tomb.annotation.history[-1].before == {"status": "approved"}
    assert svc.count(ROOT) == 0


def test_provisional_authority_is_minted_and_stored(svc, store):
    a = svc.create(ALICE, data(label="滕宗諒", provisional=True, exact="滕子京", start=20)).annotation
    r = a.readings[0]
    assert r.authority.startswith("https://w3id.org/guji/id/authority/person/") and r.provisional
    types = {t.object.value for t in store.triples(PRIVATE_GRAPH_BASE + a.id) if t.subject.value == r.authority}
    assert GUJI + "AuthorityRecord" in types
    with pytest.raises(TargetMismatchError, match="needs its name"):
        svc.create(ALICE, data(provisional=True))


# -- reading and listing --------------------------------------------------------------------------

def test_visibility_filter_agrees_with_the_policy(svc, store):
    """The SPARQL filter used for listing must select exactly what the policy allows, for every role."""
    people = [ANONYMOUS, ALICE, CAROL, RITA, VERA, ROOT, LIB]
    made = {}
    for who, status in itertools.product([ALICE, RITA], ["draft", "submitted", "approved", "rejected"]):
        a = svc.create(who, data()).annotation
        if status != "draft":
            svc.submit(who, a.id)
        if status in ("approved", "rejected"):
            svc.review(ROOT, a.id, "approve" if status == "approved" else "reject", "x")
        made[a.id] = svc._load(a.id).annotation
    for who in people:
        listed = {s.annotation.id for s in svc.list(who, limit=None).items}
        expected = {i for i, a in made.items() if AnnotationPolicy.allows("read", who, a)}
        assert listed == expected, who
        assert svc.count(who) == len(expected)
    assert len({s.annotation.id for s in svc.list(ANONYMOUS, limit=None).items}) == 2  # approved ones only


def test_filters_and_order(svc, store):
    put_text(store, "甲乙丙丁戊己庚辛壬癸", "https://w3id.org/guji/id/text/GJ9b0001/master/001")
    ids = [svc.create(ALICE, data()).annotation.id for _ in range(3)]
    other = svc.create(CAROL, AnnotationCreate(
        target=TextSelection(source="https://w3id.org/guji/id/text/GJ9b0001/master/001", exact="丙丁"),
        readings=[Reading(category=Category.ERA)])).annotation.id
    assert [s.annotation.id for s in svc.list(ROOT, limit=None).items] == ids + [other]  # creation order
    assert [s.annotation.id for s in svc.list(ROOT, AnnotationFilter(target=J), limit=2, offset=1).items] == ids[1:3]
    assert [s.annotation.id for s in svc.list(ROOT, AnnotationFilter(category=Category.ERA)).items] == [other]
    assert [s.annotation.id for s in svc.list(ROOT, AnnotationFilter(creator="carol")).items] == [other]
    assert svc.list(ROOT, AnnotationFilter(target="https://w3id.org/guji/id/text/NOPE")).total == 0


# -- re-anchoring through the service -------------------------------------------------------------

def test_reanchor_after_a_correction(svc, store):
    far = approved(svc, exact="巴陵郡", start=25).annotation          # after the edit: shifted
    near = svc.create(ALICE, data(exact="岳陽樓", start=0)).annotation   # well before the edit: untouched
    twice = svc.create(CAROL, data(exact="子京", start=21)).annotation   # its context is rewritten
    gone = svc.create(CAROL, data(exact="謫守", start=23)).annotation    # its quote is corrected away
    new_text = TEXT.replace("春滕子京謫守", "春，滕子京謫守巴陵之地，滕子京貶守")
    seq = store.last_sequence()
    report = svc.reanchor(RITA, J, TEXT, new_text)
    assert report.checked == 4
    assert store.last_sequence() - seq == 3  # one transaction: three annotations changed, one untouched
    assert len({c.at for c in store.changes_since(seq)}) == 1
    s_far = svc.get(ANONYMOUS, far.id).annotation
    assert new_text[s_far.target.start:s_far.target.end] == "巴陵郡" and s_far.anchor.state is AnchorState.OK
    assert s_far.status is Status.APPROVED and s_far.history[-1].action == "reanchor"
    assert s_far.history[-1].before["target"]["start"] == 25 and s_far.history[-1].after["target"]["start"] == s_far.target.start
    assert svc.get(ALICE, near.id).annotation.revision == 1
    s_twice = svc.get(CAROL, twice.id).annotation
    assert s_twice.anchor.state is AnchorState.NEEDS_REVIEW and s_twice.target.start == 21  # not moved
    assert "occurs 3 time(s)" in s_twice.anchor.reason  # 滕子京 twice now, and 字子京
    s_gone = svc.get(CAROL, gone.id).annotation
    assert s_gone.anchor.state is AnchorState.NEEDS_REVIEW and s_gone.target.start == 23
    assert s_gone.history[-1].agent.endswith("/rita") and s_gone.history[-1].reason == s_gone.anchor.reason
    # a person fixes the flagged one: PUT with the right span clears the flag, and says who confirmed it
    s = svc.get(CAROL, twice.id)
    fixed = svc.update(CAROL, twice.id, AnnotationCreate(
        target=TextSelection(source=J, start=new_text.index("子京"), end=new_text.index("子京") + 2),
        readings=s.annotation.readings), if_match=s.etag).annotation
    assert fixed.anchor.state is AnchorState.OK and fixed.anchor.reason == "confirmed by carol"
    # flagged annotations are listed for review
    flagged = svc.list(ROOT, AnnotationFilter(anchor=(AnchorState.NEEDS_REVIEW, AnchorState.ORPHANED))).items
    assert [x.annotation.id for x in flagged] == [gone.id]


def test_reanchor_needs_a_reviewer(svc):
    with pytest.raises(PermissionDeniedError):
        svc.reanchor(ALICE, J, TEXT, TEXT + "。")


def test_check_anchors_after_a_text_was_replaced_without_reanchoring(svc, store):
    """An ingest replaced the text and did not call reanchor: the check finds what no longer stands
    where it says, moves what it finds once (with its context), flags the rest; a second run is a no-op."""
    stays = approved(svc, exact="岳陽樓", start=0).annotation
    shifted = approved(svc, exact="巴陵郡", start=25).annotation
    ambiguous = svc.create(ALICE, data(exact="子京", start=21)).annotation
    new_text = TEXT.replace("春滕子京謫守", "春，滕子京謫守巴陵之地，滕子京貶守")
    put_text(store, new_text)  # what an ingest of the corrected file does
    [report] = svc.check_anchors(RITA)
    assert report.source == J and report.checked == 3
    assert svc.get(ANONYMOUS, stays.id).annotation.revision == stays.revision  # quote and context still stand
    # without the old text a shift can not be proved by alignment: the quote is found once, but not
    # with its old prefix, so a person looks at it (an alignment with the old text would have moved it)
    moved = svc.get(ANONYMOUS, shifted.id).annotation
    assert moved.anchor.state is AnchorState.NEEDS_REVIEW and moved.target.start == 25 and moved.status is Status.APPROVED
    assert "occurs 1 time(s)" in moved.anchor.reason
    flagged = svc.get(ALICE, ambiguous.id).annotation
    assert flagged.anchor.state is AnchorState.NEEDS_REVIEW and flagged.target.start == 21
    seq = store.last_sequence()
    assert [r.outcomes for r in svc.check_anchors(RITA)] == [{}] and store.last_sequence() == seq


def test_check_anchors_moves_a_uniquely_found_quote(svc, store):
    a = approved(svc, exact="巴陵郡", start=25).annotation
    new_text = "補字" + TEXT  # two characters inserted at the very start: quote and context intact, offsets off by 2
    put_text(store, new_text)
    [report] = svc.check_anchors(ROOT, J)
    assert report.count("reanchored") == 1
    moved = svc.get(ANONYMOUS, a.id).annotation
    assert (moved.target.start, moved.target.end) == (27, 30) and moved.anchor.state is AnchorState.REANCHORED
    assert moved.history[-1].before["target"] == {"start": 25, "end": 28} and moved.history[-1].after["target"] == {"start": 27, "end": 30}


@pytest.mark.parametrize("scope", [J + "\x1f", J + "\x7f", J + "\x00", "https://w3id.org/guji/id/work/a b", J + ">", ":x"])
def test_a_scope_that_is_no_iri_is_refused_not_a_query_error(svc, scope):
    """schemathesis: ``GET /api/annotations/export?scope=%1F`` (and ``/annotations/?creator=%7F``)
    reached SPARQL and answered 500."""
    with pytest.raises(TargetMismatchError, match="not a valid IRI"):
        svc.export(ANONYMOUS, scope)


def test_a_creator_that_is_no_iri_is_refused(svc):
    with pytest.raises(TargetMismatchError, match="not a valid IRI"):
        svc.list(ROOT, AnnotationFilter(creator="\x7f"))

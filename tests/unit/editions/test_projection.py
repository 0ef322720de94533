"""The editions projection against a real on-disk store: follows the change log, writes proposals
through the store, ignores its own (private) writes, rebuilds idempotently."""

import pytest

from accounts.identity import Identity, Role
from annotation.model import AnnotationCreate, Category, Reading, TextSelection
from annotation.service import AnnotationService
from api.context import SAMPLE_DIR
from editions.projection import EditionProposalProjection
from editions.service import PROPOSALS_BASE, EditionService
from kg.ingest_kanripo import find_works, ingest_work
from kg.store import OxigraphStore

JUAN = "https://w3id.org/guji/id/text/GJ4a0002/master/001"


@pytest.fixture
def setup(tmp_path):
    store = OxigraphStore(tmp_path / "oxigraph")
    for w in find_works([SAMPLE_DIR / "kanripo" / "GJ4a0002"]):
        ingest_work(store, w)
    annotations = AnnotationService(store)
    projection = EditionProposalProjection(EditionService(store, annotations), tmp_path / "editions.json")
    yield store, annotations, projection
    store.close()


def approve(annotations, exact):
    text = annotations.text_of(JUAN)
    s = text.index(exact)
    alice, rita = Identity("alice", Role.ANNOTATOR), Identity("rita", Role.REVIEWER)
    a = annotations.create(alice, AnnotationCreate(target=TextSelection(source=JUAN, start=s, end=s + len(exact)),
                                                   readings=[Reading(category=Category.PLACE)])).annotation
    annotations.submit(alice, a.id)
    return annotations.review(rita, a.id, "approve").annotation


def catch_up(store, projection):
    cp = projection.checkpoint(store) or 0
    return projection.apply(store, store.changes_since(cp))


def test_follows_the_log_and_ignores_its_own_writes(setup):
    store, annotations, projection = setup
    assert projection.checkpoint(store) is None  # never built: the projector rebuilds
    projection.rebuild(store)
    assert projection.checkpoint(store) == store.last_sequence()
    a = approve(annotations, "洞庭")
    out = catch_up(store, projection)
    assert out["proposed"] == 1
    proposals = [g for g in store.graphs() if g.startswith(PROPOSALS_BASE)]
    assert proposals == [PROPOSALS_BASE + a.id]
    # its own write (a private graph) is in the log, but applying it changes nothing
    before = store.last_sequence()
    out = catch_up(store, projection)
    assert out == {"refreshed": 0} and store.last_sequence() == before
    assert projection.check(store)["in_sync"] is True


def test_a_rebuild_gives_the_same_proposals_and_writes_nothing_new(setup):
    store, annotations, projection = setup
    approve(annotations, "巴陵郡")
    projection.rebuild(store)
    triples = sorted(str(t) for g in store.graphs() if g.startswith(PROPOSALS_BASE) for t in store.triples(g))
    assert triples
    last = store.last_sequence()
    projection.state_path.unlink()
    out = projection.rebuild(store)
    assert out["refreshed"] == 1 and out["proposed"] == 0 and store.last_sequence() == last
    assert sorted(str(t) for g in store.graphs() if g.startswith(PROPOSALS_BASE) for t in store.triples(g)) == triples


def test_a_broken_checkpoint_file_means_rebuild(setup):
    store, _, projection = setup
    projection.state_path.write_text("{not json")
    assert projection.checkpoint(store) is None

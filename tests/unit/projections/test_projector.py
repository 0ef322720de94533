"""The projector over the embedded projections (search index on tantivy, public SPARQL dataset):
live application of commits, ordering and idempotence, a projection that is down, lag, and an
interrupted rebuild."""

from __future__ import annotations

import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.graphs import CHANGELOG, PRIVATE_ANNOTATION
from kg.ingest_kanripo import find_works, ingest_work
from kg.store import OxigraphStore
from projections import Projector
from projections.neo4j import Neo4jProjection
from projections.public_sparql import OxigraphPublicDataset
from projections.search import SearchProjection
from search.backends.tantivy import TantivyIndex
from search.service import SearchService

ROOT = Path(__file__).resolve().parents[3]
N = ox.NamedNode
G_PUBLIC = "https://w3id.org/guji/graph/load/t1"
G_PRESERVATION = "https://w3id.org/guji/graph/preservation/package/t1"


def triple(s: str, o: str) -> ox.Triple:
    return ox.Triple(N(f"https://example.org/{s}"), N("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal(o))


@pytest.fixture
def store(tmp_path):
    s = OxigraphStore(tmp_path / "store")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(s, w)
    yield s
    s.close()


@pytest.fixture
def public(tmp_path):
    p = OxigraphPublicDataset(tmp_path / "public")
    yield p
    p.close()


@pytest.fixture
def search(tmp_path, store):
    return SearchService(TantivyIndex(tmp_path / "search"), store=store)


def ask(public: OxigraphPublicDataset, q: str) -> bool:
    return bool(public._store.query(q, use_default_graph_as_union=True))


def test_catch_up_builds_then_applies_changes_in_order(store, public, search):
    projector = Projector(store, [SearchProjection(search), public])
    first = projector.catch_up()
    assert first["sparql"]["rebuilt"] and first["search"]["rebuilt"]
    assert public.checkpoint(store) == store.last_sequence()
    store.replace_graph(G_PUBLIC, [triple("a", "甲")], agent="t")
    store.replace_graph(G_PUBLIC, [triple("a", "乙")], agent="t")  # the later change wins
    out = projector.catch_up()
    assert out["sparql"]["changes"] == 2
    assert ask(public, 'ASK { ?s ?p "乙" }') and not ask(public, 'ASK { ?s ?p "甲" }')
    assert projector.catch_up()["sparql"]["changes"] == 0  # nothing new: nothing done
    assert public.check(store)["in_sync"]


def test_non_public_graphs_never_reach_the_public_dataset(store, public):
    projector = Projector(store, [public])
    store.replace_graphs({G_PRESERVATION: [triple("m", "保存级母版")],
                          PRIVATE_ANNOTATION + "x1": [triple("d", "草稿")]}, agent="t")
    projector.catch_up()
    graphs = {g.value for g in public._store.named_graphs()}
    assert G_PRESERVATION not in graphs and PRIVATE_ANNOTATION + "x1" not in graphs and CHANGELOG not in graphs
    for word in ("保存级母版", "草稿"):
        assert not ask(public, f'ASK {{ GRAPH ?g {{ ?s ?p "{word}" }} }}')
    assert not ask(public, "ASK { ?c a <https://w3id.org/guji/ontology#Change> }")


def test_reapplying_changes_is_harmless(store, public):
    projector = Projector(store, [public])
    projector.catch_up()
    store.replace_graph(G_PUBLIC, [triple("a", "甲"), triple("b", "乙")], agent="t")
    changes = store.changes_since(public.checkpoint(store))
    public.apply(store, changes)
    before = len(public._store)
    public.apply(store, changes)  # at least once: a crash before the checkpoint moved repeats a batch
    assert len(public._store) == before
    assert public.check(store)["in_sync"]


def test_live_projector_applies_a_commit_within_a_second(store, public, search):
    projector = Projector(store, [SearchProjection(search), public], poll_interval=30)
    projector.catch_up()
    store.subscribe(projector.notify)
    projector.start()
    try:
        t0 = time.monotonic()
        store.replace_graph(G_PUBLIC, [triple("live", "即時")], agent="t")
        assert projector.wait_until(store.last_sequence(), timeout=5)
        elapsed = time.monotonic() - t0
        assert ask(public, 'ASK { ?s ?p "即時" }')
        assert elapsed < 2.0, elapsed  # woken by the commit, not by the 30 s poll
        assert all(st.pending == 0 and st.state == "ok" for st in projector.status())
    finally:
        projector.stop()


def _stuck_projection(tmp_path):
    """A stand-in, named as such, for a projection inside a long job (Neo4j working through a large
    ingest): a second real public dataset whose ``apply`` blocks until ``release`` is set.
    Returns (projection, its dataset, entered, release)."""
    import threading

    slow_target = OxigraphPublicDataset(tmp_path / "slow")
    entered, release = threading.Event(), threading.Event()

    def blocking_apply(st, changes, **kw):
        entered.set()
        release.wait(30)
        return slow_target.apply(st, changes, **kw)

    return _Proxy(slow_target, name="slow", apply=blocking_apply), slow_target, entered, release


def test_a_projection_busy_with_a_long_job_does_not_hold_the_others_back(store, public, tmp_path):
    """Each projection has its own thread: while one is stuck in a long ``apply``, a commit still
    reaches the public SPARQL dataset at once."""
    slow, slow_target, entered, release = _stuck_projection(tmp_path)
    projector = Projector(store, [slow, public], poll_interval=30)
    projector.catch_up()
    store.subscribe(projector.notify)
    projector.start()
    try:
        store.replace_graph(G_PUBLIC, [triple("busy", "長工")], agent="t")
        assert entered.wait(5)  # the slow projection is inside its long job now
        store.replace_graph(G_PUBLIC, [triple("busy", "插隊")], agent="t")
        t0 = time.monotonic()
        while public.checkpoint(store) < store.last_sequence() and time.monotonic() - t0 < 5:
            time.sleep(0.01)
        assert ask(public, 'ASK { ?s ?p "插隊" }'), "the public dataset waited for the slow projection"
        assert public.checkpoint(store) == store.last_sequence()
        assert {st.name: st for st in projector.status()}["slow"].pending >= 1  # still inside its long job
        release.set()
        assert projector.wait_until(store.last_sequence(), timeout=10)
        assert slow_target.checkpoint(store) == store.last_sequence()
    finally:
        release.set()
        projector.stop()
        slow_target.close()
    assert not projector.running


def test_a_write_answer_does_not_wait_behind_another_projections_long_job(store, public, tmp_path):
    """A write request waits for the projections to show it, but not for one busy with a long
    step that was taken before the write (a large ingest made before): that one shows the write
    when it is through. The same wait without the option does wait for it (until its bound)."""
    slow, slow_target, entered, release = _stuck_projection(tmp_path)
    projector = Projector(store, [slow, public], poll_interval=30, long_job=0.3)
    projector.catch_up()
    store.subscribe(projector.notify)
    projector.start()
    try:
        store.replace_graph(G_PUBLIC, [triple("bulk", "大批")], agent="t")
        assert entered.wait(5)
        time.sleep(0.4)  # the slow projection's step has now run longer than long_job
        store.replace_graph(G_PUBLIC, [triple("click", "點擊")], agent="t")
        target = store.last_sequence()
        assert projector.wait_until(target, timeout=0.5) is False  # the plain wait waits for the slow one
        t0 = time.monotonic()
        projector.wait_until(target, timeout=10, not_behind_long_jobs=True)
        assert time.monotonic() - t0 < 2, "the write's answer waited behind the long job"
        assert ask(public, 'ASK { ?s ?p "點擊" }'), "it returned before the quick projection showed the write"
        assert slow_target.checkpoint(store) < target
        release.set()
        assert projector.wait_until(target, timeout=10)  # the slow one takes the write in its next step
        assert slow_target.checkpoint(store) == target
    finally:
        release.set()
        projector.stop()
        slow_target.close()


def test_a_projection_that_is_down_is_retried_and_does_not_hold_the_others(store, public):
    down = Neo4jProjection("bolt://127.0.0.1:9")  # nothing listens there: a real connection failure
    projector = Projector(store, [public, down], max_backoff=4)
    out = projector.catch_up()
    assert isinstance(out["neo4j"], str) and out["neo4j"].startswith("not synced")
    assert public.checkpoint(store) == store.last_sequence()  # the embedded one went on
    status = {s.name: s for s in projector.status()}
    assert status["neo4j"].state == "failing" and status["neo4j"].retry_in == 1.0 and status["neo4j"].last_error
    assert status["neo4j"].pending == store.last_sequence()
    projector.catch_up()
    assert {s.name: s for s in projector.status()}["neo4j"].retry_in == 2.0  # exponential backoff
    check = projector.check()
    assert check["neo4j"]["in_sync"] is False and check["neo4j"]["reachable"] is False
    assert check["sparql"]["in_sync"]
    down.close()


def test_lag_is_the_age_of_the_oldest_pending_change(store, public):
    projector = Projector(store, [public])
    projector.catch_up()
    store.replace_graph(G_PUBLIC, [triple("lag", "遲")], agent="t")
    time.sleep(0.3)
    st = projector.status()[0]
    assert st.pending == 1 and st.lag_seconds >= 0.25
    projector.catch_up()
    st = projector.status()[0]
    assert st.pending == 0 and st.lag_seconds == 0


def test_an_interrupted_rebuild_is_detected_and_redone(store, public, monkeypatch):
    """Simulated crash (named as such): the bulk load stops half-way through the stream of quads,
    after the first half is on disk."""
    projector = Projector(store, [public])
    real_bulk = public._store.bulk_extend
    written = {"n": 0}

    class Crash(RuntimeError):
        pass

    def flaky(quads):
        quads = list(quads)
        written["n"] = len(quads) // 2
        real_bulk(quads[:written["n"]])
        raise Crash("power cut")

    monkeypatch.setattr(public, "_store", _Proxy(public._store, bulk_extend=flaky))
    with pytest.raises(Crash):
        public.rebuild(store)
    assert written["n"] > 0 and len(public._store._target) == written["n"]  # premise: a partial copy is on disk
    assert public.checkpoint(store) is None  # marked rebuilding: never trusted as complete
    monkeypatch.undo()
    projector.catch_up()  # plain sync: rebuilds
    assert public.check(store)["in_sync"]


def test_check_finds_content_drift_not_only_checkpoints(store, public):
    projector = Projector(store, [public])
    projector.catch_up()
    g = next(g.value for g in public._store.named_graphs())
    public._store.remove_graph(N(g))  # behind the projector's back
    report = public.check(store)
    assert not report["in_sync"]
    assert any(d["kind"] == "graph" and d["name"] == g for d in report["drift"])


class _Proxy:
    def __init__(self, target, **overrides):
        self._target, self._overrides = target, overrides

    def __getattr__(self, name):
        return self._overrides.get(name) or getattr(self._target, name)


def test_a_backlog_of_annotation_changes_on_few_juans_is_coalesced_and_loses_nothing(store, search, public):
    """ADR 0018: the search projection takes 5,000 changes per step, so many approvals, edits and
    retractions on the same juans re-index each juan once; the index ends exactly as the store."""
    from annotation.model import Category
    from annotation.rdf import to_triples
    from bench.projections.generate import annotations, juan_texts, write_approved
    from kg.graphs import annotation_graph

    projection = SearchProjection(search)
    projector = Projector(store, [projection, public])
    projector.catch_up()
    juans = juan_texts(store)[:2]
    made = list(annotations(juans, 300, seed=4, prefix="C"))
    write_approved(store, iter(made), per_transaction=7)  # many small transactions, as reviewers approve
    for a in made[:40]:  # edits: another category
        a.readings[0].category = Category.EVENT
        store.replace_graph(annotation_graph(a.id, public=True), to_triples(a.public()), agent="t")
    retracted = made[40:70]
    for a in retracted:
        store.replace_graphs({annotation_graph(a.id, public=True): []}, agent="t")
    calls = []
    real_apply = projection.apply
    projection.apply = lambda s, changes, **kw: (calls.append(len(changes)), real_apply(s, changes, **kw))[1]
    done = projector.catch_up("search")
    assert calls == [store.last_sequence() - done["search"]["from"]]  # one step: every change coalesced
    assert projection.check(store, sample=50)["in_sync"]
    # every approved annotation, and no retracted one, is on its juan's passages
    from search.passages import passages_from_store

    want = {e.annotation for p in passages_from_store(store, search.normaliser) for e in p.entities}
    stored = search.index.stored([p.id for p in passages_from_store(store, search.normaliser)])
    got = {x["annotation"] for d in stored.values() for x in d.get("entities") or ()}
    assert got == want
    assert {a.iri for a in retracted}.isdisjoint(got)
    assert {a.iri for a in made[:40]} <= got and {a.iri for a in made[70:]} <= got
    events = {x["annotation"] for d in stored.values() for x in d.get("entities") or () if x.get("category") == "event"}
    assert {a.iri for a in made[:40]} <= events  # the edits arrived


@pytest.mark.parametrize("which", ["search", "sparql"])
def test_an_approval_made_during_a_long_step_is_shown_before_the_step_ends(tmp_path, monkeypatch, which):
    """The express lane (ADR 0011, amendment 3): while a projection works through a new source
    graph in slices (the stand-in for a 10,000-book package: a Kanripo work read one juan, or 50
    quads, per slice), an annotation approved meanwhile is applied at the step's next safe point,
    not after the whole step; the checkpoint does not move past the unfinished step, and the
    in-order pass that follows leaves the projection in sync."""
    import threading

    import projections.public_sparql as public_sparql
    import search.passages as passages
    from bench.projections.generate import annotations, juan_texts, write_approved

    monkeypatch.setattr(passages, "JUAN_SLICE", 1)
    monkeypatch.setattr(public_sparql, "SLICE", 50)
    store = OxigraphStore(tmp_path / "store")
    works = {w.name: w for w in find_works([ROOT / "samples" / "kanripo"])}
    for name in ("GJ3a0001", "GJ4a0001"):
        ingest_work(store, works[name])
    if which == "search":
        search = SearchService(TantivyIndex(tmp_path / "search"), store=store)
        projection = SearchProjection(search)
    else:
        projection = OxigraphPublicDataset(tmp_path / "public")
    projector = Projector(store, [projection], poll_interval=30, express_after=0)
    projector.catch_up()
    existing = juan_texts(store)

    # hold the step at its first two safe points, so that the test can act inside it
    reached = [threading.Event(), threading.Event()]
    go = [threading.Event(), threading.Event()]
    calls = []
    real_between = projector._between

    def held_between(p, st, step_end):
        inner = real_between(p, st, step_end)

        def between():
            k = len(calls)
            calls.append(step_end)
            if k < 2:
                reached[k].set()
                go[k].wait(20)
            inner()
        return between

    monkeypatch.setattr(projector, "_between", held_between)
    store.subscribe(projector.notify)
    projector.start()
    try:
        ingest_work(store, works["GJ4a0002"])  # the long step: a new source graph
        step_end = store.last_sequence()
        assert reached[0].wait(20), "the step never reached a safe point"
        made = next(annotations(existing, 1, seed=11, prefix="EXPRESS"))
        write_approved(store, iter([made]))
        approval = store.last_sequence()
        assert not projector.wait_until(approval, timeout=0.3, since=step_end)  # nothing applied it: the step holds
        go[0].set()
        assert reached[1].wait(20)  # the next safe point: the first one applied the approval
        st = {s.name: s for s in projector.status()}[projection.name]
        assert (st.checkpoint or 0) < step_end  # the step is not finished, its checkpoint has not moved
        assert st.express_changes == 2  # the annotation's public and private graph
        # shown: a write's answer need not wait for the step; everything up to it is not shown yet
        assert projector.wait_until(approval, timeout=1, since=step_end)
        assert not projector.wait_until(approval, timeout=0.1)
        iri = made.iri
        if which == "search":
            assert search.index.annotated_juans([iri]), "the approval is not in the search index"
        else:
            assert ask(projection, f"ASK {{ <{iri}> ?p ?o }}"), "the approval is not in the public dataset"
        go[1].set()
        assert projector.wait_until(store.last_sequence(), timeout=20)
        check = projection.check(store)
        assert check["in_sync"], check["drift"]
    finally:
        for e in go:
            e.set()
        projector.stop()
        projection.close()
        store.close()


def test_a_new_graph_copied_in_slices_and_cut_short_is_completed_by_the_next_apply(store, public, monkeypatch):
    """A new graph reaches the public dataset in slices (one bulk load each); a step cut short
    after two of them (the process killed) leaves part of it and the old checkpoint, and applying
    the step again completes it."""
    import projections.public_sparql as public_sparql

    monkeypatch.setattr(public_sparql, "SLICE", 20)
    Projector(store, [public]).catch_up()
    store.replace_graph(G_PUBLIC, [triple(f"s{i}", f"值{i}") for i in range(100)], agent="t")
    changes = store.changes_since(public.checkpoint(store))

    class Killed(Exception):
        pass

    calls = []

    def between():
        calls.append(1)
        if len(calls) == 2:
            raise Killed

    with pytest.raises(Killed):
        public.apply(store, changes, between=between)
    held = len(list(public._store.quads_for_pattern(None, None, None, N(G_PUBLIC))))
    assert held == 40 and public.checkpoint(store) < store.last_sequence()
    public.apply(store, changes)  # the projector's next try
    assert len(list(public._store.quads_for_pattern(None, None, None, N(G_PUBLIC)))) == 100
    assert public.check(store)["in_sync"]

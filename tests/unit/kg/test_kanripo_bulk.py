"""The first Kanripo ingest (ADR 0025): works read in worker processes and bulk loaded behind a
staging marker give exactly the triples of the transactional path; nothing is visible before the
publish; a broken work, a failed load or an interrupted run leaves the store as it was, and the
next run completes the ingest."""

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from api import operations
from api.context import Context
from api.settings import Settings
from kg import ingest_kanripo
from kg.errors import ValidationError
from kg.ingest_kanripo import LOAD_MARKER, digest_graph, find_works, graph_iri, ingest_work
from kg.store import OxigraphStore

ROOT = Path(__file__).resolve().parents[3]
SAMPLES = ROOT / "samples" / "kanripo"
WORKS = sorted(w.name for w in find_works([SAMPLES]))


@pytest.fixture
def ctx(tmp_path):
    c = Context(Settings(home=tmp_path / "home", environment="test", ingest_processes=2))
    yield c
    c.close()


def content(store: OxigraphStore) -> set[ox.Quad]:
    """Every quad but the change log and the digests (the digest names the run's reader code)."""
    return {q for q in store.oxigraph
            if q.graph_name.value.startswith(ingest_kanripo.GG + "kanripo/")}


def test_bulk_loaded_works_hold_exactly_the_triples_of_the_transactional_path(ctx, tmp_path):
    assert len(WORKS) > 2  # several works: the worker processes are used
    out = operations.ingest(ctx, [SAMPLES], "kanripo")
    assert [s["source"] for s in out["sources"]] == WORKS
    assert all(not s["unchanged"] and s["added"] == s["triples"] > 0 for s in out["sources"])
    reference = OxigraphStore(tmp_path / "reference")
    for w in find_works([SAMPLES]):
        ingest_work(reference, w)
    assert content(ctx.store) == content(reference)  # every character of every literal, every IRI
    for w in WORKS:
        assert graph_iri(w) in ctx.store.graphs() and digest_graph(w) in ctx.store.graphs()
    assert not ctx.store.staged_graphs() and not ctx.store.staging(LOAD_MARKER)[0]
    # each graph has its change, and its digest a later one: the next run skips every work unparsed
    logged = {c.graph: c.sequence for c in ctx.store.changes_since(0)}
    assert all(logged[graph_iri(w)] < logged[digest_graph(w)] for w in WORKS)
    last = ctx.store.last_sequence()
    again = operations.ingest(ctx, [SAMPLES], "kanripo")
    assert all(s["skipped"] for s in again["sources"]) and ctx.store.last_sequence() == last


def test_a_broken_work_writes_nothing(ctx, tmp_path):
    corpus = tmp_path / "corpus"
    for w in WORKS:
        shutil.copytree(SAMPLES / w, corpus / w)
    bad = sorted((corpus / WORKS[1]).glob("*/*.txt"))[0]
    data = bad.read_bytes()
    bad.write_bytes(data[:40] + b"\xff\xfe" + data[40:])
    with pytest.raises(ValidationError) as err:
        operations.ingest(ctx, [corpus], "kanripo")
    assert err.value.details["file"] == str(bad) and err.value.details["line"] == data[:40].count(b"\n") + 1  # raised in a worker, details kept
    assert not [g for g in ctx.store.graphs() if "/kanripo/" in g]
    assert not ctx.store.staging(LOAD_MARKER)[0]
    assert not any(c.graph.startswith(ingest_kanripo.GG + "kanripo/") for c in ctx.store.changes_since(0))
    assert not [q for q in ctx.store.oxigraph if "/kanripo/" in q.graph_name.value]  # nor hidden: the loaded works removed


def test_an_interrupted_load_shows_nothing_and_the_next_run_completes_it(ctx, monkeypatch):
    real, loads = ctx.store.bulk_load_staged, []

    def interrupted(path, graph, *, data=None):
        loads.append(graph)
        if len(loads) == 2:
            raise KeyboardInterrupt  # Ctrl-C while the second work is loading
        real(path, graph, data=data)

    monkeypatch.setattr(ctx.store, "bulk_load_staged", interrupted)
    with pytest.raises(KeyboardInterrupt):
        operations.ingest(ctx, [SAMPLES], "kanripo")
    monkeypatch.undo()
    assert not [q for q in ctx.store.oxigraph if "/kanripo/" in q.graph_name.value]  # the first work's load removed
    assert not ctx.store.staging(LOAD_MARKER)[0]
    out = operations.ingest(ctx, [SAMPLES], "kanripo")
    assert all(not s.get("skipped") and s["added"] == s["triples"] for s in out["sources"])


def test_a_killed_load_stays_hidden_and_is_cleared_by_the_next_run(ctx, tmp_path):
    """A process killed mid-load leaves the marker and part of the triples: hidden from every
    listing and from the change log; the next ingest removes them and loads the works whole."""
    work = WORKS[0]
    wg = ingest_kanripo.read_work(SAMPLES / work)
    part = "".join(f"{t.subject} {t.predicate} {t.object} .\n" for t in wg.triples[: len(wg.triples) // 2]).encode()
    ctx.store.stage(LOAD_MARKER, [graph_iri(w) for w in WORKS], "run", agent="t")
    ctx.store.bulk_load_staged(None, graph_iri(work), data=part)
    assert graph_iri(work) not in ctx.store.graphs()
    assert not any(c.graph == graph_iri(work) for c in ctx.store.changes_since(0))
    operations.ingest(ctx, [SAMPLES], "kanripo")
    reference = OxigraphStore(tmp_path / "reference")
    for w in find_works([SAMPLES]):
        ingest_work(reference, w)
    assert content(ctx.store) == content(reference)
    assert not ctx.store.staging(LOAD_MARKER)[0] and graph_iri(work) in ctx.store.graphs()

"""Large packages: streaming validation, staged load, kill -9 and cancel (ADR 0017).

A package of several batches is bulk loaded into graphs a private marker hides and published in
one small transaction. These tests kill a real ingest process with SIGKILL half-way through the
load and check that the public view (the public SPARQL dataset the projector builds, the book
page's catalogue reads, the graph listing every projection starts from) holds nothing of the
package; then the next run completes it. Cancelling removes what was loaded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bench.package.__main__ import generate
from kg.catalog import Catalog
from kg.errors import IngestCancelledError, NotFoundError
from kg.graphs import is_public
from kg.package import ingest_package, staging_marker, validate_package
from kg.package.rdf import package_graph, preservation_graph
from kg.store import OxigraphStore
from projections.public_sparql import OxigraphPublicDataset

ROOT = Path(__file__).resolve().parents[3]
BOOKS, BATCH = 120, 20  # six batches: with load_bytes=1, six bulk loads before the publish
CENSUS = "110000-0002-0000007"  # a book of the generated package (bench.package.generate)

# the ingest as a separate process; after each loaded batch it waits, so the kill lands mid-load
SCRIPT = textwrap.dedent("""
    import json, sys, time
    from kg.package import ingest_package
    from kg.store import OxigraphStore
    store = OxigraphStore(sys.argv[1])
    def progress(phase, done, total):
        print(json.dumps([phase, done, total]), flush=True)
        if phase == "loading" and sys.argv[3] == "slow":
            time.sleep(0.5)
    result = ingest_package(store, sys.argv[2], agent="kill-test", batch_books=int(sys.argv[4]), load_bytes=1,
                            progress=progress)
    print(json.dumps(["done", len(result.changes), result.report.valid]), flush=True)
""")


@pytest.fixture(scope="module")
def bag(tmp_path_factory):
    return generate(tmp_path_factory.mktemp("pkg"), BOOKS)


def _run(store_dir: Path, bag: Path, *, slow: bool) -> subprocess.Popen:
    scratch = store_dir.parent / "tmp"  # the killed process's scratch stays under the test's tmp_path
    scratch.mkdir(exist_ok=True)
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(store_dir), str(bag), "slow" if slow else "fast", str(BATCH)],
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT), "TMPDIR": str(scratch)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _public_view(store: OxigraphStore, public_dir: Path) -> dict:
    """What the public can see: the public SPARQL dataset as the projector builds it, the book page."""
    public = OxigraphPublicDataset(public_dir)
    public.rebuild(store)
    rows = list(public._store.query(
        "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s a <https://w3id.org/guji/ontology#PhysicalBook> } }"))
    books = int(rows[0]["n"].value)
    graphs = sorted(g.value for g in public._store.named_graphs())
    public.close()
    try:
        title = Catalog(store).book(CENSUS)["title"]
    except NotFoundError:
        title = None
    return {"books": books, "graphs": graphs, "title": title, "listed": [g for g in store.graphs() if is_public(g)]}


def test_a_killed_ingest_leaves_the_public_view_unchanged_and_the_next_run_completes_it(bag, tmp_path):
    store_dir = tmp_path / "store"
    store = OxigraphStore(store_dir)
    before = _public_view(store, tmp_path / "public-before")
    del store

    proc = _run(store_dir, bag, slow=True)
    loaded = 0
    for line in proc.stdout:
        phase, done, total = json.loads(line)
        if phase == "loading":
            loaded = done
            break
    assert 0 < loaded < BOOKS, "the ingest never reached the load"
    time.sleep(0.2)  # the second batch is loading or about to
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    store = OxigraphStore(store_dir)
    raw = {g.value for g in store.oxigraph.named_graphs()}
    assert package_graph("bench-120") in raw, "the kill landed before any triple was loaded: the test proves nothing"
    assert store.count(package_graph("bench-120")) > 0
    # half a package is in the store, and none of it is public
    after = _public_view(store, tmp_path / "public-after")
    assert after == before
    assert package_graph("bench-120") not in after["listed"]
    assert not any(c.graph == package_graph("bench-120") for c in store.changes_since(0))
    del store

    proc = _run(store_dir, bag, slow=False)
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert json.loads(out.strip().splitlines()[-1]) == ["done", 2, True]

    store = OxigraphStore(store_dir)
    fresh = OxigraphStore(tmp_path / "fresh")
    ingest_package(fresh, bag, agent="fresh", batch_books=BATCH)
    for g in (package_graph("bench-120"), preservation_graph("bench-120")):
        assert store.count(g) == fresh.count(g) > 0  # completed: exactly what an uninterrupted run writes
    assert store.staging(staging_marker("bench-120")) == (set(), None)
    done = _public_view(store, tmp_path / "public-done")
    assert done["books"] == BOOKS and done["title"]
    assert package_graph("bench-120") in done["graphs"] and preservation_graph("bench-120") not in done["graphs"]


def test_cancel_while_loading_removes_what_was_loaded(bag, tmp_path):
    store = OxigraphStore(tmp_path / "store")
    seen = []

    def progress(phase, done, total):
        seen.append(phase)

    with pytest.raises(IngestCancelledError):
        ingest_package(store, bag, agent="t", batch_books=BATCH, load_bytes=1, progress=progress,
                       cancelled=lambda: seen.count("loading") >= 2)
    assert "loading" in seen
    assert not any(g.value.startswith(package_graph("bench-120")) or g.value.startswith(preservation_graph("bench-120"))
                   for g in store.oxigraph.named_graphs())
    assert store.staging(staging_marker("bench-120")) == (set(), None)
    assert {g.value for g in store.oxigraph.named_graphs()} == {"https://w3id.org/guji/graph/changelog"}
    assert not any(c.graph in (package_graph("bench-120"), preservation_graph("bench-120")) for c in store.changes_since(0))
    # and the next run ingests it whole
    result = ingest_package(store, bag, agent="t", batch_books=BATCH)
    assert [c.graph for c in result.changes] == [package_graph("bench-120"), preservation_graph("bench-120")]


def test_cancel_while_checking_writes_nothing(bag, tmp_path):
    store = OxigraphStore(tmp_path / "store")
    with pytest.raises(IngestCancelledError):
        ingest_package(store, bag, agent="t", batch_books=BATCH, cancelled=lambda: True)
    assert store.last_sequence() == 0 and len(store.oxigraph) == 0


def test_batches_give_the_same_graphs_and_report_as_one(bag, tmp_path):
    one, many, loads = OxigraphStore(tmp_path / "one"), OxigraphStore(tmp_path / "many"), OxigraphStore(tmp_path / "loads")
    ingest_package(one, bag, agent="t", batch_books=10_000)
    ingest_package(many, bag, agent="t", batch_books=BATCH)  # six batches, one bulk load
    ingest_package(loads, bag, agent="t", batch_books=BATCH, load_bytes=1024**2)  # six batches of ~0.7 MB: three bulk loads
    for g in (package_graph("bench-120"), preservation_graph("bench-120")):
        assert set(one.triples(g)) == set(many.triples(g)) == set(loads.triples(g))
    a, b = validate_package(bag, batch_books=10_000).report, validate_package(bag, batch_books=BATCH).report
    assert a.valid and b.valid and [p.to_json() for p in a.problems] == [p.to_json() for p in b.problems]


def test_ctrl_c_on_guji_ingest_leaves_nothing(bag, tmp_path):
    """`guji ingest` of a package, interrupted (SIGINT, as Ctrl-C sends) while loading: exit 130,
    and the store holds nothing of the package, not even hidden."""
    home = tmp_path / "home"
    env = {**os.environ, "GUJI_HOME": str(home), "PYTHONPATH": str(ROOT), "GUJI_PACKAGE_BATCH_BOOKS": "1", "GUJI_PACKAGE_LOAD_BYTES": "1",
           "GUJI_ENVIRONMENT": "development"}
    # Ctrl-C as a terminal delivers it: the child starts with SIGINT's default action even when this test
    # runs under a shell that ignores it (a background `sh -c … &` does, and children inherit that)
    proc = subprocess.Popen([sys.executable, "-m", "api", "ingest", "--no-sync", str(bag)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    lines = []
    for line in proc.stderr:
        lines.append(line)
        if line.startswith("loading"):
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    proc.wait(timeout=120)
    assert proc.returncode == 130, "".join(lines) + rest
    assert "cancelled" in rest
    store = OxigraphStore(home / "oxigraph")
    assert not any("bench-120" in g.value for g in store.oxigraph.named_graphs())
    assert not store.staged_graphs()


def test_scratch_of_a_killed_validation_is_swept_when_stale(tmp_path):
    from kg.package import sweep_stale_temp

    old, fresh = tmp_path / "guji-stream-old", tmp_path / "guji-stream-fresh"
    for d in (old, fresh):
        d.mkdir()
        (d / "rows.sqlite").write_bytes(b"x")
    os.utime(old, (time.time() - 7200, time.time() - 7200))
    assert sweep_stale_temp(3600, directory=str(tmp_path)) == 1
    assert not old.exists() and fresh.exists()


def test_reingest_of_a_published_large_package_is_a_no_op_and_a_changed_one_replaces_it(bag, tmp_path):
    import shutil

    store = OxigraphStore(tmp_path / "store")
    first = ingest_package(store, bag, agent="t", batch_books=BATCH)
    assert len(first.changes) == 2
    last, quads = store.last_sequence(), len(store.oxigraph)
    again = ingest_package(store, bag, agent="t", batch_books=BATCH)
    assert again.report.valid and again.changes == []
    assert store.last_sequence() == last and len(store.oxigraph) == quads
    # the same batch with one book's title corrected: the published graphs become the new package
    changed = tmp_path / "changed"
    shutil.copytree(bag, changed)
    books = changed / "data" / "books.csv"
    books.write_text(books.read_text(encoding="utf-8").replace("善 000007,李太白集", "善 000007,李太白文集"), encoding="utf-8")
    import bagit

    b = bagit.Bag(str(changed))
    b.save(manifests=True)
    result = ingest_package(store, changed, agent="t", batch_books=BATCH)
    assert result.report.valid and {c.graph for c in result.changes} == {package_graph("bench-120"), preservation_graph("bench-120")}
    assert Catalog(store).book(CENSUS)["title"] == "李太白文集"
    assert store.accepted_digest(staging_marker("bench-120") + "/accepted") is None


def test_gc_paused_nests_and_restores_the_collector():
    import gc

    from kg.package.stream import gc_paused

    assert gc.isenabled()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # the outer step still runs
    assert gc.isenabled()
    gc.disable()  # a caller that had turned it off keeps it off
    try:
        with gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValueError):
        with gc_paused():
            raise ValueError
    assert gc.isenabled()


def test_worker_processes_give_the_same_graphs_and_report_as_one_process(bag, tmp_path):
    """Batches checked by two worker processes (ADR 0024): the same graphs, and for a broken
    package the same problems in the same order as checking the batches one after the other."""
    import shutil

    import bagit

    one, two = OxigraphStore(tmp_path / "one"), OxigraphStore(tmp_path / "two")
    ingest_package(one, bag, agent="t", batch_books=BATCH, workers=1)
    ingest_package(two, bag, agent="t", batch_books=BATCH, workers=2, load_bytes=1)
    for g in (package_graph("bench-120"), preservation_graph("bench-120")):
        assert set(one.triples(g)) == set(two.triples(g)) and one.count(g) > 0
    # each valid batch's checked service images reach when_valid (the image pyramids are made from them)
    seen = {1: {}, 2: {}}
    for w in (1, 2):
        validate_package(bag, batch_books=BATCH, workers=w,
                         when_valid=lambda pkg, w=w: seen[w].update({k: (i.path, i.width, d) for k, (i, d) in pkg.images.items()}))
    assert len(seen[1]) == BOOKS and seen[1] == seen[2]

    broken = tmp_path / "broken"
    shutil.copytree(bag, broken)
    books = broken / "data" / "books.csv"
    text = books.read_text(encoding="utf-8")
    text = text.replace("善 000007,李太白集", "善 000007,").replace("史部", "不是四部", 1)  # batch 0: empty title; an unknown category
    lines = text.splitlines(keepends=True)
    lines[110] = lines[110].replace("线装", "卷轴装了")  # a late batch: not a binding
    books.write_text("".join(lines), encoding="utf-8")
    reels = broken / "data" / "reels.csv"
    reels.write_text(reels.read_text(encoding="utf-8").replace("R000100,B000100", "R000100,B999999"), encoding="utf-8")  # dangling book
    frames = broken / "data" / "frames.csv"  # a late batch's cross-table check: overlapping frames on one reel
    frames.write_text(frames.read_text(encoding="utf-8").replace("R000110,2,1a,3b,11,16", "R000110,2,1a,3b,5,16"), encoding="utf-8")
    bagit.Bag(str(broken)).save(manifests=True)
    a = validate_package(broken, batch_books=BATCH, workers=1).report
    b = validate_package(broken, batch_books=BATCH, workers=2).report
    assert {(p.code, p.row) for p in a.violations} >= {("missing_value", 8), ("unknown_concept", 111), ("dangling_reference", 101),
                                                      ("overlapping_frames", 2 * 110 + 1)}
    assert [p.to_json() for p in a.problems] == [p.to_json() for p in b.problems]
    assert a.counts == b.counts


def _package_workers() -> list[int]:
    """This process's worker processes still alive (python -m kg.package.worker)."""
    me, found = os.getpid(), []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == me and b"kg.package.worker" in cmd:
            found.append(int(d.name))
    return found


def test_cancel_while_workers_check_writes_nothing_and_stops_them(bag, tmp_path):
    store = OxigraphStore(tmp_path / "store")
    seen = []

    def progress(phase, done, total):
        seen.append(phase)

    with pytest.raises(IngestCancelledError):
        ingest_package(store, bag, agent="t", batch_books=BATCH, workers=2, progress=progress,
                       cancelled=lambda: seen.count("checking") >= 2)
    assert seen.count("checking") == 2 and "loading" not in seen
    assert store.last_sequence() == 0 and len(store.oxigraph) == 0
    assert _package_workers() == []

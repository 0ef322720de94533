"""The event-loop path of the query runner (``run_async``) and the answer cache of the public dataset."""

import asyncio
import json
import os
import threading
import time

import pyoxigraph as ox
import pytest

from kg.errors import QueryTimeoutError
from kg.sparql import QueryRunner, ResultCache, ResultFormat
from kg.store import OxigraphStore

N, L, T = ox.NamedNode, ox.Literal, ox.Triple
G = "https://w3id.org/guji/graph/test/a"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?p1 ?b . ?c ?p2 ?d . ?e ?p3 ?f . ?g ?p4 ?h }"


def arun(coro, runner=asyncio.run):
    """Run ``coro`` on a loop of its own in a thread of its own: in the whole suite the browser
    tests' Playwright keeps an event loop running in the main thread, where asyncio.run refuses."""
    out: dict = {}

    def target():
        try:
            out["value"] = runner(coro)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test's thread
            out["error"] = exc

    t = threading.Thread(target=target)
    t.start()
    t.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


def bump(generation):
    """What the public dataset's writer does after each write: replace its state file."""
    tmp = generation.with_suffix(".tmp")
    tmp.write_text(str(time.time_ns()))
    os.replace(tmp, generation)


@pytest.fixture
def dataset(tmp_path):
    path = tmp_path / "public"
    store = OxigraphStore(path)
    store.replace_graph(G, [T(N(f"http://e/s{i}"), N("http://e/p"), L(str(i))) for i in range(300)], agent="t")
    generation = tmp_path / "public.state.json"
    bump(generation)
    return store, path, generation


def runner_for(path, generation, **kw):
    return QueryRunner(path, workers=1, timeout=5, union_default_graph=True, generation=generation, **kw)


def test_run_async_answers_as_run_does(dataset):
    store, path, generation = dataset
    store.close()
    runner = runner_for(path, generation)
    try:
        q = "SELECT ?o WHERE { <http://e/s7> ?p ?o }"
        sync, fmt, _ = runner.run(q, ResultFormat.JSON)
        asyncd, fmt2, _ = arun(runner.run_async(q, ResultFormat.JSON))
        assert sync == asyncd and fmt == fmt2
        assert json.loads(asyncd)["results"]["bindings"][0]["o"]["value"] == "7"
        # a large answer arrives in several pieces on the pipe; uvloop (what `guji serve` runs on)
        # leaves the pipe non-blocking after waiting on it, which once failed such answers
        import uvloop

        for run_loop in (asyncio.run, uvloop.run):
            big, _, _ = arun(runner.run_async(
                f'SELECT * WHERE {{ GRAPH <{G}> {{ ?s ?p ?o }} BIND("{"經" * 300}" AS ?pad) }}', ResultFormat.XML), run_loop)
            assert big.count(b"<result>") == 300 and len(big) > 64 * 1024
    finally:
        runner.close()


def test_run_async_stops_a_query_at_its_limit_and_the_next_one_works(dataset):
    store, path, generation = dataset
    store.close()
    runner = runner_for(path, generation)
    try:
        started = time.monotonic()
        with pytest.raises(QueryTimeoutError, match="longer than the 0.5 s limit"):
            arun(runner.run_async(SLOW, timeout=0.5))
        assert time.monotonic() - started < 5
        assert json.loads(arun(runner.run_async("ASK { <http://e/s1> ?p ?o }"))[0])["boolean"] is True
    finally:
        runner.close()


def test_a_cancelled_wait_never_hands_its_answer_to_the_next_query(dataset):
    store, path, generation = dataset
    store.close()
    runner = runner_for(path, generation)

    async def cancel_then_ask():
        task = asyncio.ensure_future(runner.run_async(SLOW, timeout=20))
        await asyncio.sleep(0.3)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return await runner.run_async("SELECT ?o WHERE { <http://e/s3> ?p ?o }")

    try:
        payload, _, _ = arun(cancel_then_ask())
        assert json.loads(payload)["results"]["bindings"][0]["o"]["value"] == "3"
    finally:
        runner.close()


def test_the_cache_answers_again_until_the_dataset_changes(dataset):
    store, path, generation = dataset
    runner = runner_for(path, generation, cache_bytes=1 << 20)
    q = 'ASK { ?s ?p "new" }'
    try:
        assert json.loads(runner.run(q)[0])["boolean"] is False
        misses = runner.cache.misses
        assert json.loads(arun(runner.run_async(q))[0])["boolean"] is False
        assert runner.cache.hits == 1 and runner.cache.misses == misses  # answered from the cache
        store.replace_graph(G + "/2", [T(N("http://e/x"), N("http://e/p"), L("new"))], agent="t")
        store.flush()
        bump(generation)  # the writer says the data changed: the old answer is gone
        assert json.loads(runner.run(q)[0])["boolean"] is True
        assert json.loads(arun(runner.run_async(q))[0])["boolean"] is True
    finally:
        runner.close()
        store.close()


def test_the_cache_is_off_without_a_generation_file_or_memory(dataset):
    store, path, generation = dataset
    store.close()
    for runner in (QueryRunner(path, workers=1, union_default_graph=True, cache_bytes=1 << 20),
                   runner_for(path, generation, cache_bytes=0)):
        try:
            runner.run("ASK { ?s ?p ?o }")
            runner.run("ASK { ?s ?p ?o }")
            assert runner.cache.hits == 0
        finally:
            runner.close()


def test_an_answer_computed_while_the_data_changed_is_not_kept(tmp_path):
    generation = tmp_path / "g.json"
    bump(generation)
    cache = ResultCache(str(generation), 1 << 20)
    before = cache.stamp()
    assert cache.get(("q",), before) is None
    bump(generation)  # a write lands while the query runs
    cache.put(("q",), before, b"old answer")
    assert cache.get(("q",), cache.stamp()) is None
    assert cache.get(("q",), before) is None


def test_the_cache_keeps_within_its_bytes_dropping_the_least_recently_used(tmp_path):
    generation = tmp_path / "g.json"
    bump(generation)
    cache = ResultCache(str(generation), max_bytes=250, max_entry_bytes=100)
    stamp = cache.stamp()
    cache.get(("warm",), stamp)
    for i in range(3):
        cache.put((i,), stamp, bytes(100))
    assert cache.get((0,), stamp) is None  # 300 bytes > 250: the oldest went
    assert cache.get((1,), stamp) is not None  # used now, so 2 is the oldest
    cache.put((3,), stamp, bytes(100))
    assert cache.get((2,), stamp) is None and cache.get((1,), stamp) is not None
    cache.put(("big",), stamp, bytes(101))  # larger than one entry may be
    assert cache.get(("big",), stamp) is None

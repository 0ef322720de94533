"""Kanripo re-ingest by content digest (ADR 0018): an unchanged work is skipped before it is
parsed; a changed file or a change of the graph behind the ingest's back makes it read and
written again."""

import shutil
from pathlib import Path

import pytest

from api import operations
from api.context import Context
from api.settings import Settings
from kg import ingest_kanripo
from kg.ingest_kanripo import digest_graph, graph_iri

ROOT = Path(__file__).resolve().parents[3]
WORK = "GJ4a0002"


@pytest.fixture
def corpus(tmp_path):
    dest = tmp_path / "corpus"
    shutil.copytree(ROOT / "samples" / "kanripo" / WORK, dest / WORK)
    return dest


@pytest.fixture
def ctx(tmp_path):
    c = Context(Settings(home=tmp_path / "home", environment="test"))
    yield c
    c.close()


@pytest.fixture
def reads(monkeypatch):
    """How often the real reader runs (a counter around it, not a stand-in)."""
    calls = []
    real = ingest_kanripo.read_work

    def counting(work_dir):
        calls.append(work_dir.name)
        return real(work_dir)

    monkeypatch.setattr(ingest_kanripo, "read_work", counting)
    return calls


def juan_file(corpus: Path) -> Path:
    return sorted((corpus / WORK).glob("*/*.txt"))[0]


def texts(ctx) -> set[str]:
    return {r["t"].value for r in ctx.store.query(
        f"SELECT ?t WHERE {{ GRAPH <{graph_iri(WORK)}> {{ ?j <https://w3id.org/guji/ontology#text> ?t }} }}")}


def test_an_unchanged_work_is_not_parsed_and_nothing_is_written(ctx, corpus, reads):
    first = operations.ingest(ctx, [corpus], "kanripo")
    assert reads == [WORK] and not first["sources"][0]["unchanged"]
    assert digest_graph(WORK) in ctx.store.graphs()
    last, quads = ctx.store.last_sequence(), ctx.store.count()
    again = operations.ingest(ctx, [corpus], "kanripo")
    assert reads == [WORK]  # not read a second time
    assert again["sources"][0]["skipped"] and again["sources"][0]["unchanged"]
    assert ctx.store.last_sequence() == last and ctx.store.count() == quads


def test_a_changed_file_is_read_and_written_again(ctx, corpus, reads):
    operations.ingest(ctx, [corpus], "kanripo")
    f = juan_file(corpus)
    body = f.read_text(encoding="utf-8")
    line = next(x for x in body.splitlines() if x.endswith("¶") and not x.startswith(("<", "#")) and len(x) > 3)
    f.write_text(body.replace(line, line[:-1] + "㐀𠀀¶", 1), encoding="utf-8")
    out = operations.ingest(ctx, [corpus], "kanripo")
    assert reads == [WORK, WORK]
    assert not out["sources"][0].get("skipped") and not out["sources"][0]["unchanged"]
    assert any("㐀𠀀" in t for t in texts(ctx))  # the new characters, exactly
    operations.ingest(ctx, [corpus], "kanripo")
    assert reads == [WORK, WORK]  # and now that version is the recorded one


def test_a_graph_changed_behind_the_ingest_is_restored(ctx, corpus, reads):
    operations.ingest(ctx, [corpus], "kanripo")
    before = texts(ctx)
    ctx.store.replace_graph(graph_iri(WORK), [], agent="someone else")  # dropped by another write
    out = operations.ingest(ctx, [corpus], "kanripo")
    assert reads == [WORK, WORK] and not out["sources"][0]["unchanged"]
    assert texts(ctx) == before

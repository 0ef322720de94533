"""A/B: reading annotation graphs — this checkout's readers against another git revision's, same store.

    python -m bench.projections.decode_ab [--ref main] [--annotations 2000] [--books 200] [--rounds 3]

Builds one store: the sample Kanripo texts, ``--books`` generated census records, a few authority
records, and ``--annotations`` annotations of every shape the service writes (one reading;
competing readings; a note; an image region; an authority record created on the spot; uncertain;
flagged anchors; relations between two entity annotations, approved with their statement; drafts),
each as its private graph and, when approved, its public graph. Then, for ``--ref``'s modules
(loaded from git) and this checkout's, alternating ``--rounds`` times (who goes first alternates
too) so a busy machine slows both alike, the CPU time (``time.process_time``, single process) of
what each reader does with annotation graphs:

- search: ``search.passages.approved_annotations`` over every juan (what the search projection
  reads for each re-indexed juan); passages: ``passages_from_store``, every passage of the store
  with its entities (what a search rebuild or catch-up reads: texts, catalogue and annotations);
- neo4j: ``projections.neo4j.model_of`` over every public annotation graph (what the Neo4j
  projection writes for them; no Neo4j needed); neo4j-other: the same over the other projected
  graphs (texts, census records, authority records: the rest of a rebuild);
- service: ``annotation.rdf.from_triples`` over every annotation graph, public and private (each
  side with its own ``annotation.model``).

It also compares what the two sides give (passage entities, graph models, annotations) and exits 1
when they differ. Needs no server.
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import pyoxigraph as ox  # noqa: E402

from annotation.model import (  # noqa: E402
    Anchor, AnchorState, Annotation, Category, Certainty, HistoryEntry, ImageRegion, Reading, Relation, RelationType, Review,
    Status, TextTarget,
)
from bench._util import load_average, module_at  # noqa: E402
from bench.national.generate import packages  # noqa: E402
from bench.projections.generate import AGENT, juan_texts  # noqa: E402
from kg.graphs import annotation_graph  # noqa: E402
from kg.ingest_kanripo import find_works, ingest_work  # noqa: E402
from kg.namespaces import GUJI, ID, RDF, RDFS  # noqa: E402
from kg.package import ingest_package  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402
from search.normalise import get_normaliser  # noqa: E402

MODULES = {"rdf": "annotation/rdf.py", "passages": "search/passages.py", "neo4j": "projections/neo4j.py"}
RECORDS = ID + "entity/bench-decode/"
AUTHORITY_GRAPH = "https://w3id.org/guji/graph/authority/bench-decode"
CANVAS = "https://w3id.org/guji/iiif/bench/canvas/1"
NORMALISER = get_normaliser()


def load_ref(ref: str, tmp: Path) -> dict:
    """The readers as ``ref`` has them, built on ``ref``'s annotation model (parsing included)."""
    import annotation.model

    sys.modules["annotation.model"] = module_at(ref, "annotation/model.py", tmp)
    try:
        return {name: module_at(ref, path, tmp) for name, path in MODULES.items()}
    finally:
        sys.modules["annotation.model"] = annotation.model


def shapes(juans: list[tuple[str, str]], n: int, seed: int = 7) -> Iterator[Annotation]:
    """``n`` annotations of every shape, about one in eight not approved."""
    rng = random.Random(seed)
    now = "2026-11-01T00:00:00Z"
    annotator, reviewer = AGENT + "bench-annotator", AGENT + "bench-reviewer"
    cats = list(Category)
    made: list[Annotation] = []
    for i in range(n):
        juan, text = juans[rng.randrange(len(juans))]
        length = rng.randint(2, 4)
        start = rng.randrange(0, len(text) - length)

        def span(s: int, e: int) -> TextTarget:
            return TextTarget(source=juan, start=s, end=e, exact=text[s:e], prefix=text[max(0, s - 8):s], suffix=text[e:e + 8])

        kind = i % 8
        status = Status.APPROVED if rng.random() > 0.125 else rng.choice([Status.DRAFT, Status.SUBMITTED, Status.REJECTED])
        record = f"{RECORDS}{rng.randrange(50)}"
        readings = [Reading(category=cats[i % len(cats)], authority=record if kind in (1, 2) else None,
                            label=f"名{i}" if kind == 2 else None)]
        if kind == 3:  # competing readings
            readings += [Reading(category=cats[(i + 1) % len(cats)], authority=f"{RECORDS}{rng.randrange(50)}"),
                         Reading(category=cats[(i + 2) % len(cats)], note="或作")]
        if kind == 4:  # an authority record made on the spot
            readings = [Reading(category=Category.PERSON, authority=f"{ID}entity/new/{i}", label=f"新{i}", provisional=True)]
        relation, target = None, span(start, start + length)
        if kind == 7 and made:  # a relation between two earlier entity annotations of one juan
            ends = [m for m in made if m.target.source == juan and m.relation is None][:2]
            if len(ends) == 2:
                h, t = ends
                relation = Relation(type=rng.choice(list(RelationType)), head=h.id, tail=t.id, tail_target=t.target,
                                    head_entity=record, tail_entity=f"{RECORDS}{rng.randrange(50)}")
                readings, target = [], h.target
        a = Annotation(
            id=f"DEC{i:08d}", canonical=f"urn:guji:bench:DEC{i:08d}", creator=annotator, created=now, modified=now,
            status=status, revision=2, target=target,
            image=ImageRegion(source=CANVAS, xywh="xywh=10,20,30,40") if kind == 5 else None,
            readings=readings, note="按：此處待考" if kind in (5, 6) else None,
            certainty=Certainty.UNCERTAIN if kind == 6 else Certainty.CERTAIN,
            review=Review(reviewer=reviewer, at=now, decision="approved") if status is Status.APPROVED else None,
            anchor=Anchor(state=rng.choice(list(AnchorState))) if i % 5 == 0 else Anchor(),
            history=[HistoryEntry(sequence=1, at=now, agent=annotator, action="create"),
                     HistoryEntry(sequence=2, at=now, agent=reviewer, action="approve", before={"status": "submitted"},
                                  after={"status": "approved"})],
            relation=relation)
        made.append(a)
        yield a


def build(tmp: Path, n: int, books: int = 0) -> tuple[OxigraphStore, list[str], list[str], list[tuple[str, str]]]:
    store = OxigraphStore(tmp / "store")
    for w in find_works([ROOT / "samples" / "kanripo"]):
        ingest_work(store, w)
    if books:
        for bag in packages(tmp / "packages", books, 1000, None):
            ingest_package(store, bag, agent="bench")
    N = ox.NamedNode
    records = [t for k in range(50) for t in (
        ox.Triple(N(f"{RECORDS}{k}"), N(RDF + "type"), N(GUJI + "Person")),
        ox.Triple(N(f"{RECORDS}{k}"), N(RDFS + "label"), ox.Literal(f"人{k}", language="zh-Hant")))]
    store.replace_graphs({AUTHORITY_GRAPH: records}, agent="bench")
    juans = juan_texts(store)
    from annotation.rdf import to_triples

    public, private, batch = [], [], {}
    for a in shapes(juans, n):
        batch[annotation_graph(a.id, public=False)] = to_triples(a)
        private.append(annotation_graph(a.id, public=False))
        if a.status is Status.APPROVED:
            batch[annotation_graph(a.id, public=True)] = to_triples(a.public())
            public.append(annotation_graph(a.id, public=True))
        if len(batch) >= 1000:
            store.replace_graphs(batch, agent="bench")
            batch = {}
    if batch:
        store.replace_graphs(batch, agent="bench")
    return store, public, private, juans


def run_side(mods: dict, store: OxigraphStore, public: list[str], private: list[str], juans: list[str]) -> tuple[dict, dict]:
    times, out = {}, {}
    t = time.process_time()
    found = mods["passages"].approved_annotations(store, juans)
    times["search"] = time.process_time() - t
    out["search"] = {j: [e.as_dict() for e in es] for j, es in found.items()}  # (each side has its own classes)
    t = time.process_time()
    passages = list(mods["passages"].passages_from_store(store, NORMALISER))
    times["passages"] = time.process_time() - t
    out["passages"] = [dataclasses.asdict(p) for p in passages]
    neo = mods["neo4j"]
    known = neo.typed_nodes(store, neo.projected_graphs(store))
    t = time.process_time()
    models = [neo.model_of(store, g, known) for g in public]
    times["neo4j"] = time.process_time() - t
    out["neo4j"] = [(m.graph, m.nodes, m.props, m.rels) for m in models]
    others = [g for g in neo.projected_graphs(store) if g not in set(public)]
    t = time.process_time()
    models = [neo.model_of(store, g, known) for g in others]
    times["neo4j-other"] = time.process_time() - t
    out["neo4j-other"] = [(m.graph, m.nodes, m.props, m.rels) for m in models]
    graphs = [(g, list(store.triples(g))) for g in public + private]
    t = time.process_time()
    read = [mods["rdf"].from_triples(g.rsplit("/", 1)[-1], triples) for g, triples in graphs]
    times["service"] = time.process_time() - t
    out["service"] = [a.model_dump(mode="json") for a in read]
    return times, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--ref", default="main")
    ap.add_argument("--annotations", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--books", type=int, default=200, help="generated census records (their graphs: neo4j-other)")
    args = ap.parse_args(argv)
    import annotation.rdf
    import projections.neo4j
    import search.passages

    here = {"rdf": annotation.rdf, "passages": search.passages, "neo4j": projections.neo4j}
    tmp = Path(tempfile.mkdtemp(prefix="guji-bench-decode-"))
    try:
        ref = load_ref(args.ref, tmp)
        store, public, private, juans = build(tmp, args.annotations, args.books)
        jiris = [j for j, _ in juans]
        print(f"store: {store.count():,} quads; {len(public):,} public and {len(private):,} private annotation graphs "
              f"on {len(jiris)} juans", flush=True)
        results: dict[str, list[dict]] = {args.ref: [], "this checkout": []}
        outputs = {}
        sides = ((args.ref, ref), ("this checkout", here))
        for k in range(args.rounds):
            for name, mods in sides if k % 2 == 0 else sides[::-1]:  # who goes first alternates
                gc.collect()
                times, out = run_side(mods, store, public, private, jiris)
                results[name].append(times)
                outputs[name] = out
                print(f"{name:>14}: " + "; ".join(f"{k} {v * 1000:,.0f} ms" for k, v in times.items()), flush=True)
        print(f"\nCPU time of {args.rounds} rounds, median (best), ms | {args.ref} | this checkout | ratio of medians "
              f"({load_average()})")
        for k in ("search", "passages", "neo4j", "neo4j-other", "service"):
            (am, ab), (bm, bb) = ((statistics.median(r[k] for r in results[n]), min(r[k] for r in results[n]))
                                  for n in (args.ref, "this checkout"))
            print(f"{k:>11} | {am * 1000:,.0f} ({ab * 1000:,.0f}) | {bm * 1000:,.0f} ({bb * 1000:,.0f}) | {bm / am:.2f}")
        a, b = outputs[args.ref], outputs["this checkout"]
        entities = sum(len(v) for v in a["search"].values())
        same = {k: a[k] == b[k] for k in a}
        print(f"\nsame output: {same} (passage entities: {entities:,}; graph models: {len(a['neo4j']):,}; "
              f"annotations: {len(a['service']):,})")
        return 0 if all(same.values()) else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())

"""Benchmark: what relation annotations cost on writes and on the entity page (ADR 0022).

    python -m bench.relations [--n 200]

A fresh on-disk store with one generated juan; N approved entity annotations (half persons, half
offices, each with an authority record), N/2 approved relations between them (one person holds
several offices, so one record has many relations). Times, in process (the service and the read
model the HTTP routes call): creating and approving a relation, the lookup every entity write now
makes (relations linking it), a reviewer's correction of an entity annotation with and without
relations linking it (the edge restated in the same transaction), and the entity page's relation
list. Prints a table; asserts nothing. Numbers from a shared machine are noisy: re-run quietly.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench._util import load_average, summary_ms  # noqa: E402

import pyoxigraph as ox  # noqa: E402

from annotation.model import AnnotationCreate, AnnotationUpdate, Category, Reading, RelationCreate, TextSelection  # noqa: E402
from annotation.policies import Identity, Role  # noqa: E402
from annotation.service import AnnotationService  # noqa: E402
from api.web.readmodel import ReadModel  # noqa: E402
from kg.namespaces import GUJI  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402

JUAN = "https://w3id.org/guji/id/text/BENCH/master/001"
ALICE, RITA = Identity("alice", Role.ANNOTATOR), Identity("rita", Role.REVIEWER)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200, help="entity annotations (relations: n/2)")
    args = ap.parse_args()
    rnd = random.Random(1)
    text = "".join(chr(0x4E00 + rnd.randrange(3000)) for _ in range((args.n + 60) * 12))
    with tempfile.TemporaryDirectory() as tmp:
        store = OxigraphStore(Path(tmp) / "store")
        store.replace_graph("https://w3id.org/guji/graph/bench", [
            ox.Triple(ox.NamedNode(JUAN), ox.NamedNode(GUJI + "text"), ox.Literal(text))], agent="bench")
        svc = AnnotationService(store)

        def entity(i: int, category: Category, authority: str):
            a = svc.create(ALICE, AnnotationCreate(target=TextSelection(source=JUAN, start=i * 12, end=i * 12 + 3),
                                                   readings=[Reading(category=category, authority=authority)])).annotation
            svc.submit(ALICE, a.id)
            return svc.review(RITA, a.id, "approve").annotation

        t0 = time.perf_counter()
        persons = [entity(i, Category.PERSON, f"https://w3id.org/guji/id/entity/p{i % 10}") for i in range(0, args.n, 2)]
        offices = [entity(i, Category.OFFICE, f"https://w3id.org/guji/id/entity/o{i}") for i in range(1, args.n, 2)]
        setup = time.perf_counter() - t0
        create, approve = [], []
        rels = []
        for p, o in zip(persons, offices):
            t = time.perf_counter()
            r = svc.create(ALICE, AnnotationCreate(target=TextSelection(source=JUAN), relation=RelationCreate(
                type="任职", head=p.id, tail=o.id, tail_target=TextSelection(source=JUAN)))).annotation
            create.append(time.perf_counter() - t)
            svc.submit(ALICE, r.id)
            t = time.perf_counter()
            svc.review(RITA, r.id, "approve")
            approve.append(time.perf_counter() - t)
            rels.append(r)
        lookup = []
        for p in persons[:100]:
            t = time.perf_counter()
            svc.relations_using(p.id)
            lookup.append(time.perf_counter() - t)

        def correct(a, authority):
            t = time.perf_counter()
            svc.update(RITA, a.id, AnnotationUpdate(target=TextSelection(source=JUAN, start=a.target.start, end=a.target.end),
                                                     readings=[Reading(category=a.readings[0].category, authority=authority)]),
                       if_match="*")
            return time.perf_counter() - t

        linked = [correct(o, o.readings[0].authority + "-x") for o in offices[:50]]
        lone = [entity(i, Category.PLACE, f"https://w3id.org/guji/id/entity/l{i}") for i in range(args.n, args.n + 50)]
        unlinked = [correct(a, a.readings[0].authority + "-x") for a in lone]
        read = ReadModel(store)
        page = []
        for k in range(10):
            t = time.perf_counter()
            found = read.relations(f"https://w3id.org/guji/id/entity/p{k % 5 * 2}")
            page.append(time.perf_counter() - t)
        print(f"relations bench: {args.n} entity annotations, {len(rels)} approved relations, "
              f"{len(found)} relations on one person's page; setup {setup:.1f} s (shared machine: noisy)")
        print(f"  create a relation (POST)                    {summary_ms(create)}")
        print(f"  approve a relation (edge stated)            {summary_ms(approve)}")
        print(f"  lookup: relations linking an annotation     {summary_ms(lookup)}")
        print(f"  correct an entity annotation, 1 relation    {summary_ms(linked)}")
        print(f"  correct an entity annotation, no relation   {summary_ms(unlinked)}")
        print(f"  entity page: relations of a record          {summary_ms(page)}")
        print(f"  {load_average()}")
        store.close()


if __name__ == "__main__":
    main()

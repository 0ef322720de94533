"""Alignment coverage per edition pair for the Kanripo corpus in ../shared, and how long it takes.

    GUJI_SHARED=/path/to/shared python -m bench.editions [--corpus DIR] [--work KR2b0003 ...] [--all-pairs] [--json]
    GUJI_SHARED=/path/to/shared python -m bench.editions --spans 200 [--work KR2b0003]

For every work with two editions or more: every edition against the first of them (``master``
when there is one; ``--all-pairs`` for every pair), aligned juan by juan (editions.align). Prints
one row per pair: matched characters of each edition (punctuation and spaces left out), characters
aligned identical after folding, substituted (variant readings at the same place), the share of
each edition aligned, and the seconds the alignment took. Asserts nothing.

``--spans N``: what a live proposal costs instead — N random 2-4 character spans of the first
edition mapped onto every other edition the way the server does it (one juan aligned on demand,
then cached): the first span of a juan (cold: the juan is aligned) and the others (warm), in ms.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from editions.align import EditionAlignment, _normaliser  # noqa: E402
from kg import kanripo as fmt  # noqa: E402

import os  # noqa: E402

DEFAULT_CORPUS = Path(os.environ.get("GUJI_SHARED", Path(__file__).resolve().parents[3] / "shared")) / "corpus" / "kanripo"


def editions_of(work: Path) -> dict[str, list[tuple[str, str]]]:
    """Edition code → [(juan number, text)] in juan order, as the ingest reads them."""
    out = {}
    for branch in sorted(d for d in work.iterdir() if d.is_dir() and not d.name.startswith(("_", "."))):
        juans = []
        for f in sorted(branch.glob(f"{work.name}_*.txt")):
            juans.append((f.stem.split("_", 1)[1], fmt.read_juan(f).text))
        if juans:
            out[branch.name] = juans
    return out


def pairs_of(codes: list[str], all_pairs: bool) -> list[tuple[str, str]]:
    if all_pairs:
        return list(itertools.combinations(codes, 2))
    first = "master" if "master" in codes else codes[0]
    return [(first, c) for c in codes if c != first]


def run(corpus: Path, works: list[str] | None, all_pairs: bool) -> list[dict]:
    _normaliser()  # built once, not counted
    rows = []
    for work in sorted(w for w in corpus.iterdir() if w.is_dir() and (not works or w.name in works)):
        eds = editions_of(work)
        for a, b in pairs_of(sorted(eds, key=lambda c: (c != "master", c)), all_pairs):
            started = time.perf_counter()
            ea = EditionAlignment(eds[a], eds[b])
            seconds = time.perf_counter() - started
            c = ea.coverage
            rows.append({"work": work.name, "a": a, "b": b, "chars_a": c.chars_a, "chars_b": c.chars_b,
                         "identical": c.identical, "substituted": c.substituted,
                         "share_a": round(c.share_a(), 4), "share_b": round(c.share_b(), 4), "seconds": round(seconds, 3)})
    return rows


def spans(corpus: Path, works: list[str] | None, n: int, seed: int = 1) -> list[dict]:
    import random
    import statistics

    _normaliser()
    rng = random.Random(seed)
    rows = []
    for work in sorted(w for w in corpus.iterdir() if w.is_dir() and (not works or w.name in works)):
        eds = editions_of(work)
        codes = sorted(eds, key=lambda c: (c != "master", c))
        if len(codes) < 2:
            continue
        first = eds[codes[0]]
        for b in codes[1:]:
            ea = EditionAlignment(first, eds[b], lazy=True)
            cold, warm, mapped = [], [], 0
            for _ in range(n):
                name, text = rng.choice([j for j in first if len(j[1]) > 10])
                start = rng.randrange(len(text) - 4)
                was = name in ea.pairs
                t = time.perf_counter()
                got = ea.map_span(name, start, start + rng.randint(2, 4))
                (warm if was else cold).append((time.perf_counter() - t) * 1000)
                mapped += got is not None
            rows.append({"work": work.name, "a": codes[0], "b": b, "spans": n, "mapped": mapped,
                         "cold_ms_median": round(statistics.median(cold), 2) if cold else None,
                         "cold_ms_max": round(max(cold), 2) if cold else None,
                         "warm_ms_median": round(statistics.median(warm), 3) if warm else None})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    ap.add_argument("--work", action="append", help="only these works (repeatable)")
    ap.add_argument("--all-pairs", action="store_true", help="every pair of editions, not only against the first")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--spans", type=int, default=0, help="time mapping N random spans the way a live proposal does")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        print(f"no Kanripo corpus at {args.corpus}", file=sys.stderr)
        return 2
    if args.spans:
        rows = spans(args.corpus, args.work, args.spans)
        if args.json:
            print(json.dumps(rows, ensure_ascii=False, indent=1))
            return 0
        print("| work | A | B | spans | mapped | cold juan ms (median / max) | warm ms (median) |")
        print("|---|---|---|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['work']} | {r['a']} | {r['b']} | {r['spans']} | {r['mapped']} | "
                  f"{r['cold_ms_median']} / {r['cold_ms_max']} | {r['warm_ms_median']} |")
        return 0
    rows = run(args.corpus, args.work, args.all_pairs)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=1))
        return 0
    print(f"| work | A | B | chars A | chars B | identical | substituted | aligned of A | aligned of B | seconds |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['work']} | {r['a']} | {r['b']} | {r['chars_a']:,} | {r['chars_b']:,} | {r['identical']:,} | "
              f"{r['substituted']:,} | {r['share_a']:.2%} | {r['share_b']:.2%} | {r['seconds']:.2f} |")
    total_chars = sum(r["chars_a"] + r["chars_b"] for r in rows)
    total_s = sum(r["seconds"] for r in rows)
    print(f"\n{len(rows)} edition pairs, {total_chars:,} characters aligned in {total_s:.1f} s "
          f"({total_chars / max(total_s, 1e-9) / 1e6:.2f} M characters/s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

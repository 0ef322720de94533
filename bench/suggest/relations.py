"""Relation suggestions: P/R/F1 on a fixed 10 % dev split of CHisIEC re_train.json.

    python -m bench.suggest.relations [--epochs N]

Trains the relation model on the other 90 % (timed), then prints, per type and overall:

- **gold entities**: the dev sentences' own entity spans are given; a relation is right when its
  head, tail and type equal a gold relation;
- **end to end**: entities come from ``SuggestionService`` (the trained NER model when
  ``$GUJI_HOME/models/suggest-ner`` exists, else rules); a relation is right when its head and
  tail spans (offsets and labels) and its type equal a gold relation's.

Caveat: CHisIEC's NER and relation sets share sentences, so the NER model may have seen some of
these dev sentences in ``ner_train.txt``; the end-to-end figure is optimistic on that account.
Needs ../shared (or GUJI_SHARED).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from annotation.suggest import SuggestConfig, SuggestionService
from annotation.suggest.relations import RelationModel, read_re, relation_types, split


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def table(title: str, counts: dict[str, Counter]) -> list[str]:
    out = [f"**{title}**", "", "| type | P | R | F1 | gold |", "|---|---:|---:|---:|---:|"]
    total = Counter()
    for t, c in sorted(counts.items(), key=lambda kv: -(kv[1]["tp"] + kv[1]["fn"])):
        p, r, f = prf(c["tp"], c["fp"], c["fn"])
        out.append(f"| {t} | {p:.3f} | {r:.3f} | {f:.3f} | {c['tp'] + c['fn']} |")
        total.update(c)
    p, r, f = prf(total["tp"], total["fp"], total["fn"])
    out.append(f"| **overall** | {p:.3f} | {r:.3f} | **{f:.3f}** | {total['tp'] + total['fn']} |")
    return out + [""]


def count(gold: set, pred: set, counts: dict[str, Counter]) -> None:
    for x in pred & gold:
        counts[x[-1]]["tp"] += 1
    for x in pred - gold:
        counts[x[-1]]["fp"] += 1
    for x in gold - pred:
        counts[x[-1]]["fn"] += 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=8)
    args = ap.parse_args(argv)
    config = SuggestConfig()
    if config.chisiec_dir is None:
        print("bench.suggest.relations: shared data not found (set GUJI_SHARED)", file=sys.stderr)
        return 2
    sentences = read_re(config.chisiec_dir / "re_train.json")
    train, dev = split(sentences)
    t = time.perf_counter()
    model = RelationModel.train(train, relation_types(config.chisiec_dir / "re_types.json"), epochs=args.epochs)
    seconds = time.perf_counter() - t
    gold_counts: dict[str, Counter] = {}
    e2e_counts: dict[str, Counter] = {}
    from collections import defaultdict

    gold_counts = defaultdict(Counter)
    e2e_counts = defaultdict(Counter)
    for s in dev:
        count(set(s.relations), set(model.relations(s.text, s.entities)), gold_counts)
    service = SuggestionService(config)
    mode = service.info().mode
    for s, found in zip(dev, service.suggest_lines([x.text for x in dev])):
        ents = [(sp.start, sp.end, sp.label) for sp in found.spans]
        pred = {(ents[h][:2], ents[t][:2], ents[h][2], ents[t][2], r) for h, t, r in model.relations(s.text, ents)}
        gold = {(s.entities[h][:2], s.entities[t][:2], s.entities[h][2], s.entities[t][2], r) for h, t, r in s.relations}
        count(gold, pred, e2e_counts)
    out = ["# guji suggest: relations, CHisIEC re_train.json dev split", "",
           f"train: {len(train)} sentences, {model.meta['pairs']} candidate pairs, {args.epochs} epochs, "
           f"{seconds:.0f} s; dev: {len(dev)} sentences, {sum(len(s.relations) for s in dev)} relations", ""]
    out += table("gold entities", gold_counts)
    out += table(f"end to end (entities from mode={mode})", e2e_counts)
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Evaluate machine suggestions on CHisIEC dev and measure throughput.

    python -m bench.suggest [--train] [--train-old] [--epochs N] [--json results.json]

Prints, as Markdown:

- P/R/F1 per label (PER, LOC, OFI, BOOK) and overall, exact span match, for the rules path,
  when a model is built (``--train`` builds it first), the model path (the character tagger of
  ADR 0023), and when the spaCy model of ADR 0004 is built (``--train-old`` builds it into
  ``$GUJI_HOME/models/suggest-ner-spacy``) that one too, in the same run;
  each on dev as given (simplified) and on dev converted to traditional with OpenCC ``s2t``
  (phrase-aware one-to-many choice; character-aligned so the gold offsets stay valid);
- DATE is not scored: CHisIEC does not annotate dates (a predicted DATE is neither right nor wrong);
- throughput in characters per second (``suggest_lines`` over all lines, on a service built
  beforehand), fresh (every date new to the service) and the same text again, by the wall clock
  and by CPU time, on dev (traditional) and on date-dense annals (南史 卷一–二十, 四庫全書
  edition: unpunctuated, one printed line per input line), plus build time;
- date reading: µs per date from the calendar tables vs ms per date with sanmiao's solver;
- the model's training time (measured now with ``--train``: wall, CPU, peak RSS, load average;
  else read from the model's metadata).

Needs ../shared (or GUJI_SHARED). Never trains on dev.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

from annotation.suggest import SuggestConfig, SuggestionService
from annotation.suggest.corpus import GoldSentence, read_conll
from annotation.suggest.evaluate import format_table, score_spans
from annotation.suggest.normalize import to_traditional
from annotation.suggest.training import META_FILE, train_model, train_spacy_model

KANRIPO_JUAN = Path("corpus/kanripo/KR2a0024/WYG/KR2a0024_002.txt")
_MARKUP = re.compile(r"<[^>]*>|¶")


def traditional(dev: list[GoldSentence]) -> tuple[list[GoldSentence], dict]:
    out, changed = [], 0
    for s in dev:
        t = to_traditional(s.text)
        assert len(t) == len(s.text)
        changed += sum(a != b for a, b in zip(s.text, t))
        out.append(GoldSentence(t, s.entities))
    total = sum(len(s.text) for s in dev)
    return out, {"chars": total, "chars_changed": changed}


def predict(service: SuggestionService, sentences: list[GoldSentence]) -> list[list[tuple[int, int, str]]]:
    return [[(sp.start, sp.end, sp.label) for sp in r.spans] for r in service.suggest_lines([s.text for s in sentences])]


def throughput(service: SuggestionService, lines: list[str], repeat: int = 1) -> dict:
    """chars/s by the wall clock and by this process's CPU time (the machine is shared: under load
    the wall figure drops, the CPU figure says what one free core does)."""
    chars = sum(len(x) for x in lines) * repeat
    t, c = time.perf_counter(), time.process_time()
    n_spans = 0
    for _ in range(repeat):
        for r in service.suggest_lines(lines):
            n_spans += len(r.spans)
    seconds, cpu = time.perf_counter() - t, time.process_time() - c
    return {"load": round(__import__("os").getloadavg()[0], 2), "chars": chars, "seconds": round(seconds, 2), "chars_per_s": round(chars / seconds),
            "cpu_seconds": round(cpu, 2), "chars_per_cpu_s": round(chars / max(cpu, 1e-9)), "spans": n_spans}


def _say(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _timed_training(run) -> dict:
    """Wall and CPU time, peak RSS of this process (training runs first), load average."""
    import os
    import resource

    load_before = round(os.getloadavg()[0], 2)
    cpu = time.process_time()
    report = run()
    return {"seconds": report.seconds, "epochs_run": report.epochs_run, "best_epoch": report.best_epoch,
            "heldout_f1": report.val_f1, "measured": "now", "cpu_seconds": round(time.process_time() - cpu, 1),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "load_before": load_before, "load_after": round(os.getloadavg()[0], 2)}


def fresh_and_again(cfg: SuggestConfig, lines: list[str]) -> dict:
    """The same text twice through one service: fresh (every date new to it), then again."""
    service = _warm(SuggestionService(cfg))
    return {"fresh": throughput(service, lines), "again": throughput(service, lines)}


def annals_lines(shared: Path, juans: int = 20) -> list[str]:
    """南史 (四庫 edition) 卷一–二十: annals and biographies, a reign date every few lines."""
    lines: list[str] = []
    for path in sorted((shared / KANRIPO_JUAN).parent.glob("*.txt"))[:juans]:
        text = path.read_text(encoding="utf-8")
        lines += [x for x in (_MARKUP.sub("", y) for y in text.splitlines() if not y.startswith("#")) if x.strip()]
    return lines


def date_table_speed(cfg: SuggestConfig, lines: list[str]) -> dict:
    """Distinct date strings of the text read by the tables and (a sample) by sanmiao's solver."""
    from annotation.suggest.calendar_tables import CalendarTables, TableDateResolver
    from annotation.suggest.date_compare import date_samples
    from annotation.suggest.dates import DateFinder, DateResolver, ReignCalendar

    calendar = ReignCalendar(cfg.cbdb_dir / "dyna_cal.xml" if cfg.cbdb_dir else None)
    t = time.perf_counter()
    tables = CalendarTables.load_or_build(calendar, None)
    build = time.perf_counter() - t
    pairs = date_samples(lines, DateFinder(calendar), limit=100_000)
    resolver = TableDateResolver(calendar, tables)
    t = time.perf_counter()
    for date, context in pairs:
        resolver.readings(date, context)
    table_s = time.perf_counter() - t
    reference = DateResolver(calendar)
    sample = pairs[:40]
    t = time.perf_counter()
    for date, context in sample:
        reference.readings(date, context)
    solver_s = time.perf_counter() - t
    return {"dates": len(pairs), "build_s": round(build, 2), "table_us_per_date": round(1e6 * table_s / len(pairs), 1),
            "sanmiao_ms_per_date": round(1e3 * solver_s / len(sample), 1)}


def _warm(service: SuggestionService) -> SuggestionService:
    service.info()  # build the pipeline outside the timed part
    return service


def kanripo_lines(shared: Path) -> list[str]:
    path = shared / KANRIPO_JUAN
    if not path.is_file():
        return []
    text = path.read_text(encoding="utf-8")
    body = [_MARKUP.sub("", line) for line in text.splitlines() if not line.startswith("#")]
    return [line for line in body if line.strip()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", action="store_true", help="(re)build the model first and time it")
    ap.add_argument("--epochs", type=int, default=12)
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--train-old", action="store_true",
                    help="also (re)build the spaCy model of ADR 0004 into models/suggest-ner-spacy, to compare")
    ap.add_argument("--no-old", action="store_true", help="leave the spaCy model out even when it is built")
    args = ap.parse_args(argv)

    config = SuggestConfig()
    if config.chisiec_dir is None:
        print("bench.suggest: shared data not found (set GUJI_SHARED)", file=sys.stderr)
        return 2
    results: dict = {}
    old_dir = config.home / "models" / "suggest-ner-spacy"
    if args.train:
        results["training"] = _timed_training(lambda: train_model(config, epochs=args.epochs, progress=_say))
    elif (config.model_path / META_FILE).is_file():
        meta = json.loads((config.model_path / META_FILE).read_text(encoding="utf-8"))
        r = meta["report"]
        results["training"] = {"seconds": r["seconds"], "epochs_run": r["epochs_run"], "best_epoch": r["best_epoch"],
                               "heldout_f1": r["val_f1"], "measured": meta["created"]}

    if args.train_old:
        results["training_old"] = _timed_training(
            lambda: train_spacy_model(config, out_dir=old_dir, epochs=args.epochs, progress=_say))

    dev = read_conll(config.chisiec_dir / "ner_dev.txt")
    dev_t, conv = traditional(dev)
    results["traditional_conversion"] = conv
    annals = annals_lines(config.shared)
    out = ["# guji suggest: CHisIEC dev", ""]
    out.append(f"dev: {len(dev)} sentences, {conv['chars']} characters; s2t changed {conv['chars_changed']} of them.")
    out.append("")

    modes = [("rules", SuggestConfig(use_model=False))]
    if (config.model_path / "meta.json").is_file():
        modes.append(("model", SuggestConfig(use_model=True)))
    if (old_dir / "meta.json").is_file() and not args.no_old:
        modes.append(("old model (spaCy)", SuggestConfig(use_model=True, model_dir=old_dir)))
    for name, cfg in modes:
        t = time.perf_counter()
        service = SuggestionService(cfg)
        info = service.info()
        startup = time.perf_counter() - t
        entry = {"mode": info.mode, "startup_s": round(startup, 2), "summary": info.summary()}
        for script, sents in (("simplified", dev), ("traditional", dev_t)):
            scores = score_spans(sents, predict(service, sents))
            entry[script] = {k: {"p": round(s.precision, 4), "r": round(s.recall, 4), "f1": round(s.f1, 4),
                                 "gold": s.support} for k, s in scores.items()}
            out += [format_table(scores, f"{name} ({info.mode}), {script}"), ""]
        # throughput on fresh services: the date cache starts empty, as for a new text
        entry["throughput_dev"] = fresh_and_again(cfg, [s.text for s in dev_t])
        if annals:
            entry["throughput_annals"] = fresh_and_again(cfg, annals)
        results[name] = entry
        out.append(f"throughput ({name}), start-up {entry['startup_s']} s:")
        out.append("")
        out.append("| text | chars | fresh chars/s (wall) | fresh chars/s (CPU) | fresh CPU s / wall s | again chars/s (wall) "
                   "| again chars/s (CPU) | load avg (1 min) |")
        out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
        for key, label in (("throughput_dev", "CHisIEC dev (traditional)"), ("throughput_annals", "南史 卷一–二十")):
            if key in entry:
                f, a = entry[key]["fresh"], entry[key]["again"]
                out.append(f"| {label} | {f['chars']} | {f['chars_per_s']} | {f['chars_per_cpu_s']} | "
                           f"{f['cpu_seconds']} / {f['seconds']} | {a['chars_per_s']} | {a['chars_per_cpu_s']} | "
                           f"{f['load']} → {a['load']} |")
        out.append("")
    if annals:
        d = date_table_speed(config, annals)
        results["dates"] = d
        out.append(f"dates: {d['dates']} distinct date expressions in 南史 卷一–二十; tables built in {d['build_s']} s; "
                   f"{d['table_us_per_date']} µs a date from the tables, {d['sanmiao_ms_per_date']} ms with sanmiao's solver")
        out.append("")
    for key, name in (("training", "model"), ("training_old", "old model (spaCy)")):
        if key in results:
            tr = results[key]
            extra = ""
            if "cpu_seconds" in tr:
                extra = (f"; CPU {tr['cpu_seconds']} s, peak RSS {tr['peak_rss_mb']} MB, "
                         f"load avg {tr['load_before']} → {tr['load_after']}")
            out.append(f"training ({name}): {tr['seconds']} s wall, {tr['epochs_run']} epochs (best {tr['best_epoch']}, "
                       f"held-out F1 {tr['heldout_f1']}){extra}; measured {tr['measured']}")
    print("\n".join(out))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

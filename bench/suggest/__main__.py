"""Evaluate machine suggestions on CHisIEC dev and measure throughput.

    python -m bench.suggest [--train] [--epochs N] [--json results.json]

Prints, as Markdown:

- P/R/F1 per label (PER, LOC, OFI, BOOK) and overall, exact span match, for the rules path and,
  when a model is built (``--train`` builds it first), the model path;
  each on dev as given (simplified) and on dev converted to traditional with OpenCC ``s2t``
  (phrase-aware one-to-many choice; character-aligned so the gold offsets stay valid);
- DATE is not scored: CHisIEC does not annotate dates (a predicted DATE is neither right nor wrong);
- throughput in characters per second (``suggest_lines`` over all lines, on a service built
  beforehand but with an empty date cache) on dev (traditional) and on a date-dense Kanripo juan
  (南史 卷二, 四庫全書 edition: unpunctuated, one printed line per input line), plus build time
  (which, after the first service in a process, excludes one-time table loading);
- the model's training time (measured now with ``--train``, else read from the model's metadata).

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
from annotation.suggest.training import META_FILE, train_model

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
    chars = sum(len(x) for x in lines) * repeat
    t = time.perf_counter()
    n_spans = 0
    for _ in range(repeat):
        for r in service.suggest_lines(lines):
            n_spans += len(r.spans)
    seconds = time.perf_counter() - t
    return {"chars": chars, "seconds": round(seconds, 2), "chars_per_s": round(chars / seconds), "spans": n_spans}


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
    args = ap.parse_args(argv)

    config = SuggestConfig()
    if config.chisiec_dir is None:
        print("bench.suggest: shared data not found (set GUJI_SHARED)", file=sys.stderr)
        return 2
    results: dict = {}
    if args.train:
        report = train_model(config, epochs=args.epochs, progress=lambda m: print(f"  {m}", file=sys.stderr, flush=True))
        results["training"] = {"seconds": report.seconds, "epochs_run": report.epochs_run,
                               "best_epoch": report.best_epoch, "heldout_f1": report.val_f1, "measured": "now"}
    elif (config.model_path / META_FILE).is_file():
        meta = json.loads((config.model_path / META_FILE).read_text(encoding="utf-8"))
        r = meta["report"]
        results["training"] = {"seconds": r["seconds"], "epochs_run": r["epochs_run"], "best_epoch": r["best_epoch"],
                               "heldout_f1": r["val_f1"], "measured": meta["created"]}

    dev = read_conll(config.chisiec_dir / "ner_dev.txt")
    dev_t, conv = traditional(dev)
    results["traditional_conversion"] = conv
    juan = kanripo_lines(config.shared)
    out = ["# guji suggest: CHisIEC dev", ""]
    out.append(f"dev: {len(dev)} sentences, {conv['chars']} characters; s2t changed {conv['chars_changed']} of them.")
    out.append("")

    modes = [("rules", SuggestConfig(use_model=False))]
    if (config.model_path / "meta.json").is_file():
        modes.append(("model", SuggestConfig(use_model=True)))
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
        entry["throughput_dev"] = throughput(_warm(SuggestionService(cfg)), [s.text for s in dev_t])
        if juan:
            entry["throughput_kanripo"] = throughput(_warm(SuggestionService(cfg)), juan)
        results[name] = entry
        out.append(f"throughput ({name}): dev {entry['throughput_dev']['chars_per_s']} chars/s"
                   + (f", 南史卷二 {entry['throughput_kanripo']['chars_per_s']} chars/s"
                      f" ({entry['throughput_kanripo']['spans']} spans)" if juan else "")
                   + f"; start-up {entry['startup_s']} s")
        out.append("")
    if "training" in results:
        tr = results["training"]
        out.append(f"training: {tr['seconds']} s, {tr['epochs_run']} epochs (best {tr['best_epoch']}, "
                   f"held-out F1 {tr['heldout_f1']})")
    print("\n".join(out))
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

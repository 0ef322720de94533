"""Large inputs through ``guji suggest --json`` in a child process: time and peak memory.

    python -m bench.suggest.stream [--mb 50] [--rules-only]

Writes (under a temporary directory) a 300,000-character juan on one line and a file of about
``--mb`` MB of date-dense annal lines (南史 卷一–二十 repeated; a synthetic clause when ../shared is
absent), runs ``guji suggest FILE --json`` on each and on a one-line file, and prints chars/s and
the child's peak RSS (VmHWM; ru_maxrss would carry the parent's peak across exec). Needs nothing but the project; uses ../shared (or
GUJI_SHARED) and $GUJI_HOME as the CLI does.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from annotation.suggest import SuggestConfig

from .__main__ import annals_lines

CLAUSE = "開元二十三年冬十月甲子，以范仲淹為參知政事。"
CHILD = ("import resource, sys; from api.cli import app; sys.argv = ['guji', 'suggest', *sys.argv[1:]]\n"
         "try:\n    app()\nfinally:\n"
         "    print('rss', next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:')), file=sys.stderr)")  # VmHWM (kB): this process's own peak (ru_maxrss survives exec: a big parent's peak)


def run(path: Path, rules_only: bool) -> dict:
    args = [str(path), "--json"] + (["--rules-only"] if rules_only else [])
    t = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        p = subprocess.run([sys.executable, "-c", CHILD, *args], stdout=sink, stderr=subprocess.PIPE,
                           env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2])))
    seconds = time.perf_counter() - t
    err = p.stderr.decode()
    if p.returncode != 0:
        raise SystemExit(f"guji suggest failed on {path}: {err}")
    rss = next(int(x.split()[1]) for x in err.splitlines() if x.startswith("rss "))
    mode = next((x for x in err.splitlines() if "mode=" in x), "")
    chars = len(path.read_text(encoding="utf-8"))
    return {"chars": chars, "bytes": path.stat().st_size, "seconds": round(seconds, 1),
            "chars_per_s": round(chars / seconds), "peak_rss_mb": round(rss / 1024), "mode": mode}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=50.0)
    ap.add_argument("--rules-only", action="store_true")
    args = ap.parse_args(argv)
    cfg = SuggestConfig()
    lines = annals_lines(cfg.shared) if cfg.shared else [CLAUSE]
    with tempfile.TemporaryDirectory() as tmp:
        one = Path(tmp, "one.txt")
        one.write_text(CLAUSE + "\n", encoding="utf-8")
        juan = Path(tmp, "juan-one-line.txt")
        text = "".join(lines)
        juan.write_text((text * (300_000 // len(text) + 1))[:300_000] + "\n", encoding="utf-8")
        big = Path(tmp, "big.txt")
        block = ("\n".join(lines) + "\n").encode("utf-8")
        with open(big, "wb") as fh:
            for _ in range(max(1, int(args.mb * 1024 * 1024 / len(block)))):
                fh.write(block)
        print("| input | characters | bytes | seconds (incl. start-up) | chars/s | peak RSS MB |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, path in (("one line", one), ("300,000 characters on one line", juan), (f"{args.mb:g} MB file", big)):
            r = run(path, args.rules_only)
            print(f"| {name} | {r['chars']} | {r['bytes']} | {r['seconds']} | {r['chars_per_s']} | {r['peak_rss_mb']} |",
                  flush=True)
        print(f"\n{r['mode']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""What the benchmarks share: timing, percentiles, memory, the machine's load, progress lines, tables.

Benchmarks print numbers and assert nothing. On a shared machine every figure is reported with the
load average beside it (:func:`load_average`).
"""

from __future__ import annotations

import importlib.util
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0 ≤ q ≤ 1) of ``values``, interpolated between the two nearest ranks
    (the usual definition: numpy's default, R's type 7)."""
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def timed(fn: Callable[[], object], n: int = 1) -> list[float]:
    """Wall-clock seconds of ``n`` calls of ``fn``."""
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def median_ms(fn: Callable[[], object], n: int = 20) -> float:
    """Median wall-clock milliseconds of ``n`` calls of ``fn``."""
    return statistics.median(timed(fn, n)) * 1000


def summary_ms(seconds: list[float]) -> str:
    """``median … ms   p95 … ms   (n=…)`` of durations in seconds."""
    return (f"median {statistics.median(seconds) * 1000:7.1f} ms   p95 {percentile(seconds, 0.95) * 1000:7.1f} ms   "
            f"(n={len(seconds)})")


def _status_mb(field: str, pid: int | str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rss_mb(pid: int | str = "self") -> float:
    """Resident memory of a process now, MB (VmRSS)."""
    return _status_mb("VmRSS", pid)


def peak_rss_mb(pid: int | str = "self") -> float:
    """Peak resident memory of a process, MB (VmHWM: its own; ru_maxrss survives exec)."""
    return _status_mb("VmHWM", pid)


def reset_peak_rss() -> bool:
    """Start a new peak (VmHWM) for this process, so a step's own peak can be read after it
    (Linux: writing 5 to /proc/self/clear_refs). False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def load_average() -> str:
    """``load average 1.20, 0.80, 0.50 (2 cores)``: what to print beside every figure."""
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def module_at(ref: str, path: str, tmp: Path) -> ModuleType:
    """The module ``path`` (e.g. ``projections/neo4j.py``) as git revision ``ref`` has it, loaded
    under its own name (``neo4j_<ref>``) beside this checkout's, for A/B runs in one process."""
    code = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    name = f"{Path(path).stem}_{''.join(c if c.isalnum() else '_' for c in ref)}"
    file = tmp / f"{name}.py"
    file.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, file)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # (dataclasses look their module up while the class is made)
    spec.loader.exec_module(mod)
    return mod


def log(msg: str, tag: str = "bench") -> None:
    """A progress line on stderr (the table goes to stdout)."""
    print(f"[{tag}] {msg}", file=sys.stderr, flush=True)


def print_table(header: tuple[str, ...], rows: list[tuple[object, ...]], widths: tuple[int, ...]) -> None:
    """Rows under a header, each cell padded to its width (a negative width: aligned right), then the load."""
    def line(cells: tuple[object, ...]) -> str:
        return " ".join(f"{c!s:<{w}}" if w > 0 else f"{c!s:>{-w}}" for c, w in zip(cells, widths)).rstrip()

    print(line(header))
    for r in rows:
        print(line(r))
    print(load_average())

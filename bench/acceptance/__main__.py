"""Benchmark: the acceptance workflow at the size of a national plan.

    python -m bench.acceptance [--units 100] [--titles 3000]

A fresh on-disk store with the sample package; registers U units over 31 provinces, imports an
approved catalogue of T titles (CSV in GB18030, then the same as XLSX), and times the import, the
progress of everyone (staff), of one province (coordinator) and of one unit, a monthly catalogue of
200 rows, a spot check drawn over it, and the report. Prints a table; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from accounts.identity import Identity, Role  # noqa: E402
from acceptance.service import AcceptanceService  # noqa: E402
from api.context import SAMPLE_DIR  # noqa: E402
from kg.package import ingest_package  # noqa: E402
from kg.store import OxigraphStore  # noqa: E402

PROVINCES = [f"省{i:02d}" for i in range(31)]


def timed(label: str, fn, rows: list):
    t = time.perf_counter()
    out = fn()
    rows.append((label, (time.perf_counter() - t) * 1000))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--units", type=int, default=100)
    ap.add_argument("--titles", type=int, default=3000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        store = OxigraphStore(Path(d) / "ox")
        ingest_package(store, SAMPLE_DIR / "package" / "guji-sample-2026-001", agent="bench")
        svc = AcceptanceService(store, clock=lambda: datetime(2026, 12, 4, 2, tzinfo=timezone.utc))
        staff = Identity("staff", Role.ACCEPTANCE)
        units = ["guji 示例图书馆"] + [f"单位{i:03d}" for i in range(1, a.units)]
        unit_csv = "承建单位,省份\n" + "".join(f"{u},{PROVINCES[i % 31]}\n" for i, u in enumerate(units))
        rows: list = []
        timed(f"register {a.units} units (CSV)", lambda: svc.register_units(staff, "u.csv", unit_csv.encode("gb18030")), rows)
        plan = "承建单位,省份,题名,版本,计划卷数,计划册数,计划影像数\n" + "".join(
            f"{units[i % len(units)]},{PROVINCES[(i % len(units)) % 31]},书{i:05d},明刻本,10,2,400\n" for i in range(a.titles))
        timed(f"import plan, {a.titles} titles (CSV GB18030)", lambda: svc.import_plan(staff, "p.csv", plan.encode("gb18030")), rows)
        import openpyxl

        wb = openpyxl.Workbook()
        for line in plan.splitlines():
            wb.active.append(line.split(","))
        buf = io.BytesIO()
        wb.save(buf)
        timed(f"import plan, {a.titles} titles (XLSX, {len(buf.getvalue()) // 1024} KiB)", lambda: svc.import_plan(staff, "p.xlsx", buf.getvalue()), rows)
        bad = plan.replace("单位001,", "无名,", 1)
        t = time.perf_counter()
        try:
            svc.import_plan(staff, "p.csv", bad.encode())
        except Exception:  # noqa: BLE001
            rows.append(("refuse a plan with one unknown unit", (time.perf_counter() - t) * 1000))
        svc.set_member(staff, "coord", province=PROVINCES[0])
        svc.set_member(staff, "lib", unit=units[0])
        timed("progress, staff (every unit)", lambda: svc.progress(staff), rows)
        timed("progress, a coordinator (one province)", lambda: svc.progress(Identity("coord", Role.COORDINATOR)), rows)
        timed("progress, a unit", lambda: svc.progress(Identity("lib", Role.SUBMITTER)), rows)
        cat = "题名,承建单位,联系人,联系电话\n" + "".join(f"书{i:05d},{units[0]},张三,010-1\n" for i in range(200))
        timed("monthly catalogue, 200 rows", lambda: svc.submit_catalogue(staff, "2026-11", "c.csv", cat.encode()), rows)
        chk = timed("spot check over those 200 (AQL 1.0)", lambda: svc.create_check(staff, "month", f"{units[0]}/2026-11", "1.0", seed=1), rows)
        timed("record defects and decide", lambda: svc.record_defects(staff, chk["id"], []), rows)
        timed("acceptance report, every unit", lambda: svc.report(staff), rows)
        store.close()
    width = max(len(r[0]) for r in rows)
    print(f"acceptance workflow, {a.units} units, {a.titles} titles (embedded Oxigraph, one process)")
    for label, ms in rows:
        print(f"  {label:<{width}}  {ms:9.1f} ms")


if __name__ == "__main__":
    main()

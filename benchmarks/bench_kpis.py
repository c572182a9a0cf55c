"""Benchmark: every KPI for every month and area over ten years of a large council, cold and
warm, beside the floor: the time DuckDB takes simply to scan the same tables.

    python benchmarks/bench_kpis.py [--scale 1.0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("CSC_ID_KEY", "benchmark")
# ten years of history arrive in one bulk load: the series start where the history does
os.environ.setdefault("CSC_SERIES_START", "2012-04")

import duckdb  # noqa: E402

from benchmarks import bigcouncil  # noqa: E402
from csc import kpis, spec, suppression  # noqa: E402
from csc.store import Store  # noqa: E402


def timed(fn, repeat=1):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def scan(cur) -> None:
    """The floor: read every value of every current table once (a hash of each row, summed, so
    DuckDB can answer neither from statistics nor by skipping columns)."""
    for sheet in spec.SHEETS.values():
        cols = ", ".join(sheet.column_names)
        cur.execute(f"select sum(hash({cols})) from cur_{sheet.name}").fetchall()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--db", help="reuse this database (built if missing)")
    args = ap.parse_args()
    db = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "big.duckdb"
    fresh = not db.exists()
    store = Store.open(db)
    if fresh:
        t0 = time.perf_counter()
        n = bigcouncil.load(store, args.scale)
        print(f"generated and loaded {n:,} records in {time.perf_counter() - t0:.1f} s (including the first KPI run)")
    store.close()

    con = duckdb.connect(str(db))
    cur = con.cursor()
    floor_cold = timed(lambda: scan(cur))
    floor = timed(lambda: scan(cur), repeat=3)
    all_cold = timed(lambda: kpis.materialise(cur))
    all_warm = timed(lambda: kpis.materialise(cur), repeat=3)
    board = timed(lambda: suppression.board_suppression(cur, kpis.registry()), repeat=3)  # part of all_warm
    months = cur.execute("select count(distinct period) from kpi_results").fetchall()[0][0]
    rows = cur.execute("select count(*) from kpi_results").fetchall()[0][0]
    latest = cur.execute("select max(period) from kpi_results").fetchall()[0][0]
    page = [timed(lambda: kpis.results(cur, period=latest)) for _ in range(20)]
    per_kpi = {}
    kpis.prepare(cur)
    for k in kpis.registry().values():
        per_kpi[k.name] = timed(lambda k=k: kpis.compute(cur, k))
    con.close()

    print(f"months: {months}, KPI rows: {rows:,}")
    print(f"floor (scan every table)  cold {floor_cold * 1000:8.0f} ms   warm {floor * 1000:8.0f} ms")
    print(f"all KPIs, months, areas   cold {all_cold * 1000:8.0f} ms   warm {all_warm * 1000:8.0f} ms")
    print(f"ratio all KPIs / floor (warm): {all_warm / floor:.1f}x  (aim: within 10x and under 3 s)")
    print(f"  of which the board's suppression (csc.suppression, warm): {board * 1000:.0f} ms")
    print(f"one month's page of KPIs (warm, median of 20): {statistics.median(page) * 1000:.1f} ms (aim: under 100 ms)")
    print("slowest KPIs:")
    for name, secs in sorted(per_kpi.items(), key=lambda kv: -kv[1])[:6]:
        print(f"  {name:28s} {secs * 1000:7.0f} ms")


if __name__ == "__main__":
    main()

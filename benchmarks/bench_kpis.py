"""Benchmark: every KPI for every month and area over ten years of a large council, cold and
warm, beside the floor: the time DuckDB takes simply to scan the same tables; and the recompute
after a typical monthly import (`Write.recompute`: the current rows of its records and the KPIs of
the months they can move, `csc.incremental`) beside the full recompute of the same import.

    python benchmarks/bench_kpis.py [--scale 1.0] [--db big.duckdb]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
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
import numpy as np  # noqa: E402
import pyarrow as pa  # noqa: E402
import pyarrow.compute as pc  # noqa: E402

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


def next_month(scale: float, moves: int = 0) -> dict[str, pa.Table]:
    """A typical monthly extract for the month after the big council's last (2022-04): the new
    month's records (those of 2022-03, one month later, with new ids), some open cases closed,
    open assessments completed, waiting transfers accepted, a few leavers and joiners, the
    month's establishment, and 20 corrections (a referral of 2022-02 whose team was wrong).
    `moves`: as many open involvements also moved to another team (a value applied to every
    month the record counts in, so the recompute reaches back to the earliest one's start)."""
    rng = np.random.default_rng(11)
    tables = bigcouncil.generate(scale=scale)
    start, end = pa.scalar(dt.date(2022, 3, 1), pa.date32()), pa.scalar(dt.date(2022, 3, 31), pa.date32())
    april = np.datetime64("2022-04-15")
    out = {}
    for name, t in tables.items():
        if name in ("workforce", "establishment"):
            continue
        key = t.column_names[0]
        date_col = next(c for c in t.column_names if pa.types.is_date32(t.schema.field(c).type))
        new = t.filter(pc.and_(pc.greater_equal(t[date_col], start), pc.less_equal(t[date_col], end)))
        cols = {c: new[c] for c in new.column_names}
        cols[key] = pa.array([f"N{v}" for v in new[key].to_pylist()])
        for c in new.column_names:
            if pa.types.is_date32(new.schema.field(c).type):
                cols[c] = pc.add(new[c].cast(pa.int32()), pa.scalar(31, pa.int32())).cast(pa.date32())  # a month later
        parts = [pa.table(cols)]
        closing = {"involvements": ("end_date", 0.05), "cp_plans": ("end_date", 0.05),
                   "assessments": ("completed_date", 0.6), "transfers": ("accepted_date", 1.0)}.get(name)
        if closing:
            col, share = closing
            still_open = t.filter(pc.is_null(t[col]))
            chosen = rng.random(still_open.num_rows) < share
            pick = still_open.take(np.flatnonzero(chosen))
            parts.append(pick.set_column(pick.column_names.index(col), col,
                                         pa.array(np.full(pick.num_rows, april), pa.date32())))
            if name == "involvements" and moves:
                moved = still_open.take(np.flatnonzero(~chosen)[:moves])
                parts.append(moved.set_column(moved.column_names.index("team"), "team",
                                              pa.array(["Area A team 2"] * moved.num_rows)))
        if name == "referrals":
            feb = t.filter(pc.equal(pc.strftime(t["referral_date"], "%Y-%m"), "2022-02")).slice(0, 20)
            parts.append(feb.set_column(feb.column_names.index("team"), "team",
                                        pa.array(["Area A team 1"] * feb.num_rows)))
        out[name] = pa.concat_tables(parts)
    w = tables["workforce"]
    leavers = w.filter(pc.is_null(w["end_date"])).slice(0, 15)
    leavers = leavers.set_column(leavers.column_names.index("end_date"), "end_date",
                                 pa.array(np.full(leavers.num_rows, april), pa.date32()))
    joiners = w.slice(0, 15)
    joiners = joiners.set_column(0, "worker_id", pa.array([f"NW{i}" for i in range(joiners.num_rows)]))
    joiners = joiners.set_column(joiners.column_names.index("start_date"), "start_date",
                                 pa.array(np.full(joiners.num_rows, april), pa.date32()))
    joiners = joiners.set_column(joiners.column_names.index("end_date"), "end_date", pa.nulls(joiners.num_rows, pa.date32()))
    out["workforce"] = pa.concat_tables([leavers, joiners])
    out["establishment"] = tables["establishment"]
    return out


def monthly_import(db: Path, tables: dict[str, pa.Table], full: bool) -> tuple[float, str | None]:
    """Load `tables` as 2022-04 into a copy of `db`; the seconds `Write.recompute` took and the
    first month it recomputed (None: all). `full`: the whole recompute instead (every current
    table, every month), as before `csc.incremental`."""
    from csc import kpis as kpis_module

    # a folder of its own: a database's folder holds its recovery manifest (uploads/manifest.jsonl),
    # which a copy beside it would be checked against (and warn of imports it lacks)
    copy = db.parent / f"{db.stem}-monthly" / db.name
    shutil.rmtree(copy.parent, ignore_errors=True)
    copy.parent.mkdir()
    shutil.copy(db, copy)
    took, first = [], []
    store = Store.open(copy)
    rebuild, materialise = store._rebuild, kpis_module.materialise

    def timed_rebuild(cur, change=None, sheets=None):
        t0 = time.perf_counter()
        rebuild(cur, change, None if full else sheets)
        took.append(time.perf_counter() - t0)

    def spy(cur, since=None, **kwargs):
        # (as a call without `since`, the same script measures code from before csc.incremental)
        start = materialise(cur, **kwargs) if since is None else materialise(cur, since=since, **kwargs)
        first.append(start)
        return start

    store._rebuild, kpis_module.materialise = timed_rebuild, spy
    try:
        store.import_tables(tables, "2022-04", user="benchmark", name="2022-04",
                            imported_at=dt.datetime(2022, 5, 6, 9))
    finally:
        kpis_module.materialise = materialise
        store.close()
        shutil.rmtree(copy.parent)
    return took[0], first[0]


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

    month = next_month(args.scale)
    monthly = [monthly_import(db, month, full=False) for _ in range(3)]
    monthly_full = [monthly_import(db, month, full=True) for _ in range(2)]
    moving = [monthly_import(db, next_month(args.scale, moves=10), full=False) for _ in range(2)]
    moved = min(t for t, _ in moving)
    inc = min(t for t, _ in monthly)
    full = min(t for t, _ in monthly_full)
    con = duckdb.connect(str(db))
    cur = con.cursor()
    floor_after = timed(lambda: scan(cur), repeat=3)
    con.close()
    floor = min(floor, floor_after)

    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")
    print(f"months: {months}, KPI rows: {rows:,}")
    print(f"floor (scan every table)  cold {floor_cold * 1000:8.0f} ms   warm {floor * 1000:8.0f} ms")
    print(f"all KPIs, months, areas   cold {all_cold * 1000:8.0f} ms   warm {all_warm * 1000:8.0f} ms")
    print(f"ratio all KPIs / floor (warm): {all_warm / floor:.1f}x  (aim: within 10x and under 3 s)")
    print(f"  of which the board's suppression (csc.suppression, warm): {board * 1000:.0f} ms")
    rows_in = sum(t.num_rows for t in month.values())
    print(f"a monthly import ({rows_in:,} rows), recompute (Write.recompute: current rows and KPIs), best of 3 / 2:")
    print(f"  only the months it can move (from {monthly[0][1]}) {inc * 1000:8.0f} ms   ratio to the floor {inc / floor:.1f}x"
          "  (aim: within 10x)")
    print(f"  everything (every current table, every month) {full * 1000:8.0f} ms   ratio to the floor {full / floor:.1f}x")
    print(f"  the same with 10 open cases moved to another team (from {moving[0][1]}) {moved * 1000:8.0f} ms   "
          f"ratio to the floor {moved / floor:.1f}x")
    print(f"one month's page of KPIs (warm, median of 20): {statistics.median(page) * 1000:.1f} ms (aim: under 100 ms)")
    print("slowest KPIs:")
    for name, secs in sorted(per_kpi.items(), key=lambda kv: -kv[1])[:6]:
        print(f"  {name:28s} {secs * 1000:7.0f} ms")


if __name__ == "__main__":
    main()

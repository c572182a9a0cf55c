"""Spark's cost beside DuckDB's, on the same councils' Parquet export (not run by ./dev bench:
it needs Java and an export):

    python -m csc demo --db /tmp/a/csc.duckdb --seed 1 && python -m csc export-parquet /tmp/pq --db /tmp/a/csc.duckdb --council a
    python -m csc demo --db /tmp/b/csc.duckdb --seed 2 && python -m csc export-parquet /tmp/pq --db /tmp/b/csc.duckdb --council b
    python benchmarks/spark_vs_duckdb.py /tmp/pq

Prints DuckDB's time for every council's KPIs over the Parquet (`parquet_views` + `materialise`),
Spark's start-up (session and first query), Spark's time for the same (`csc.spark.run`), their
ratio, and the memory of Spark's JVM (peak resident) and of this Python process.
"""

from __future__ import annotations

import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from csc import kpis, parquet, spark  # noqa: E402


def duckdb_pooled(pq: Path) -> None:
    """Every council over its Parquet, as spark-kpis does it: views, then every KPI."""
    for code in parquet.councils(pq):
        con = duckdb.connect()
        parquet.parquet_views(con, pq / code)
        kpis.materialise(con)
        con.close()


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def main() -> None:
    pq = Path(sys.argv[1])
    print(f"load average at start {os.getloadavg()[0]:.1f}")
    duck = [timed(lambda: duckdb_pooled(pq)) for _ in range(2)]
    print("DuckDB, every council's KPIs:", ", ".join(f"{t:.2f} s" for t in duck))
    t0 = time.perf_counter()
    session = spark.session("local[2]")
    session.sql("select 1").collect()
    print(f"Spark start-up (session and first query): {time.perf_counter() - t0:.1f} s")
    runs = []
    for _ in range(2):
        runs.append(timed(lambda: spark.run(session, pq)))
        print(f"Spark, every council's KPIs: {runs[-1]:.1f} s", flush=True)
    status = Path(f"/proc/{session.sparkContext._gateway.proc.pid}/status").read_text().splitlines()
    jvm = {line.split(":")[0]: line.split(":")[1].strip() for line in status if line.startswith(("VmHWM", "VmRSS"))}
    py = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"Spark JVM peak resident {jvm.get('VmHWM')}, now {jvm.get('VmRSS')}; this Python process peak {py} MB")
    print(f"ratio Spark / DuckDB (best of each): {min(runs) / min(duck):.0f}x")
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    session.stop()


if __name__ == "__main__":
    main()

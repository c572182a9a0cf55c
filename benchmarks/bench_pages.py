"""Benchmark: the server-side time of each page's script run (AppTest), first and warm, with the
ten-year large council loaded, beside a baseline in the same run: a one-line Streamlit script.

    python benchmarks/bench_pages.py [--db PATH] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CSC_ID_KEY", "benchmark")
os.environ.setdefault("CSC_SERIES_START", "2012-04")

from streamlit import config as st_config  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402

from benchmarks import bigcouncil  # noqa: E402
from csc import pages  # noqa: E402
from csc.store import Store  # noqa: E402

PAGES = ["overview", "action", "workforce", "practice", "plan", "upload", "imports", "data_quality", "audit"]


def run_page(page: str | None, warm_runs: int = 3) -> tuple[float, float]:
    at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=300)
    at.session_state["preview_role"] = "analyst"
    at.run()
    if page and page != "overview":
        at.switch_page(pages.get(page).file)
    t0 = time.perf_counter()
    at.run()
    first = time.perf_counter() - t0
    assert not at.exception, [e.value for e in at.exception]
    warm = []
    for _ in range(warm_runs):
        t0 = time.perf_counter()
        at.run()
        warm.append(time.perf_counter() - t0)
    return first, statistics.median(warm)


def baseline(runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        at = AppTest.from_string("import streamlit as st\nst.title('baseline')", default_timeout=60)
        t0 = time.perf_counter()
        at.run()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", help="reuse this database (built if missing)")
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()
    db = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "big.duckdb"
    if not db.exists():
        with Store.open(db) as store:
            t0 = time.perf_counter()
            n = bigcouncil.load(store, args.scale)
            print(f"loaded {n:,} records in {time.perf_counter() - t0:.1f} s")
    os.environ["CSC_DB"] = str(db)
    st_config.set_option("server.address", "127.0.0.1")
    base = baseline()
    print(f"baseline (a one-line Streamlit script): {base * 1000:.0f} ms")
    print(f"{'page':14s} {'first ms':>9s} {'warm ms':>8s} {'warm/baseline':>14s}")
    for page in PAGES:
        # "first" is the first run of the page in a fresh session (server-wide caches may be warm
        # from earlier pages, as in a running server); "warm" is the median of later reruns
        first, warm = run_page(page)
        print(f"{page:14s} {first * 1000:9.0f} {warm * 1000:8.0f} {warm / base:13.1f}x")


if __name__ == "__main__":
    main()

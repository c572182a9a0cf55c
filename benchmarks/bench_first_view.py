"""Benchmark: what the first views after an import cost the server, beside a one-line page.

    python benchmarks/bench_first_view.py [--council demo|big|load|PATH] [--roles analyst,board] [--runs 2]

After an import, rollback or plan change the data version moves and every figure a page shows
is built again, once, by the first session that asks (`csc.viewcache.shared`; twenty sessions
asking at once wait for that one build). This measures those builds: for each role, the six
pages the load benchmark visits (Overview, Action A1, Workforce, Practice, Imports, Data
quality) are run with `streamlit.testing.v1.AppTest` on a copy of the council's database with
the server-wide caches empty, as after an import, and the CPU time of every build (thread time,
the outermost build of a nest only) is added up, by page and by kind. The baseline is a
one-line Streamlit script's run in the same process (its thread CPU): the ratio says how many
such page views one data version's first views cost.

`--council demo` (or `big`, the ten-year council) builds that council as `bench_page_cpu.py`
does (the demo ~30 s) into a temporary folder unless `--folder` already holds it; `load` the
load benchmark's council (one month of the
synthetic council, `bench_load.prepare`); a path, that database (copied, never changed).
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CSC_ID_KEY", "benchmark")

from streamlit.testing.v1 import AppTest  # noqa: E402

from csc import pages, viewcache  # noqa: E402

PAGES = {"Overview": ("overview", {}), "Action A1": ("action", {"action": "A1"}), "Workforce": ("workforce", {}),
         "Practice": ("practice", {}), "Imports": ("imports", {}), "Data quality": ("data_quality", {})}

_depth = threading.local()
_spent: collections.Counter[str] = collections.Counter()


def _timed_shared(shared):
    """`viewcache.shared` with every build's thread CPU added to `_spent` under its kind (a
    build inside another build counts only in the outer one)."""

    def wrapper(kind, key, build, *args):
        def timed(*a):
            depth = getattr(_depth, "n", 0)
            _depth.n = depth + 1
            t = time.thread_time()
            try:
                return build(*a)
            finally:
                _depth.n = depth
                if depth == 0:
                    _spent[kind] += time.thread_time() - t

        return shared(kind, key, timed, *args)

    return wrapper


def baseline(runs: int = 5) -> float:
    """A one-line page's run: the median CPU time of the thread AppTest runs the script in (the
    script reads its own thread's clock as its last line)."""
    took = []
    for _ in range(runs):
        at = AppTest.from_string("import time\nimport streamlit as st\nst.write('baseline')\n"
                                 "st.session_state['cpu'] = time.thread_time()\n", default_timeout=60)
        at.run()
        took.append(float(at.session_state["cpu"]))
    return statistics.median(took)


def first_views(db: Path, role: str) -> dict[str, float]:
    """CPU seconds of the builds, by page, for one role's first views of the six pages."""
    os.environ["CSC_DB"] = str(db)
    viewcache.clear()
    by_page = {}
    for name, (page, query) in PAGES.items():
        before = sum(_spent.values())
        at = AppTest.from_file(str(ROOT / "dashboard.py"), default_timeout=300)
        at.session_state["preview_role"] = role
        if page != "overview":
            at.switch_page(pages.get(page).file)
        for k, v in query.items():
            at.query_params[k] = v
        at.run()
        if at.exception:
            raise SystemExit(f"{name} as {role}: {[e.value for e in at.exception]}")
        by_page[name] = sum(_spent.values()) - before
    return by_page


def prepare(council: str, folder: Path) -> Path:
    if council in ("demo", "big"):  # built as the page benchmark builds them (kept in `folder`)
        from benchmarks.bench_page_cpu import build

        return build(council, folder)
    if council == "load":
        db = folder / "csc.duckdb"
        if not db.exists():
            from benchmarks.bench_load import prepare as load_prepare

            load_prepare(folder, 0.015)
        return db
    return Path(council)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--council", default="load", help="demo, big, load, or a database file")
    ap.add_argument("--folder", help="where the council is built (kept); a temporary folder by default")
    ap.add_argument("--roles", default="analyst,board")
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    made = args.folder is None  # a temporary folder of our own: removed at the end
    folder = Path(args.folder or tempfile.mkdtemp(prefix="csc-first-view-"))
    folder.mkdir(parents=True, exist_ok=True)
    source = prepare(args.council, folder)
    viewcache.shared = _timed_shared(viewcache.shared)
    work = Path(tempfile.mkdtemp(prefix="csc-first-view-db-"))
    try:
        report(args, source, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if made:
            shutil.rmtree(folder, ignore_errors=True)


def report(args, source: Path, work: Path) -> None:
    base = baseline()
    print(f"council {args.council} ({source}); a one-line page's run: {base * 1000:.1f} ms of CPU")
    print(f"{'role':8s} {'run':>3s} {'total ms':>9s} {'÷ one-line':>10s}  " + "  ".join(f"{p:>12s}" for p in PAGES))
    for role in args.roles.split(","):
        for run in range(args.runs):
            db = work / f"{role}-{run}.duckdb"
            shutil.copy(source, db)  # a copy each run: the server-wide caches and the file both fresh
            by_page = first_views(db, role)
            total = sum(by_page.values())
            print(f"{role:8s} {run + 1:3d} {total * 1000:9.0f} {total / base:10.0f}  "
                  + "  ".join(f"{by_page[p] * 1000:12.0f}" for p in PAGES))
    kinds = ", ".join(f"{k} {v * 1000:.0f}" for k, v in _spent.most_common(8))
    print(f"the dearest kinds of build over all runs (ms): {kinds}")


if __name__ == "__main__":
    main()

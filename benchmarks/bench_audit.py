"""Benchmark: the Audit log page's reads do not grow with the log.

    python benchmarks/bench_audit.py [--small 5000] [--large 500000]

Every page view is logged, so a council's log runs to hundreds of thousands of entries in a year.
The page reads, for each new state of the log (`csc.ui.audit_state`), the choices of actions and
people (`Store.audit_choices`) and the newest 200 entries chosen in words (`Store.audit_entries`,
`wording.audit_in_words`); a view in between reads only the log's state (its count and newest
id). This times both on a log of --small entries and on one of --large, in the same run, and
prints the ratio large/small (aim: at most 3; reading the whole log on every view, as the page did
before 2026-12-04, grows in proportion to it). The download of every entry chosen, made only when
pressed, is timed too, for reference.
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

from csc import wording  # noqa: E402
from csc.store import Store  # noqa: E402

SHOWN = 200
DETAIL = '{"page": "overview", "areas": [], "period_from": "2024-04", "period_to": "2026-03"}'


def log_of(folder: Path, n: int) -> Store:
    """A database whose log holds `n` entries: 40 people's views a minute apart, every 50th an export."""
    store = Store.open(folder / f"audit-{n}.duckdb")
    with store.transaction("setup", None) as w:
        w.cur.execute(
            "insert into audit_log (logged_at, user_name, role, action, detail) "
            "select timestamp '2026-01-01' + to_seconds(i * 60), 'user' || (i % 40), 'board', "
            "case when i % 50 = 0 then 'export' else 'view' end, $detail from range($n) t(i)",
            {"n": n, "detail": DETAIL})
    return store


def timed(work, repeat: int) -> float:
    """The median seconds of `repeat` runs of `work`, after one run not counted."""
    work()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(store: Store, repeat: int) -> dict[str, float]:
    actions, _ = store.audit_choices()

    def build():  # what a new state of the log costs the page
        store.audit_choices()
        wording.audit_in_words(store.audit_entries(actions, [], SHOWN))

    return {"a view (the log's state)": timed(store.audit_state, repeat),
            "a new state (choices, newest 200 in words)": timed(build, repeat),
            "the download (every entry, on press)": timed(
                lambda: wording.audit_in_words(store.audit_entries(actions, [], None)).to_pandas(), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--small", type=int, default=5_000)
    ap.add_argument("--large", type=int, default=500_000)
    ap.add_argument("--repeat", type=int, default=9)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        results = {}
        for n in (args.small, args.large):
            store = log_of(Path(tmp), n)
            try:
                results[n] = measure(store, args.repeat)
            finally:
                store.close()
    print(f"the Audit log page's reads, median of {args.repeat} (ms)")
    print(f"{'':<46}{args.small:>12,}{args.large:>12,}  ratio")
    for what in results[args.small]:
        a, b = results[args.small][what] * 1000, results[args.large][what] * 1000
        print(f"{what:<46}{a:>12.1f}{b:>12.1f}  {b / a:5.1f}x")
    worst = max(results[args.large][w] / results[args.small][w] for w in list(results[args.small])[:2])
    print(f"worst ratio of what a view or a new state costs: {worst:.1f}x (aim: at most 3x; the log grew "
          f"{args.large / args.small:.0f}x) {'OK' if worst <= 3 else 'MISSED'}")


if __name__ == "__main__":
    main()

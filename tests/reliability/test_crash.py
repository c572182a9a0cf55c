"""Crash safety: an import killed (SIGKILL) at any moment leaves the database holding the whole
import or none of it, with the KPIs of a clean load, and no stray upload file.

The import runs in a child process doing exactly what `python -m csc import` does (open the
store, `import_file`, close), printing each progress step so kills can be aimed at each phase:
start-up and validation, the load transaction, the KPI rebuild inside it, the commit and the
checkpoint on close. A first, uninterrupted run times the phases and gives the "after" state.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from csc import manifest
from csc.store import Store
from tests.reliability.support import state

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
PERIOD = "2022-03"

# What `python -m csc import FILE --period P --db DB` does, with each step printed as it starts.
WORKER = """
import sys
from csc.store import Store

db, path, period, sabotage = sys.argv[1:5]
if sabotage:  # die at a chosen point, to hit a window exactly
    import os, signal
    import csc.kpis, csc.store
    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)
    if sabotage == "in-transaction":
        csc.kpis.materialise = die  # after the file is kept and the rows inserted, before the commit
    elif sabotage == "after-commit":
        csc.store.manifest.after_commit = die  # committed, the manifest not yet written
store = Store.open(db)

def progress(done, total, message):
    print(done, message, flush=True)

result = store.import_file(path, period, user="crash-test", progress=progress)
store.close()
print("closed", result.status, flush=True)
"""


def start(db: Path, workbook: Path, sabotage: str = "") -> subprocess.Popen:
    env = {**os.environ, "CSC_ID_KEY": os.environ["CSC_ID_KEY"], "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([sys.executable, "-c", WORKER, str(db), str(workbook), PERIOD, sabotage],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def copy_db(src_dir: Path, dst_dir: Path) -> Path:
    shutil.copytree(src_dir, dst_dir)
    return dst_dir / "csc.duckdb"


def stray_files(db: Path) -> list[str]:
    """Kept upload files no import row refers to (read without opening the store for writing)."""
    import duckdb

    uploads = db.parent / "uploads"
    files = sorted(f.name for f in uploads.iterdir() if manifest.KEPT_FILE.match(f.name)) if uploads.exists() else []
    con = duckdb.connect(str(db))  # replays the WAL, as any open does
    try:
        referenced = {Path(r[0]).name for r in con.execute("select stored_file from imports").fetchall() if r[0]}
    finally:
        con.close()
    return [f for f in files if f not in referenced]


def reopened(db: Path) -> dict:
    """Open as the dashboard would (read-write: repairs the manifest, sweeps leftovers)."""
    with Store.open(db) as store:
        s = state(store.cursor())
        s["manifest"] = manifest.check_manifest(store)
        s["uploads"] = sorted(f.name for f in store.paths.uploads.iterdir()) if store.paths.uploads.exists() else []
    return s


@pytest.fixture(scope="module")
def base(tmp_path_factory, workbooks):
    """A database holding one earlier import (February), closed cleanly."""
    d = tmp_path_factory.mktemp("crash-base")
    with Store.open(d / "csc.duckdb") as store:
        assert store.import_file(workbooks["feb"], "2022-02", user="setup").status == "loaded"
    return d


@pytest.fixture(scope="module")
def clean_run(base, workbooks, tmp_path_factory):
    """One uninterrupted import of March: its timings and the state it leaves (the "after")."""
    db = copy_db(base, tmp_path_factory.mktemp("crash-clean") / "db")
    before = reopened(copy_db(base, tmp_path_factory.mktemp("crash-before") / "db"))
    t0 = time.monotonic()
    proc = start(db, workbooks["mar"])
    marks = {}
    for line in proc.stdout:
        marks[line.split()[0]] = time.monotonic() - t0
    assert proc.wait(60) == 0, proc.stderr.read()
    marks["exit"] = time.monotonic() - t0
    after = reopened(db)
    assert len(after["imports"]) == 2 and after["kpis"] != before["kpis"]
    return {"marks": marks, "before": before, "after": after}


def outcome(result: dict, clean_run: dict) -> str:
    """'none' or 'whole', checking every part agrees; anything else fails the test."""
    comparable = ("imports", "raw", "current", "kpis")
    if all(result[k] == clean_run["before"][k] for k in comparable):
        return "none"
    if all(result[k] == clean_run["after"][k] for k in comparable):
        return "whole"
    diff = [k for k in comparable if result[k] not in (clean_run["before"][k], clean_run["after"][k])]
    mixed = [k for k in comparable if k not in diff]
    raise AssertionError(f"a partial import: {diff} match neither state; {mixed} do")


def test_killed_imports_leave_all_or_nothing(base, clean_run, workbooks, tmp_path):
    marks = clean_run["marks"]
    load, done = marks["2"], marks["4"]  # "Loading the records" (the transaction begins), "Done" (committed)
    # 4 kills from process start through validation; 6 aimed through the load transaction and the
    # KPI rebuild (timed from the moment loading starts); 3 after the commit, during the close and
    # its checkpoint (timed from "Done")
    plan = [(None, load * f) for f in (0.15, 0.4, 0.65, 0.9)]
    plan += [("2", (done - load) * f) for f in (0.0, 0.1, 0.3, 0.5, 0.7, 0.9)]
    plan += [("4", d) for d in (0.0, 0.03, 0.08)]
    outcomes, strays = [], 0
    for n, (after_step, delay) in enumerate(plan):
        db = copy_db(base, tmp_path / f"run{n}")
        t0 = time.monotonic()
        proc = start(db, workbooks["mar"])
        if after_step:
            for line in proc.stdout:  # wait for the step to begin
                if line.split()[0] == after_step:
                    break
            t0 = time.monotonic()
        time.sleep(max(0.0, delay - (time.monotonic() - t0)))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        strays += len(stray_files(db))
        result = reopened(db)
        got = outcome(result, clean_run)
        outcomes.append((after_step or "start", round(delay, 2), got))
        assert result["manifest"].in_step and result["manifest"].appended == 0
        kept = [f for f in result["uploads"] if manifest.KEPT_FILE.match(f)]
        assert len(kept) == len(result["imports"]), kept  # one kept file per import, no strays
        if after_step == "4":
            assert got == "whole"  # committed before the kill
    print(f"\nkills (timed from, delay s, outcome): {outcomes}; stray upload files swept on open: {strays}")
    assert {o[2] for o in outcomes} == {"none", "whole"}, (marks, outcomes)


def test_killed_inside_the_transaction_keeps_nothing(base, clean_run, workbooks, tmp_path):
    db = copy_db(base, tmp_path / "db")
    proc = start(db, workbooks["mar"], sabotage="in-transaction")
    assert proc.wait(60) == -signal.SIGKILL
    # the upload was copied into uploads/ before the process died: a file no import refers to
    assert len(stray_files(db)) == 1
    result = reopened(db)
    assert outcome(result, clean_run) == "none"
    assert len([f for f in result["uploads"] if manifest.KEPT_FILE.match(f)]) == 1  # February's only: swept on open


def test_killed_between_commit_and_manifest_keeps_the_import_and_repairs_the_manifest(base, clean_run, workbooks,
                                                                                     tmp_path):
    db = copy_db(base, tmp_path / "db")
    proc = start(db, workbooks["mar"], sabotage="after-commit")
    assert proc.wait(60) == -signal.SIGKILL
    events = manifest.read_manifest(db.parent / "uploads" / manifest.MANIFEST)
    assert [e["import_id"] for e in events if e["event"] == "import"] == [1]  # the manifest is behind
    result = reopened(db)
    assert outcome(result, clean_run) == "whole"
    events = manifest.read_manifest(db.parent / "uploads" / manifest.MANIFEST)
    assert [e["import_id"] for e in events if e["event"] == "import"] == [1, 2]  # caught up on open
    assert len([f for f in result["uploads"] if manifest.KEPT_FILE.match(f)]) == 2


def test_a_stray_upload_file_is_harmless_and_removed_on_open(base, clean_run, tmp_path):
    db = copy_db(base, tmp_path / "db")
    stray = db.parent / "uploads" / "000002-0123456789ab-extract.xlsx"
    stray.write_bytes(b"the first bytes of an upload, cut short")
    other = db.parent / "uploads" / "notes.txt"  # not named like a kept file: never touched
    other.write_text("the operator's own notes")
    result = reopened(db)
    assert outcome(result, clean_run) == "none"
    assert not stray.exists() and other.exists()


def test_a_torn_manifest_line_is_skipped_and_the_next_event_starts_a_new_line(base, workbooks, tmp_path):
    db = copy_db(base, tmp_path / "db")
    manifest_file = db.parent / "uploads" / manifest.MANIFEST
    with open(manifest_file, "a") as fh:
        fh.write('{"event": "import", "import_id": 2, "peri')  # a write cut short
    with Store.open(db) as store:
        assert store.import_file(workbooks["small"], "2022-04", user="after-crash").status == "loaded"
    events = manifest.read_manifest(manifest_file)
    assert [(e["event"], e["import_id"]) for e in events if e["event"] != "hidden"] == [("import", 1), ("import", 2)]


# An import of more rows than a row group (`csc.store.ROW_GROUP_SIZE`): DuckDB writes them into the
# database file while the transaction runs (docs/reliability.md), which the workbooks above, a few
# thousand rows a sheet, never do.
BULK_WORKER = """
import datetime as dt, os, signal, sys
import pyarrow as pa
import csc.kpis, csc.store
from csc.store import Store

db, sabotage, first, period = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
n = 40_000
referrals = pa.table({"referral_id": pa.array([f"R{i:06d}" for i in range(first, first + n)]),
                      "child_id": pa.array([f"C{i % 9_000:05d}" for i in range(n)]),
                      "referral_date": pa.array([dt.date(2011, 3, 1) + dt.timedelta(days=i % 50) for i in range(n)],
                                                pa.date32())})
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
if sabotage == "in-transaction":
    csc.kpis.materialise = die  # the rows inserted (written into the file), before the commit
elif sabotage == "after-commit":
    csc.store.manifest.after_commit = die
store = Store.open(db)
result = store.import_tables({"referrals": referrals}, period, user="crash-test", name=period)
store.close()
print("closed", result.status, flush=True)
"""


def test_a_bulk_import_killed_before_its_commit_leaves_nothing_and_after_it_everything(tmp_path):
    db = tmp_path / "db" / "csc.duckdb"

    def run(sabotage: str, first: int, period: str) -> int:
        env = {**os.environ, "CSC_ID_KEY": os.environ["CSC_ID_KEY"], "PYTHONPATH": str(ROOT)}
        done = subprocess.run([sys.executable, "-c", BULK_WORKER, str(db), sabotage, str(first), period], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode in (0, -signal.SIGKILL), done.stderr[-2000:]
        return done.returncode

    def counts() -> tuple:
        with Store.open(db) as store:
            cur = store.cursor()
            return (cur.execute("select count(*) from imports where status = 'loaded'").fetchall()[0][0],
                    cur.execute("select count(*) from raw_referrals").fetchall()[0][0],
                    cur.execute("select count(*), count(distinct referral_id) from cur_referrals").fetchall()[0])

    assert run("", 0, "2011-03") == 0
    assert counts() == (1, 40_000, (40_000, 40_000))
    for _ in range(2):
        assert run("in-transaction", 40_000, "2011-04") == -signal.SIGKILL
        assert counts() == (1, 40_000, (40_000, 40_000))  # none of it
    assert run("after-commit", 40_000, "2011-04") == -signal.SIGKILL
    assert counts() == (2, 80_000, (80_000, 80_000))  # all of it, from the log and the blocks it names

"""Many readers, one writer: imports and rollbacks never block or confuse readers.

In-process: reader threads, each with its own `store.cursor()` as each Streamlit script run has,
read continuously while another thread imports and rolls back through the same Store. Every
read must succeed and be consistent: the state before an import or after it, never a mix.

Against the real server: 20+ browser sessions use the dashboard while an analyst's session
uploads extracts and rolls one back through the pages (see benchmarks/bench_load.py).
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from csc import kpis, recovery
from csc.store import Store

PERIOD = "2022-03"

# One statement, so one snapshot: what is loaded, whether the raw rows agree with the imports
# rows, and a fingerprint of the current records and KPI results.
FINGERPRINT = """
with loaded as (select import_id, row_counts from imports where status = 'loaded')
select
    (select count(*) from loaded) as loaded_imports,
    (select count(*) from raw_referrals where import_id in (select import_id from loaded)) as raw_referrals,
    (select coalesce(sum(json_extract(row_counts, '$.referrals')::integer), 0) from loaded) as imports_say,
    (select count(*) from cur_referrals) as current_referrals,
    (select count(*) from kpi_results) as kpi_rows,
    (select count(*) from kpi_results where period = $period) as kpi_rows_for_period,
    (select round(sum(round(value, 4)), 1) from kpi_results) as kpi_sum
"""


def fingerprint(cur) -> tuple:
    row = cur.execute(FINGERPRINT, {"period": PERIOD}).fetchall()[0]
    loaded, raw, says, current, n_kpi, n_period, kpi_sum = row
    assert raw == says, f"imports rows say {says} referrals, raw_referrals holds {raw}"
    return (loaded, current, n_kpi, n_period, kpi_sum)


@pytest.fixture
def store(tmp_path, workbooks):
    s = Store.open(tmp_path / "csc.duckdb")
    assert s.import_file(workbooks["feb"], "2022-02", user="setup").status == "loaded"
    yield s
    s.close()


@pytest.mark.slow
def test_readers_see_before_or_after_never_a_mix_and_never_wait(store, workbooks, tmp_path):
    # the two states, worked out first: February only; February and March
    before = fingerprint(store.cursor())
    first = store.import_file(workbooks["mar"], PERIOD, user="analyst")
    after = fingerprint(store.cursor())
    store.rollback(first.import_id, user="analyst")
    assert fingerprint(store.cursor()) == before
    assert before[3] == 0 and after[3] > 0

    stop = threading.Event()
    errors: list[str] = []
    seen: dict[tuple, int] = {}
    reads = [0]
    slowest_read = [0.0]
    lock = threading.Lock()

    def note(fp, took):
        with lock:
            seen[fp] = seen.get(fp, 0) + 1
            reads[0] += 1
            slowest_read[0] = max(slowest_read[0], took)

    def fingerprint_reader():
        cur = store.cursor()  # one cursor per reader, as per script run
        while not stop.is_set():
            t = time.perf_counter()
            try:
                note(fingerprint(cur), time.perf_counter() - t)
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

    def page_reader():
        """What the pages call: the imports list, the KPI results, a snapshot across statements."""
        cur = store.cursor()
        while not stop.is_set():
            t = time.perf_counter()
            try:
                imports = store.imports()
                results = kpis.results(cur, period=PERIOD)
                assert len(imports) >= 2
                cur.execute("begin transaction read only")  # several statements, one snapshot
                loaded = cur.execute("select count(*) from imports where status = 'loaded'").fetchall()[0][0]
                n_period = cur.execute("select count(*) from kpi_results where period = $p", {"p": PERIOD}).fetchall()[0][0]
                cur.execute("commit")
                note(("page", loaded, n_period), time.perf_counter() - t)
                note(("page results", len(results)), 0.0)
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))

    audit_waits: list[float] = []

    def viewer_log():
        """Page views are logged to the audit log while the import runs."""
        while not stop.is_set():
            t = time.perf_counter()
            try:
                store.audit("viewer", "board", "view", {"page": "overview"})
            except Exception as exc:  # noqa: BLE001
                errors.append(repr(exc))
            audit_waits.append(time.perf_counter() - t)
            time.sleep(0.02)

    threads = [threading.Thread(target=fingerprint_reader) for _ in range(3)]
    threads += [threading.Thread(target=page_reader) for _ in range(2)]
    threads += [threading.Thread(target=viewer_log)]
    for t in threads:
        t.start()
    backups, import_times = [], []
    try:  # import, back up (while readers read), roll back, import again
        t = time.perf_counter()
        result = store.import_file(workbooks["mar"], PERIOD, user="analyst")
        import_times.append(time.perf_counter() - t)
        assert result.status == "loaded", result.message
        backups.append(recovery.backup(store, tmp_path / "backup"))
        store.rollback(result.import_id, user="analyst")
        t = time.perf_counter()
        result = store.import_file(workbooks["mar-again"], PERIOD, user="analyst")
        import_times.append(time.perf_counter() - t)
        assert result.status == "loaded"
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert errors == [], errors[:5]
    fps = {fp: n for fp, n in seen.items() if fp[0] not in ("page", "page results")}
    again = fingerprint(store.cursor())  # the resent March extract: a third state, seen only at the end
    states = (before, after, again)
    assert set(fps) <= set(states), f"a read saw a mixed state: {set(fps) - set(states)}"
    pages = {fp[1:] for fp in seen if fp[0] == "page"}
    assert pages <= {(s[0], s[3]) for s in states}, pages
    assert {fp[1] for fp in seen if fp[0] == "page results"} <= {s[3] for s in states}
    assert before in fps and after in fps  # readers saw both states while the writer worked
    assert reads[0] > 50 and pages
    # logging a page view never waited for an import to finish
    assert max(audit_waits) < 0.5 * min(import_times), (max(audit_waits), import_times)
    # each backup is a consistent snapshot of the state after an import
    for b in backups:
        with Store.open(b.database, read_only=True) as copy:
            assert fingerprint(copy.cursor()) == after
    print(f"\n{reads[0]} reads, slowest {slowest_read[0]:.2f} s; imports took {import_times}; "
          f"audit-log writes: {len(audit_waits)}, slowest {max(audit_waits):.2f} s")


def test_a_reader_in_a_transaction_keeps_its_snapshot_through_an_import(store, workbooks):
    reader = store.cursor()
    reader.execute("begin transaction read only")
    kpis_before = reader.execute("select count(*) from kpi_results").fetchall()[0][0]
    result = store.import_file(workbooks["mar"], PERIOD, user="analyst")  # commits meanwhile
    assert result.status == "loaded"
    assert reader.execute("select count(*) from kpi_results").fetchall()[0][0] == kpis_before
    assert reader.execute("select count(*) from imports").fetchall()[0][0] == 1
    reader.execute("commit")
    assert reader.execute("select count(*) from imports").fetchall()[0][0] == 2
    assert reader.execute("select count(*) from kpi_results").fetchall()[0][0] > kpis_before


def test_a_second_process_cannot_open_the_database_while_the_app_holds_it(store, tmp_path):
    import subprocess
    import sys

    code = ("import duckdb, sys\ntry:\n    duckdb.connect(sys.argv[1], read_only=True)\nexcept duckdb.IOException as e:\n"
            "    print('locked' if 'lock' in str(e).lower() else e)\n")
    out = subprocess.run([sys.executable, "-c", code, str(store.path)], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "locked"


def test_import_rows_and_raw_rows_agree(store):
    row_counts = json.loads(store.imports().iloc[0]["row_counts"])
    cur = store.cursor()
    for sheet, n in row_counts.items():
        assert cur.execute(f"select count(*) from raw_{sheet} where import_id = 1").fetchall()[0][0] == n


@pytest.mark.slow
@pytest.mark.browser
def test_twenty_sessions_on_the_real_server_while_an_analyst_imports_and_rolls_back(tmp_path):
    """The real `streamlit run`: 20 websocket sessions and a Chromium one read pages while an
    analyst's Chromium session uploads an extract and rolls it back, in the server's process
    (benchmarks/bench_load.py does two imports and measures longer)."""
    from tests.browser.conftest import _require_chromium

    _require_chromium()
    from benchmarks import bench_load

    result = bench_load.run(sessions=20, browsers=1, rounds=1, scale=0.005, timeout=600, folder=tmp_path,
                            think=8.0, imports=1, say=lambda *a: None)
    print("\n" + bench_load.report(result))
    assert bench_load.errors(result) == []
    assert result["imports"] == [(1, "2022-02", "loaded"), (2, "2022-03", "rolled_back")]
    assert len(result["baseline"].loads) == 21 and len(result["during"].loads) >= 21
    assert result["overlapping"].loads  # some page loads ran while an import or the rollback did


def test_the_load_benchmark_sorts_loads_by_when_they_ran_against_the_writes():
    """Worked by hand: writes at 10–12 s and 20–21 s."""
    from benchmarks.bench_load import Load, against_writes

    def load(name, start, seconds):
        return Load("protocol", 0, name, start, seconds)

    loads = [
        load("before", 8.0, 1.5),  # ends at 9.5: before the first write
        load("into", 9.0, 1.5),  # 9.0–10.5: began before the write, ended inside it
        load("inside", 10.5, 1.0),  # 10.5–11.5: wholly inside
        load("across", 11.0, 2.0),  # 11.0–13.0: began inside, ended after
        load("astride", 9.5, 3.0),  # 9.5–12.5: began before, ended after
        load("touching", 12.0, 1.0),  # begins as the write ends: not overlapping
        load("second", 20.9, 0.5),  # 20.9–21.4: began inside the second write, ended after
        load("between", 13.0, 6.0),  # 13.0–19.0
    ]
    overlapping, spanning = against_writes(loads, [(10.0, 12.0), (20.0, 21.0)])
    assert [x.path for x in overlapping.loads] == ["into", "inside", "across", "astride", "second"]
    assert [x.path for x in spanning.loads] == ["across", "second"]

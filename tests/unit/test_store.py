"""Loading as the contract says: an import's record, all-or-nothing loading, upsert by key,
rollback, the kept upload, unchanged re-imports and pseudonymised child ids."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import corpus  # noqa: E402
from corpus import d, write_xlsx  # noqa: E402

import csc.store as store_module  # noqa: E402
from csc import config, crypto, manifest  # noqa: E402
from csc.store import Store, StoreError  # noqa: E402


def kept_files(store: Store) -> list[Path]:
    uploads = store.paths.uploads
    return sorted(p for p in uploads.iterdir() if manifest.KEPT_FILE.match(p.name)) if uploads.exists() else []


def referrals(*rows: tuple[str, str, str]) -> dict:
    """referrals((referral_id, child_id, area_office), ...)"""
    return {"referrals": [list(corpus.REFERRALS)] + [[r, c, d(2), a, "Team A", None] for r, c, a in rows]}


def current(store: Store, sheet: str = "referrals", cols: str = "referral_id, area_office") -> list[tuple]:
    return store.cursor().execute(f"select {cols} from cur_{sheet} order by all").fetchall()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_import_records_who_what_when(store, tmp_path):
    path = write_xlsx(tmp_path / "April extract.xlsx", {"referrals": corpus.referrals(3), "workforce": corpus.workforce(2)})
    at = dt.datetime(2011, 5, 3, 9, 30)
    result = store.import_file(path, "2011-04", user="analyst@council", imported_at=at)
    assert result.status == "loaded" and result.import_id == 1
    assert result.row_counts == {"referrals": 3, "workforce": 2}
    assert "Loaded import 1 for 2011-04: 5 rows in 2 sheet(s)." == result.message
    row = store.imports().iloc[0]
    assert row["import_id"] == 1
    assert row["period"] == "2011-04"
    assert row["file_name"] == "April extract.xlsx"
    assert row["sha256"] == sha(path)
    assert row["user_name"] == "analyst@council"
    assert row["imported_at"].to_pydatetime() == at
    assert row["status"] == "loaded"
    assert json.loads(row["row_counts"]) == {"referrals": 3, "workforce": 2}
    log = store.audit_log()
    assert list(log["action"]) == ["import"] and log["user_name"].iloc[0] == "analyst@council"


def test_the_uploaded_file_is_kept_encrypted_beside_the_database(store, tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(2)})
    store.import_file(path, "2011-04", original_name="../../../etc/April: extract?.xlsx")
    (kept,) = kept_files(store)
    assert kept.parent == store.path.parent / "uploads"
    blob = kept.read_bytes()
    assert blob != path.read_bytes() and b"PK" not in blob[:16]  # not the workbook in clear
    assert crypto.decrypt(blob, config.id_key(store.path)) == path.read_bytes()  # the same bytes, with the key
    assert kept.stat().st_mode & 0o777 == 0o600 and kept.parent.stat().st_mode & 0o777 == 0o700
    stored = store.imports().iloc[0]["stored_file"]
    assert (store.path.parent / stored).resolve() == kept.resolve()
    assert store.imports().iloc[0]["file_name"] == "../../../etc/April: extract?.xlsx"


def test_all_sheets_load_in_one_transaction(store, tmp_path, monkeypatch):
    """A failure after the first sheet has been inserted leaves nothing: no rows, no import, no kept file."""
    first = write_xlsx(tmp_path / "first.xlsx", {"referrals": corpus.referrals(2)})
    store.import_file(first, "2011-04")
    before = {t: store.cursor().execute(f"select count(*) from raw_{t}").fetchall()[0][0]
              for t in ("referrals", "workforce", "assessments")}
    real = store_module.pseudonymise
    calls = {"n": 0}

    def fail_on_second_sheet(table, key, ahead=None):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full (simulated)")
        return real(table, key, ahead)

    monkeypatch.setattr(store_module, "pseudonymise", fail_on_second_sheet)
    path = write_xlsx(tmp_path / "second.xlsx", {"referrals": corpus.referrals(5, start=10),
                                                 "assessments": corpus.assessments(2), "workforce": corpus.workforce(1)})
    with pytest.raises(RuntimeError, match="simulated"):
        store.import_file(path, "2011-05")
    assert calls["n"] == 2
    after = {t: store.cursor().execute(f"select count(*) from raw_{t}").fetchall()[0][0]
             for t in ("referrals", "workforce", "assessments")}
    assert after == before
    assert list(store.imports()["import_id"]) == [1]
    assert [p.name[:6] for p in kept_files(store)] == ["000001"]
    monkeypatch.setattr(store_module, "pseudonymise", real)
    assert store.import_file(path, "2011-05").status == "loaded"  # and it loads once the fault is gone


def test_a_load_undone_while_its_file_is_still_being_kept_leaves_no_kept_file(store, tmp_path, monkeypatch):
    """The kept copy is encrypted and written in a thread while the rows load (`Store._load`): a load
    that fails before that thread has written it still ends with no kept file (the undo waits for it)."""
    real_write, real_pseudonymise = crypto.write_private, store_module.pseudonymise
    written = threading.Event()

    def slow_write(target, data, durable=True):
        if target.suffix != ".enc":  # the scratch copy the file is read from
            return real_write(target, data, durable)
        time.sleep(0.3)
        real_write(target, data, durable)
        written.set()

    def fail(table, key, ahead=None):
        assert not written.is_set()  # the load fails while the file is still being kept
        raise RuntimeError("disk full (simulated)")

    monkeypatch.setattr(crypto, "write_private", slow_write)
    monkeypatch.setattr(store_module, "pseudonymise", fail)
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(2)})
    with pytest.raises(RuntimeError, match="simulated"):
        store.import_file(path, "2011-04")
    assert written.is_set() and kept_files(store) == [] and store.imports().empty
    monkeypatch.setattr(store_module, "pseudonymise", real_pseudonymise)
    assert store.import_file(path, "2011-04").status == "loaded" and len(kept_files(store)) == 1


def test_a_failure_of_the_guardrails_is_logged_when_the_import_does_not_wait_for_them(store, tmp_path, monkeypatch,
                                                                                         caplog):
    """The guardrails' warnings are worked out in a thread beside the load: where the load does not
    wait for them (the file was loaded meanwhile; the load failed first) their failure is logged,
    not dropped; where it waits, it undoes the import."""
    from csc import guardrails

    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(2)})
    assert store.import_file(path, "2011-04").status == "loaded"

    def broken(*args, **kwargs):
        raise RuntimeError("guardrails broke (simulated)")

    monkeypatch.setattr(guardrails, "warnings", broken)
    real_loaded, seen = Store._already_loaded, []

    def loaded_meanwhile(cur, digest, period):  # not yet when asked first, then loaded by another session
        seen.append(period)
        return None if len(seen) == 1 else real_loaded(cur, digest, period)

    monkeypatch.setattr(Store, "_already_loaded", staticmethod(loaded_meanwhile))
    with caplog.at_level("ERROR", logger="csc.store"):
        assert store.import_file(path, "2011-04").status == "unchanged"
    assert [r.exc_info[1].args[0] for r in caplog.records] == ["guardrails broke (simulated)"]
    monkeypatch.setattr(Store, "_already_loaded", staticmethod(real_loaded))

    caplog.clear()  # the load fails first: its error is raised, the guardrails' logged
    monkeypatch.setattr(store_module, "pseudonymise", lambda *a: (_ for _ in ()).throw(OSError("disk full")))
    with caplog.at_level("ERROR", logger="csc.store"), pytest.raises(OSError, match="disk full"):
        store.import_file(write_xlsx(tmp_path / "y.xlsx", {"referrals": corpus.referrals(3)}), "2011-05")
    assert [r.exc_info[1].args[0] for r in caplog.records] == ["guardrails broke (simulated)"]

    caplog.clear()  # the load waits for them: their failure undoes the import, and is not logged twice
    monkeypatch.undo()
    monkeypatch.setattr(guardrails, "warnings", broken)
    with caplog.at_level("ERROR", logger="csc.store"), pytest.raises(RuntimeError, match="guardrails broke"):
        store.import_file(write_xlsx(tmp_path / "z.xlsx", {"referrals": corpus.referrals(4)}), "2011-06")
    assert caplog.records == [] and list(store.imports()["import_id"]) == [1]


def test_a_later_import_updates_records_and_keeps_missing_ones(load, store):
    load(referrals(("R1", "C1", "North"), ("R2", "C2", "North")), period="2011-04")
    load(referrals(("R1", "C1", "South"), ("R3", "C3", "East")), period="2011-05")
    assert current(store) == [("R1", "South"), ("R2", "North"), ("R3", "East")]


def test_the_current_version_is_from_the_latest_period_then_the_latest_import(load, store):
    load(referrals(("R1", "C1", "May")), period="2011-05")
    load(referrals(("R1", "C1", "April, loaded later")), period="2011-04")
    assert current(store) == [("R1", "May")]  # a late April correction does not override May
    load(referrals(("R1", "C1", "May, corrected")), period="2011-05")
    assert current(store) == [("R1", "May, corrected")]


def test_rollback_makes_earlier_versions_current_and_deletes_nothing(load, store):
    load(referrals(("R1", "C1", "North"), ("R2", "C2", "North")), period="2011-04")
    second = load(referrals(("R1", "C1", "South"), ("R3", "C3", "East")), period="2011-05")
    message = store.rollback(second.import_id, user="lead")
    assert "rolled back" in message and "earlier versions" in message
    assert current(store) == [("R1", "North"), ("R2", "North")]
    assert store.cursor().execute("select count(*) from raw_referrals").fetchall()[0][0] == 4
    imports = store.imports().set_index("import_id")
    assert imports.loc[2, "status"] == "rolled_back" and imports.loc[2, "rolled_back_by"] == "lead"
    assert imports.loc[1, "status"] == "loaded"
    assert len(kept_files(store)) == 2  # the file of a rolled-back import is kept too
    assert list(store.audit_log()["action"]) == ["import", "import", "rollback"]


def test_rolling_back_twice_or_an_unknown_import_is_refused(load, store):
    result = load(referrals(("R1", "C1", "North")))
    store.rollback(result.import_id)
    with pytest.raises(StoreError, match="already rolled back"):
        store.rollback(result.import_id)
    with pytest.raises(StoreError, match="There is no import 99"):
        store.rollback(99)


def test_the_same_file_for_the_same_period_changes_nothing(store, tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(2)})
    assert store.import_file(path, "2011-04").status == "loaded"
    again = store.import_file(path, "2011-04", original_name="renamed copy.xlsx")
    assert again.status == "unchanged" and again.import_id == 1
    assert again.message == "This file is already loaded for 2011-04 (import 1); nothing was changed."
    assert len(store.imports()) == 1 and len(kept_files(store)) == 1


def test_the_same_file_for_another_period_loads(store, tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(2)})
    store.import_file(path, "2011-04")
    assert store.import_file(path, "2011-05").status == "loaded"
    assert list(store.imports()["period"]) == ["2011-04", "2011-05"]


def test_a_rolled_back_file_can_be_loaded_again(store, tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(2)})
    first = store.import_file(path, "2011-04")
    store.rollback(first.import_id)
    assert store.import_file(path, "2011-04").status == "loaded"


def test_a_refused_file_stores_nothing(store, tmp_path):
    rows = corpus.referrals(2)
    rows[1][2] = "soon"
    path = write_xlsx(tmp_path / "bad.xlsx", {"referrals": rows})
    result = store.import_file(path, "2011-04")
    assert result.status == "refused" and result.import_id is None
    assert result.message == "The file was not loaded: 1 problem(s) to fix. Nothing was stored."
    assert store.imports().empty and kept_files(store) == []


def test_validate_stores_nothing(store, tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(2)})
    extract = store.validate(path)
    assert extract.ok and extract.row_counts == {"referrals": 2}
    assert store.imports().empty and kept_files(store) == []


def test_a_bad_period_is_refused(store, tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(1)})
    for bad in ("2011-13", "April 2011", "2011-4", "201104"):
        with pytest.raises(StoreError, match="YYYY-MM"):
            store.import_file(path, bad)


def test_a_month_that_has_not_begun_or_is_before_1990_is_refused(store, tmp_path):
    """A review loaded last month's file as 2027-01 (on 3 December 2026): it became the latest month
    everywhere, with a data timeliness of -38 days; 1989-12 loaded too. Refused, storing nothing;
    the month of the import itself loads (the day of the import decides, as for dates)."""
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(2)})
    on = dt.datetime(2011, 5, 3, 9, 0)
    for period, said in (("2011-06", "The month 2011-06 has not begun yet"), ("1989-12", "The month 1989-12 is before 1990")):
        result = store.import_file(path, period, imported_at=on)
        assert result.status == "refused", period
        (error,) = result.errors
        assert error.message.startswith(said) and "from 1990 up to this one (2011-05)" in error.message
    assert store.imports().empty and kept_files(store) == []
    assert store.import_file(path, "2011-05", imported_at=on).status == "loaded"


def test_a_file_with_no_records_is_not_loaded(store, tmp_path):
    """A workbook whose extract sheets are all empty (or headers only) loaded as a month of
    nothing, and its data timeliness then looked on target (a review): refused when loaded for a
    month; checked without one (the blank template), it is still only warned of."""
    path = write_xlsx(tmp_path / "empty.xlsx", {"referrals": [corpus.REFERRALS], "transfers": [corpus.TRANSFERS]})
    assert store.validate(path).ok
    result = store.import_file(path, "2011-04")
    assert result.status == "refused"
    assert [p.message for p in result.errors] == [
        "The file holds no records: every sheet read is empty or has only its header row, so there is nothing to "
        "load for 2011-04. Check that this is the file you meant."]
    assert store.imports().empty


def all_text(store: Store) -> str:
    """Every value of every table, as text."""
    cur = store.cursor()
    tables = [r[0] for r in cur.execute(
        "select table_name from information_schema.tables where table_schema = 'main'").fetchall()]
    return "\n".join(repr(cur.execute(f'select * from "{t}"').fetchall()) for t in tables)


def test_child_ids_are_stored_as_a_keyed_hash(load, store):
    secret_ids = ["CHILD-7F3Q9Z", "CHILD-2K8W4M"]
    load({"referrals": [list(corpus.REFERRALS), ["R1", secret_ids[0], d(2), "North", None, None],
                        ["R2", secret_ids[1], d(3), "North", None, None]],
          "cp_plans": [list(corpus.CP_PLANS), ["P1", secret_ids[0], d(4), None, None, 0, "North", None, None]]},
         period="2011-04")
    load({"assessments": [list(corpus.ASSESSMENTS),
                          ["A1", f"  {secret_ids[0]} ", "Single", d(5), None, None, "North", None, None]]},
         period="2011-05")
    text = all_text(store)
    for child in secret_ids:
        assert child not in text
    cur = store.cursor()
    ref = dict(cur.execute("select referral_id, child_id from cur_referrals").fetchall())
    plan = cur.execute("select child_id from cur_cp_plans").fetchall()[0][0]
    assessment = cur.execute("select child_id from cur_assessments").fetchall()[0][0]
    assert ref["R1"] == plan == assessment  # the same child: the same hash, across sheets and imports
    assert ref["R1"] != ref["R2"]
    assert len(ref["R1"]) == 32 and all(ch in "0123456789abcdef" for ch in ref["R1"])
    store.checkpoint()
    assert secret_ids[0].encode() not in store.path.read_bytes()


def test_the_hash_depends_on_the_key(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(1)})
    hashes = []
    for key in ("key-one", "key-two"):
        monkeypatch.setenv("CSC_ID_KEY", key)
        with Store.open(tmp_path / key / "csc.duckdb") as s:
            s.import_file(path, "2011-04")
            hashes.append(s.cursor().execute("select child_id from cur_referrals").fetchall()[0][0])
    assert hashes[0] != hashes[1]


def _current_tables(store) -> dict:
    cur = store.cursor()
    names = [r[0] for r in cur.execute("select table_name from duckdb_tables() where table_name like 'cur\\_%' escape '\\'")
             .fetchall()]
    return {n: sorted(map(repr, cur.execute(f"select * from {n}").fetchall())) for n in names}


def test_an_import_or_rollback_rebuilds_only_its_sheets_and_every_current_table_is_as_a_full_rebuild(load, store):
    # April brings referrals and assessments; May only referrals (R1 changed, R3 new): May's import
    # and its rollback rebuild cur_referrals alone, and every cur_ table must still be what a full
    # rebuild (refresh) makes of the same raw rows
    load({"referrals": corpus.referrals(2), "assessments": corpus.assessments(2)}, period="2011-04")
    april = _current_tables(store)
    may = load({"referrals": corpus.referrals(2, start=2)}, period="2011-05")
    after_may = _current_tables(store)
    assert after_may["cur_assessments"] == april["cur_assessments"]
    assert after_may["cur_referrals"] != april["cur_referrals"]
    store.refresh()
    assert _current_tables(store) == after_may
    store.rollback(may.import_id)
    rolled_back = _current_tables(store)
    assert rolled_back == april
    store.refresh()
    assert _current_tables(store) == rolled_back


def test_a_commit_is_durable_in_the_log_and_a_thread_moves_the_log_into_the_file(tmp_path, monkeypatch):
    """The commit writes DuckDB's write-ahead log only (no checkpoint inside it); once the log holds
    more than `CHECKPOINT_AFTER`, a thread checkpoints after the commit, and the database file
    alone then holds everything."""
    import shutil

    import duckdb

    store = Store.open(tmp_path / "db" / "csc.duckdb")
    wal = store.path.with_name(store.path.name + ".wal")
    monkeypatch.setattr(store_module, "CHECKPOINT_AFTER", 10**15)
    first = store.import_file(write_xlsx(tmp_path / "a.xlsx", {"referrals": corpus.referrals(3)}), "2011-04")
    assert first.status == "loaded"
    assert store._checkpointer is None and wal.stat().st_size > 0  # committed, in the log
    monkeypatch.setattr(store_module, "CHECKPOINT_AFTER", 0)
    second = store.import_file(write_xlsx(tmp_path / "b.xlsx", {"referrals": corpus.referrals(2, start=7)}), "2011-05")
    assert second.status == "loaded"
    store._checkpointer.join()
    assert not wal.exists() or wal.stat().st_size == 0
    shutil.copy(store.path, tmp_path / "copy.duckdb")  # the file alone, without the log
    with duckdb.connect(str(tmp_path / "copy.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from cur_referrals").fetchall()[0][0] == 5
        assert con.execute("select count(*) from imports").fetchall()[0][0] == 2
    assert current(store, cols="count(*)") == [(5,)]  # and the store carries on
    store.close()


def test_a_large_import_goes_into_the_database_file_as_it_loads_and_its_commit_logs_little(tmp_path, monkeypatch):
    """Tables keep `ROW_GROUP_SIZE` rows to a row group, so a large import's rows are written,
    compressed, into the database file while it loads (DuckDB's bulk-load path, taken for each
    row group filled), and its commit logs only where they went: at DuckDB's default of 122,880
    rows, 50,000 referrals and their current versions filled none, and the commit copied all
    100,000 rows into the write-ahead log, at least a few bytes a value (issue 17: the commit of
    the 100,000-row extract took 0.09 s; docs/performance.md)."""
    import pyarrow as pa

    monkeypatch.setattr(store_module, "CHECKPOINT_AFTER", 10**15)  # the log stays to be measured
    n = 50_000
    assert n > 3 * store_module.ROW_GROUP_SIZE
    referrals = pa.table({
        "referral_id": pa.array([f"R{i:06d}" for i in range(n)]),
        "child_id": pa.array([f"C{i % 20_000:06d}" for i in range(n)]),
        "referral_date": pa.array([dt.date(2011, 1, 1) + dt.timedelta(days=i % 300) for i in range(n)], pa.date32()),
        "area_office": pa.array(["North", "South"] * (n // 2)),
        "team": pa.array([f"Team {i % 7}" for i in range(n)]),
        "source": pa.array(["Police", "School", "Health", None] * (n // 4)),
    })
    with Store.open(tmp_path / "db" / "csc.duckdb") as store:
        wal = store.path.with_name(store.path.name + ".wal")
        logged = wal.stat().st_size if wal.exists() else 0
        result = store.import_tables({"referrals": referrals}, "2011-10", user="analyst", name="big")
        assert result.status == "loaded" and result.row_counts == {"referrals": n}
        logged = wal.stat().st_size - logged
        # the 100,000 rows (raw and current) in the log would be ~40 bytes each (six values): ~4 MB
        assert logged < 2 * n, f"the commit logged {logged:,} bytes for {n:,} rows"
        cur = store.cursor()
        assert cur.execute("select count(*), count(distinct child_id) from cur_referrals").fetchall() == [(n, 20_000)]
        groups = cur.execute("select count(distinct row_group_id) from pragma_storage_info('raw_referrals')").fetchall()
        assert groups == [(-(-n // store_module.ROW_GROUP_SIZE),)]
    with Store.open(tmp_path / "db" / "csc.duckdb") as store:  # and all of it there again, opened anew
        assert current(store, cols="count(*), min(referral_id), max(referral_id)") == [(n, "R000000", "R049999")]


def test_rows_are_appended_in_batches_of_a_row_group_in_their_order():
    """`_in_row_groups`: a table of more than a row group goes to DuckDB as batches of exactly
    `ROW_GROUP_SIZE` rows (the last one fewer), whatever its chunks were, with every value in its
    place; a smaller table as it is."""
    import pyarrow as pa

    size = store_module.ROW_GROUP_SIZE
    n = 2 * size + 100
    ids = pa.chunked_array([pa.array([f"R{i}" for i in range(0, 7)]), pa.array([f"R{i}" for i in range(7, n)])])
    table = pa.table({"referral_id": ids, "n": pa.array(range(n))})
    batches = store_module._in_row_groups(table).to_batches()
    assert [b.num_rows for b in batches] == [size, size, 100]
    joined = pa.Table.from_batches(batches)
    assert joined.column("referral_id").to_pylist() == [f"R{i}" for i in range(n)]
    assert joined.column("n").to_pylist() == list(range(n))
    small = table.slice(0, size)
    assert store_module._in_row_groups(small) is small


def test_stores_opened_on_one_file_in_one_process_share_it_and_the_last_to_close_lets_it_go(tmp_path):
    """DuckDB attaches a database file once per process: two stores on one file (the app's and a
    command's, in one process) share it, each closing only itself; once both have closed, the file
    is free (a read-only open works) and its log has been moved into it."""
    import duckdb

    path = tmp_path / "db" / "csc.duckdb"
    first, second = Store.open(path), Store.open(path)
    assert first.import_file(write_xlsx(tmp_path / "a.xlsx", {"referrals": corpus.referrals(3)}), "2011-04").status == "loaded"
    assert current(second, cols="count(*)") == [(3,)]  # the same database
    assert second.cursor().execute("select current_database()").fetchall() == [(store_module.CATALOG,)]
    first.close()
    first.close()  # closing twice closes once
    assert current(second, cols="count(*)") == [(3,)]  # the other carries on
    with pytest.raises(duckdb.Error, match="already attached"):
        duckdb.connect(str(path), read_only=True)  # still held, by this process
    second.close()
    wal = path.with_name(path.name + ".wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.execute("select count(*) from cur_referrals").fetchall() == [(3,)]


def test_a_store_lets_go_of_its_file_when_dropped_or_when_closing_fails(tmp_path, monkeypatch):
    """The attachment is let go once, whichever comes first: `close`, even one that fails part of
    the way (the audit not written), or the store dropped without being closed (as the database
    `duckdb.connect` opened was)."""
    import gc

    import duckdb

    path = tmp_path / "db" / "csc.duckdb"

    def free() -> bool:
        try:
            duckdb.connect(str(path), read_only=True).close()
            return True
        except duckdb.Error:
            return False

    store = Store.open(path)
    assert not free()
    del store
    gc.collect()
    assert free()
    store = Store.open(path)
    monkeypatch.setattr(store, "flush_audit", lambda: (_ for _ in ()).throw(OSError("disk full")))
    with pytest.raises(OSError, match="disk full"):
        store.close()
    assert free()
    store.close()  # again: nothing more to do


def test_duckdb_spills_beside_the_database_file_not_in_the_working_folder(tmp_path):
    """What a large sort spills goes beside the file, in the private data folder, as it did when
    the file was opened with `duckdb.connect(path)`; not in the working folder's `.tmp`."""
    with Store.open(tmp_path / "db" / "csc.duckdb") as store:
        spill = store.cursor().execute("select current_setting('temp_directory')").fetchall()[0][0]
    assert Path(spill) == tmp_path / "db" / "csc.duckdb.tmp"


def test_a_second_store_on_the_file_leaves_another_stores_kept_file_before_its_commit(tmp_path):
    """Opening a store sweeps kept files no import names (left by a crash); a second store on a
    file this process has open does not, or it would remove the file an import of the first has
    kept and not yet committed."""
    path = tmp_path / "db" / "csc.duckdb"
    first = Store.open(path)
    first.paths.uploads.mkdir(exist_ok=True)
    kept = first.paths.uploads / "000001-0123456789ab-extract.xlsx.enc"
    with first.transaction("analyst", "import"):
        kept.write_bytes(b"encrypted upload")
        second = Store.open(path)
        assert kept.exists()
    second.close()
    first.close()


def test_a_file_made_with_duckdbs_own_row_groups_loads_and_rolls_back_with_the_stores(tmp_path):
    """A database made before the stores' row groups of 16,384 rows (or by any plain
    `duckdb.connect`) holds row groups of up to 122,880; its last one, with more rows than the
    store's size, is where the next rows go. DuckDB before the fix of duckdb/duckdb#22109 (April
    2026) failed fatally on that for a table with a primary key, such as the audit log: here it
    takes imports, a rollback and audit entries, is checkpointed and opens again as it should."""
    import duckdb
    import pyarrow as pa

    path = tmp_path / "db" / "csc.duckdb"
    Store.open(path).close()
    with duckdb.connect(str(path)) as con:  # DuckDB's default row groups: 30,000 entries in one
        con.execute("insert into audit_log (logged_at, user_name, role, action, detail) "
                    "select now(), 'old', null, 'view', '{}' from range(30000)")
    n = 20_000
    referrals = pa.table({"referral_id": pa.array([f"R{i:05d}" for i in range(n)]),
                          "child_id": pa.array([f"C{i % 5_000:05d}" for i in range(n)]),
                          "referral_date": pa.array([dt.date(2011, 3, 1)] * n, pa.date32())})
    with Store.open(path) as store:
        first = store.import_tables({"referrals": referrals}, "2011-03", user="analyst", name="one")
        second = store.import_tables({"referrals": referrals.slice(0, 100)}, "2011-04", user="analyst", name="two")
        store.rollback(second.import_id, user="analyst")
        for _ in range(3):
            store.audit("analyst", "analyst", "view", {"page": "Overview"})
        store.checkpoint()
    with Store.open(path) as store:
        cur = store.cursor()
        assert cur.execute("select count(*) from raw_referrals").fetchall() == [(n + 100,)]
        assert cur.execute("select count(*), max(import_id) from cur_referrals").fetchall() == [(n, first.import_id)]
        logged, ids = cur.execute("select count(*), count(distinct audit_id) from audit_log").fetchall()[0]
        assert logged == ids and logged >= 30_000 + 3 + 2  # the old entries, the views, the imports and rollback
        groups = cur.execute("select max(count) from pragma_storage_info('audit_log')").fetchall()[0][0]
        assert groups >= 30_000  # the old row group kept its rows (the case of #22109)


def test_a_process_that_ends_during_the_checkpoint_waits_for_it(tmp_path):
    """A process that ends straight after a commit (a script or server that never calls `close`)
    waits for the checkpoint the commit started; it aborted with "FATAL: exception not rethrown"
    (exit status 134) when the interpreter stopped the thread inside DuckDB. Found on the
    benchmark's 100,000-row extract; here the checkpoint threshold is 0 and the checkpoint made
    slow, so the process always ends while it runs."""
    import os
    import subprocess
    import textwrap

    child = textwrap.dedent(f"""
        import time
        import csc.store as store_module
        from csc.store import Store
        store_module.CHECKPOINT_AFTER = 0
        slow = store_module.Store._checkpoint_now
        def checkpoint_later(self):
            time.sleep(0.3)  # the main thread is ending meanwhile
            slow(self)
            print("checkpointed", flush=True)
        store_module.Store._checkpoint_now = checkpoint_later
        store = Store.open({str(tmp_path / "db" / "csc.duckdb")!r})
        result = store.import_file({str(write_xlsx(tmp_path / "a.xlsx", {"referrals": corpus.referrals(3)}))!r}, "2011-04")
        print(result.status, flush=True)
    """)
    root = Path(__file__).resolve().parents[2]
    run = subprocess.run([sys.executable, "-c", child], cwd=root, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(root)})
    assert run.returncode == 0, run.stderr[-2000:]
    # the import's checkpoint waited for (one after the store's upkeep on open may come first: the
    # reader's process starts while it sleeps)
    assert run.stdout.split()[-2:] == ["loaded", "checkpointed"]
    wal = tmp_path / "db" / "csc.duckdb.wal"
    assert not wal.exists() or wal.stat().st_size == 0  # the log was moved into the file before the end
    with Store.open(tmp_path / "db" / "csc.duckdb") as store:
        assert current(store, cols="count(*)") == [(3,)]


def test_has_table_sees_this_database_and_its_temporary_tables_not_another_attached(tmp_path):
    import duckdb

    from csc.schema import has_table

    con = duckdb.connect(str(tmp_path / "this.duckdb"))
    con.execute(f"attach '{tmp_path / 'other.duckdb'}' as other")
    con.execute("create table other.kpi_hidden_ever (x int)")
    assert not has_table(con, "kpi_hidden_ever")  # only in the other database
    con.execute("create table kpi_hidden_ever (x int)")
    con.execute("create temp table inferred_involvements (x int)")
    assert has_table(con, "kpi_hidden_ever") and has_table(con, "inferred_involvements")
    con.execute("create view other.kpi_results as select 1 as x")  # a view: only in the other database
    assert not has_table(con, "kpi_results")
    con.execute("create view kpi_results as select 1 as x")  # as `csc.parquet` makes them
    con.execute("create temp view calendar as select 1 as x")
    assert has_table(con, "kpi_results") and has_table(con, "calendar")

"""The process's one in-memory DuckDB database for work on Arrow data (`csc.scratch`): a check of
an extract opens no database per sheet, and checks in threads at the same moment, which register
the same names and make the same temporary tables, each get their own answers."""

from __future__ import annotations

import datetime as dt
import threading

import duckdb

from csc import extract, scratch
from tests.conftest import write_xlsx
from tests.corpus import assessments, referrals

REFERRAL_HEADER = referrals(0)[0]


def test_a_check_of_many_sheets_opens_no_database(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "x.xlsx", {"Referrals": referrals(3), "Assessments": assessments(4)})
    scratch.cursor().close()  # the process's database, once
    opened = []
    real = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: opened.append(a) or real(*a, **k))
    result = extract.read_workbook(path)
    assert result.ok and result.row_counts == {"referrals": 3, "assessments": 4}
    assert opened == []  # each sheet's check took a cursor (it opened an in-memory database: 13-19 ms each)


def test_checks_at_the_same_moment_keep_their_own_names_and_tables(tmp_path):
    """Each check registers "clean_in", "typed_in" and "parsed" and, with a problem, makes the
    temporary table "found": threads doing so at once see only their own."""
    good = [REFERRAL_HEADER] + [[f"R{i}", f"C{i}", dt.date(2011, 4, 1 + i % 28), "North", "Team A", "Police"]
                                for i in range(400)]
    bad = [REFERRAL_HEADER] + [[f"X{i}", f"C{i}", "not a date" if i % 2 else dt.date(2011, 4, 2), "North", "Team A",
                                "Police"] for i in range(300)]
    paths = {kind: write_xlsx(tmp_path / f"{kind}.xlsx", {"Referrals": rows}) for kind, rows in
             (("good", good), ("bad", bad))}
    outcomes: dict[tuple[str, int], tuple] = {}
    barrier = threading.Barrier(6)

    def check(kind: str, n: int) -> None:
        barrier.wait()
        for _ in range(3):
            result = extract.read_workbook(paths[kind])
            ids = result.sheets["referrals"].table.column("referral_id").to_pylist() if result.ok else None
            outcomes[(kind, n)] = (result.ok, len(result.errors), ids)

    threads = [threading.Thread(target=check, args=(kind, n)) for kind in ("good", "bad") for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for n in range(3):
        assert outcomes[("good", n)] == (True, 0, [f"R{i}" for i in range(400)])
        ok, errors, _ = outcomes[("bad", n)]
        assert not ok and errors == 150  # one a bad date


def test_a_check_opens_the_database_in_a_thread_while_the_file_is_read(tmp_path, monkeypatch, store):
    """`Store.validate` starts opening it first (`scratch.warm`): in a fresh process (`python -m csc
    import`) the check no longer waits for the opening after reading the file."""
    path = write_xlsx(tmp_path / "x.xlsx", {"Referrals": referrals(3)})
    monkeypatch.setattr(scratch, "_db", None)  # as in a fresh process
    opened = []
    real = duckdb.connect
    monkeypatch.setattr(duckdb, "connect", lambda *a, **k: opened.append(threading.current_thread().name)
                        or real(*a, **k))
    assert store.validate(path).ok
    assert opened == ["csc-scratch-open"]

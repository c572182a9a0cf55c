"""Every workbook of the corpus (`tests/corpus.py`) through a real import into a real database
that already holds an earlier import: a bad file is refused with a message naming the sheet,
Excel row, column as headed, value and expectation, and leaves the database's content and the
uploads folder exactly as they were; an awkward but good file loads."""

from __future__ import annotations

import hashlib
import shutil
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import corpus  # noqa: E402
from corpus import CASES, Case  # noqa: E402

from csc import extract  # noqa: E402
from csc.store import Store  # noqa: E402

BASE_PERIOD = "2011-04"


@pytest.fixture(scope="module")
def baseline(tmp_path_factory) -> Path:
    """A database folder holding one loaded import (and its kept upload)."""
    folder = tmp_path_factory.mktemp("baseline")
    db = folder / "db" / "csc.duckdb"
    path = corpus.write_xlsx(folder / "baseline.xlsx", {
        "referrals": corpus.referrals(5), "workforce": corpus.workforce(), "assessments": corpus.assessments()})
    with Store.open(db) as store:
        result = store.import_file(path, BASE_PERIOD, user="baseline")
        assert result.status == "loaded", [p.message for p in result.problems]
    return folder


@pytest.fixture
def seeded(baseline, tmp_path):
    shutil.copytree(baseline / "db", tmp_path / "db")
    store = Store.open(tmp_path / "db" / "csc.duckdb")
    yield store
    store.close()


def snapshot(store: Store) -> dict:
    """The database's content (every row of every table, the sequences) and the uploads folder."""
    cur = store.cursor()
    tables = [r[0] for r in cur.execute(
        "select table_name from information_schema.tables where table_schema = 'main' order by 1").fetchall()]
    content = {t: cur.execute(f'select * from "{t}" order by all').fetchall() for t in tables}
    content["__sequences__"] = cur.execute(
        "select sequence_name, start_value, last_value from duckdb_sequences() order by 1").fetchall()
    uploads = store.paths.uploads
    files = sorted((p.name, hashlib.sha256(p.read_bytes()).hexdigest()) for p in uploads.iterdir()) \
        if uploads.exists() else []
    return {"tables": content, "uploads": files}


def assert_only_the_refusal_audited(before: dict, after: dict) -> None:
    """The one change a refused file makes: the audit log says it was refused (issue 14)."""
    audit_before, audit_after = before["tables"].pop("audit_log"), after["tables"].pop("audit_log")
    assert audit_after[:len(audit_before)] == audit_before
    assert [r[4] for r in audit_after[len(audit_before):]] == ["import_refused"]
    for snap in (before, after):  # the audit log's own numbering moves on with its entry
        snap["tables"]["__sequences__"] = [s for s in snap["tables"]["__sequences__"] if s[0] != "audit_seq"]
    assert after == before


def matching(problems, case: Case) -> list:
    def fits(p) -> bool:
        text = p.message.casefold()
        return (
            all(w.casefold() in text for w in case.words)
            and (case.sheet is None or p.sheet == case.sheet)
            and (case.row is None or p.row == case.row)
            and (case.column is None or p.column == case.column)
            and (case.value is None or p.value == case.value)
        )

    return [p for p in problems if fits(p)]


def test_the_corpus_is_large_and_named():
    names = [c.name for c in CASES]
    assert len(set(names)) == len(names)
    assert sum(not c.loads for c in CASES) >= 30
    assert sum(c.loads for c in CASES) >= 8


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_corpus_case(case: Case, seeded: Store, tmp_path):
    path = case.build(tmp_path)
    before = snapshot(seeded)
    started = time.perf_counter()
    result = seeded.import_file(path, case.period, user="tester")
    elapsed = time.perf_counter() - started
    messages = [f"{p.severity}: {p.message}" for p in result.problems]
    if case.loads:
        assert result.status == "loaded", messages
        assert not result.errors
        if case.words:
            assert matching(result.warnings, case), messages
    else:
        assert result.status == "refused", messages
        assert result.import_id is None
        assert "Nothing was stored" in result.message
        found = matching(result.errors, case)
        assert found, messages
        for p in found:
            assert p.message.rstrip().endswith("."), p.message  # sentences, not a traceback
            assert "Traceback" not in p.message and "Exception" not in p.message
        assert_only_the_refusal_audited(before, snapshot(seeded))
    if case.check:
        case.check(seeded, result)
    assert elapsed < 15, f"{case.name} took {elapsed:.1f}s"


def test_reimporting_the_same_file_for_the_same_period_changes_nothing(baseline, seeded):
    before = snapshot(seeded)
    result = seeded.import_file(baseline / "baseline.xlsx", BASE_PERIOD, user="someone else")
    assert result.status == "unchanged"
    assert "already loaded" in result.message and "nothing was changed" in result.message
    assert result.import_id == 1
    assert snapshot(seeded) == before


def test_five_hundred_bad_rows_give_five_hundred_errors(seeded, tmp_path):
    path = corpus.many_errors_workbook(tmp_path, 500)
    before = snapshot(seeded)
    result = seeded.import_file(path, "2011-05")
    assert result.status == "refused"
    assert len(result.errors) == 500
    assert [p.row for p in result.errors] == list(range(7, 507))
    assert {p.column for p in result.errors} == {"referral_date"}
    assert {p.value for p in result.errors} == {"not a date"}
    assert "500 problem(s)" in result.message
    assert_only_the_refusal_audited(before, snapshot(seeded))


def test_every_error_of_every_sheet_is_reported_at_once(seeded, tmp_path):
    rows = corpus.referrals(4)
    rows[1][2] = "soon"
    rows[2][3] = None
    rows[4][0] = "R1"
    staff = corpus.workforce(2)
    staff[1][6] = 2
    staff[2][4] = "perhaps"
    path = corpus.write_xlsx(tmp_path / "several.xlsx", {"referrals": rows, "workforce": staff})
    result = seeded.import_file(path, "2011-05")
    got = {(p.sheet, p.row, p.column) for p in result.errors}
    assert got == {("referrals", 2, "referral_date"), ("referrals", 3, "area_office"), ("referrals", 5, "referral_id"),
                   ("workforce", 2, "fte"), ("workforce", 3, "is_qualified")}


def test_a_very_long_list_is_cut_and_says_the_total(seeded, tmp_path, monkeypatch):
    monkeypatch.setattr(extract, "MAX_PROBLEMS_PER_SHEET", 100)
    path = corpus.many_errors_workbook(tmp_path, 500)
    result = seeded.import_file(path, "2011-05")
    assert result.status == "refused"
    assert len(result.errors) == 101
    assert "500 problems in all; only the first 100 are listed" in result.errors[-1].message

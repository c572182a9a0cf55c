"""The command line, run as a real subprocess (`python -m csc ...`) on a database in tmp_path."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import corpus  # noqa: E402
from corpus import write_xlsx  # noqa: E402

from csc.extract import read_workbook  # noqa: E402
from csc.store import Store  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def csc(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if k != "CSC_DB"}  # only what the test says
    full_env.update({"CSC_ID_KEY": "test-key-not-secret", **(env or {})})
    return subprocess.run([sys.executable, "-m", "csc", *args], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture
def db(tmp_path) -> Path:
    return tmp_path / "data" / "csc.duckdb"


@pytest.fixture
def good(tmp_path) -> Path:
    rows = [r + ["note"] for r in corpus.referrals(3)]
    rows[0][-1] = "Notes"
    return write_xlsx(tmp_path / "april.xlsx", {"referrals": rows, "workforce": corpus.workforce(2), "Cover": [["x"]]})


@pytest.fixture
def bad(tmp_path) -> Path:
    rows = corpus.referrals(3)
    rows[1][2] = "next week"
    rows[2][3] = None
    rows[3][0] = "R1"
    staff = corpus.workforce(1)
    staff[0][6] = "FTE"
    staff[1][6] = 1.5
    return write_xlsx(tmp_path / "bad.xlsx", {"referrals": rows, "Staff": staff})


def content(db: Path) -> dict:
    with Store.open(db, read_only=True) as store:
        cur = store.cursor()
        tables = [r[0] for r in cur.execute(
            "select table_name from information_schema.tables where table_schema = 'main' order by 1").fetchall()]
        return {t: cur.execute(f'select * from "{t}" order by all').fetchall() for t in tables}


def test_import_prints_a_summary_and_exits_0(db, good):
    run = csc("import", str(good), "--period", "2011-04", "--db", str(db), "--user", "analyst")
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "Loaded import 1 for 2011-04: 5 rows in 2 sheet(s)." in out
    assert "referrals: 3 rows" in out and "workforce: 2 rows" in out
    assert 'WARNING: Sheet "Cover" is not part of the extract and was ignored.' in out
    assert 'WARNING: Sheet "referrals": 1 column(s) that are not part of the extract were ignored: "Notes".' in out
    with Store.open(db, read_only=True) as store:
        assert list(store.imports()["user_name"]) == ["analyst"]


def test_a_bad_file_exits_1_lists_every_error_and_changes_nothing(db, good, bad):
    assert csc("import", str(good), "--period", "2011-04", "--db", str(db)).returncode == 0
    before = content(db)
    run = csc("import", str(bad), "--period", "2011-05", "--db", str(db))
    assert run.returncode == 1
    out = run.stdout
    assert "The file was not loaded: 4 problem(s) to fix. Nothing was stored." in out
    errors = [line for line in out.splitlines() if line.strip().startswith("ERROR:")]
    assert len(errors) == 4
    assert any('Sheet "referrals", row 2, column "referral_date": "next week" is not a date; expected a date such as '
               "31/03/2011" in e for e in errors)
    assert any('Sheet "referrals", row 3, column "area_office": a value is required but the cell is blank' in e
               for e in errors)
    assert any('Sheet "referrals", row 4, column "referral_id": "R1" is already used on row 2' in e for e in errors)
    assert any('Sheet "Staff", row 2, column "FTE": "1.5" is out of range; expected a number greater than 0 and at '
               "most 1." in e for e in errors)
    after = content(db)
    refused = after.pop("audit_log")[len(before["audit_log"]):]  # the refusal is audited, nothing else changed
    assert [(r[3], r[4], json.loads(r[5])) for r in refused] == [
        ("operator", "import_refused", {"file": "bad.xlsx", "period": "2011-05", "why": "4 problem(s)"})]
    before.pop("audit_log")
    assert after == before


def test_a_file_that_is_not_there_or_a_folder_is_said_in_words(db, good, tmp_path):
    # A red-team review: a mistyped name gave a traceback on import, and "damaged or incomplete" on validate
    before = content(db) if db.exists() else None
    missing = tmp_path / "extract-2011-O4.xlsx"
    for command in ("import", "validate"):
        run = csc(command, str(missing), "--period", "2011-04", "--db", str(db))
        assert run.returncode == 2 and "Traceback" not in run.stderr, run.stderr
        assert f"Error: There is no file {missing}: check the name and the folder." in run.stderr
        run = csc(command, str(tmp_path), "--period", "2011-04", "--db", str(db))
        assert run.returncode == 2 and f"Error: {tmp_path} is a folder, not a file" in run.stderr
    assert (content(db) if db.exists() else None) == before


def test_import_json(db, bad):
    run = csc("import", str(bad), "--period", "2011-05", "--db", str(db), "--json")
    assert run.returncode == 1
    data = json.loads(run.stdout)
    assert data["status"] == "refused" and len(data["errors"]) == 4
    first = data["errors"][0]
    assert {k: first[k] for k in ("sheet", "row", "column", "value")} == {
        "sheet": "referrals", "row": 2, "column": "referral_date", "value": "next week"}
    assert first["expected"].startswith("a date such as")


def test_a_long_list_is_cut_and_says_the_total(db, tmp_path):
    path = corpus.many_errors_workbook(tmp_path, 500)
    run = csc("import", str(path), "--period", "2011-05", "--db", str(db))
    assert run.returncode == 1
    assert "500 problem(s) to fix" in run.stdout
    assert "(500 in all)" in run.stdout
    assert sum(line.strip().startswith("ERROR:") for line in run.stdout.splitlines()) < 500


def test_validate_stores_nothing(db, good, bad):
    run = csc("validate", str(good), "--db", str(db))
    assert run.returncode == 0, run.stderr
    assert "The file is valid: 5 rows in 2 sheet(s). Nothing was stored." in run.stdout
    run = csc("validate", str(bad), "--db", str(db))
    assert run.returncode == 1
    assert "4 problem(s) to fix. Nothing was stored." in run.stdout
    assert not db.exists() or content(db)["imports"] == []
    assert not (db.parent / "uploads").exists() or not any((db.parent / "uploads").glob("0*"))


def test_imports_json_lists_every_import(db, good, tmp_path):
    csc("import", str(good), "--period", "2011-04", "--db", str(db), "--user", "a")
    csc("import", str(good), "--period", "2011-05", "--db", str(db), "--user", "b")
    run = csc("imports", "--json", "--db", str(db))
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert isinstance(data, list) and [i["import_id"] for i in data] == [1, 2]
    first = data[0]
    for field in ("import_id", "period", "file_name", "sha256", "user_name", "imported_at", "status", "row_counts"):
        assert field in first
    assert first["period"] == "2011-04" and first["file_name"] == "april.xlsx" and first["user_name"] == "a"
    assert first["status"] == "loaded" and len(first["sha256"]) == 64
    assert first["row_counts"] == {"referrals": 3, "workforce": 2}


def test_rollback(db, good):
    csc("import", str(good), "--period", "2011-04", "--db", str(db))
    run = csc("rollback", "1", "--db", str(db), "--user", "lead")
    assert run.returncode == 0, run.stderr
    assert "Import 1 (2011-04) was rolled back" in run.stdout
    again = csc("rollback", "1", "--db", str(db))
    assert again.returncode == 1 and "already rolled back" in again.stderr
    data = json.loads(csc("imports", "--json", "--db", str(db)).stdout)
    assert data[0]["status"] == "rolled_back" and data[0]["rolled_back_by"] == "lead"


def test_the_database_can_come_from_csc_db(tmp_path, good):
    db = tmp_path / "elsewhere" / "x.duckdb"
    run = csc("import", str(good), "--period", "2011-04", env={"CSC_DB": str(db)})
    assert run.returncode == 0, run.stderr
    assert db.exists()
    assert json.loads(csc("imports", "--json", env={"CSC_DB": str(db)}).stdout)[0]["import_id"] == 1


def test_a_bad_period_exits_2(db, good):
    run = csc("import", str(good), "--period", "April", "--db", str(db))
    assert run.returncode == 2 and "YYYY-MM" in run.stderr


def test_template(tmp_path):
    out = tmp_path / "template.xlsx"
    run = csc("template", str(out))
    assert run.returncode == 0, run.stderr
    assert out.exists() and str(out) in run.stdout
    assert read_workbook(out).ok


# --- while the dashboard holds the database (issue 14) -------------------------------------------

BUSY_COMMANDS = [
    ("kpis",), ("imports",), ("boardpack", "{tmp}/pack.xlsx"), ("import", "{good}", "--period", "2011-05"),
    ("rollback", "1"), ("demo", "--months", "2011-01:2011-01"),
]


@pytest.mark.parametrize("command", BUSY_COMMANDS, ids=[c[0] for c in BUSY_COMMANDS])
def test_every_command_says_clearly_when_the_dashboard_holds_the_database(db, good, tmp_path, command):
    assert csc("import", str(good), "--period", "2011-04", "--db", str(db)).returncode == 0
    args = [a.format(tmp=tmp_path, good=good) for a in command]
    with Store.open(db):  # this process is the dashboard: DuckDB's single writer
        run = csc(*args, "--db", str(db))
    assert run.returncode == 3, run.stderr
    assert "Traceback" not in run.stderr and "in use by another process" in run.stderr
    assert "Nothing was changed" in run.stderr
    assert not (tmp_path / "pack.xlsx").exists()


def test_the_command_line_is_audited_with_the_operator_role(db, good, tmp_path):
    assert csc("import", str(good), "--period", "2011-04", "--db", str(db), "--user", "ops").returncode == 0
    assert csc("kpis", "--db", str(db), "--user", "ops").returncode == 0
    assert csc("imports", "--db", str(db), "--user", "ops").returncode == 0
    assert csc("boardpack", str(tmp_path / "pack.xlsx"), "--db", str(db), "--user", "ops").returncode == 0
    assert csc("export-parquet", str(tmp_path / "parquet"), "--db", str(db), "--user", "ops").returncode == 0
    assert csc("kpis", "--db", str(db)).returncode == 0  # no --user: the login name
    with Store.open(db, read_only=True) as store:
        log = store.cursor().execute("select user_name, role, action, detail from audit_log order by audit_id").fetchall()
    assert [(u, r, a) for u, r, a, _ in log[:5]] == [
        ("ops", "operator", "import"), ("ops", "operator", "view"), ("ops", "operator", "view"),
        ("ops", "operator", "export"), ("ops", "operator", "export")]
    assert [json.loads(d).get("command") for *_, d in log[1:5]] == ["kpis", "imports", "boardpack", "export-parquet"]
    assert log[5][0].startswith("cli") and log[5][1] == "operator"


def test_kpis_json_for_the_board_has_no_counts_behind_a_rate(db, good):
    # issue 13: the board sees rates, never their numerator or denominator (177 of 178 would give the 1
    # not counted); a plain count (data timeliness, working days) keeps its figure
    assert csc("import", str(good), "--period", "2011-04", "--db", str(db)).returncode == 0
    from csc import kpis

    rates = set(kpis.rate_kpis())
    for by in ((), ("--by", "team")):
        director = json.loads(csc("kpis", "--json", "--db", str(db), *by).stdout)
        board = json.loads(csc("kpis", "--json", "--db", str(db), "--role", "board", *by).stdout)
        # by team, none of a rate whose denominators the board sees as counts (the re-referral rate)
        assert len(board) == len([r for r in director if not (by and kpis.get(r["kpi"]).denominator_shown)])
        assert not (by and any(r["kpi"] == "re_referral_pct" for r in board)) and any(
            r["kpi"] == "re_referral_pct" for r in director)
        director_rates = [r for r in director if r["kpi"] in rates and r["denominator"] is not None]
        assert director_rates  # the director's have numbers ...
        for r in board:
            if r["kpi"] in rates:  # ... the board's none
                assert r["numerator"] is None and r["denominator"] is None, r
        if not by:
            timeliness = [r for r in board if r["kpi"] == "data_timeliness_days"]
            assert timeliness and all(r["numerator"] is not None for r in timeliness)


def test_kpis_json_is_valid_json_when_a_figure_overflows(db, tmp_path):
    # "number >= 0" let a funded FTE of 1e308 in; two such teams summed to infinity, and Python's json
    # wrote `Infinity`, which no JSON reader accepts (the tools that read `--json` stopped there). Such
    # a file is now refused (at most 1,000,000,000: test_extract.py), and nothing is stored ...
    est = [["team", "area_office", "funded_fte"], ["Team A", "North", 1e308], ["Team B", "North", 1e308]]
    path = write_xlsx(tmp_path / "april.xlsx", {"referrals": corpus.referrals(3), "workforce": corpus.workforce(3),
                                                "establishment": est})
    run = csc("import", str(path), "--period", "2011-04", "--db", str(db))
    assert run.returncode == 1 and "is too large (at most 1,000,000,000)" in run.stdout
    # ... and a figure that is not a number however it came (here written into the results) is null
    est[1][2] = est[2][2] = 5
    path = write_xlsx(tmp_path / "april.xlsx", {"referrals": corpus.referrals(3), "workforce": corpus.workforce(3),
                                                "establishment": est})
    assert csc("import", str(path), "--period", "2011-04", "--db", str(db)).returncode == 0
    with Store.open(db) as store:
        store.cursor().execute("update kpi_results set numerator = 'inf'::double, denominator = 'inf'::double, "
                               "value = 'nan'::double where kpi = 'vacancy_rate_pct' and area = 'North'")
    out = csc("kpis", "--json", "--db", str(db), "--kpi", "vacancy_rate_pct").stdout

    def refuse(constant):
        raise AssertionError(f"{constant} is not JSON")

    rows = json.loads(out, parse_constant=refuse)
    north = [r for r in rows if r["area"] == "North"]
    assert north and all(r["numerator"] is None and r["denominator"] is None and r["value"] is None for r in north)


def test_validate_checks_a_census_as_its_census_month_and_a_month_not_begun_as_import_would(tmp_path):
    """A review: `validate --period 2026-11` of the DfE census sample said "Checked as the extract for
    2026-11" and its warnings were for that month; `import` then loaded 2022-09, with warnings
    `validate` had not shown. And a month named that has not begun passed `validate`, then loaded."""
    from tests.conftest import external

    from csc.store import Store

    census = external("csww/liia-tools_social_work_workforce_2022.xml")
    db = str(tmp_path / "csc.duckdb")
    Store.open(db).close()  # checked against a database, as an analyst's would be
    run = csc("validate", str(census), "--period", "2022-11", "--db", db, "--json")
    out = json.loads(run.stdout)
    assert out["ok"] and out["period"] == "2022-09"
    assert any(w["message"] == "Checked as 2022-09, the month of the census date, not 2022-11: it loads as 2022-09."
               for w in out["warnings"])
    good = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(2)})
    later = f"{dt.date.today().year + 1}-01"
    run = csc("validate", str(good), "--period", later, "--db", db, "--json")
    out = json.loads(run.stdout)
    assert run.returncode == 1 and not out["ok"]
    assert out["errors"][0]["message"].startswith(f"The month {later} has not begun yet")
    assert csc("validate", str(good), "--db", db).returncode == 0  # no month named: the month it points to


@pytest.mark.parametrize("command", ["validate", "import"])
def test_a_file_refused_at_once_exits_1_not_an_abort(tmp_path, db, command):
    """A CSV refused before any value is checked: the process ends while the check's database is
    still opening in its thread (`scratch.warm`); a daemon thread was killed inside DuckDB and the
    process aborted (exit 134), three times in three (a review)."""
    notes = tmp_path / "notes.xlsx"
    notes.write_text("referral_id,child_id\nR1,C1\n")
    for _ in range(3):
        run = csc(command, str(notes), "--period", "2011-05", "--db", str(db))
        assert run.returncode == 1, (run.returncode, run.stderr[-500:])
        assert "a CSV or text file" in run.stdout + run.stderr

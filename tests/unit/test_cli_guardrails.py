"""The upload guardrails on the command line: `validate` and `import` print the warnings, and
`--json` carries each with its code. Real subprocesses on a database in tmp_path."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_cli import csc  # noqa: E402

from tests.conftest import write_xlsx  # noqa: E402

D = dt.date
TRANSFER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
ASSESSMENT = ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "area_office", "worker_id"]


def march(folder: Path) -> Path:
    return write_xlsx(folder / "extract-2012-03.xlsx", {"Transfers": [
        TRANSFER, ["T1", "C1", "Intake", "North A", D(2012, 3, 5), D(2012, 3, 6), "North"]]})


def april(folder: Path) -> Path:
    """April's transfers and an assessment sheet without `child_seen`."""
    return write_xlsx(folder / "extract-2012-04.xlsx", {
        "Transfers": [TRANSFER, ["T2", "C2", "Intake", "North A", D(2012, 4, 16), D(2012, 4, 17), "North"]],
        "Assessments": [ASSESSMENT, ["A1", "C3", "Initial", D(2012, 4, 2), D(2012, 4, 5), "North", "W1"]],
    })


def test_validate_json_carries_each_warning_with_its_code(tmp_path):
    db = tmp_path / "csc.duckdb"
    assert csc("import", str(march(tmp_path)), "--period", "2012-03", "--db", str(db)).returncode == 0
    run = csc("validate", str(april(tmp_path)), "--period", "2012-06", "--db", str(db), "--json")
    assert run.returncode == 0, run.stderr  # warnings never fail the check
    data = json.loads(run.stdout)
    assert data["ok"] is True and data["period"] == "2012-06"
    codes = {w["code"]: w for w in data["warnings"]}
    assert {"column_missing", "period_dates", "period_file_name", "period_skipped"} <= set(codes)
    assert codes["column_missing"]["message"] == (
        '`child_seen` is missing from sheet "Assessments": *Assessments where the child was seen* will have no '
        "value for 2012-06 from this file.")
    # 2 transfer dates and 2 assessment dates, all in April
    assert codes["period_dates"]["message"].startswith("4 of the file's 4 event dates fall in 2012-04, not 2012-06")
    assert codes["period_skipped"]["value"] == "2012-04, 2012-05"


def test_validate_without_a_period_checks_it_as_the_month_its_dates_point_to(tmp_path):
    db = tmp_path / "csc.duckdb"
    assert csc("import", str(march(tmp_path)), "--period", "2012-03", "--db", str(db)).returncode == 0
    run = csc("validate", str(april(tmp_path)), "--db", str(db))
    assert run.returncode == 0, run.stderr
    assert "Checked as the extract for 2012-04 (the month it points to; say another with --period)." in run.stdout
    assert ("WARNING: `child_seen` is missing from sheet \"Assessments\": *Assessments where the child was seen* "
            "will have no value for 2012-04 from this file.") in run.stdout
    assert "period_dates" not in run.stdout and "names 2012-04, not" not in run.stdout


def test_import_prints_the_warnings_and_json_gives_codes(tmp_path):
    db = tmp_path / "csc.duckdb"
    run = csc("import", str(march(tmp_path)), "--period", "2012-03", "--db", str(db), "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    # March 2012 loaded years after it ended (the clock of the test run): its timeliness figure is large
    assert data["status"] == "loaded" and [w["code"] for w in data["warnings"]] == ["period_late"]
    again = write_xlsx(tmp_path / "march-again.xlsx", {"Transfers": [
        TRANSFER, ["T1", "C1", "Intake", "North A", D(2012, 3, 5), D(2012, 3, 7), "North"]]})
    run = csc("import", str(again), "--period", "2012-03", "--db", str(db))
    assert run.returncode == 0, run.stderr
    assert "WARNING: 2012-03 is already loaded (import 1, " in run.stdout
    assert "this load updates it; 1 row changes, 0 are new, 0 are not in this file and stay current as import" in run.stdout

"""The KPI registry: every `.sql` parses, matches the specification and `docs/kpis.md`, and returns
exactly the record-level columns the runner expects."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest

from csc import config, kpis, spec
from tests import conftest

SPEC = Path("/work/shared/spec")  # the project's specification, where it is available
DOCS = config.ROOT / "docs" / "kpis.md"
ACTIONS = {"A1", "A2", "A3", "A4", "A5", "S1", "S2"}
BOLD_ID = re.compile(r"\*\*([a-z0-9_]+)\*\*")


def spec_text(name: str) -> str:
    path = SPEC / name
    if not path.exists():
        pytest.skip(f"specification {path} not available here")
    return path.read_text()


def test_every_sql_file_parses():
    registry = kpis.registry()
    assert len(registry) == len(list(kpis.KPI_DIR.glob("*.sql")))
    assert all(k.sql.strip() for k in registry.values())


def test_kpis_are_those_of_the_specification():
    assert set(kpis.registry()) == set(BOLD_ID.findall(spec_text("kpis.md")))


def test_kpis_are_those_documented():
    documented = BOLD_ID.findall(DOCS.read_text())
    assert len(documented) == len(set(documented)), "a KPI is documented twice"
    assert set(kpis.registry()) == set(documented)


def test_docs_list_the_readings_of_ambiguous_points():
    assert "## Readings of ambiguous points" in DOCS.read_text()


@pytest.mark.parametrize("name", sorted(kpis.registry()))
def test_header_is_complete(name):
    kpi = kpis.get(name)
    assert kpi.title and kpi.title[0].isupper()
    assert kpi.action in ACTIONS
    assert kpi.unit in kpis.UNITS
    assert kpi.direction in ("higher", "lower")
    assert kpi.aggregate in kpis.AGGREGATES
    assert len(kpi.description) > 40
    if kpi.unit == "pct":
        assert kpi.aggregate == "ratio"


def test_direction_and_target_match_the_specification():
    text = spec_text("kpis.md")
    pattern = re.compile(r"\*\*([a-z0-9_]+)\*\*\s*\((higher|lower)[^,)]*,\s*(?:target\s+([\d.]+)|no target)\)")
    found = {m[0]: (m[1], float(m[2]) if m[2] else None) for m in pattern.findall(text)}
    assert set(found) == set(kpis.registry())
    for name, kpi in kpis.registry().items():
        assert (kpi.direction, kpi.target) == found[name], name


def test_action_matches_the_action_plan():
    plan = {}
    for line in spec_text("action-plan.md").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if cells and cells[0] in ACTIONS:
            plan.update({name.strip(): cells[0] for name in cells[-1].split(",")})
    assert {name: kpi.action for name, kpi in kpis.registry().items()} == plan


def test_only_data_timeliness_is_all_areas_only():
    assert {name for name, kpi in kpis.registry().items() if kpi.all_areas_only} == {"data_timeliness_days"}


def test_every_kpi_returns_exactly_the_record_columns_on_an_empty_store(store):
    cur = store.cursor()
    kpis.prepare(cur, ("2011-04", "2011-04"))
    for name, kpi in kpis.registry().items():
        columns = [c[0] for c in cur.execute(f"select * from ({kpi.sql.strip().rstrip(';')}) limit 0").description]
        assert tuple(columns) == kpis.RECORD_COLUMNS, name


def test_no_kpi_has_a_record_when_the_tables_of_records_it_reads_are_empty(store):
    """A recompute leaves out a KPI whose tables of records are all empty (`kpis._without_records`):
    it must have no record then, whatever the months and the calendar (which it reads too)."""
    cur = store.cursor()
    kpis.prepare(cur, ("2011-01", "2012-12"))
    assert not any(cur.execute(f"select exists (select 1 from {t})").fetchall()[0][0] for t in kpis.RECORD_TABLES)
    for name, kpi in kpis.registry().items():
        assert cur.execute(f"select count(*) from ({kpi.sql})").fetchall()[0][0] == 0, name
    assert kpis._without_records(cur, list(kpis.registry().values())) == set(kpis.registry())


def test_every_table_a_kpi_reads_is_a_table_of_records_or_the_calendar_and_months(store):
    """The tables whose emptiness leaves a KPI out (`kpis.RECORD_TABLES`) are all those a KPI's
    records can come from: any other table of the database a KPI reads is the calendar or its
    months (or a council's `raw_` table, which is never left out)."""
    cur = store.cursor()
    kpis.prepare(cur, ("2011-01", "2012-12"))
    catalog = {name for (name,) in cur.execute("select table_name from duckdb_tables() union "
                                               "select view_name from duckdb_views() where not internal").fetchall()}
    assert {"kpi_months", "calendar", "cur_involvements", "inferred_involvements"} <= catalog
    read = kpis.tables_read(tuple((k.name, k.sql) for k in kpis.registry().values()))
    for name, words in read.items():
        tables = {w for w in words if w in catalog and not w.startswith("raw_")}
        assert tables - {"calendar", "kpi_months"} <= set(kpis.RECORD_TABLES), name
        assert tables & set(kpis.RECORD_TABLES), name


def test_every_kpi_returns_the_record_columns_with_data(store, load):
    d = dt.date.fromisoformat
    load(
        {
            "Referrals": [["referral_id", "child_id", "referral_date", "area_office"], ["R1", "C1", d("2011-04-04"), "North"]],
            "Assessments": [
                [
                    "assessment_id",
                    "child_id",
                    "assessment_type",
                    "start_date",
                    "completed_date",
                    "child_seen",
                    "area_office",
                    "worker_id",
                ],
                ["A1", "C1", "Initial", d("2011-04-04"), d("2011-04-08"), "Y", "North", "W1"],
            ],
            "CP Plans": [
                ["cp_plan_id", "child_id", "start_date", "end_date", "area_office"],
                ["P1", "C1", d("2009-04-01"), d("2011-04-20"), "North"],
                ["P2", "C1", d("2011-04-21"), None, "North"],
            ],
            "Involvements": [
                ["involvement_id", "child_id", "worker_id", "start_date", "area_office"],
                ["I1", "C1", "W1", d("2011-04-04"), "North"],
            ],
            "Transfers": [
                ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"],
                ["T1", "C1", "Intake", "N1", d("2011-04-04"), d("2011-04-06"), "North"],
            ],
            "Workforce": [
                ["worker_id", "area_office", "team", "is_qualified", "is_agency", "fte", "start_date"],
                ["W1", "North", "N1", "Y", "N", 1, d("2010-01-04")],
            ],
            "Establishment": [["team", "area_office", "funded_fte"], ["N1", "North", 2]],
            "Audits": [
                ["audit_id", "audit_date", "area_office", "subject", "grade", "is_smart"],
                ["U1", d("2011-04-05"), "North", "cp_plan", "Good", "Y"],
            ],
            "Supervisions": [["supervision_id", "worker_id", "supervision_date"], ["S1", "W1", d("2011-04-05")]],
        },
        period="2011-04",
        imported_at=dt.datetime(2011, 5, 10),
    )
    cur = store.cursor()
    for name, kpi in kpis.registry().items():
        df = kpis.records(cur, kpi, "2011-04")
        assert tuple(df.columns[:8]) == kpis.RECORD_COLUMNS, name
        details = tuple(df.columns[8:])  # the record's own sheet's columns, for a KPI that names it
        if kpi.record_sheet:
            sheet = spec.SHEETS[kpi.record_sheet]
            # the working days that decide a timeliness figure first, beside the figure's columns
            assert details == (("working_days",) if kpi.record_days else ()) \
                + tuple(c for c in sheet.column_names if c not in (*sheet.key, *kpis._NOT_DETAILS)), name
            if len(df):  # each record found in its sheet (its key is the record id)
                assert df[list(details)].notna().any(axis=1).all(), name
        else:
            assert details == (), name
        if name not in ("audit_good_pct", "transfers_waiting_count"):  # nothing of theirs in this extract
            assert len(df) >= 1, name
        assert set(df["period"]) <= {"2011-04"}, name
    # every KPI with a figure for April has an all-areas row
    results = kpis.results(cur, period="2011-04")
    assert set(results["kpi"]) == set(kpis.registry()) - {"audit_good_pct"}
    # T1 was accepted on 6 April, so nothing waits at April's end: a count of 0, not a gap
    waiting = results[(results["kpi"] == "transfers_waiting_count") & results["area"].isna()]
    assert waiting["value"].tolist() == [0]


RETITLED = "agency_rate_pct"


def retitle(queries, title: str) -> None:
    conftest.retitle(queries / "kpis" / f"{RETITLED}.sql", title)


# When the KPI files are read: outside the dashboard at every call (a change is seen at once); in
# the dashboard once per data version (`kpis.files_key`), so that a page view looks at no file and a
# KPI's definition moves with its stored values (an import, a rollback, `csc refresh`).


def test_files_are_read_again_when_the_data_version_moves_and_at_once_outside_the_dashboard(tmp_path, monkeypatch):
    queries = tmp_path / "queries"
    shutil.copytree(config.QUERIES, queries)
    monkeypatch.setenv("CSC_QUERIES", str(queries))
    version = ["db@1"]
    monkeypatch.setattr(kpis, "files_key", lambda: version[0])
    monkeypatch.setattr(kpis, "_by_key", None)
    assert kpis.get(RETITLED).title == "Qualified social worker FTE filled by agency workers"

    retitle(queries, "Agency share, edited")
    assert kpis.get(RETITLED).title == "Qualified social worker FTE filled by agency workers"  # same data version
    version[0] = "db@2"  # an import or a refresh
    assert kpis.get(RETITLED).title == "Agency share, edited"

    retitle(queries, "Agency share, edited again")
    monkeypatch.setattr(kpis, "files_key", None)  # the command line, the tests
    assert kpis.get(RETITLED).title == "Agency share, edited again"


@pytest.mark.parametrize("keys, error", [
    ("-- records: nowhere\n", "records must name a sheet with a one-column key"),
    ("-- records: establishment\n", "records must name a sheet with a one-column key"),  # keyed by team and month
    ("-- record_days: start_date, completed_date\n", "record_days needs records"),
    ("-- records: assessments\n-- record_days: start_date, assessment_type\n", "two date columns of assessments"),
    ("-- records: assessments\n-- record_days: start_date\n", "two date columns of assessments"),
])
def test_a_records_sheet_that_the_contract_does_not_have_is_refused(tmp_path, keys, error):
    path = tmp_path / "x_pct.sql"
    path.write_text("-- kpi: x_pct\n-- title: X\n-- action: A1\n-- unit: pct\n-- direction: higher\n"
                    f"-- aggregate: ratio\n{keys}select 1")
    with pytest.raises(ValueError, match=error):
        kpis.parse_kpi(path)
    path.write_text("-- kpi: x_pct\n-- title: X\n-- action: A1\n-- unit: pct\n-- direction: higher\n"
                    "-- aggregate: ratio\n-- records: assessments\n-- record_days: start_date, completed_date\nselect 1")
    assert kpis.parse_kpi(path).record_days == ("start_date", "completed_date")


@pytest.mark.parametrize("aggregate, suppress, refused", [
    ("ratio", "yes", False), ("sum", "yes", True), ("median", "yes", True), ("ratio", "no", True)])
def test_a_shown_denominator_is_declared_only_for_a_suppressed_ratio(tmp_path, aggregate, suppress, refused):
    path = tmp_path / "x_pct.sql"
    path.write_text("-- kpi: x_pct\n-- title: X\n-- action: A1\n-- unit: pct\n-- direction: higher\n"
                    f"-- aggregate: {aggregate}\n-- suppress: {suppress}\n-- denominator_shown: referrals_by_area\n"
                    "select 1")
    if refused:
        with pytest.raises(ValueError, match="denominator_shown is for a ratio"):
            kpis.parse_kpi(path)
    else:
        assert kpis.parse_kpi(path).denominator_shown == "referrals_by_area"
    # it names a table of counts the board sees: the timeliness by type is of rates
    path.write_text(path.read_text().replace("referrals_by_area", "assessment_timeliness_by_type"))
    with pytest.raises(ValueError, match="denominator_shown must be one of"):
        kpis.parse_kpi(path)


def test_only_the_re_referral_rate_has_its_denominator_shown_to_the_board():
    # the board sees referrals by area office and month (Practice), the re-referral rate's denominators;
    # no other rate's denominator is a count the board sees
    assert [k.name for k in kpis.registry().values() if k.denominator_shown] == ["re_referral_pct"]

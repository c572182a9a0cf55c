"""Standard Safeguarding Dataset tables uploaded as one month's data (csc.ssd): a small hand-made
set of tables (SSD column names, ../shared/external-data/ssd/schema) with hand-worked KPIs, and a
generated large set loaded as a .zip of CSV files."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from csc import annexa, annexa_teams, kpis, ssd
from csc.store import Store
from tests import ssd_generator
from tests.conftest import write_xlsx

D = dt.date
PERIOD = "2024-03"
NO_DATE = dt.datetime(1900, 1, 1)  # the case-system scripts' "no date", as an Excel date cell
TEAMS = {"Assessment Team North": "North", "Safeguarding South": "South", "Children in Need East": "East"}


def sheet(header: str, rows: list[list]) -> list[list]:
    return [header.split(), *rows]


DEPARTMENT = sheet("dept_team_id dept_team_name dept_team_parent_id dept_team_parent_name", [
    ["D1", "Assessment Team North", "P", "Children's Services"],
    ["D2", "Safeguarding South", "P", "Children's Services"],
])
EPISODES = sheet("cine_referral_id cine_person_id cine_referral_date cine_referral_source_desc cine_referral_team", [
    ["R0", "P3", D(2022, 1, 1), "Police", "D1"],
    ["R1", "P1", D(2023, 6, 10), "Police", "D1"],
    ["R2", "P1", D(2024, 3, 5), "Schools", "D1"],   # P1 referred 10/06/2023, within 12 months: a re-referral
    ["R3", "P2", D(2024, 3, 12), "Health", "D2"],   # P2's first referral
    ["R4", "P3", D(2024, 3, 20), "Police", "D1"],   # P3's earlier referral is from 2022: not within 12 months
    ["R5", "P4", D(2024, 3, 25), "Police", None],   # no team: area "Not allocated"
])
ASSESSMENTS = sheet("cina_assessment_id cina_person_id cina_referral_id cina_assessment_start_date "
                    "cina_assessment_auth_date cina_assessment_child_seen cina_assessment_team cina_assessment_worker_id", [
    ["A1", "P1", "R2", D(2024, 3, 6), D(2024, 3, 20), "Y", "D1", "W1"],
    ["A2", "P2", "R3", D(2024, 2, 20), D(2024, 3, 15), "N", "D2", "W2"],
    ["A3", "P3", "R4", D(2024, 3, 21), NO_DATE, None, "D1", "W3"],         # 1900-01-01: not authorised yet
    ["A4", "P4", "R5", D(2024, 1, 10), "1900-01-01", None, "D1", "W4"],    # (the same as text)
    ["A5", "P4", "R5", D(2024, 1, 10), D(2024, 3, 28), "Y", "D1", "W4"],
])
PROFESSIONALS = sheet("prof_professional_id prof_staff_id prof_social_worker_registration_no "
                      "prof_professional_job_title prof_professional_department prof_full_time_equivalency "
                      "prof_agency_worker_flag", [
    ["W1", "S1", "SW100001", "Social Worker", "D1", 1, "PLACEHOLDER_DATA"],
    ["W2", "S2", "SW100002", "Senior Social Worker", "D2", 0.5, None],
    ["W3", "S3", "SW100003", "Social Worker", "D2", 1, None],
    ["W4", "S4", None, "Family Support Worker", "D1", 1, None],            # no SWE number: not qualified
])
INVOLVEMENTS = sheet("invo_involvements_id invo_professional_id invo_professional_role_id invo_professional_team "
                     "invo_involvement_start_date invo_involvement_end_date invo_worker_change_reason invo_person_id", [
    ["I1", "W1", "CW", "D1", D(2024, 3, 6), None, None, "P1"],
    ["I2", "W2", "CW", "D2", D(2023, 10, 1), D(2024, 1, 31), "MANAGE", "P5"],
    ["I3", "W3", "CW", "D2", D(2024, 2, 1), None, "LEFTRL", "P5"],
    ["I4", "W4", "FSW", "D2", D(2024, 2, 1), None, None, "P5"],            # a family support worker: left out
    ["I5", "W1", "CW", "D2", D(2024, 3, 10), None, "Worker left", "P5"],   # not one of the codes: blank
    ["I6", "W3", "CW", "Safeguarding South", D(2024, 2, 15), None, None, "P6"],  # a team name (Mosaic)
    ["I7", "W4", "FSW", "D1", D(2024, 1, 1), None, None, "P7"],            # P7 has only a support worker
])
PLANS = sheet("cppl_cp_plan_id cppl_person_id cppl_icpc_id cppl_cp_plan_start_date cppl_cp_plan_end_date "
              "cppl_cp_plan_initial_category", [
    ["PL0", "P6", None, D(2021, 5, 1), D(2022, 5, 1), "Neglect"],
    ["PL1", "P5", "C1", D(2023, 11, 15), NO_DATE, "Emotional abuse"],
    ["PL2", "P6", None, D(2024, 3, 1), None, "Neglect"],
])
CONFERENCES = sheet("icpc_icpc_id icpc_cp_plan_id icpc_icpc_date icpc_icpc_team icpc_icpc_worker_id", [
    ["C1", "PL1", D(2023, 11, 15), "D2", "W2"],
])
TRANSFERS = sheet("transfer_id child_id from_team to_team requested_date area_office", [
    ["T1", "P1", "Assessment Team North", "Safeguarding South", D(2024, 3, 25), "South"],
])


def workbook(tmp_path, extra=None, name="ssd.xlsx"):
    sheets = {"ssd_department": DEPARTMENT, "ssd_cin_episodes": EPISODES, "ssd_cin_assessments": ASSESSMENTS,
              "ssd_professionals": PROFESSIONALS, "ssd_involvements": INVOLVEMENTS, "ssd_cp_plans": PLANS,
              "ssd_initial_cp_conference": CONFERENCES, **(extra or {})}
    return write_xlsx(tmp_path / name, sheets)


def mapped(store):
    annexa.save_team_areas(store, pd.DataFrame({"team": list(TEAMS), "area_office": list(TEAMS.values())}), "t")


def text(problems) -> str:
    return "\n".join(p.message for p in problems)


def figure(store, name, period=PERIOD):
    df = kpis.results(store.cursor(), kpi=name, period=period)
    df = df[df["area"].isna()]
    return (float(df["numerator"].iloc[0]), float(df["denominator"].iloc[0])) if len(df) else None


@pytest.fixture
def loaded(store, tmp_path):
    mapped(store)
    path = workbook(tmp_path, {"Transfers": TRANSFERS})
    assert ssd.is_ssd(path)
    result = store.import_file(path, PERIOD, user="t")
    assert result.status == "loaded", text(result.problems)
    return store, result


def rows(store, sql):
    return store.cursor().execute(sql).fetchall()


def test_the_tables_map_onto_the_contract(loaded):
    store, result = loaded
    assert result.row_counts == {"transfers": 1, "referrals": 6, "assessments": 5, "cp_plans": 3,
                                 "involvements": 5, "workforce": 4}
    # teams through ssd_department (an id) or as written (a name); areas through the Teams page
    assert rows(store, "select referral_id, team, area_office from cur_referrals order by 1") == [
        ("R0", "Assessment Team North", "North"), ("R1", "Assessment Team North", "North"),
        ("R2", "Assessment Team North", "North"), ("R3", "Safeguarding South", "South"),
        ("R4", "Assessment Team North", "North"), ("R5", None, "Not allocated")]
    # 1900-01-01 is blank, as a date cell or as text
    assert rows(store, "select assessment_id, completed_date, assessment_type from cur_assessments "
                       "where completed_date is null order by 1") == [("A3", None, "Single"), ("A4", None, "Single")]
    # plans: PL1's team and worker from its initial conference C1; PL2 (no conference) from P6's
    # allocated involvement open on 01/03/2024 (I6, W3); previous plans: P6 had PL0 before PL2
    assert rows(store, "select cp_plan_id, team, worker_id, area_office, previous_plans, end_date from cur_cp_plans "
                       "order by 1") == [
        ("PL0", None, None, "Not allocated", 0, D(2022, 5, 1)),
        ("PL1", "Safeguarding South", "W2", "South", 0, None),
        ("PL2", "Safeguarding South", "W3", "South", 1, None)]
    # involvements: allocated workers (CW) only; a change reason not in the code list is blank
    assert rows(store, "select involvement_id, change_reason from cur_involvements order by 1") == [
        ("I1", None), ("I2", "MANAGE"), ("I3", "LEFTRL"), ("I5", None), ("I6", None)]
    # workforce: qualified = an SWE number; agency flag, FTE as given, no dates
    assert rows(store, "select worker_id, is_qualified, is_agency, fte, start_date, area_office from cur_workforce "
                       "order by 1") == [
        ("W1", True, None, 1.0, None, "North"), ("W2", True, None, 0.5, None, "South"),
        ("W3", True, None, 1.0, None, "South"), ("W4", False, None, 1.0, None, "North")]
    assert ssd.registrations(store.cursor()) == {"100001": "W1", "100002": "W2", "100003": "W3"}
    warnings = text(result.warnings)
    assert '2 with another role were left out ("FSW": 2)' in warnings
    assert "1 involvement(s) give a change reason that is not one of the codes" in warnings
    codes = [w.code for w in result.warnings]  # each with its code (docs/extract-format.md)
    assert {"ssd_read", "ssd_other_roles", "ssd_change_reason_unknown"} <= set(codes)
    assert None not in codes


def test_hand_worked_kpis(loaded):
    store, _ = loaded
    # re-referrals, March 2024: R2, R3, R4, R5 are dated in March; only R2 (P1, earlier R1 on
    # 10/06/2023, within 12 months) is a re-referral -> 1 of 4
    assert figure(store, "re_referral_pct") == (1.0, 4.0)
    # child seen: completed in March are A1 (Y), A2 (N), A5 (Y); A3 and A4 are open -> 2 of 3
    assert figure(store, "child_seen_pct") == (2.0, 3.0)
    # by a qualified worker: A1 (W1, SW100001), A2 (W2, SW100002), A5 (W4, no number) -> 2 of 3
    assert figure(store, "assessments_qualified_pct") == (2.0, 3.0)
    # 3+ workers: plans open at 31/03/2024 are PL1 (P5) and PL2 (P6). P5's allocated workers in
    # involvements open on or after 15/11/2023: W2 (I2, to 31/01/2024), W3 (I3), W1 (I5) = 3;
    # P6's: W3 only (I6) -> 1 of 2
    assert figure(store, "cp_3plus_workers_pct") == (1.0, 2.0)
    # repeat plans: only PL2 starts in March, and P6 had PL0 -> 1 of 1
    assert figure(store, "cp_repeat_pct") == (1.0, 1.0)
    # caseload stability: children with an allocated involvement open at 31/03/2024: P1 (W1 only),
    # P5 (W2 to 31/01/2024 — after 30/09/2023 — then W3 and W1), P6 (W3 only). P7's involvement is a
    # support worker's, left out -> P1 and P6 stable, 2 of 3
    assert figure(store, "caseload_stability_pct") == (2.0, 3.0)
    # the transfers sheet beside the SSD tables: T1 requested 25/03/2024, not accepted -> 1 waiting
    assert figure(store, "transfers_waiting_count")[0] == 1.0
    # no dates or agency flag from ssd_professionals: the workforce KPIs needing them stay empty
    assert figure(store, "agency_rate_pct") is None
    assert figure(store, "turnover_rate_pct") is None


def test_the_upload_says_which_kpis_stay_empty(store, tmp_path):
    mapped(store)
    extract = store.validate(workbook(tmp_path))
    assert extract.ok, text(extract.errors)
    message = next(p.message for p in extract.warnings if "stay empty" in p.message)
    for name in ("transfer_median_days", "audit_good_pct", "vacancy_rate_pct", "agency_rate_pct",
                 "turnover_rate_pct", "supervision_pct"):
        assert name in message
    assert "beside the SSD tables in the same workbook" in message


def test_unmapped_teams_are_refused_and_listed(store, tmp_path):
    from csc import uploads

    path = workbook(tmp_path)
    checked = uploads.check(store, path.read_bytes(), path.name, "ana", "analyst")  # as the Upload page checks
    assert not checked.ok
    assert "team(s) in the SSD tables have no area office yet" in text(checked.extract.errors)
    # listed for the Teams page apart from the data (issue 14: a refused file changes no figure's table)
    assert annexa_teams.team_areas(store.cursor()) == {}
    waiting = {t for (t,) in store.cursor().execute("select team from teams_awaiting_area").fetchall()}
    assert waiting == {"Assessment Team North", "Safeguarding South"}


def test_missing_ssd_columns_are_named(store, tmp_path):
    mapped(store)
    bad = [[c for c in EPISODES[0] if c != "cine_referral_date"], *[r[:2] + r[3:] for r in EPISODES[1:]]]
    extract = store.validate(workbook(tmp_path, {"ssd_cin_episodes": bad}))
    assert "lacks the column(s) cine_referral_date" in text(extract.errors)


def test_a_generated_large_set_loads_from_a_zip_of_csv_files(tmp_path):
    path = tmp_path / "ssd-export.zip"
    counts = ssd_generator.write_zip(path, children=3000, seed=7)
    with Store.open(tmp_path / "db.duckdb") as store:
        annexa.save_team_areas(store, pd.DataFrame({"team": list(TEAMS), "area_office": list(TEAMS.values())}), "t")
        assert ssd.is_ssd(path)
        result = store.import_file(path, PERIOD, user="t")
        assert result.status == "loaded", text(result.errors)[:2000]
        assert result.row_counts["referrals"] == counts["ssd_cin_episodes"]
        assert result.row_counts["assessments"] == counts["ssd_cin_assessments"]
        assert result.row_counts["cp_plans"] == counts["ssd_cp_plans"]
        assert result.row_counts["workforce"] == counts["ssd_professionals"]
        assert 0 < result.row_counts["involvements"] < counts["ssd_involvements"]  # "FSW" rows left out
        cur = store.cursor()
        # no 1900-01-01 reached the store
        assert cur.execute("select count(*) from cur_assessments where completed_date = '1900-01-01'").fetchall() == [(0,)]
        assert cur.execute("select count(*) from cur_cp_plans where end_date = '1900-01-01'").fetchall() == [(0,)]
        assert figure(store, "re_referral_pct") is not None


def test_extract_sheets_named_like_ssd_tables_without_the_prefix_are_not_ssd(tmp_path):
    path = write_xlsx(tmp_path / "extract.xlsx", {"cp_plans": [["cp_plan_id", "child_id", "start_date", "area_office"]],
                                                  "involvements": [["involvement_id"]]})
    assert not ssd.is_ssd(path)
    assert ssd.table_name("SSD CIN Episodes.csv") == "ssd_cin_episodes"

"""Data-quality checks (`queries/checks/*.sql`) and their runner (`csc.quality`), from tiny
hand-made extracts. Every extract here is for June 2011, so checks judge the records as at
Thu 30 June 2011.

Working days (wd(a, b): weekdays a < d <= b that are not bank holidays) by hand: April 2011
has bank holidays on Fri 22 (Good Friday), Mon 25 (Easter Monday) and Fri 29 (royal wedding);
May on Mon 2 and Mon 30. May 2011 has 20 working days, June 2011 has 22.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from csc import quality

AS_OF_IMPORT = dt.datetime(2011, 7, 5, 9, 0)
WORKFORCE = ["worker_id", "area_office", "team", "is_qualified", "is_agency", "fte", "start_date", "end_date"]
ASSESSMENT = ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "child_seen",
              "area_office", "worker_id"]
INVOLVEMENT = ["involvement_id", "child_id", "worker_id", "start_date", "end_date", "area_office"]
CP_PLAN = ["cp_plan_id", "child_id", "start_date", "end_date", "area_office"]
TRANSFER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
REFERRAL = ["referral_id", "child_id", "referral_date", "area_office"]
ESTABLISHMENT = ["team", "area_office", "funded_fte"]


def day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def worker(wid, team="North 1", qualified="Y", agency="N", end=None, area="North"):
    return [wid, area, team, qualified, agency, 1.0, day("2010-01-01"), day(end)]


def june(load, sheets):
    return load(sheets, period="2011-06", imported_at=AS_OF_IMPORT)


def found(store, check: str) -> pd.DataFrame:
    return quality.rows(store.cursor(), quality.get(check))


def ids(store, check: str) -> list[str]:
    return sorted(found(store, check)["record_id"])


# --- the registry ------------------------------------------------------------------------


def test_every_check_file_declares_title_severity_period_and_description():
    checks = quality.registry()
    assert len(checks) >= 8
    for name, check in checks.items():
        assert check.path.stem == name
        assert check.severity in quality.SEVERITIES
        assert check.title and check.description
        assert check.period != quality.Check.period, f"{name} does not say what its period is"


def test_registry_lists_errors_before_warnings():
    severities = [c.severity for c in quality.registry().values()]
    assert severities == sorted(severities, key=quality.SEVERITIES.index)


def test_every_check_returns_the_required_columns_even_with_no_data(store):
    cur = store.cursor()
    for check in quality.registry().values():
        df = quality.rows(cur, check)
        assert df.empty
        assert set(quality.REQUIRED_COLUMNS) <= set(df.columns), check.name


def test_a_header_with_an_unknown_severity_is_refused(tmp_path):
    path = tmp_path / "odd.sql"
    path.write_text("-- check: odd\n-- title: Odd\n-- severity: fatal\n-- description: x\nselect 1\n")
    with pytest.raises(ValueError, match="severity"):
        quality.parse_check(path)


def test_a_header_naming_another_check_is_refused(tmp_path):
    path = tmp_path / "odd.sql"
    path.write_text("-- check: even\n-- title: Odd\n-- severity: error\n-- description: x\nselect 1\n")
    with pytest.raises(ValueError, match="even"):
        quality.parse_check(path)


# --- workers missing from the workforce sheet ---------------------------------------------


def test_assessments_by_an_unknown_worker_are_flagged_but_blank_workers_are_not(store, load):
    june(load, {
        "Workforce": [WORKFORCE, worker("W1")],
        "Assessments": [ASSESSMENT,
                        ["A1", "C1", "Initial", day("2011-06-01"), day("2011-06-03"), "Y", "North", "W1"],
                        ["A2", "C2", "Initial", day("2011-05-16"), None, None, "South", "W9"],
                        ["A3", "C3", "Initial", day("2011-06-01"), None, None, "North", None]],
    })
    rows = found(store, "assessment_worker_unknown")
    assert list(rows["record_id"]) == ["A2"]
    assert rows["period"].iloc[0] == "2011-05"  # the month the assessment started
    assert rows["area"].iloc[0] == "South"
    assert "W9" in rows["detail"].iloc[0]


def test_involvements_with_an_unknown_worker_are_flagged(store, load):
    june(load, {
        "Workforce": [WORKFORCE, worker("W1")],
        "Involvements": [INVOLVEMENT,
                         ["I1", "C1", "W1", day("2011-01-10"), None, "North"],
                         ["I2", "C2", "W7", day("2011-02-14"), None, "North"]],
    })
    rows = found(store, "involvement_worker_unknown")
    assert list(rows["record_id"]) == ["I2"]
    assert rows["period"].iloc[0] == "2011-02"


# --- open involvements with no activity ---------------------------------------------------


def test_open_involvements_quiet_for_over_12_months_are_flagged(store, load):
    june(load, {
        "Involvements": [INVOLVEMENT,
                         # open since March 2010, nothing recorded for C1 at all: quiet since 1 March 2010
                         ["I1", "C1", "W1", day("2010-03-01"), None, "North"],
                         # C2 was referred on 15 Sep 2010: active within the 12 months to 30 June 2011
                         ["I2", "C2", "W1", day("2010-03-01"), None, "North"],
                         # C3's last activity, a referral on 1 May 2010, is more than 12 months before 30 June
                         ["I3", "C3", "W1", day("2010-01-01"), None, "South"],
                         # C4 is on a child protection plan open at 30 June 2011: not quiet
                         ["I4", "C4", "W1", day("2010-01-01"), None, "North"],
                         # closed: not open at 30 June 2011
                         ["I5", "C5", "W1", day("2010-01-01"), day("2011-01-01"), "North"],
                         # open less than 12 months
                         ["I6", "C6", "W1", day("2011-01-01"), None, "North"]],
        "Referrals": [REFERRAL,
                      ["R2", "C2", day("2010-09-15"), "North"],
                      ["R3", "C3", day("2010-05-01"), "South"]],
        "CP Plans": [CP_PLAN, ["P4", "C4", day("2010-02-01"), None, "North"]],
    })
    rows = found(store, "involvement_no_recent_activity").set_index("record_id")
    assert sorted(rows.index) == ["I1", "I3"]
    # the month it passed 12 months without activity
    assert rows.loc["I1", "period"] == "2011-03"
    assert rows.loc["I3", "period"] == "2011-05"
    assert rows.loc["I3", "last_activity_date"] == pd.Timestamp("2010-05-01")


# --- child protection plans -----------------------------------------------------------------


def test_plans_open_more_than_2_years_are_flagged_and_exactly_2_years_is_not(store, load):
    june(load, {
        "CP Plans": [CP_PLAN,
                     ["P1", "C1", day("2009-06-01"), None, "North"],  # 2 years on 1 June 2011
                     ["P2", "C2", day("2009-07-01"), None, "North"],  # 2 years only on 1 July 2011
                     ["P3", "C3", day("2009-01-01"), day("2011-05-01"), "North"],  # ended
                     ["P4", "C4", day("2009-06-30"), None, "South"]],  # exactly 2 years on 30 June 2011
    })
    rows = found(store, "cp_plan_over_2_years")
    assert list(rows["record_id"]) == ["P1"]
    assert rows["period"].iloc[0] == "2011-06"  # the month it reached 2 years


def test_children_on_a_plan_with_no_open_involvement_are_flagged(store, load):
    june(load, {
        "CP Plans": [CP_PLAN,
                     ["P1", "C1", day("2011-03-01"), None, "North"],
                     ["P2", "C2", day("2011-04-01"), None, "South"],
                     ["P3", "C3", day("2011-01-01"), day("2011-05-01"), "North"]],
        "Involvements": [INVOLVEMENT,
                         ["I1", "C1", "W1", day("2011-02-01"), None, "North"],
                         ["I2", "C2", "W1", day("2011-02-01"), day("2011-06-10"), "South"]],
    })
    rows = found(store, "cp_plan_no_allocated_worker")
    assert list(rows["record_id"]) == ["P2"]
    assert rows["period"].iloc[0] == "2011-04"


# --- assessments ------------------------------------------------------------------------------


def test_assessments_open_more_than_45_working_days_counting_bank_holidays(store, load):
    june(load, {
        "Assessments": [ASSESSMENT,
                        # Wed 20 Apr: Thu 21, Tue 26-Thu 28 (3), May 20, June 22 = 46 -> flagged
                        ["A1", "C1", "Single", day("2011-04-20"), None, None, "North", None],
                        # Thu 21 Apr: 3 + 20 + 22 = 45 -> not more than 45
                        ["A2", "C2", "Single", day("2011-04-21"), None, None, "North", None],
                        # Thu 28 Apr: (29 is a bank holiday) 20 + 22 = 42
                        ["A3", "C3", "Core", day("2011-04-28"), None, None, "North", None],
                        # completed: not open
                        ["A4", "C4", "Core", day("2011-01-04"), day("2011-03-01"), "Y", "North", None]],
    })
    rows = found(store, "assessment_open_over_45_days")
    assert list(rows["record_id"]) == ["A1"]
    assert rows["working_days_open"].iloc[0] == 46
    assert rows["period"].iloc[0] == "2011-04"


def test_completed_assessments_without_child_seen_are_flagged(store, load):
    june(load, {
        "Assessments": [ASSESSMENT,
                        ["A1", "C1", "Initial", day("2011-06-01"), day("2011-06-03"), None, "North", None],
                        ["A2", "C2", "Initial", day("2011-06-01"), day("2011-06-03"), "N", "North", None],
                        ["A3", "C3", "Initial", day("2011-06-01"), None, None, "North", None]],
    })
    rows = found(store, "assessment_child_seen_blank")
    assert list(rows["record_id"]) == ["A1"]
    assert rows["period"].iloc[0] == "2011-06"  # the month it was completed


# --- transfers ----------------------------------------------------------------------------------


def test_transfers_waiting_more_than_20_working_days_at_the_month_end(store, load):
    june(load, {
        "Transfers": [TRANSFER,
                      # Wed 1 June -> Thu 30 June: 21 working days -> flagged
                      ["T1", "C1", "IAT", "North 1", day("2011-06-01"), None, "North"],
                      # Thu 2 June: 20 -> not more than 20
                      ["T2", "C2", "IAT", "North 1", day("2011-06-02"), None, "North"],
                      # accepted on 5 July, after the month end: still waiting at 30 June, 19 + 22 = 41
                      ["T3", "C3", "IAT", "South 1", day("2011-05-03"), day("2011-07-05"), "South"],
                      # accepted in time
                      ["T4", "C4", "IAT", "South 1", day("2011-05-03"), day("2011-05-04"), "South"]],
    })
    rows = found(store, "transfer_waiting_over_20_days").set_index("record_id")
    assert sorted(rows.index) == ["T1", "T3"]
    assert rows.loc["T1", "working_days_waiting"] == 21
    assert rows.loc["T3", "working_days_waiting"] == 41
    assert rows.loc["T3", "period"] == "2011-05"  # the month it was requested


# --- areas and teams against the establishment ------------------------------------------------


def test_referrals_from_an_area_not_on_the_establishment_list_are_flagged(store, load):
    june(load, {
        "Establishment": [ESTABLISHMENT, ["North 1", "North", 10], ["South 1", "South", 8]],
        "Referrals": [REFERRAL,
                      ["R1", "C1", day("2011-06-01"), "North"],
                      ["R2", "C2", day("2011-06-02"), "Nrth"]],
    })
    rows = found(store, "referral_area_unknown")
    assert list(rows["record_id"]) == ["R2"]
    assert rows["area"].iloc[0] == "Nrth"


def test_referral_areas_are_not_checked_without_an_establishment_list(store, load):
    june(load, {"Referrals": [REFERRAL, ["R2", "C2", day("2011-06-02"), "Nrth"]]})
    assert ids(store, "referral_area_unknown") == []


def test_qualified_permanent_workers_outside_every_establishment_team_are_flagged(store, load):
    june(load, {
        "Establishment": [ESTABLISHMENT, ["North 1", "North", 10]],
        "Workforce": [WORKFORCE,
                      worker("W1", team="North 1"),
                      worker("W2", team="Nowhere"),
                      worker("W3", team="Nowhere", agency="Y"),
                      worker("W4", team="Nowhere", qualified="N"),
                      worker("W5", team=None),
                      worker("W6", team="Nowhere", end="2011-05-31")],
    })
    rows = found(store, "workforce_team_not_in_establishment").set_index("record_id")
    assert sorted(rows.index) == ["W2", "W5"]
    assert rows.loc["W5", "detail"] == "No team recorded"
    assert rows.loc["W2", "period"] == "2011-06"  # the extract the row came from


# --- the runner ------------------------------------------------------------------------------------


@pytest.fixture
def two_problems(store, load):
    """Two unknown-worker assessments (North, started May and June) and one in South (June)."""
    june(load, {
        "Workforce": [WORKFORCE, worker("W1")],
        "Assessments": [ASSESSMENT,
                        ["A1", "C1", "Initial", day("2011-05-16"), day("2011-05-17"), "Y", "North", "W8"],
                        ["A2", "C2", "Initial", day("2011-06-06"), day("2011-06-07"), "Y", "North", "W8"],
                        ["A3", "C3", "Initial", day("2011-06-06"), day("2011-06-07"), "Y", "South", "W9"]],
    })
    return store


def test_counts_are_per_check_and_period(two_problems):
    counts = quality.counts(two_problems.cursor())
    mine = counts[counts["check"] == "assessment_worker_unknown"].set_index("period")["count"].to_dict()
    assert mine == {"2011-05": 1, "2011-06": 2}
    assert counts[counts["check"] != "assessment_worker_unknown"].empty


def test_counts_follow_the_area_and_period_filters(two_problems):
    cur = two_problems.cursor()
    north = quality.counts(cur, areas=("North",))
    assert north["count"].sum() == 2
    june_only = quality.counts(cur, period_from="2011-06", period_to="2011-06")
    assert june_only["count"].sum() == 2
    assert list(quality.rows(cur, quality.get("assessment_worker_unknown"), areas=("South",))["record_id"]) == ["A3"]


def test_fill_months_gives_zero_for_months_with_nothing(two_problems):
    counts = quality.counts(two_problems.cursor())
    filled = quality.fill_months(counts, "assessment_worker_unknown", ["2011-04", "2011-05", "2011-06"])
    assert filled["count"].tolist() == [0, 1, 2]


def test_summary_has_one_row_per_check_with_totals_in_and_out_of_range(two_problems):
    counts = quality.counts(two_problems.cursor())
    summary = quality.summary(counts, ["2011-06"]).set_index("check")
    assert len(summary) == len(quality.registry())
    row = summary.loc["assessment_worker_unknown"]
    assert (row["total"], row["in_range"], row["latest"], row["trend"]) == (3, 2, 2, [2])
    assert summary.drop(index="assessment_worker_unknown")["total"].sum() == 0


def test_finding_names_the_peak_month_and_what_period_means():
    check = quality.get("transfer_waiting_over_20_days")
    over_time = pd.DataFrame({"period": ["2011-04", "2011-05", "2011-06"], "count": [1, 3, 0]})
    assert quality.finding(check, over_time) == (
        "Transfers waiting more than 20 working days to be accepted: 4 in these months, most (3) from May 2011 "
        "(the month the transfer was requested)"
    )
    # not most of them: the busiest month, or months (a review read "224 …, most (16) from November 2010")
    spread = pd.DataFrame({"period": ["2011-04", "2011-05", "2011-06"], "count": [2, 3, 2]})
    assert quality.finding(check, spread).endswith(": 7 in these months; the most in one month was 3, in May 2011 "
                                                   "(the month the transfer was requested)")
    assert quality.finding(check, spread.assign(count=[3, 3, 1])).endswith(
        ": 7 in these months; the most in one month was 3, in April 2011 and May 2011 (the month the transfer was "
        "requested)")
    assert quality.finding(check, spread.assign(count=[2, 2, 2])).endswith(
        ": 6 in these months; the most in one month was 2, in April 2011 and 2 other months (the month the transfer "
        "was requested)")
    none = over_time.assign(count=0)
    assert quality.finding(check, none).endswith(": none in these months")


def test_the_checks_files_are_read_once_per_data_version_in_the_dashboard_and_at_once_elsewhere(tmp_path, monkeypatch):
    """As the KPIs' (`kpis.per_files_key`): a page view looks at no file; an edited check is seen
    when the data version next moves, and at once outside the dashboard."""
    import shutil

    from csc import config, kpis
    from tests.conftest import retitle

    queries = tmp_path / "queries"
    shutil.copytree(config.QUERIES, queries)
    monkeypatch.setenv("CSC_QUERIES", str(queries))
    name = next(iter(quality.registry()))
    path = queries / "checks" / f"{name}.sql"
    before = quality.get(name).title

    version = ["db@1"]
    monkeypatch.setattr(kpis, "files_key", lambda: version[0])
    monkeypatch.setattr(quality, "_by_key", None)
    assert quality.get(name).title == before
    retitle(path, "Edited")
    looked = []
    monkeypatch.setattr(quality, "_read_registry", lambda folder: looked.append(folder) or {})
    assert quality.get(name).title == before  # the same data version: no file looked at
    assert looked == []
    monkeypatch.undo()  # the real reader, outside the dashboard again
    monkeypatch.setenv("CSC_QUERIES", str(queries))
    monkeypatch.setattr(kpis, "files_key", lambda: version[0])
    version[0] = "db@2"  # an import, a rollback, a refresh
    assert quality.get(name).title == "Edited"
    monkeypatch.setattr(kpis, "files_key", None)  # the command line, the tests
    retitle(path, "Edited again")
    assert quality.get(name).title == "Edited again"

"""Assessment KPIs: assessments_qualified_pct (A4), assessments_timely_pct and child_seen_pct (S2).

April 2011: Fri 1 (M0), Good Friday 22, Easter Monday 25, royal wedding Fri 29, Sat 30 (M1).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from csc import kpis

ASSESSMENTS = [
    "assessment_id",
    "child_id",
    "assessment_type",
    "start_date",
    "completed_date",
    "child_seen",
    "area_office",
    "team",
    "worker_id",
]
WORKFORCE = ["worker_id", "area_office", "team", "is_qualified", "is_agency", "fte", "start_date", "end_date"]
AFTER_APRIL = dt.datetime(2011, 5, 10, 9, 0)


def day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def assessment(aid, kind, start, completed, area="North", worker=None, seen=None):
    return [aid, f"C-{aid}", kind, day(start), day(completed), seen, area, f"{area} Team", worker]


def worker(wid, qualified, agency="N", area="North"):
    return [wid, area, f"{area} Team", qualified, agency, 1, day("2010-01-04"), None]


def figures(store, kpi):
    """{(period, area or None for all areas): result row} as the dashboard reads them."""
    df = kpis.results(store.cursor(), kpi=kpi)
    return {(r.period, None if pd.isna(r.area) else r.area): r for r in df.itertuples(index=False)}


# --- assessments_qualified_pct --------------------------------------------------------------

QUALIFIED = {
    "Workforce": [
        WORKFORCE,
        worker("W1", "Y"),
        worker("W2", "N"),
        worker("W3", "Y", agency="Y", area="South"),  # agency, but qualified
    ],
    "Assessments": [
        ASSESSMENTS,
        assessment("A1", "Initial", "2011-03-25", "2011-04-01", "North", "W1"),  # M0, qualified
        assessment("A2", "Core", "2011-03-01", "2011-04-30", "North", "W2"),  # M1, unqualified
        assessment("A3", "Initial", "2011-04-05", "2011-04-15", "North", "W9"),  # unknown worker: left out
        assessment("A4", "Initial", "2011-04-05", "2011-04-15", "South", None),  # no worker: left out
        assessment("A5", "Single", "2011-04-05", "2011-04-20", "South", "W3"),  # qualified
        assessment("A6", "Initial", "2011-04-26", "2011-05-01", "South", "W2"),  # day after M1: May
        assessment("A7", "Initial", "2011-04-26", None, "South", "W1"),  # not completed
        assessment("A8", "Initial", "2011-03-21", "2011-03-31", "South", "W2"),  # March, unqualified
    ],
}


def test_qualified_share_of_assessments_with_a_known_worker(store, load):
    result = load(QUALIFIED, period="2011-04", imported_at=AFTER_APRIL)
    assert any("W9" in w.message for w in result.warnings)  # the unknown worker is flagged on import
    got = figures(store, "assessments_qualified_pct")
    # April, known workers: A1 (W1 yes), A2 (W2 no), A5 (W3 yes) -> 2 of 3
    assert (got[("2011-04", None)].numerator, got[("2011-04", None)].denominator) == (2, 3)
    # North: A1, A2 -> 50 (A3's worker unknown); South: A5 -> 100 (A4 has no worker)
    assert got[("2011-04", "North")].value == 50
    assert got[("2011-04", "South")].value == 100


def test_qualified_month_end_boundary(store, load):
    load(QUALIFIED, period="2011-04", imported_at=AFTER_APRIL)
    got = figures(store, "assessments_qualified_pct")
    # March: A8 only (South, unqualified) -> 0 of 1; North nothing -> no row
    assert (got[("2011-03", None)].numerator, got[("2011-03", None)].denominator) == (0, 1)
    assert ("2011-03", "North") not in got


def test_worker_listed_by_a_later_workforce_sheet_becomes_known(store, load):
    load(QUALIFIED, period="2011-04", imported_at=AFTER_APRIL)
    load({"Workforce": [WORKFORCE, worker("W9", "Y")]}, period="2011-05", imported_at=dt.datetime(2011, 6, 8))
    got = figures(store, "assessments_qualified_pct")
    # April now counts A3 too (W9 qualified): 3 of 4; North 2 of 3
    assert (got[("2011-04", None)].numerator, got[("2011-04", None)].denominator) == (3, 4)
    assert (got[("2011-04", "North")].numerator, got[("2011-04", "North")].denominator) == (2, 3)


def test_worker_qualification_corrected_by_a_later_import(store, load):
    load(QUALIFIED, period="2011-04", imported_at=AFTER_APRIL)
    fix = load({"Workforce": [WORKFORCE, worker("W2", "Y")]}, period="2011-05", imported_at=dt.datetime(2011, 6, 8))
    got = figures(store, "assessments_qualified_pct")
    # W2 is now qualified: April A1, A2, A5 all qualified -> 3 of 3
    assert (got[("2011-04", None)].numerator, got[("2011-04", None)].denominator) == (3, 3)
    store.rollback(fix.import_id)
    got = figures(store, "assessments_qualified_pct")
    assert (got[("2011-04", None)].numerator, got[("2011-04", None)].denominator) == (2, 3)


# --- assessments_timely_pct -----------------------------------------------------------------


def test_timely_uses_the_limit_for_each_type_in_working_days(store, load):
    load(
        {
            "Assessments": [
                ASSESSMENTS,
                # Initial, Mon 11 -> Thu 21 Apr: 12-15 (4), 18-21 (8) -> 8 > 7 -> late
                assessment("A1", "Initial", "2011-04-11", "2011-04-21", "North"),
                # Initial, Thu 14 -> Wed 27 Apr: Fri 15 (1), 18-21 (5), (Good Fri, Easter Mon), 26, 27 (7)
                # -> exactly 7 -> timely (9 if the bank holidays were ignored)
                assessment("A2", "Initial", "2011-04-14", "2011-04-27", "North"),
                # Initial started and completed on Fri 1 Apr (M0): 0 -> timely
                assessment("A3", "Initial", "2011-04-01", "2011-04-01", "North"),
                # Core, Tue 1 Mar -> Fri 29 Apr: March 2-31 = 22; April 1 (23), 4-8 (28), 11-15 (33),
                # 18-21 (37), 26-28 (40), wedding day not counted -> 40 > 35 -> late
                assessment("A4", "Core", "2011-03-01", "2011-04-29", "South"),
                # Core, Mon 14 Mar -> Fri 29 Apr: 15-18 (4), 21-25 (9), 28-31 (13), 1 Apr (14), 4-8 (19),
                # 11-15 (24), 18-21 (28), 26-28 (31) -> 31 <= 35 -> timely
                assessment("A5", "Core", "2011-03-14", "2011-04-29", "South"),
                # Single, Tue 1 Mar -> Sat 30 Apr (M1): 40 as for A4 -> 40 <= 45 -> timely
                assessment("A6", "Single", "2011-03-01", "2011-04-30", "South"),
                # completed Sun 1 May, the day after M1: not April
                assessment("A7", "Initial", "2011-04-28", "2011-05-01", "North"),
                # not completed: in no month
                assessment("A8", "Initial", "2011-03-01", None, "North"),
            ]
        },
        period="2011-04",
        imported_at=AFTER_APRIL,
    )
    got = figures(store, "assessments_timely_pct")
    # North: A1 late, A2, A3 timely -> 2 of 3; South: A4 late, A5, A6 timely -> 2 of 3; all 4 of 6
    assert (got[("2011-04", "North")].numerator, got[("2011-04", "North")].denominator) == (2, 3)
    assert (got[("2011-04", "South")].numerator, got[("2011-04", "South")].denominator) == (2, 3)
    assert (got[("2011-04", None)].numerator, got[("2011-04", None)].denominator) == (4, 6)
    assert got[("2011-04", None)].value == pytest.approx(200 / 3)
    # the series starts in March (first start date) but nothing was completed then: no row
    assert not any(period == "2011-03" for period, _ in got)



def test_the_records_behind_a_timely_figure_show_their_dates_and_working_days(store, load):
    """An analyst opening the records behind a timeliness figure saw ids and 0/1 only; each record
    now shows its sheet's columns and the working days that decided it (worked out by hand in the
    test above and here)."""
    load(
        {
            "Assessments": [
                ASSESSMENTS,
                assessment("A1", "Initial", "2011-04-11", "2011-04-21", "North"),  # 8 working days: late
                assessment("A2", "Initial", "2011-04-14", "2011-04-27", "North"),  # 7 (Easter): timely
                assessment("A4", "Core", "2011-03-01", "2011-04-29", "South"),  # 40: late
                assessment("A7", "Initial", "2011-04-28", "2011-05-01", "North"),  # May: not behind April
            ]
        },
        period="2011-04",
        imported_at=AFTER_APRIL,
    )
    rec = kpis.records(store.cursor(), kpis.get("assessments_timely_pct"), "2011-04")
    assert list(rec.columns[:8]) == list(kpis.RECORD_COLUMNS)
    assert list(rec.columns[8:]) == ["working_days", "assessment_type", "start_date", "completed_date", "child_seen"]
    got = {r.record_id: (r.assessment_type, str(r.start_date)[:10], str(r.completed_date)[:10], r.working_days,
                         r.numerator) for r in rec.itertuples()}
    assert got == {
        "A1": ("Initial", "2011-04-11", "2011-04-21", 8, 0),
        "A2": ("Initial", "2011-04-14", "2011-04-27", 7, 1),
        "A4": ("Core", "2011-03-01", "2011-04-29", 40, 0),
    }
    north = kpis.records(store.cursor(), kpis.get("assessments_timely_pct"), "2011-04", "North")
    assert sorted(north["record_id"]) == ["A1", "A2"] and set(north["working_days"]) == {7, 8}
    # a KPI without a records sheet keeps the eight columns
    assert list(kpis.records(store.cursor(), kpis.get("data_timeliness_days"), "2011-04").columns) == list(
        kpis.RECORD_COLUMNS)

def test_timely_skips_christmas_substitute_days(store, load):
    load(
        {
            "Assessments": [
                ASSESSMENTS,
                # Initial, Thu 23 Dec 2010 -> Thu 6 Jan 2011: Fri 24 (1), Mon 27 and Tue 28 are the
                # substitute Christmas and Boxing Days, 29-31 (4), Mon 3 Jan substitute New Year,
                # 4-6 (7) -> 7 -> timely (10 if the substitute days were counted)
                assessment("A1", "Initial", "2010-12-23", "2011-01-06"),
                # Initial, Thu 23 Dec 2010 -> Fri 7 Jan 2011: 8 -> late
                assessment("A2", "Initial", "2010-12-23", "2011-01-07"),
            ]
        },
        period="2011-01",
        imported_at=dt.datetime(2011, 2, 7),
    )
    got = figures(store, "assessments_timely_pct")
    assert (got[("2011-01", None)].numerator, got[("2011-01", None)].denominator) == (1, 2)


# --- child_seen_pct -------------------------------------------------------------------------


def test_child_seen_ignores_assessments_that_do_not_say(store, load):
    load(
        {
            "Assessments": [
                ASSESSMENTS,
                assessment("A1", "Initial", "2011-03-28", "2011-04-01", "North", seen="Y"),  # M0, seen
                assessment("A2", "Initial", "2011-04-20", "2011-04-30", "North", seen="N"),  # M1, not seen
                assessment("A3", "Initial", "2011-04-05", "2011-04-15", "North", seen=None),  # blank: out
                assessment("A4", "Core", "2011-04-05", "2011-04-15", "South", seen="Yes"),  # seen
                assessment("A5", "Initial", "2011-04-28", "2011-05-01", "South", seen="Y"),  # May
                assessment("A6", "Initial", "2011-04-28", None, "South", seen="Y"),  # not completed
                assessment("A7", "Initial", "2011-03-21", "2011-03-31", "South", seen="N"),  # March
            ]
        },
        period="2011-04",
        imported_at=AFTER_APRIL,
    )
    got = figures(store, "child_seen_pct")
    # April: A1 seen, A2 not, A4 seen -> 2 of 3; North 1 of 2; South 1 of 1
    assert (got[("2011-04", None)].numerator, got[("2011-04", None)].denominator) == (2, 3)
    assert got[("2011-04", "North")].value == 50
    assert got[("2011-04", "South")].value == 100
    # March: A7 not seen -> 0 of 1, South only
    assert got[("2011-03", "South")].value == 0
    assert ("2011-03", "North") not in got

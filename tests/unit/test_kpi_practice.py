"""Statutory practice (S2): re_referral_pct, cp_repeat_pct and cp_2years_pct.

(assessments_timely_pct and child_seen_pct are in test_kpi_assessments.py.)
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from csc import kpis

REFERRALS = ["referral_id", "child_id", "referral_date", "area_office"]
PLANS = ["cp_plan_id", "child_id", "start_date", "end_date", "previous_plans", "area_office", "team", "worker_id"]


def day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def plan(pid, child, start, end, area, previous=None):
    return [pid, child, day(start), day(end), previous, area, f"{area} Team", None]


def figures(store, kpi):
    """{(period, area or None for all areas): result row} as the dashboard reads them."""
    df = kpis.results(store.cursor(), kpi=kpi)
    return {(r.period, None if pd.isna(r.area) else r.area): r for r in df.itertuples(index=False)}


def counts(row):
    return (row.numerator, row.denominator)


# --- re_referral_pct ------------------------------------------------------------------------
# A referral dated 2012-02-29 looks back to 2012-02-29 - 12 months = 2011-02-28 (clamped).

RE_REFERRALS = {
    "Referrals": [
        REFERRALS,
        ["R1", "C1", day("2011-02-28"), "North"],
        ["R2", "C1", day("2012-02-29"), "North"],  # R1 is exactly 12 months before (clamped): repeat
        ["R3", "C2", day("2011-02-27"), "North"],
        ["R4", "C2", day("2012-02-29"), "South"],  # R3 is a day too early: not a repeat
        ["R5", "C3", day("2012-02-10"), "South"],  # same-day pair: neither is strictly before
        ["R6", "C3", day("2012-02-10"), "South"],
        ["R7", "C4", day("2012-01-15"), "North"],
        ["R8", "C4", day("2012-02-01"), "South"],  # R7 in another area still counts: repeat
        ["R9", "C5", day("2012-02-20"), "North"],  # R10, five days earlier: repeat
        ["R10", "C5", day("2012-02-15"), "North"],  # R9 is later, which does not make R10 a repeat
    ]
}


def test_re_referral_twelve_month_look_back_across_a_leap_day(store, load):
    load(RE_REFERRALS, period="2012-02", imported_at=dt.datetime(2012, 3, 9))
    got = figures(store, "re_referral_pct")
    # North in February 2012: R2 repeat, R9 repeat (R10 is 5 days earlier), R10 not -> 2 of 3
    assert counts(got[("2012-02", "North")]) == (2, 3)
    # South: R4 no, R5 no, R6 no, R8 yes -> 1 of 4
    assert counts(got[("2012-02", "South")]) == (1, 4)
    # all: 3 of 7
    assert got[("2012-02", None)].value == pytest.approx(300 / 7)


def test_re_referral_first_referrals_are_not_repeats(store, load):
    load(RE_REFERRALS, period="2012-02", imported_at=dt.datetime(2012, 3, 9))
    got = figures(store, "re_referral_pct")
    # February 2011: R1 and R3, each the child's first -> 0 of 2; January 2012: R7, first for C4
    assert counts(got[("2011-02", None)]) == (0, 2)
    assert counts(got[("2012-01", "North")]) == (0, 1)
    # months between with no referral have no row
    assert ("2011-06", None) not in got


# --- cp_repeat_pct --------------------------------------------------------------------------


def test_cp_repeat_previous_plans_or_an_earlier_plan(store, load):
    load(
        {
            "CP Plans": [
                PLANS,
                plan("P1", "C1", "2011-04-01", None, "North", previous=1),  # previous_plans >= 1
                plan("P2", "C2", "2011-04-15", None, "North", previous=0),  # earlier plan P3, any area
                plan("P3", "C2", "2010-05-01", "2011-01-01", "South"),
                plan("P4", "C3", "2011-04-30", None, "South"),  # on M1, no other plan
                plan("P5", "C4", "2011-04-20", None, "South", previous=0),  # its other plan starts later
                plan("P6", "C4", "2011-05-01", None, "North"),
                plan("P7", "C5", "2011-03-31", None, "South"),  # March
            ]
        },
        period="2011-04",
        imported_at=dt.datetime(2011, 5, 10),
    )
    got = figures(store, "cp_repeat_pct")
    # April starts: P1 yes, P2 yes (North); P4 no, P5 no (South) -> 2 of 4
    assert counts(got[("2011-04", None)]) == (2, 4)
    assert got[("2011-04", "North")].value == 100
    assert got[("2011-04", "South")].value == 0
    # March: P7 alone, not a repeat; May 2010: P3, the child's first
    assert counts(got[("2011-03", None)]) == (0, 1)
    assert counts(got[("2010-05", "South")]) == (0, 1)


# --- cp_2years_pct --------------------------------------------------------------------------


def test_cp_two_years_or_more_among_plans_ending_in_the_month(store, load):
    load(
        {
            "CP Plans": [
                PLANS,
                plan("P1", "C1", "2009-04-01", "2011-04-01", "North"),  # exactly 2 years: counts
                plan("P2", "C2", "2009-04-02", "2011-04-01", "North"),  # a day short
                plan("P3", "C3", "2008-01-01", "2011-04-30", "South"),  # ends on M1, over 3 years
                plan("P4", "C4", "2011-01-01", "2011-05-01", "South"),  # ends the day after M1
                plan("P5", "C5", "2010-06-01", None, "South"),  # still open
                plan("P6", "C6", "2010-01-01", "2011-03-31", "South"),  # ends in March, 15 months
            ]
        },
        period="2011-04",
        imported_at=dt.datetime(2011, 5, 10),
    )
    got = figures(store, "cp_2years_pct")
    # April ends: P1 yes, P2 no (North); P3 yes (South) -> 2 of 3
    assert counts(got[("2011-04", None)]) == (2, 3)
    assert got[("2011-04", "North")].value == 50
    assert got[("2011-04", "South")].value == 100
    assert counts(got[("2011-03", None)]) == (0, 1)


def test_cp_two_years_from_a_leap_day(store, load):
    load(
        {
            "CP Plans": [
                PLANS,
                # 29 Feb 2012 + 2 years = 28 Feb 2014 (clamped to the month's end): counts
                plan("P1", "C1", "2012-02-29", "2014-02-28", "North"),
                # 1 Mar 2012 + 2 years = 1 Mar 2014: ending 28 Feb 2014 is short
                plan("P2", "C2", "2012-03-01", "2014-02-28", "North"),
            ]
        },
        period="2014-02",
        imported_at=dt.datetime(2014, 3, 10),
    )
    assert counts(figures(store, "cp_2years_pct")[("2014-02", None)]) == (1, 2)

"""Action 3 KPIs (changes of social worker): cp_3plus_workers_pct and caseload_stability_pct."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from csc import kpis

PLANS = ["cp_plan_id", "child_id", "start_date", "end_date", "previous_plans", "area_office", "team", "worker_id"]
INVOLVEMENTS = ["involvement_id", "child_id", "worker_id", "start_date", "end_date", "area_office", "team"]
REFERRALS = ["referral_id", "child_id", "referral_date", "area_office"]


def day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def plan(pid, child, start, end, area):
    return [pid, child, day(start), day(end), None, area, f"{area} Team", None]


def involvement(iid, child, worker, start, end, area="North"):
    return [iid, child, worker, day(start), day(end), area, f"{area} Team"]


def figures(store, kpi):
    """{(period, area or None for all areas): result row} as the dashboard reads them."""
    df = kpis.results(store.cursor(), kpi=kpi)
    return {(r.period, None if pd.isna(r.area) else r.area): r for r in df.itertuples(index=False)}


# --- cp_3plus_workers_pct -------------------------------------------------------------------
# March 2011: M1 = Thu 31 Mar; April 2011: M1 = Sat 30 Apr.

THREE_PLUS = {
    "CP Plans": [
        PLANS,
        plan("P1", "C1", "2011-03-01", None, "North"),
        plan("P2", "C2", "2011-04-01", None, "South"),
        plan("P3", "C3", "2011-04-01", None, "South"),
        plan("P4", "C4", "2011-04-01", None, "South"),  # no involvements at all
        plan("P5", "C5", "2011-03-01", "2011-04-30", "North"),  # ends on April's M1: not open then
        plan("P6", "C6", "2011-03-01", "2011-05-01", "North"),  # ends the day after M1: open
        plan("P7", "C7", "2011-05-01", None, "North"),  # starts after April's M1
    ],
    "Involvements": [
        INVOLVEMENTS,
        # C1 (plan from 1 Mar)
        involvement("I1", "C1", "W1", "2011-01-01", "2011-02-28"),  # ended before the plan: out
        involvement("I2", "C1", "W2", "2011-01-01", "2011-03-01"),  # ended on the plan's start: in
        involvement("I3", "C1", "W3", "2011-03-02", "2011-04-10"),  # in
        involvement("I4", "C1", "W4", "2011-04-11", None),  # in from April (starts after March's M1)
        # C2 (plan from 1 Apr): W1 in North counts too (any area)
        involvement("I5", "C2", "W1", "2011-02-01", None, "North"),
        involvement("I6", "C2", "W5", "2011-04-05", None, "South"),
        involvement("I7", "C2", "W6", "2011-04-20", None, "South"),
        involvement("I8", "C2", "W7", "2011-05-01", None, "South"),  # starts after M1: out
        # C3 (plan from 1 Apr): three involvements, but only two distinct workers
        involvement("I9", "C3", "W5", "2011-04-01", "2011-04-10", "South"),
        involvement("I10", "C3", "W6", "2011-04-11", "2011-04-20", "South"),
        involvement("I11", "C3", "W5", "2011-04-21", None, "South"),
    ],
}


def load_three_plus(load):
    load(THREE_PLUS, period="2011-04", imported_at=dt.datetime(2011, 5, 10))


def test_three_plus_counts_involvements_overlapping_the_plan(store, load):
    load_three_plus(load)
    got = figures(store, "cp_3plus_workers_pct")
    # April, North open plans: P1 (W2, W3, W4 -> 3 -> counts), P6 (no involvements) -> 1 of 2
    assert (got[("2011-04", "North")].numerator, got[("2011-04", "North")].denominator) == (1, 2)
    assert got[("2011-04", "North")].value == 50


def test_three_plus_involvements_starting_after_month_end_do_not_count(store, load):
    load_three_plus(load)
    got = figures(store, "cp_3plus_workers_pct")
    # March, open plans P1, P5, P6 (all North); P1 has W2 and W3 only (W4 starts 11 Apr) -> 0 of 3
    assert (got[("2011-03", None)].numerator, got[("2011-03", None)].denominator) == (0, 3)
    assert ("2011-03", "South") not in got


def test_three_plus_any_area_and_distinct_workers(store, load):
    load_three_plus(load)
    got = figures(store, "cp_3plus_workers_pct")
    # South, April: P2 (W1 from North, W5, W6 -> 3 -> counts), P3 (W5, W6, W5 -> 2), P4 (none) -> 1 of 3
    assert (got[("2011-04", "South")].numerator, got[("2011-04", "South")].denominator) == (1, 3)
    assert got[("2011-04", "South")].value == pytest.approx(100 / 3)


def test_three_plus_all_areas_and_open_at_month_end(store, load):
    load_three_plus(load)
    got = figures(store, "cp_3plus_workers_pct")
    # April open plans: P1, P2, P3, P4, P6 (P5 ended on M1, P7 not started) -> 2 of 5
    assert (got[("2011-04", None)].numerator, got[("2011-04", None)].denominator) == (2, 5)
    assert got[("2011-04", None)].value == 40


# --- caseload_stability_pct -----------------------------------------------------------------
# August 2012: M1 = Fri 31 Aug 2012; 6 months before = 2012-02-29 (a leap day), so an
# involvement counts when it started by 31 Aug 2012 and ended after 29 Feb 2012 (or is open).

STABILITY = {
    "Referrals": [REFERRALS, ["R1", "C1", day("2012-08-01"), "North"]],  # starts the month spine
    "Involvements": [
        INVOLVEMENTS,
        # C1: W1 ended on 29 Feb (not after it) -> only W2 counts -> stable
        involvement("I1", "C1", "W1", "2011-06-01", "2012-02-29", "North"),
        involvement("I2", "C1", "W2", "2012-03-01", None, "North"),
        involvement("I3", "C1", "W9", "2012-09-03", None, "North"),  # starts after M1: out
        # C2: W1 ended 1 Mar (after 29 Feb) -> W1 and W2 -> not stable
        involvement("I4", "C2", "W1", "2011-06-01", "2012-03-01", "North"),
        involvement("I5", "C2", "W2", "2012-03-02", None, "North"),
        # C3: two involvements, the same worker -> stable
        involvement("I6", "C3", "W3", "2012-01-01", "2012-05-01", "South"),
        involvement("I7", "C3", "W3", "2012-05-02", None, "South"),
        # C4: its only involvement ends on M1 -> not open -> not counted at all
        involvement("I8", "C4", "W4", "2012-01-01", "2012-08-31", "North"),
        # C6: two open involvements; the one that started last is South's -> area South; not stable
        involvement("I9", "C6", "W6", "2012-01-10", None, "North"),
        involvement("I10", "C6", "W7", "2012-04-01", None, "South"),
        # C7: two open involvements starting the same day; the greatest id, 10 (read as a number,
        # above 9), is South's -> area South; one worker -> stable
        involvement("9", "C7", "W8", "2012-05-01", None, "North"),
        involvement("10", "C7", "W8", "2012-05-01", None, "South"),
    ],
}


def load_stability(load):
    load(STABILITY, period="2012-08", imported_at=dt.datetime(2012, 9, 10))


def test_stability_six_month_look_back_across_a_leap_day(store, load):
    load_stability(load)
    got = figures(store, "caseload_stability_pct")
    # North: C1 stable, C2 not -> 1 of 2 (C4's involvement ended on M1, so C4 is not counted)
    assert (got[("2012-08", "North")].numerator, got[("2012-08", "North")].denominator) == (1, 2)


def test_stability_area_is_the_latest_open_involvement(store, load):
    load_stability(load)
    got = figures(store, "caseload_stability_pct")
    # South: C3 stable, C6 not stable (area from I10), C7 stable (area from involvement 10) -> 2 of 3
    assert (got[("2012-08", "South")].numerator, got[("2012-08", "South")].denominator) == (2, 3)


def test_stability_all_areas(store, load):
    load_stability(load)
    got = figures(store, "caseload_stability_pct")
    # C1, C3, C7 stable of C1, C2, C3, C6, C7 -> 3 of 5 = 60
    assert (got[("2012-08", None)].numerator, got[("2012-08", None)].denominator) == (3, 5)
    assert got[("2012-08", None)].value == 60


def test_stability_each_child_counts_once(store, load):
    load_stability(load)
    cur = store.cursor()
    rows = kpis.records(cur, kpis.get("caseload_stability_pct"), "2012-08")
    # one row per child, whatever the number of open involvements (C6 and C7 have two)
    assert len(rows) == 5
    assert rows["child_id"].is_unique


# Over several months (the spine runs from January to December 2012): C1 has W1 throughout
# (North, open); W2's involvement (South) starts on 5 March and ends on 20 May, inside W1's.
# Jan, Feb: only I1 -> stable, North. Mar, Apr: I1 and I2 open, I2 started last -> South, two
# workers -> not stable. May (I2 ended 20 May, not open at 31 May) to Oct: area North again, but
# I2 ended after the day 6 months before M1 (31 Oct -> 30 Apr) -> not stable. Nov: 30 Nov -> 30
# May, I2 ended before it -> only W1 -> stable again; Dec the same.
NESTED = {
    "Referrals": [REFERRALS, ["R1", "C1", day("2012-01-02"), "North"]],  # starts the month spine
    "Involvements": [
        INVOLVEMENTS,
        involvement("I1", "C1", "W1", "2012-01-10", None, "North"),
        involvement("I2", "C1", "W2", "2012-03-05", "2012-05-20", "South"),
    ],
}


def test_stability_month_by_month_with_a_nested_involvement(store, load):
    load(NESTED, period="2012-12", imported_at=dt.datetime(2013, 1, 10))
    got = figures(store, "caseload_stability_pct")
    expected = {"2012-01": ("North", 1), "2012-02": ("North", 1), "2012-03": ("South", 0),
                "2012-04": ("South", 0), "2012-05": ("North", 0), "2012-06": ("North", 0),
                "2012-07": ("North", 0), "2012-08": ("North", 0), "2012-09": ("North", 0),
                "2012-10": ("North", 0), "2012-11": ("North", 1), "2012-12": ("North", 1)}
    for period, (area, stable) in expected.items():
        assert (got[(period, area)].numerator, got[(period, area)].denominator) == (stable, 1), period
        assert (got[(period, None)].numerator, got[(period, None)].denominator) == (stable, 1), period
    assert sorted(p for p, a in got if a is None) == sorted(expected)

"""Sustaining the workforce (S1): turnover, agency, vacancy, caseload and supervision KPIs.

Workforce rows are qualified and permanent unless a test says otherwise. A referral dated in the
first month starts the KPI series (workforce dates do not).
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from csc import kpis

WORKFORCE = ["worker_id", "area_office", "team", "is_qualified", "is_agency", "fte", "start_date", "end_date"]
REFERRALS = ["referral_id", "child_id", "referral_date", "area_office"]
INVOLVEMENTS = ["involvement_id", "child_id", "worker_id", "start_date", "end_date", "area_office", "team"]
ESTABLISHMENT = ["team", "area_office", "funded_fte"]
SUPERVISIONS = ["supervision_id", "worker_id", "supervision_date"]


def day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def worker(wid, area, fte, start="2005-01-04", end=None, qualified="Y", agency="N", team=None):
    return [wid, area, team or f"{area} Team", qualified, agency, fte, day(start), day(end)]


def spine(date):
    return [REFERRALS, ["R0", "C0", day(date), "North"]]


def figures(store, kpi):
    """{(period, area or None for all areas): result row} as the dashboard reads them."""
    df = kpis.results(store.cursor(), kpi=kpi)
    return {(r.period, None if pd.isna(r.area) else r.area): r for r in df.itertuples(index=False)}


def parts(row):
    return (pytest.approx(row.numerator), pytest.approx(row.denominator))


# --- turnover_rate_pct ----------------------------------------------------------------------
# February 2012: M1 = Wed 29 Feb 2012; 12 months before = 2011-02-28. Leavers: end date after
# 28 Feb 2011 and on or before 29 Feb 2012.

TURNOVER = {
    "Referrals": spine("2012-02-01"),
    "Workforce": [
        WORKFORCE,
        worker("W1", "North", 1.0, end="2011-02-28"),  # left on the look-back's first day: not counted
        worker("W2", "North", 0.5, end="2011-03-01"),  # leaver 0.5
        worker("W3", "North", 1.0, end="2012-02-29"),  # left on M1: leaver 1.0, not in post
        worker("W4", "North", 1.0, end="2012-03-01"),  # leaves the day after M1: in post 1.0
        worker("W5", "North", 0.8, start="2010-01-04"),  # in post 0.8
        worker("W6", "South", 1.0, end="2011-06-01", agency="Y"),  # agency: out
        worker("W7", "South", 1.0, end="2011-06-01", qualified="N"),  # unqualified: out
        worker("W8", "South", 0.6, end="2011-12-31"),  # leaver 0.6
        worker("W9", "South", 1.0),  # in post 1.0
        worker("W10", "South", 0.4, start="2012-03-01"),  # starts after M1: not in post
    ],
}


def test_turnover_twelve_month_look_back_across_a_leap_day(store, load):
    load(TURNOVER, period="2012-02", imported_at=dt.datetime(2012, 3, 9))
    got = figures(store, "turnover_rate_pct")
    # North: leavers W2 0.5 + W3 1.0 = 1.5 over in post W4 1.0 + W5 0.8 = 1.8 -> 83.3%
    assert parts(got[("2012-02", "North")]) == (1.5, 1.8)
    assert got[("2012-02", "North")].value == pytest.approx(100 * 1.5 / 1.8)
    # South: leaver W8 0.6 over W9 1.0 -> 60%
    assert got[("2012-02", "South")].value == pytest.approx(60)


def test_turnover_all_areas(store, load):
    load(TURNOVER, period="2012-02", imported_at=dt.datetime(2012, 3, 9))
    got = figures(store, "turnover_rate_pct")
    # 2.1 over 2.8 -> 75%
    assert parts(got[("2012-02", None)]) == (2.1, 2.8)
    assert got[("2012-02", None)].value == pytest.approx(75)


# --- agency_rate_pct ------------------------------------------------------------------------
# April 2011: M1 = Sat 30 Apr.


def test_agency_share_of_qualified_fte_in_post(store, load):
    load(
        {
            "Referrals": spine("2011-04-01"),
            "Workforce": [
                WORKFORCE,
                worker("W1", "North", 1.0, agency="Y"),  # agency 1.0
                worker("W2", "North", 0.5),  # permanent 0.5
                worker("W3", "North", 1.0, end="2011-04-30"),  # left on M1: not in post
                worker("W4", "North", 0.5, agency="Y", end="2011-05-01"),  # leaves after M1: agency 0.5
                worker("W5", "South", 1.0, agency="Y", qualified="N"),  # unqualified: out
                worker("W6", "South", 1.0, start="2011-05-01"),  # starts after M1: not in post
                worker("W7", "South", 0.6, agency="Y", start="2011-04-30"),  # starts on M1: agency 0.6
                worker("W8", "South", 0.4),  # permanent 0.4
            ],
        },
        period="2011-04",
        imported_at=dt.datetime(2011, 5, 10),
    )
    got = figures(store, "agency_rate_pct")
    # North: 1.5 agency of 2.0 -> 75%; South: 0.6 of 1.0 -> 60%; all: 2.1 of 3.0 -> 70%
    assert parts(got[("2011-04", "North")]) == (1.5, 2.0)
    assert got[("2011-04", "North")].value == pytest.approx(75)
    assert got[("2011-04", "South")].value == pytest.approx(60)
    assert parts(got[("2011-04", None)]) == (2.1, 3.0)
    assert got[("2011-04", None)].value == pytest.approx(70)


# --- vacancy_rate_pct -----------------------------------------------------------------------


def load_vacancy(load):
    load(
        {
            "Referrals": spine("2011-03-01"),
            "Establishment": [ESTABLISHMENT, ["N1", "North", 3.0], ["N2", "North", 1.0], ["S1", "South", 2.0]],
            "Workforce": [
                WORKFORCE,
                worker("W1", "North", 1.0, team="N1"),  # counts in N1
                worker("W2", "North", 1.0, team="N1", agency="Y"),  # agency: does not fill a post
                worker("W3", "North", 1.0, team="N1", qualified="N"),  # unqualified: does not fill
                worker("W7", "North", 1.0, team="N1", end="2011-03-31"),  # left on March's M1
                worker("W4", "South", 1.0, team="S1"),
                worker("W5", "South", 1.0, team="S1"),
                worker("W6", "South", 0.5, team="S1"),  # S1 is over its establishment
            ],
        },
        period="2011-03",
        imported_at=dt.datetime(2011, 4, 7),
    )
    # May's establishment list names N1 only; N2 and S1 keep their March rows
    load({"Establishment": [ESTABLISHMENT, ["N1", "North", 4.0]]}, period="2011-05", imported_at=dt.datetime(2011, 6, 7))


def test_vacancy_per_team_never_below_zero(store, load):
    load_vacancy(load)
    got = figures(store, "vacancy_rate_pct")
    # March: N1 3.0 - 1.0 (W1) = 2.0; N2 1.0 - 0 = 1.0; S1 max(0, 2.0 - 2.5) = 0
    # North 3.0 of 4.0 -> 75%; South 0 of 2.0 -> 0%; all 3.0 of 6.0 -> 50%
    assert parts(got[("2011-03", "North")]) == (3.0, 4.0)
    assert parts(got[("2011-03", "South")]) == (0.0, 2.0)
    assert got[("2011-03", None)].value == pytest.approx(50)


def test_vacancy_uses_the_latest_establishment_on_or_before_the_month(store, load):
    load_vacancy(load)
    got = figures(store, "vacancy_rate_pct")
    # April has no establishment list of its own: March's rows still apply -> 50%
    assert parts(got[("2011-04", None)]) == (3.0, 6.0)
    # May: N1 4.0 - 1.0 = 3.0 (May's row), N2 1.0 and S1 0 (March's rows) -> 4.0 of 7.0
    assert parts(got[("2011-05", None)]) == (4.0, 7.0)
    assert got[("2011-05", "North")].value == pytest.approx(80)


# --- caseload_avg ---------------------------------------------------------------------------


def test_caseload_per_fte_of_the_qualified_workers_holding_cases(store, load):
    load(
        {
            "Referrals": spine("2011-04-01"),
            "Workforce": [
                WORKFORCE,
                worker("W1", "North", 1.0),
                worker("W2", "North", 0.5),
                worker("W3", "South", 1.0, qualified="N"),
                worker("W4", "South", 1.0),  # qualified but holds no open case: not in the denominator
                worker("W5", "South", 0.8, agency="Y"),
            ],
            "Involvements": [
                INVOLVEMENTS,
                # the area is the worker's, not the involvement's
                ["I1", "C1", "W1", day("2011-04-01"), None, "South", "South Team"],
                ["I2", "C2", "W1", day("2011-03-01"), day("2011-04-30"), "North", "North Team"],  # ends on M1
                ["I3", "C3", "W1", day("2011-03-01"), day("2011-05-01"), "North", "North Team"],  # open
                ["I4", "C4", "W2", day("2011-04-30"), None, "North", "North Team"],  # starts on M1: open
                ["I5", "C5", "W3", day("2011-04-01"), None, "South", "South Team"],  # unqualified
                ["I6", "C6", "W9", day("2011-04-01"), None, "South", "South Team"],  # unknown worker
                ["I7", "C7", "W5", day("2011-04-01"), None, "South", "South Team"],
                ["I8", "C8", "W5", day("2011-04-02"), None, "South", "South Team"],
                ["I9", "C9", "W5", day("2011-05-01"), None, "South", "South Team"],  # starts after M1
            ],
        },
        period="2011-04",
        imported_at=dt.datetime(2011, 5, 10),
    )
    got = figures(store, "caseload_avg")
    # North: I1, I3 (W1) and I4 (W2) = 3 cases over 1.0 + 0.5 FTE -> 2.0 per FTE (no x100)
    assert parts(got[("2011-04", "North")]) == (3, 1.5)
    assert got[("2011-04", "North")].value == pytest.approx(2.0)
    # South: I7, I8 (W5) = 2 over 0.8 -> 2.5
    assert got[("2011-04", "South")].value == pytest.approx(2.5)
    # all: 5 over 2.3
    assert got[("2011-04", None)].value == pytest.approx(5 / 2.3)


# --- supervision_pct ------------------------------------------------------------------------
# April 2011: the 42 days ending Sat 30 Apr (M1 - 41) run from Sun 20 Mar (12 days of March + 30 of
# April). March: from Fri 18 Feb (11 days of February + 31 of March) to Thu 31 Mar.


def test_supervision_in_the_42_days_ending_month_end(store, load):
    load(
        {
            "Workforce": [
                WORKFORCE,
                worker("W1", "North", 0.5, start="2010-01-04"),
                worker("W2", "North", 1.0, start="2010-01-04"),
                worker("W3", "North", 1.0, start="2010-01-04"),
                worker("W4", "South", 1.0, start="2010-01-04"),
                worker("W5", "South", 1.0, start="2010-01-04"),
                worker("W6", "South", 1.0, start="2010-01-04", qualified="N"),  # unqualified: out
                worker("W7", "South", 1.0, start="2010-01-04", end="2011-04-30"),  # left on April's M1
                worker("W8", "South", 0.5, start="2010-01-04", agency="Y"),  # never supervised
            ],
            "Supervisions": [
                SUPERVISIONS,
                ["S1", "W1", day("2011-03-20")],  # first day of April's window
                ["S2", "W2", day("2011-03-19")],  # the day before April's window (in March's)
                ["S3", "W3", day("2011-04-30")],  # on April's M1
                ["S4", "W4", day("2011-05-01")],  # the day after M1
                ["S5", "W5", day("2011-04-10")],
                ["S6", "W5", day("2011-04-20")],  # a second one counts once
                ["S7", "W6", day("2011-04-20")],
            ],
        },
        period="2011-04",
        imported_at=dt.datetime(2011, 5, 10),
    )
    got = figures(store, "supervision_pct")
    # April, people not FTE: North W1 yes, W2 no, W3 yes -> 2 of 3; South W4 no, W5 yes, W8 no -> 1 of 3
    assert (got[("2011-04", "North")].numerator, got[("2011-04", "North")].denominator) == (2, 3)
    assert (got[("2011-04", "South")].numerator, got[("2011-04", "South")].denominator) == (1, 3)
    assert got[("2011-04", None)].value == pytest.approx(50)
    # March (series starts at the first supervision, 19 Mar): W1, W2 yes; W3 no -> North 2 of 3;
    # South W4, W5, W7 (still in post), W8 none -> 0 of 4; all 2 of 7
    assert (got[("2011-03", "South")].numerator, got[("2011-03", "South")].denominator) == (0, 4)
    assert (got[("2011-03", None)].numerator, got[("2011-03", None)].denominator) == (2, 7)

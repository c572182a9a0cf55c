"""Action 5: data_timeliness_days, wd(M1, the day the month's earliest still-loaded import came in).

March 2011 ends Thu 31 Mar; April 2011 ends Sat 30 Apr (Mon 2 May is May Day); May 2011 ends
Tue 31 May.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from csc import kpis

REFERRALS = ["referral_id", "child_id", "referral_date", "area_office"]


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def referrals(*rows):
    return {"Referrals": [REFERRALS, *[[rid, f"C-{rid}", day(date), area] for rid, date, area in rows]]}


def figures(store, kpi):
    """{(period, area or None for all areas): result row} as the dashboard reads them."""
    df = kpis.results(store.cursor(), kpi=kpi)
    return {(r.period, None if pd.isna(r.area) else r.area): r for r in df.itertuples(index=False)}


def test_working_days_from_month_end_to_import(store, load):
    # Thu 31 Mar -> Thu 7 Apr: Fri 1 (1), Mon 4 - Thu 7 (5) -> 5
    load(referrals(("R1", "2011-03-01", "North")), period="2011-03", imported_at=dt.datetime(2011, 4, 7, 16, 30))
    # Sat 30 Apr -> Tue 10 May: Sun 1, May Day 2, Tue 3 - Fri 6 (4), Mon 9, Tue 10 (6) -> 6
    load(referrals(("R2", "2011-04-01", "South")), period="2011-04", imported_at=dt.datetime(2011, 5, 10, 9))
    got = figures(store, "data_timeliness_days")
    assert got[("2011-03", None)].value == 5
    assert got[("2011-04", None)].value == 6


def test_all_areas_only(store, load):
    load(
        referrals(("R1", "2011-03-01", "North"), ("R2", "2011-03-02", "South")),
        period="2011-03",
        imported_at=dt.datetime(2011, 4, 7),
    )
    got = figures(store, "data_timeliness_days")
    # one row per month, for all areas together, even though the referrals name two areas
    assert set(got) == {("2011-03", None)}
    assert kpis.get("data_timeliness_days").all_areas_only


def test_import_on_the_month_end_is_zero(store, load):
    # Tue 31 May -> Tue 31 May = 0
    load(referrals(("R1", "2011-05-03", "North")), period="2011-05", imported_at=dt.datetime(2011, 5, 31, 18))
    assert figures(store, "data_timeliness_days")[("2011-05", None)].value == 0


def test_earliest_loaded_import_counts_and_rollback_moves_to_the_next(store, load):
    load(referrals(("R0", "2011-03-15", "North")), period="2011-03", imported_at=dt.datetime(2011, 4, 7))
    first = load(referrals(("R1", "2011-04-01", "North")), period="2011-04", imported_at=dt.datetime(2011, 5, 10))
    # a re-upload for April on Fri 13 May: Sat 30 Apr -> Fri 13 May = 3-6 (4) + 9-13 (9) -> 9
    load(
        referrals(("R1", "2011-04-01", "North"), ("R2", "2011-04-02", "North")),
        period="2011-04",
        imported_at=dt.datetime(2011, 5, 13),
    )
    assert figures(store, "data_timeliness_days")[("2011-04", None)].value == 6  # the first one, 10 May
    store.rollback(first.import_id)
    assert figures(store, "data_timeliness_days")[("2011-04", None)].value == 9


def test_month_with_no_import_of_its_own_has_no_value(store, load):
    # March and May are loaded; April, in between, has no extract of its own
    load(referrals(("R1", "2011-03-01", "North")), period="2011-03", imported_at=dt.datetime(2011, 4, 7))
    load(referrals(("R2", "2011-05-03", "North")), period="2011-05", imported_at=dt.datetime(2011, 6, 2))
    got = figures(store, "data_timeliness_days")
    assert set(got) == {("2011-03", None), ("2011-05", None)}
    # Tue 31 May -> Thu 2 Jun: Wed 1, Thu 2 -> 2 (Spring bank holiday was Mon 30 May, before M1)
    assert got[("2011-05", None)].value == 2


def test_rolled_back_only_import_leaves_its_month_without_value(store, load):
    march = load(referrals(("R1", "2011-03-01", "North")), period="2011-03", imported_at=dt.datetime(2011, 4, 7))
    load(referrals(("R2", "2011-03-20", "North")), period="2011-04", imported_at=dt.datetime(2011, 5, 10))
    store.rollback(march.import_id)
    got = figures(store, "data_timeliness_days")
    # March is still in the series (R2 is dated in March) but its own import is rolled back
    assert set(got) == {("2011-04", None)}

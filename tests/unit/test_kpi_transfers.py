"""Action 1 KPIs (transfers from intake to area teams), from tiny hand-made extracts.

Working days are counted by hand: wd(a, b) counts the weekdays d with a < d <= b that are not
bank holidays. April 2011: Fri 1, Good Friday 22, Easter Monday 25, royal wedding Fri 29,
Sat 30 (= M1); Sun 1 May is the day after M1 and Mon 2 May is May Day.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from csc import kpis

HEADER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
AFTER_APRIL = dt.datetime(2011, 5, 10, 9, 0)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def transfer(tid, requested, accepted, area="North"):
    return [tid, f"C-{tid}", "Intake", f"{area} Team", day(requested), day(accepted) if accepted else None, area]


def figures(store, kpi):
    """{(period, area or None for all areas): result row} as the dashboard reads them."""
    df = kpis.results(store.cursor(), kpi=kpi)
    return {(r.period, None if pd.isna(r.area) else r.area): r for r in df.itertuples(index=False)}


# --- transfer_timely_pct --------------------------------------------------------------------


def load_timely(load):
    return load(
        {
            "Transfers": [
                HEADER,
                # Fri 1 Apr -> Fri 1 Apr: 0 working days, accepted on M0 -> timely
                transfer("T1", "2011-04-01", "2011-04-01", "North"),
                # Wed 20 Apr -> Thu 28 Apr: Thu 21, (Good Fri), (Easter Mon), Tue 26, Wed 27, Thu 28 = 4 -> timely
                # (6 if the bank holidays were ignored)
                transfer("T2", "2011-04-20", "2011-04-28", "North"),
                # Mon 11 Apr -> Sat 30 Apr (M1): 12-15 (4), 18-21 (8), 26-28 (11), wedding, Sat = 11 -> late
                transfer("T3", "2011-04-11", "2011-04-30", "South"),
                # accepted Sun 1 May, the day after M1: not an April transfer
                transfer("T4", "2011-04-26", "2011-05-01", "South"),
                # Tue 29 Mar -> Thu 31 Mar (March's M1): 2 -> timely, in March
                transfer("T5", "2011-03-29", "2011-03-31", "North"),
                # not accepted: not in any month's denominator
                transfer("T6", "2011-04-05", None, "South"),
            ]
        },
        period="2011-04",
        imported_at=AFTER_APRIL,
    )


def test_timely_counts_transfers_accepted_in_the_month(store, load):
    load_timely(load)
    got = figures(store, "transfer_timely_pct")
    # April: T1 timely, T2 timely, T3 late -> 2 of 3
    april = got[("2011-04", None)]
    assert (april.numerator, april.denominator) == (2, 3)
    assert april.value == pytest.approx(200 / 3)


def test_timely_area_rows_and_all_areas_row(store, load):
    load_timely(load)
    got = figures(store, "transfer_timely_pct")
    # North April: T1, T2 both timely -> 100; South April: T3 late -> 0
    assert got[("2011-04", "North")].value == 100
    assert got[("2011-04", "South")].value == 0
    assert (got[("2011-04", "South")].numerator, got[("2011-04", "South")].denominator) == (0, 1)


def test_timely_accepted_on_month_end_counts_in_that_month(store, load):
    load_timely(load)
    got = figures(store, "transfer_timely_pct")
    # March: only T5 (accepted on 31 Mar) -> 1 of 1
    assert (got[("2011-03", None)].numerator, got[("2011-03", None)].denominator) == (1, 1)


def test_timely_month_with_no_transfers_accepted_has_no_row(store, load):
    load_timely(load)
    got = figures(store, "transfer_timely_pct")
    # South accepted nothing in March: denominator 0 -> no row at all
    assert ("2011-03", "South") not in got
    assert set(got) == {("2011-03", None), ("2011-03", "North"), ("2011-04", None), ("2011-04", "North"), ("2011-04", "South")}


def test_timely_exactly_five_working_days_is_timely(store, load):
    load(
        {
            "Transfers": [
                HEADER,
                # Mon 7 Mar -> Mon 14 Mar: 5 -> timely
                transfer("T1", "2011-03-07", "2011-03-14"),
                # Mon 7 Mar -> Tue 15 Mar: 6 -> late
                transfer("T2", "2011-03-07", "2011-03-15"),
            ]
        },
        period="2011-03",
        imported_at=dt.datetime(2011, 4, 5),
    )
    got = figures(store, "transfer_timely_pct")
    assert (got[("2011-03", None)].numerator, got[("2011-03", None)].denominator) == (1, 2)


def test_later_import_replaces_the_earlier_version_of_a_transfer(store, load):
    first = load(
        # Tue 1 Mar -> Tue 15 Mar: 2-4 (3), 7-11 (8), 14, 15 (10) -> late
        {"Transfers": [HEADER, transfer("T1", "2011-03-01", "2011-03-15")]},
        period="2011-03",
        imported_at=dt.datetime(2011, 4, 5),
    )
    assert first.import_id is not None
    assert figures(store, "transfer_timely_pct")[("2011-03", None)].value == 0
    # the April extract corrects T1: Tue 1 Mar -> Tue 8 Mar = 5 -> timely
    second = load(
        {"Transfers": [HEADER, transfer("T1", "2011-03-01", "2011-03-08")]},
        period="2011-04",
        imported_at=AFTER_APRIL,
    )
    got = figures(store, "transfer_timely_pct")
    assert (got[("2011-03", None)].numerator, got[("2011-03", None)].denominator) == (1, 1)
    # rolling the correction back makes the first version current again
    store.rollback(second.import_id)
    got = figures(store, "transfer_timely_pct")
    assert (got[("2011-03", None)].numerator, got[("2011-03", None)].denominator) == (0, 1)


def test_rolled_back_import_no_longer_counts(store, load):
    load(
        {"Transfers": [HEADER, transfer("T1", "2011-03-07", "2011-03-14")]}, period="2011-03", imported_at=dt.datetime(2011, 4, 5)
    )
    extra = load(
        {"Transfers": [HEADER, transfer("T2", "2011-03-07", "2011-03-31")]}, period="2011-03", imported_at=dt.datetime(2011, 4, 6)
    )
    # T1 timely (5), T2 late (Mon 7 -> Thu 31 Mar = 18) -> 1 of 2
    assert figures(store, "transfer_timely_pct")[("2011-03", None)].denominator == 2
    store.rollback(extra.import_id)
    got = figures(store, "transfer_timely_pct")
    assert (got[("2011-03", None)].numerator, got[("2011-03", None)].denominator) == (1, 1)


# --- transfer_median_days -------------------------------------------------------------------


def load_median(load):
    load(
        {
            "Transfers": [
                HEADER,
                transfer("T1", "2011-04-01", "2011-04-01", "North"),  # 0 (same day)
                transfer("T2", "2011-04-05", "2011-04-07", "North"),  # Tue -> Thu: 2
                transfer("T3", "2011-04-20", "2011-04-28", "North"),  # over Easter: 4
                transfer("T4", "2011-04-11", "2011-04-30", "North"),  # 11 (see above)
                transfer("T5", "2011-04-04", "2011-04-11", "South"),  # Mon -> Mon: 5
                transfer("T6", "2011-04-26", "2011-05-01", "South"),  # accepted in May: not April
            ]
        },
        period="2011-04",
        imported_at=AFTER_APRIL,
    )


def test_median_of_an_even_count_is_the_mean_of_the_two_middle_values(store, load):
    load_median(load)
    north = figures(store, "transfer_median_days")[("2011-04", "North")]
    # North: 0, 2, 4, 11 -> (2 + 4) / 2 = 3
    assert north.value == 3
    assert north.denominator == 4


def test_median_of_an_odd_count_and_all_areas(store, load):
    load_median(load)
    got = figures(store, "transfer_median_days")
    # all areas: 0, 2, 4, 5, 11 -> 4; South: 5 alone
    assert got[("2011-04", None)].value == 4
    assert got[("2011-04", None)].denominator == 5
    assert got[("2011-04", "South")].value == 5


def test_median_skips_months_with_no_acceptance(store, load):
    load(
        {"Transfers": [HEADER, transfer("T1", "2011-03-31", "2011-04-01"), transfer("T2", "2011-03-15", None)]},
        period="2011-04",
        imported_at=AFTER_APRIL,
    )
    got = figures(store, "transfer_median_days")
    # Thu 31 Mar -> Fri 1 Apr = 1; nothing accepted in March -> no March row
    assert set(got) == {("2011-04", None), ("2011-04", "North")}
    assert got[("2011-04", None)].value == 1


# --- transfers_waiting_count ----------------------------------------------------------------


def test_waiting_count_at_each_month_end(store, load):
    load(
        {
            "Transfers": [
                HEADER,
                transfer("W1", "2011-03-31", None, "North"),  # requested on March's M1, never accepted
                transfer("W2", "2011-03-01", "2011-03-31", "North"),  # accepted on M1: not waiting
                transfer("W3", "2011-03-15", "2011-04-01", "South"),  # accepted the day after March's M1
                transfer("W4", "2011-04-30", "2011-05-01", "South"),  # requested on April's M1
                transfer("W5", "2011-05-01", None, "North"),  # requested after April's M1
                transfer("W6", "2011-04-10", None, "North"),
            ]
        },
        period="2011-04",
        imported_at=AFTER_APRIL,
    )
    got = figures(store, "transfers_waiting_count")
    # end of March: W1 (North), W3 (South)
    assert got[("2011-03", None)].value == 2
    assert got[("2011-03", "North")].value == 1
    assert got[("2011-03", "South")].value == 1
    # end of April: W1, W6 (North), W4 (South)
    assert got[("2011-04", None)].value == 3
    assert got[("2011-04", "North")].value == 2
    assert got[("2011-04", "South")].value == 1
    assert pd.isna(got[("2011-04", None)].denominator)


def test_waiting_count_is_zero_not_a_gap_when_nothing_waits(store, load):
    load(
        {
            "Transfers": [
                HEADER,
                transfer("Z1", "2011-03-01", "2011-03-02", "North"),  # accepted within March: nothing waits
                transfer("Z2", "2011-04-28", None, "South"),  # requested in April, still waiting at its end
            ]
        },
        period="2011-04",
        imported_at=AFTER_APRIL,
    )
    got = figures(store, "transfers_waiting_count")
    # end of March: nothing waiting anywhere -> 0 for all areas and for each office
    assert got[("2011-03", None)].value == 0
    assert got[("2011-03", "North")].value == 0
    assert got[("2011-03", "South")].value == 0
    # end of April: Z2 in South; North has none -> 0
    assert got[("2011-04", None)].value == 1
    assert got[("2011-04", "South")].value == 1
    assert got[("2011-04", "North")].value == 0

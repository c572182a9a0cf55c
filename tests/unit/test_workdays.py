"""Working days: wd(a, b) counts the days d with a < d <= b that are Monday to Friday and not an
England and Wales bank holiday. Expected values are counted by hand from a 2010-2012 calendar."""

from __future__ import annotations

import datetime as dt

from csc import workdays
from csc.workdays import wd


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_same_day_is_zero():
    assert wd(d("2011-03-01"), d("2011-03-01")) == 0


def test_monday_to_next_monday_is_five():
    # Mon 7 Mar 2011 -> Mon 14 Mar 2011: Tue, Wed, Thu, Fri, Mon
    assert wd(d("2011-03-07"), d("2011-03-14")) == 5


def test_friday_to_monday_is_one():
    # Fri 4 Mar -> Mon 7 Mar 2011: Sat and Sun do not count
    assert wd(d("2011-03-04"), d("2011-03-07")) == 1


def test_weekend_start_counts_from_next_working_day():
    # Sat 5 Mar -> Mon 7 Mar 2011: only Mon 7 Mar
    assert wd(d("2011-03-05"), d("2011-03-07")) == 1


def test_easter_2011_is_skipped():
    # Thu 21 Apr -> Tue 26 Apr 2011: Good Friday 22, Sat 23, Sun 24, Easter Monday 25, Tue 26 -> 1
    assert wd(d("2011-04-21"), d("2011-04-26")) == 1


def test_royal_wedding_2011_is_a_bank_holiday():
    # Thu 28 Apr -> Tue 3 May 2011: wedding Fri 29, Sat 30, Sun 1, May Day Mon 2, Tue 3 -> 1
    assert wd(d("2011-04-28"), d("2011-05-03")) == 1
    assert not workdays.is_working_day(d("2011-04-29"))
    assert workdays.is_working_day(d("2011-04-28"))


def test_christmas_2010_substitute_days_are_skipped():
    # Fri 24 Dec 2010 -> Wed 29 Dec 2010: Christmas (Sat) and Boxing Day (Sun) are made up
    # on Mon 27 and Tue 28, so only Wed 29 counts.
    assert wd(d("2010-12-24"), d("2010-12-29")) == 1


def test_new_year_2011_substitute_day_is_skipped():
    # Fri 31 Dec 2010 -> Tue 4 Jan 2011: Sat 1 Jan falls on a weekend, made up on Mon 3 Jan -> 1
    assert wd(d("2010-12-31"), d("2011-01-04")) == 1


def test_one_off_diamond_jubilee_2012_comes_from_the_maintained_source():
    # Spring bank holiday moved to Mon 4 Jun 2012, plus the jubilee on Tue 5 Jun 2012
    hols = workdays.bank_holidays(2012, 2012)
    assert d("2012-06-04") in hols and d("2012-06-05") in hols
    # Fri 1 Jun -> Wed 6 Jun 2012: only Wed 6
    assert wd(d("2012-06-01"), d("2012-06-06")) == 1


def test_reversed_dates_count_negative():
    assert wd(d("2011-03-14"), d("2011-03-07")) == -5


def test_add_working_days_skips_easter():
    # one working day after Thu 21 Apr 2011 is Tue 26 Apr
    assert workdays.add_working_days(d("2011-04-21"), 1) == d("2011-04-26")
    assert workdays.add_working_days(d("2011-04-21"), 0) == d("2011-04-21")


def test_calendar_table_runs_day_by_day_without_gaps():
    table = workdays.calendar_table(d("2010-12-01"), d("2011-01-31")).to_pydict()
    days, index = table["day"], table["wd_index"]
    assert days[0] == d("2010-12-01") and days[-1] == d("2011-01-31")
    assert all(b - a == dt.timedelta(days=1) for a, b in zip(days, days[1:]))
    # the index rises by 1 on a working day and stays put otherwise
    steps = [b - a for a, b in zip(index, index[1:])]
    assert steps == [int(workdays.is_working_day(day)) for day in days[1:]]


def test_calendar_table_differences_equal_wd():
    table = workdays.calendar_table(d("2010-12-01"), d("2012-12-31")).to_pydict()
    idx = dict(zip(table["day"], table["wd_index"]))
    days = sorted(idx)
    for a in days[::7]:
        for gap in (0, 1, 3, 6, 12, 40, 200):
            b = a + dt.timedelta(days=gap)
            if b in idx:
                assert idx[b] - idx[a] == wd(a, b), (a, b)


def test_wd_counts_as_walking_day_by_day_over_decades_and_before_the_calendar():
    """wd counts with numpy's business days; walking every day between (the definition) gives
    the same on random spans, from before the calendar table's first year to the years ahead."""
    import random

    rng = random.Random(17)
    for _ in range(400):
        a = d("1984-06-01") + dt.timedelta(days=rng.randrange(365 * 60))
        b = a + dt.timedelta(days=rng.randrange(-3000, 3000))
        lo, hi = min(a, b), max(a, b)
        walked = sum(1 for n in range(1, (hi - lo).days + 1)
                     if workdays.is_working_day(lo + dt.timedelta(days=n)))
        assert wd(a, b) == (walked if b >= a else -walked), (a, b)

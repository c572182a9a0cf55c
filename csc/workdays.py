"""Working days with England and Wales bank holidays, from the maintained `holidays` package.

wd(a, b) is the number of days d with a < d <= b that are Monday to Friday and not a bank
holiday (so wd(a, a) = 0 and Monday to the next Monday = 5). In SQL it is the difference of a
cumulative working-day index held in the `calendar` table: wd(a, b) = idx(b) - idx(a).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays
import numpy as np
import pyarrow as pa

FIRST = dt.date(1990, 1, 1)
LAST_YEAR_AHEAD = 15


@lru_cache(maxsize=4)
def bank_holidays(first_year: int, last_year: int) -> frozenset[dt.date]:
    """England and Wales bank holidays, one-off and substitute days included (the years of the
    calendar table taken from its own list, worked out once a process)."""
    if FIRST.year <= first_year and last_year <= _last_day().year:
        return frozenset(d for d in _calendar_holidays(_last_day().year) if first_year <= d.year <= last_year)
    return _holidays(first_year, last_year)


@lru_cache(maxsize=2)
def _calendar_holidays(last_year: int) -> frozenset[dt.date]:
    return _holidays(FIRST.year, last_year)


def _holidays(first_year: int, last_year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=range(first_year, last_year + 1)))


def _last_day() -> dt.date:
    return dt.date(dt.date.today().year + LAST_YEAR_AHEAD, 12, 31)


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in bank_holidays(day.year, day.year)


def wd(a: dt.date, b: dt.date) -> int:
    """Working days d with a < d <= b (negative when b is before a)."""
    if b < a:
        return -wd(b, a)
    one = dt.timedelta(days=1)
    return int(np.busday_count(a + one, b + one, holidays=sorted(bank_holidays(a.year, b.year))))


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The date n working days after day (n >= 0)."""
    while n > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day


def calendar_table(first: dt.date = FIRST, last: dt.date | None = None) -> pa.Table:
    """Every day with its cumulative working-day index, for the `calendar` table."""
    last = last or _last_day()
    hols = bank_holidays(first.year, last.year)
    days, index = [], []
    n = 0
    day = first
    one = dt.timedelta(days=1)
    while day <= last:
        if day.weekday() < 5 and day not in hols:
            n += 1
        days.append(day)
        index.append(n)
        day += one
    return pa.table({"day": pa.array(days, pa.date32()), "wd_index": pa.array(index, pa.int32())})

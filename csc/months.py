"""Month arithmetic, in one place: a month is written "YYYY-MM" (a period)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import pandas as pd


def add_months(period: str, n: int) -> str:
    """The month `n` months after `period` (before it, for a negative `n`)."""
    y, m = int(period[:4]), int(period[5:7]) - 1 + n
    return f"{y + m // 12:04d}-{m % 12 + 1:02d}"


def previous_period(period: str) -> str:
    return add_months(period, -1)


def month_of(day: dt.date) -> str:
    """The month a day falls in."""
    return f"{day:%Y-%m}"


def period_start(period: str) -> dt.date:
    return dt.date(int(period[:4]), int(period[5:7]), 1)


def period_end(period: str) -> dt.date:
    """The last day of the month."""
    return period_start(add_months(period, 1)) - dt.timedelta(days=1)


def month_range(first: str, last: str) -> list[str]:
    """The months from `first` to `last`, both included (none if `last` is before `first`)."""
    out, p = [], first
    while p <= last:
        out.append(p)
        p = add_months(p, 1)
    return out


def months_between(first: str, last: str) -> list[str]:
    """The months strictly between two months."""
    return month_range(add_months(first, 1), add_months(last, -1))


_MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})(?:-\d{1,2})?")


def month_index(period: Any) -> int:
    """A month as a count of months (year × 12 + month − 1).

    Accepts "YYYY-MM" or "YYYY-MM-DD" strings, dates, datetimes, pandas Timestamps and
    Periods, and numpy datetime64.
    """
    if isinstance(period, pd.Period):
        start = period.start_time
        return start.year * 12 + start.month - 1
    if isinstance(period, np.datetime64):
        period = pd.Timestamp(period)
    if isinstance(period, dt.date):  # includes datetime and pandas Timestamp
        return period.year * 12 + period.month - 1
    if isinstance(period, str):
        match = _MONTH_RE.match(period)
        if match:
            year, month = int(match.group(1)), int(match.group(2))
            if 1 <= month <= 12:
                return year * 12 + month - 1
    raise TypeError(f"cannot read a month from {period!r}")


def period_from_index(index: int, like: Any = None) -> Any:
    """The month ``index`` in the same form as ``like`` (default: a "YYYY-MM" string)."""
    year, month0 = divmod(int(index), 12)
    month = month0 + 1
    if isinstance(like, pd.Period):
        return pd.Period(year=year, month=month, freq="M")
    if isinstance(like, pd.Timestamp):
        return pd.Timestamp(year=year, month=month, day=1)
    if isinstance(like, np.datetime64):
        return np.datetime64(f"{year:04d}-{month:02d}-01")
    if isinstance(like, dt.datetime):
        return dt.datetime(year, month, 1)
    if isinstance(like, dt.date):
        return dt.date(year, month, 1)
    if isinstance(like, str) and len(like.strip()) > 7:
        return f"{year:04d}-{month:02d}-01"
    return f"{year:04d}-{month:02d}"


def period_label(period: Any) -> str:
    """A month in words, e.g. "March 2012"."""
    year, month0 = divmod(month_index(period), 12)
    return f"{dt.date(year, month0 + 1, 1):%B} {year}"

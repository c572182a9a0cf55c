"""Month arithmetic, in one place: a month is written "YYYY-MM" (a period)."""

from __future__ import annotations

import datetime as dt


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

"""Months as counts of months, and months and values in words."""

from __future__ import annotations

import datetime as _dt
import math
import re
from typing import Any

import numpy as np
import pandas as pd

# --- months ----------------------------------------------------------------------------------

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
    if isinstance(period, _dt.date):  # includes datetime and pandas Timestamp
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
    if isinstance(like, _dt.datetime):
        return _dt.datetime(year, month, 1)
    if isinstance(like, _dt.date):
        return _dt.date(year, month, 1)
    if isinstance(like, str) and len(like.strip()) > 7:
        return f"{year:04d}-{month:02d}-01"
    return f"{year:04d}-{month:02d}"


def period_label(period: Any) -> str:
    """A month in words, e.g. "March 2012"."""
    year, month0 = divmod(month_index(period), 12)
    return f"{_dt.date(year, month0 + 1, 1):%B} {year}"


def format_value(value: float | None, unit: str = "") -> str:
    """A number for a sentence: at most one decimal place, e.g. "84%", "5.5 days".

    ``unit`` is "%", a word ("days"), or a suffix with its own space (" days").
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no value"
    text = f"{value:,.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    if text == "-0":
        text = "0"
    if not unit:
        return text
    # "%" and suffixes that bring their own space (" days") are appended as they are.
    return f"{text}{unit}" if unit.startswith(("%", " ")) else f"{text} {unit}"

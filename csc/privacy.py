"""Small-number suppression for the board view, as DfE publishes children's statistics: any
count from 1 to 5, and any rate whose numerator or denominator is from 1 to 5, is shown as `c`.
Applied to the data before it is cached, charted, hovered or downloaded."""

from __future__ import annotations

import pandas as pd

SUPPRESSED = "c"
LOW, HIGH = 1, 5


def small(series: pd.Series) -> pd.Series:
    s = pd.to_numeric(series, errors="coerce")
    return s.ge(LOW) & s.le(HIGH)


def suppress(df: pd.DataFrame, value: str = "value", numerator: str = "numerator", denominator: str = "denominator") -> pd.DataFrame:
    """Blank out small numbers: value, numerator and denominator become missing where suppressed,
    and a boolean `suppressed` column says which rows were."""
    out = df.copy()
    mask = pd.Series(False, index=out.index)
    for col in (numerator, denominator):
        if col in out:
            mask |= small(out[col])
    if value in out and numerator not in out and denominator not in out:
        mask |= small(out[value])
    out["suppressed"] = mask
    for col in (value, numerator, denominator):
        if col in out:
            out[col] = out[col].astype("float64").where(~mask)
    return out


def suppress_counts(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """For tables of plain counts: each count from 1 to 5 becomes `c` (as text)."""
    out = df.copy()
    for col in columns:
        mask = small(out[col])
        out[col] = out[col].astype(object).where(~mask, SUPPRESSED)
    return out


def suppress_kpi(df: pd.DataFrame, kpi) -> pd.DataFrame:
    """Suppress a KPI's figures for the board. A figure that counts no people — data timeliness
    is working days between a month's end and its extract — has no small numbers to hide."""
    if kpi.unit == "days" and kpi.aggregate == "sum":
        return df.assign(suppressed=False)
    return suppress(df)

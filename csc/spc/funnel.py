"""Funnel-plot limits for comparing area offices' rates."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from csc.spc.common import clean_value

# --- funnel plots ----------------------------------------------------------------------------

#: Two-sided z for 95% and 99.8% limits (normal approximation to the binomial).
Z_95 = 1.96
Z_998 = 3.09

WITHIN_95 = "within_95"
BETWEEN_95_998 = "between_95_998"
BEYOND_998 = "beyond_998"


def funnel_limits(overall_rate: float, denominators: Iterable[Any]) -> pd.DataFrame:
    """95% and 99.8% funnel limits around ``overall_rate`` (a proportion, 0–1).

    Normal approximation to the binomial: p ± z·√(p(1 − p)/n), z = 1.96 and 3.09,
    clipped to [0, 1]. A denominator of 0 (or missing) gives NaN limits.
    Columns: denominator, lower_998, lower_95, upper_95, upper_998.
    """
    p = float(overall_rate)
    if not 0 <= p <= 1:
        raise ValueError(f"overall_rate must be a proportion between 0 and 1, not {p}")
    n = np.array([np.nan if clean_value(d) is None else float(d) for d in denominators], dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.where(n > 0, np.sqrt(p * (1 - p) / n), np.nan)
    return pd.DataFrame(
        {
            "denominator": n,
            "lower_998": np.clip(p - Z_998 * se, 0, 1),
            "lower_95": np.clip(p - Z_95 * se, 0, 1),
            "upper_95": np.clip(p + Z_95 * se, 0, 1),
            "upper_998": np.clip(p + Z_998 * se, 0, 1),
        }
    )


def funnel_points(
    df: pd.DataFrame,
    area: str = "area",
    numerator: str = "numerator",
    denominator: str = "denominator",
) -> pd.DataFrame:
    """Each area's rate against funnel limits around the rate of all areas together.

    Returns one row per area with: area, numerator, denominator, rate (a proportion),
    overall_rate, lower_998, lower_95, upper_95, upper_998, band ("within_95",
    "between_95_998" or "beyond_998"; None when the denominator is 0), side ("above",
    "below", or None within the 95% limits) and label (the band in words). A rate exactly
    on a limit counts as inside it.
    """
    num = pd.to_numeric(df[numerator], errors="coerce").astype(float)
    den = pd.to_numeric(df[denominator], errors="coerce").astype(float)
    if (num < 0).any() or (den < 0).any():
        raise ValueError("numerators and denominators must not be negative")
    if (num > den).any():
        raise ValueError("a numerator is larger than its denominator")
    total_den = den[den > 0].sum()
    overall = float(num[den > 0].sum() / total_den) if total_den > 0 else float("nan")
    out = pd.DataFrame(
        {
            "area": df[area].to_numpy(),
            "numerator": num.to_numpy(),
            "denominator": den.to_numpy(),
        }
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate"] = np.where(den.to_numpy() > 0, num.to_numpy() / den.to_numpy(), np.nan)
    out["overall_rate"] = overall
    if math.isnan(overall):
        for col in ("lower_998", "lower_95", "upper_95", "upper_998"):
            out[col] = np.nan
    else:
        limits = funnel_limits(overall, out["denominator"])
        for col in ("lower_998", "lower_95", "upper_95", "upper_998"):
            out[col] = limits[col].to_numpy()

    bands, sides, labels = [], [], []
    for row in out.itertuples(index=False):
        if math.isnan(row.rate) or math.isnan(row.upper_95):
            bands.append(None)
            sides.append(None)
            labels.append("No cases this month")
            continue
        side = "above" if row.rate > row.upper_95 else "below" if row.rate < row.lower_95 else None
        if side is None:
            band, label = WITHIN_95, "Within the 95% limits"
        elif row.rate > row.upper_998 or row.rate < row.lower_998:
            band, label = BEYOND_998, f"{side.capitalize()} the 99.8% limit"
        else:
            band, label = BETWEEN_95_998, f"{side.capitalize()} the 95% limit, within 99.8%"
        bands.append(band)
        sides.append(side)
        labels.append(label)
    out["band"] = pd.Series(bands, dtype=object)
    out["side"] = pd.Series(sides, dtype=object)
    out["label"] = labels
    return out

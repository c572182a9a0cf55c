"""Straight-line trajectories towards an action's due month (Student's t without scipy)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from csc.spc.common import INCREASE, NEUTRAL, clean_value, meets_target, normalise_direction
from csc.months import month_index, period_from_index, period_label
from csc.spc.periods import format_value

# --- Student's t quantile (no scipy) -----------------------------------------------------------


def _t_two_sided_mass(t: float, df: int) -> float:
    """P(|T| < t) for Student's t with integer ``df`` (Abramowitz & Stegun 26.7.3–4)."""
    theta = math.atan(t / math.sqrt(df))
    s, c2 = math.sin(theta), math.cos(theta) ** 2
    if df == 1:
        return 2 / math.pi * theta
    if df % 2 == 1:
        total, term = 1.0, 1.0
        for k in range(1, (df - 3) // 2 + 1):
            term *= c2 * (2 * k) / (2 * k + 1)
            total += term
        return 2 / math.pi * (theta + s * math.cos(theta) * total)
    total, term = 1.0, 1.0
    for k in range(1, (df - 2) // 2 + 1):
        term *= c2 * (2 * k - 1) / (2 * k)
        total += term
    return s * total


def t_quantile(probability: float, df: int) -> float:
    """The ``probability`` quantile of Student's t with ``df`` degrees of freedom.

    Exact for integer ``df`` (closed-form CDF, solved by bisection to 1e-12).
    """
    if not 0 < probability < 1:
        raise ValueError("probability must be between 0 and 1")
    if df < 1:
        raise ValueError("df must be at least 1")
    if probability == 0.5:
        return 0.0
    mass = abs(2 * probability - 1)  # P(|T| < t)
    low, high = 0.0, 1.0
    while _t_two_sided_mass(high, df) < mass:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if _t_two_sided_mass(mid, df) < mass:
            low = mid
        else:
            high = mid
        if high - low < 1e-12:
            break
    quantile = (low + high) / 2
    return quantile if probability > 0.5 else -quantile


# --- trajectories ----------------------------------------------------------------------------

ON_TRACK = "on track"
AT_RISK = "at risk"
OFF_TRACK = "off track"
NOT_ENOUGH_DATA = "not enough data yet"
TARGET_MET = "target met"
TARGET_MISSED = "target missed"
NO_TARGET = "no target"
TRAJECTORY_STATUSES = (
    ON_TRACK,
    AT_RISK,
    OFF_TRACK,
    NOT_ENOUGH_DATA,
    TARGET_MET,
    TARGET_MISSED,
    NO_TARGET,
)
#: Fewest months since the action started needed to fit a line.
MIN_TRAJECTORY_POINTS = 3


@dataclass(frozen=True)
class ProjectedPoint:
    period: Any
    projected: float
    lower: float
    upper: float


@dataclass(frozen=True)
class Trajectory:
    """A straight-line projection towards the due month, and what it says.

    ``points`` runs from the latest month with a value to the due month (empty when no
    projection is made). ``projected``/``lower``/``upper`` are at the due month.
    ``slope`` is the change per month. ``status`` is one of TRAJECTORY_STATUSES and
    ``sentence`` says it in plain English.
    """

    status: str
    sentence: str
    points: tuple[ProjectedPoint, ...]
    projected: float | None
    lower: float | None
    upper: float | None
    slope: float | None
    intercept: float | None  # fitted value at the start month
    n_points: int  # months with a value since the start
    level: float
    start_period: Any
    due_period: Any
    target: float | None
    direction: str
    latest_period: Any = None
    latest_value: float | None = None


def trajectory(
    periods: Sequence[Any],
    values: Sequence[Any],
    start_period: Any,
    due_period: Any,
    target: float | None,
    direction: str,
    level: float = 0.8,
    unit: str = "",
    bounds: tuple[float, float] | None = None,
) -> Trajectory:
    """Will the target be met by the due month, on the trend since the action started?

    Fits a least-squares line to the months with a value from ``start_period`` on (at
    least 3 needed, else "not enough data yet") and projects it, with a ``level``
    (default 80%) prediction interval from Student's t and the residuals, to
    ``due_period``. Status, with "meets" meaning ≥ target (increase) or ≤ target (decrease):

    - "on track": the whole band at the due month meets the target (so does the projection);
    - "at risk": the band straddles the target (the projection may meet it or not);
    - "off track": the whole band misses the target.

    When the latest month with a value is at or after the due month, the latest value is
    judged instead: "target met" or "target missed". Without a target (or with a neutral
    direction) the status is "no target", with the projection before the due month and none
    from it on. ``bounds`` (e.g.
    (0, 100) for a percentage) clips the projection and its band.
    """
    direction = normalise_direction(direction)
    target = clean_value(target)
    start_m, due_m = month_index(start_period), month_index(due_period)
    like = periods[0] if len(periods) else start_period
    observed = sorted(
        (month_index(p), v) for p, v in ((p, clean_value(v)) for p, v in zip(periods, values, strict=True)) if v is not None
    )
    latest_m, latest_v = observed[-1] if observed else (None, None)
    latest_period = period_from_index(latest_m, like) if latest_m is not None else None
    has_target = target is not None and direction != NEUTRAL
    due_words = period_label(due_period)
    target_words = format_value(target, unit)

    base = dict(
        level=level,
        start_period=start_period,
        due_period=due_period,
        target=target,
        direction=direction,
        latest_period=latest_period,
        latest_value=latest_v,
    )
    no_projection = dict(points=(), projected=None, lower=None, upper=None, slope=None, intercept=None)

    if latest_m is not None and latest_m >= due_m and has_target:
        met = meets_target(latest_v, target, direction)
        verb = "meets" if met else "misses"
        sentence = (
            f"Due {due_words}: the latest value, {format_value(latest_v, unit)} in "
            f"{period_label(latest_period)}, {verb} the target of {target_words}."
        )
        return Trajectory(
            status=TARGET_MET if met else TARGET_MISSED,
            sentence=sentence,
            n_points=sum(1 for m, _ in observed if m >= start_m),
            **no_projection,
            **base,
        )

    if latest_m is not None and latest_m >= due_m:  # no target, and the due month has passed
        # (projecting "by September 2011" beside September's own value, months later, said nothing
        # true: a review)
        return Trajectory(
            status=NO_TARGET,
            sentence=(f"No target, and the due month ({due_words}) "
                      f"{'is the latest month' if latest_m == due_m else 'has passed'}: there is nothing to project."),
            n_points=sum(1 for m, _ in observed if m >= start_m),
            **no_projection,
            **base,
        )

    since = [(m - start_m, v) for m, v in observed if m >= start_m]
    if len(since) < MIN_TRAJECTORY_POINTS:
        months = "month" if len(since) == 1 else "months"
        sentence = (
            f"Not enough data yet: {len(since)} {months} with a value since the action "
            f"started in {period_label(start_period)}; at least {MIN_TRAJECTORY_POINTS} "
            "are needed to project a trend."
        )
        return Trajectory(
            status=NOT_ENOUGH_DATA,
            sentence=sentence,
            n_points=len(since),
            **no_projection,
            **base,
        )

    x = np.array([s[0] for s in since], dtype=float)
    y = np.array([s[1] for s in since], dtype=float)
    n = len(x)
    x_bar, y_bar = x.mean(), y.mean()
    sxx = float(((x - x_bar) ** 2).sum())
    slope = float(((x - x_bar) * (y - y_bar)).sum() / sxx) if sxx > 0 else 0.0
    intercept = float(y_bar - slope * x_bar)
    residuals = y - (intercept + slope * x)
    sse = float((residuals**2).sum())
    s = math.sqrt(sse / (n - 2)) if n > 2 else 0.0
    t = t_quantile((1 + level) / 2, n - 2) if n > 2 else 0.0

    def band(x0: float) -> tuple[float, float, float]:
        fit = intercept + slope * x0
        spread = (x0 - x_bar) ** 2 / sxx if sxx > 0 else 0.0
        half = t * s * math.sqrt(1 + 1 / n + spread)
        lo, hi = fit - half, fit + half
        if bounds is not None:
            fit, lo, hi = (min(max(v, bounds[0]), bounds[1]) for v in (fit, lo, hi))
        return fit, lo, hi

    first = latest_m if latest_m is not None else start_m
    points = tuple(ProjectedPoint(period_from_index(m, like), *band(m - start_m)) for m in range(min(first, due_m), due_m + 1))
    projected, lower, upper = band(due_m - start_m)
    range_words = f"{round(level * 100)}% range {format_value(lower, unit)} to {format_value(upper, unit)}"
    trend_words = (
        f"the straight-line trend of the {n} months since {period_label(start_period)} "
        f"projects {format_value(projected, unit)} by {due_words} ({range_words})"
    )

    if not has_target:
        status = NO_TARGET
        sentence = f"No target: {trend_words}."
    else:
        pessimistic, optimistic = (lower, upper) if direction == INCREASE else (upper, lower)
        if meets_target(pessimistic, target, direction):
            status = ON_TRACK
            sentence = f"On track: {trend_words}, the whole range meeting the target of {target_words}."
        elif meets_target(optimistic, target, direction):
            status = AT_RISK
            side = "meets" if meets_target(projected, target, direction) else "misses"
            sentence = f"At risk: {trend_words}; the projection {side} the target of {target_words} but the range straddles it."
        else:
            status = OFF_TRACK
            edge = "top" if direction == INCREASE else "bottom"
            sentence = f"Off track: {trend_words}; even the {edge} of the range misses the target of {target_words}."

    return Trajectory(
        status=status,
        sentence=sentence,
        points=points,
        projected=projected,
        lower=lower,
        upper=upper,
        slope=slope,
        intercept=intercept,
        n_points=n,
        **base,
    )

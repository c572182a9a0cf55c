"""Is the change real, and will the target be met?

Statistical process control (XmR charts as NHS England's "Making Data Count" and the
NHSRplotthedots R package do them), RAG ratings, funnel-plot limits for comparing area
offices, and straight-line trajectories towards an action's due month.

Plain Python and numpy (pandas only for the funnel DataFrames): no Streamlit, no plotly.
Every decision on an ambiguous point is written down in ``docs/spc.md``.

Missing values
    ``xmr`` accepts ``None`` or NaN for a month with no value. Such months are skipped:
    they take no part in the mean, the moving ranges, or the rules (the moving range and
    runs, trends and 2-of-3 windows join the values either side of the gap), and their
    point comes back with ``point_type`` and ``rule`` set to ``None``.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

# --- constants ---------------------------------------------------------------------------

#: Process limits sit this many mean moving ranges from the mean (3 / d2, d2 = 1.128).
LIMIT_FACTOR = 2.66
#: Moving ranges above this many times their mean are screened out (D4 for n = 2).
SCREEN_FACTOR = 3.267
#: Points needed in a trend (each higher, or each lower, than the one before).
TREND_LENGTH = 7
#: Points needed in a run on one side of the mean.
RUN_LENGTH = 7
#: Segments with fewer points than this have trial limits.
MIN_POINTS_FOR_LIMITS = 12
#: Evidence of a sustained shift after an action starts: this many points in a row on one
#: side of the baseline mean that form a stable process of their own (see `baseline_xmr`).
SHIFT_RUN = 7
#: A month whose denominator (cases) is below this is a small base: too few cases to read
#: month-to-month movement (see docs/spc.md).
SMALL_BASE = 10

INCREASE = "increase"
DECREASE = "decrease"
NEUTRAL = "neutral"
DIRECTIONS = (INCREASE, DECREASE, NEUTRAL)

COMMON_CAUSE = "common_cause"
SPECIAL_CAUSE_IMPROVEMENT = "special_cause_improvement"
SPECIAL_CAUSE_CONCERN = "special_cause_concern"
SPECIAL_CAUSE_NEUTRAL_HIGH = "special_cause_neutral_high"
SPECIAL_CAUSE_NEUTRAL_LOW = "special_cause_neutral_low"
POINT_TYPES = (
    COMMON_CAUSE,
    SPECIAL_CAUSE_IMPROVEMENT,
    SPECIAL_CAUSE_CONCERN,
    SPECIAL_CAUSE_NEUTRAL_HIGH,
    SPECIAL_CAUSE_NEUTRAL_LOW,
)

RULE_OUTSIDE_LIMITS = "outside_limits"
RULE_TREND = "trend"
RULE_TWO_OF_THREE = "two_of_three"
RULE_RUN = "run"
#: Rules in priority order: a point meeting several is labelled with the first.
RULES = (RULE_OUTSIDE_LIMITS, RULE_TREND, RULE_TWO_OF_THREE, RULE_RUN)

CONSISTENT_PASS = "consistent_pass"
CONSISTENT_FAIL = "consistent_fail"
INCONSISTENT = "inconsistent"
ASSURANCE_TYPES = (CONSISTENT_PASS, CONSISTENT_FAIL, INCONSISTENT)

#: Making Data Count colours.
COLOUR_IMPROVEMENT = "#289de0"  # blue
COLOUR_CONCERN = "#fab428"  # orange
COLOUR_NEUTRAL = "#361475"  # purple
COLOUR_COMMON_CAUSE = "#7B7D7D"  # grey

POINT_COLOURS = {
    COMMON_CAUSE: COLOUR_COMMON_CAUSE,
    SPECIAL_CAUSE_IMPROVEMENT: COLOUR_IMPROVEMENT,
    SPECIAL_CAUSE_CONCERN: COLOUR_CONCERN,
    SPECIAL_CAUSE_NEUTRAL_HIGH: COLOUR_NEUTRAL,
    SPECIAL_CAUSE_NEUTRAL_LOW: COLOUR_NEUTRAL,
}

_DIRECTION_ALIASES = {
    "increase": INCREASE,
    "higher": INCREASE,
    "higher_is_better": INCREASE,
    "high": INCREASE,
    "up": INCREASE,
    "decrease": DECREASE,
    "lower": DECREASE,
    "lower_is_better": DECREASE,
    "low": DECREASE,
    "down": DECREASE,
    "neutral": NEUTRAL,
    "none": NEUTRAL,
    "": NEUTRAL,
}


def normalise_direction(direction: str | None) -> str:
    """``"increase"``, ``"decrease"`` or ``"neutral"`` from a direction or its aliases.

    Accepts "higher"/"lower" (as KPI headers say it) and "up"/"down"; ``None`` is neutral.
    """
    if direction is None:
        return NEUTRAL
    key = str(direction).strip().lower().replace(" ", "_").replace("-", "_")
    if key not in _DIRECTION_ALIASES:
        raise ValueError(f"direction must be one of {DIRECTIONS} (or higher/lower), not {direction!r}")
    return _DIRECTION_ALIASES[key]


def clean_value(value: Any) -> float | None:
    """A float, or None for a missing value (None, NaN, pandas NA)."""
    if value is None:
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    number = float(value)
    return None if math.isnan(number) else number


# --- XmR ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class XmrPoint:
    """One month on an XmR chart.

    ``point_type`` is None (and ``rule`` is None) when the month has no value.
    ``mean``/``lpl``/``upl`` are those of the point's segment (``lpl``/``upl`` are None
    when the segment has fewer than two values, so no moving range).
    """

    index: int
    value: float | None
    mean: float | None
    lpl: float | None
    upl: float | None
    point_type: str | None
    rule: str | None = None
    segment: int = 0

    @property
    def is_special_cause(self) -> bool:
        return self.point_type not in (None, COMMON_CAUSE)


@dataclass(frozen=True)
class XmrSegment:
    """A stretch of months sharing one mean and one pair of limits (between rebases)."""

    start: int  # index of the first month
    stop: int  # index one past the last month
    n_values: int  # months with a value
    mean: float | None
    mean_moving_range: float | None
    lpl: float | None
    upl: float | None
    screened_moving_ranges: int  # moving ranges excluded by outlier screening
    trial: bool  # fewer than 12 values set the limits: they are trial limits
    n_fixed: int | None = None  # values that set the limits (fix_after_n_points), None = all
    carried: bool = False  # too few values of its own: the previous segment's limits carried on
    raw_lpl: float | None = None  # the limits before truncation to the measure's range
    raw_upl: float | None = None


@dataclass(frozen=True)
class Shift:
    """A sustained shift found after an action started: limits recalculated from ``index``.

    ``side`` is +1 (above the baseline mean) or -1 (below); ``baseline_mean`` the mean it
    was judged against; ``run`` the number of points of the evidence run."""

    index: int
    side: int
    baseline_mean: float
    run: int


@dataclass(frozen=True)
class XmrResult:
    """An XmR chart's numbers.

    ``mean``, ``lpl`` and ``upl`` are those of the latest segment. ``variation`` is the
    point type of the latest month with a value. ``assurance`` is None without a target
    or when ``improvement`` is neutral. ``trial_limits`` is True when any segment has
    fewer than 12 values.
    """

    mean: float | None
    lpl: float | None
    upl: float | None
    points: tuple[XmrPoint, ...]
    variation: str | None
    assurance: str | None
    trial_limits: bool
    improvement: str = INCREASE
    target: float | None = None
    segments: tuple[XmrSegment, ...] = ()
    bounds: tuple[float | None, float | None] | None = None
    #: set by `baseline_xmr`: months before the action (None: no baseline used), and the
    #: evidenced shift the limits were recalculated from (None: none yet).
    baseline_months: int | None = None
    shift: Shift | None = None

    @property
    def special_cause_indexes(self) -> list[int]:
        """Indexes of the points flagged by any rule."""
        return [p.index for p in self.points if p.is_special_cause]


def _mean(values: Sequence[float]) -> float:
    return math.fsum(values) / len(values)


def _segment_bounds(n: int, rebase_at: Iterable[int] | None) -> list[tuple[int, int]]:
    starts = {0}
    for raw in rebase_at or ():
        i = int(raw)
        if i < 0 or i >= max(n, 1):
            raise ValueError(f"rebase index {raw!r} is outside 0..{n - 1}")
        starts.add(i)
    ordered = sorted(starts)
    return [(s, ordered[k + 1] if k + 1 < len(ordered) else n) for k, s in enumerate(ordered)]


def _limits(y: Sequence[float], screen_outliers: bool) -> tuple[float | None, float | None, int]:
    """(mean, mean moving range, number of moving ranges screened out)."""
    if not y:
        return None, None, 0
    centre = _mean(y)
    if len(y) < 2:
        return centre, None, 0
    moving_ranges = [abs(y[i] - y[i - 1]) for i in range(1, len(y))]
    mean_mr = _mean(moving_ranges)
    screened = 0
    if screen_outliers:
        kept = [mr for mr in moving_ranges if mr <= SCREEN_FACTOR * mean_mr]
        screened = len(moving_ranges) - len(kept)
        mean_mr = _mean(kept)
    return centre, mean_mr, screened


def _tolerance(reference: float) -> float:
    # Means are floating-point: a value typed as exactly the mean should count as on it.
    return 1e-9 * max(1.0, abs(reference))


def _side(value: float, centre: float) -> int:
    if abs(value - centre) <= _tolerance(centre):
        return 0
    return 1 if value > centre else -1


def _flag_segment(y: Sequence[float], centre: float, lpl: float | None, upl: float | None) -> list[tuple[str | None, int]]:
    """For each value of one segment: (rule that flagged it or None, direction +1/-1/0)."""
    k = len(y)
    side = [_side(v, centre) for v in y]

    outside = [False] * k
    close = [False] * k
    if lpl is not None and upl is not None:
        near_low = centre - (centre - lpl) * 2 / 3
        near_high = centre + (upl - centre) * 2 / 3
        for i, v in enumerate(y):
            outside[i] = v > upl or v < lpl
            close[i] = not outside[i] and (v > near_high or v < near_low)

    # Trend: 7 points, each strictly higher (or lower) than the one before. A point shared by
    # two trends (the turning point) takes the direction of the later one.
    trend = [0] * k
    for end in range(TREND_LENGTH - 1, k):
        window = y[end - TREND_LENGTH + 1 : end + 1]
        steps = [b - a for a, b in zip(window, window[1:])]
        if all(s > 0 for s in steps):
            direction = 1
        elif all(s < 0 for s in steps):
            direction = -1
        else:
            continue
        for i in range(end - TREND_LENGTH + 1, end + 1):
            trend[i] = direction

    # 2 of 3: within any 3 consecutive points all on the same side of the mean, 2 or 3 beyond
    # two-thirds of the way to a limit (not beyond it); those points are flagged, not the third.
    # As NHSRplotthedots (0.2.x, its issue #143): a third point on the other side of the mean,
    # or on it, breaks the window.
    two_of_three = [False] * k
    for start in range(0, k - 2):
        window = range(start, start + 3)
        s = side[start]
        if s == 0 or any(side[i] != s for i in window):
            continue
        hits = [i for i in window if close[i]]
        if len(hits) >= 2:
            for i in hits:
                two_of_three[i] = True

    # Run: 7 or more points in a row on the same side of the mean (a point on it breaks it).
    run = [False] * k
    i = 0
    while i < k:
        j = i
        while j + 1 < k and side[j + 1] == side[i]:
            j += 1
        if side[i] != 0 and j - i + 1 >= RUN_LENGTH:
            for t in range(i, j + 1):
                run[t] = True
        i = j + 1

    flags: list[tuple[str | None, int]] = []
    for i in range(k):
        if outside[i]:
            flags.append((RULE_OUTSIDE_LIMITS, side[i]))
        elif trend[i]:
            flags.append((RULE_TREND, trend[i]))
        elif two_of_three[i]:
            flags.append((RULE_TWO_OF_THREE, side[i]))
        elif run[i]:
            flags.append((RULE_RUN, side[i]))
        else:
            flags.append((None, 0))
    return flags


def _point_type(direction: int, improvement: str) -> str:
    if direction == 0:
        return COMMON_CAUSE
    if improvement == NEUTRAL:
        return SPECIAL_CAUSE_NEUTRAL_HIGH if direction > 0 else SPECIAL_CAUSE_NEUTRAL_LOW
    better = 1 if improvement == INCREASE else -1
    return SPECIAL_CAUSE_IMPROVEMENT if direction == better else SPECIAL_CAUSE_CONCERN


def _at_bound(target: float, improvement: str, bounds: tuple[float | None, float | None] | None) -> bool:
    """Is the target the best value the measure can take (100% when higher is better, 0 when
    lower is better)?"""
    if not bounds:
        return False
    lo, hi = bounds
    edge = hi if improvement == INCREASE else lo
    return edge is not None and abs(target - edge) <= _tolerance(edge)


def assurance_type(
    target: float | None,
    lpl: float | None,
    upl: float | None,
    improvement: str,
    bounds: tuple[float | None, float | None] | None = None,
) -> str | None:
    """The assurance icon's type, as NHSRplotthedots decides it.

    Increase is better: target > upl → consistent_fail; target < lpl → consistent_pass.
    Decrease is better: the other way round. Otherwise (including a target exactly equal
    to a limit) → inconsistent. None without a target, limits, or with a neutral direction.

    A target at the measure's bound (``bounds``, e.g. 100% for a percentage where higher is
    better) cannot be beaten, only met: there a lower limit at the bound too (every value
    at 100%) is consistent_pass, not inconsistent.
    """
    improvement = normalise_direction(improvement)
    if target is None or improvement == NEUTRAL or lpl is None or upl is None:
        return None
    increasing = improvement == INCREASE
    if _at_bound(target, improvement, bounds):
        worst = lpl if increasing else upl
        if meets_target(worst, target, improvement):
            return CONSISTENT_PASS
    if target > upl:
        return CONSISTENT_FAIL if increasing else CONSISTENT_PASS
    if target < lpl:
        return CONSISTENT_PASS if increasing else CONSISTENT_FAIL
    return INCONSISTENT


def _clip(value: float | None, bounds: tuple[float | None, float | None] | None) -> float | None:
    if value is None or not bounds:
        return value
    lo, hi = bounds
    if lo is not None and value < lo:
        return float(lo)
    if hi is not None and value > hi:
        return float(hi)
    return value


def bounds_for_unit(unit: str | None) -> tuple[float | None, float | None] | None:
    """The range a measure's values (and so its limits) live in: (0, 100) for a percentage
    ("pct" or "%"), (0, None) for counts, days and rates per FTE; None for anything else."""
    if unit in ("pct", "%"):
        return (0.0, 100.0)
    if unit in ("count", "days", "per_fte", " days", " per FTE", ""):
        return (0.0, None)
    return None


def xmr(
    values: Iterable[Any],
    improvement: str = INCREASE,
    target: float | None = None,
    screen_outliers: bool = True,
    rebase_at: Iterable[int] | None = None,
    fix_after_n_points: int | None = None,
    bounds: tuple[float | None, float | None] | None = None,
) -> XmrResult:
    """An XmR chart of ``values`` (one per month, in time order).

    ``improvement``: "increase", "decrease" or "neutral" (aliases "higher"/"lower").
    ``rebase_at``: indexes where new limits start (each segment has its own mean and
    limits; moving ranges, runs, trends and 2-of-3 windows never cross a rebase).
    ``fix_after_n_points``: as NHSRplotthedots' option of that name, each segment's mean
    and limits come from its first n months only, and every month is judged against them.
    ``bounds``: (low, high) of the measure, e.g. (0, 100) for a percentage: the limits
    reported are truncated to it (the rules use the untruncated limits).
    Missing values (None/NaN) are skipped and their points have ``point_type`` None.
    """
    cleaned = [clean_value(v) for v in values]
    if fix_after_n_points is not None and int(fix_after_n_points) < 1:
        raise ValueError("fix_after_n_points must be at least 1")
    spans = _segment_bounds(len(cleaned), rebase_at)
    fixes = [None if fix_after_n_points is None else int(fix_after_n_points)] * len(spans)
    return _xmr(cleaned, improvement, target, screen_outliers, spans, fixes, bounds)


def _xmr(
    cleaned: list[float | None],
    improvement: str,
    target: Any,
    screen_outliers: bool,
    spans: list[tuple[int, int]],
    fixes: list[int | None],
    bounds: tuple[float | None, float | None] | None,
    **extra: Any,
) -> XmrResult:
    improvement = normalise_direction(improvement)
    target = clean_value(target)
    points: list[XmrPoint] = []
    segments: list[XmrSegment] = []
    for seg_no, ((start, stop), fix) in enumerate(zip(spans, fixes)):
        present = [i for i in range(start, stop) if cleaned[i] is not None]
        y = [cleaned[i] for i in present]
        fixed_rows = stop if fix is None else min(stop, start + fix)
        y_fixed = [cleaned[i] for i in present if i < fixed_rows]
        centre, mean_mr, screened = _limits(y_fixed, screen_outliers)
        raw_lpl = raw_upl = None
        carried = False
        if centre is not None and mean_mr is not None:
            raw_lpl = centre - LIMIT_FACTOR * mean_mr
            raw_upl = centre + LIMIT_FACTOR * mean_mr
        elif segments and segments[-1].raw_lpl is not None:
            # Fewer than two values of its own (a rebase in a month with no data, or at the
            # last month): the previous segment's limits carry on rather than none at all.
            prev = segments[-1]
            centre, mean_mr, raw_lpl, raw_upl, carried = prev.mean, prev.mean_moving_range, prev.raw_lpl, prev.raw_upl, True
        lpl, upl = _clip(raw_lpl, bounds), _clip(raw_upl, bounds)
        n_for_limits = segments[-1].n_values if carried else len(y_fixed)
        segments.append(
            XmrSegment(
                start=start,
                stop=stop,
                n_values=len(y),
                mean=centre,
                mean_moving_range=mean_mr,
                lpl=lpl,
                upl=upl,
                screened_moving_ranges=screened,
                trial=(segments[-1].trial if carried else n_for_limits < MIN_POINTS_FOR_LIMITS),
                n_fixed=None if fix is None else len(y_fixed),
                carried=carried,
                raw_lpl=raw_lpl,
                raw_upl=raw_upl,
            )
        )
        flags = _flag_segment(y, centre, raw_lpl, raw_upl) if y else []
        flag_at = dict(zip(present, flags))
        for i in range(start, stop):
            if cleaned[i] is None:
                points.append(XmrPoint(i, None, centre, lpl, upl, None, None, seg_no))
                continue
            rule, direction = flag_at[i]
            points.append(
                XmrPoint(
                    index=i,
                    value=cleaned[i],
                    mean=centre,
                    lpl=lpl,
                    upl=upl,
                    point_type=_point_type(direction, improvement),
                    rule=rule,
                    segment=seg_no,
                )
            )

    latest = segments[-1] if segments else None
    variation = next((p.point_type for p in reversed(points) if p.point_type), None)
    return XmrResult(
        mean=latest.mean if latest else None,
        lpl=latest.lpl if latest else None,
        upl=latest.upl if latest else None,
        points=tuple(points),
        variation=variation,
        assurance=assurance_type(target, latest.lpl if latest else None, latest.upl if latest else None,
                                 improvement, bounds),
        trial_limits=any(s.trial for s in segments),
        improvement=improvement,
        target=target,
        segments=tuple(segments),
        bounds=bounds,
        **extra,
    )


def _stable(y: Sequence[float]) -> bool:
    """Do these values look like one process: none outside their own limits, no trend?"""
    centre, mean_mr, _ = _limits(list(y), True)
    if centre is None or mean_mr is None:
        return False
    lpl, upl = centre - LIMIT_FACTOR * mean_mr, centre + LIMIT_FACTOR * mean_mr
    tol = _tolerance(centre)
    return all(lpl - tol <= v <= upl + tol for v in y) and not any(
        r == RULE_TREND for r, _ in _flag_segment(y, centre, None, None)
    )


def find_shift(values: Sequence[Any], start: int, baseline_mean: float, run: int = SHIFT_RUN) -> Shift | None:
    """The first evidenced sustained shift at or after index ``start``.

    Evidence: ``run`` (7) values in a row (months without a value skipped) on the same side
    of ``baseline_mean``, none on it, that are stable among themselves (no point outside the
    limits those ``run`` values give, no trend). The shift starts at the first of them.
    A ramp-up is not a shift: its values are not stable among themselves, so new limits wait
    until the new level has held for ``run`` months.
    """
    cleaned = [clean_value(v) for v in values]
    present = [i for i in range(max(start, 0), len(cleaned)) if cleaned[i] is not None]
    for k in range(0, len(present) - run + 1):
        idx = present[k : k + run]
        y = [cleaned[i] for i in idx]
        sides = {_side(v, baseline_mean) for v in y}
        if len(sides) != 1 or 0 in sides:
            continue
        if _stable(y):
            return Shift(index=idx[0], side=sides.pop(), baseline_mean=baseline_mean, run=run)
    return None


def baseline_xmr(
    values: Iterable[Any],
    start: int | None,
    improvement: str = INCREASE,
    target: float | None = None,
    screen_outliers: bool = True,
    bounds: tuple[float | None, float | None] | None = None,
) -> XmrResult:
    """Baseline, then evidence, then rebase: the XmR chart of an action's KPI.

    - The limits come from the months before the action started (indexes ``0..start-1``,
      the baseline) and are extended forward; the months since are judged against them.
    - Once a sustained shift is evidenced after the start (`find_shift`: 7 stable months in
      a row on one side of the baseline mean) the limits are recalculated from its first
      month (``result.shift``).
    - A baseline with fewer than 12 values gives trial limits (flagged on the segment); with
      fewer than 2 values there is no baseline, and the limits come from every month
      (``result.baseline_months`` is then 0), trial while fewer than 12.
    Without a start (``None`` or 0) this is ``xmr(values)``.
    """
    cleaned = [clean_value(v) for v in values]
    n = len(cleaned)
    if not start or start <= 0 or start >= n:
        spans = _segment_bounds(n, None)
        return _xmr(cleaned, improvement, target, screen_outliers, spans, [None] * len(spans), bounds)
    base = [v for v in cleaned[:start] if v is not None]
    if len(base) < 2:
        spans = _segment_bounds(n, None)
        return _xmr(cleaned, improvement, target, screen_outliers, spans, [None], bounds, baseline_months=0)
    base_mean = _mean(base)
    shift = find_shift(cleaned, start, base_mean)
    if shift is None:
        return _xmr(cleaned, improvement, target, screen_outliers, [(0, n)], [start], bounds,
                    baseline_months=start)
    return _xmr(cleaned, improvement, target, screen_outliers, [(0, shift.index), (shift.index, n)],
                [start, None], bounds, baseline_months=start, shift=shift)


def small_base(denominator: Any, threshold: int = SMALL_BASE) -> bool:
    """Is a month's denominator (its number of cases) below the small-base threshold? A
    missing denominator is not a small base (the measure has none, e.g. a count)."""
    d = clean_value(denominator)
    return d is not None and d < threshold


# --- icons in words ------------------------------------------------------------------------


@dataclass(frozen=True)
class Icon:
    """A Making Data Count icon in plain words.

    ``code`` names the icon (e.g. "improvement_high"), ``label`` says what it means,
    ``letter`` is the letter on the icon ("H", "L", "P", "F", "" for common cause, "?" for
    hit and miss), ``arrow`` an arrow for text ("↑", "↓" or ""), ``colour`` its colour.
    """

    code: str
    label: str
    letter: str
    arrow: str
    colour: str

    @property
    def short(self) -> str:
        """A short symbol usable in text, e.g. "↑H", "P" or "~" for common cause."""
        return (self.arrow + self.letter) or "~"


_VARIATION_ICONS = {
    "common_cause": ("Common cause – no significant change", "", "", COLOUR_COMMON_CAUSE),
    "improvement_high": (
        "Special cause of improving nature – higher values",
        "H",
        "↑",
        COLOUR_IMPROVEMENT,
    ),
    "improvement_low": (
        "Special cause of improving nature – lower values",
        "L",
        "↓",
        COLOUR_IMPROVEMENT,
    ),
    "concern_high": (
        "Special cause of concerning nature – higher values",
        "H",
        "↑",
        COLOUR_CONCERN,
    ),
    "concern_low": (
        "Special cause of concerning nature – lower values",
        "L",
        "↓",
        COLOUR_CONCERN,
    ),
    "neutral_high": (
        "Special cause of neither improving nor concerning nature – higher values",
        "H",
        "↑",
        COLOUR_NEUTRAL,
    ),
    "neutral_low": (
        "Special cause of neither improving nor concerning nature – lower values",
        "L",
        "↓",
        COLOUR_NEUTRAL,
    ),
}

_ASSURANCE_ICONS = {
    CONSISTENT_PASS: ("Variation indicates consistently passing the target", "P", COLOUR_IMPROVEMENT),
    CONSISTENT_FAIL: ("Variation indicates consistently failing the target", "F", COLOUR_CONCERN),
    INCONSISTENT: (
        "Variation indicates inconsistently hit and miss the target",
        "?",
        COLOUR_COMMON_CAUSE,
    ),
}


def variation_icon(point_type: str | None, improvement: str = INCREASE) -> Icon | None:
    """The variation icon for a point type (None when there is no value)."""
    if point_type is None:
        return None
    improvement = normalise_direction(improvement)
    if point_type == COMMON_CAUSE:
        code = "common_cause"
    elif point_type == SPECIAL_CAUSE_NEUTRAL_HIGH:
        code = "neutral_high"
    elif point_type == SPECIAL_CAUSE_NEUTRAL_LOW:
        code = "neutral_low"
    elif point_type in (SPECIAL_CAUSE_IMPROVEMENT, SPECIAL_CAUSE_CONCERN):
        if improvement == NEUTRAL:
            raise ValueError(f"{point_type} needs an improvement direction, not neutral")
        improving = point_type == SPECIAL_CAUSE_IMPROVEMENT
        high = (improvement == INCREASE) == improving
        code = ("improvement_" if improving else "concern_") + ("high" if high else "low")
    else:
        raise ValueError(f"unknown point type {point_type!r}")
    label, letter, arrow, colour = _VARIATION_ICONS[code]
    return Icon(code=code, label=label, letter=letter, arrow=arrow, colour=colour)


def assurance_icon(assurance: str | None) -> Icon | None:
    """The assurance icon (None when there is no assurance: no target or neutral)."""
    if assurance is None:
        return None
    if assurance not in _ASSURANCE_ICONS:
        raise ValueError(f"unknown assurance type {assurance!r}")
    label, letter, colour = _ASSURANCE_ICONS[assurance]
    return Icon(code=assurance, label=label, letter=letter, arrow="", colour=colour)


def variation_label(point_type: str | None, improvement: str = INCREASE) -> str:
    """Making Data Count's wording for a variation icon, e.g.
    "Special cause of improving nature – higher values"."""
    icon = variation_icon(point_type, improvement)
    return icon.label if icon else "No value for the latest month"


def assurance_label(assurance: str | None) -> str:
    """Making Data Count's wording for an assurance icon (empty without one)."""
    icon = assurance_icon(assurance)
    return icon.label if icon else ""


def point_colour(point_type: str | None) -> str:
    """The Making Data Count colour of a point (grey for common cause and no value)."""
    return POINT_COLOURS.get(point_type, COLOUR_COMMON_CAUSE)


# --- RAG -----------------------------------------------------------------------------------

GREEN = "green"
AMBER = "amber"
RED = "red"
#: Amber: misses the target by no more than this fraction of the target.
AMBER_TOLERANCE = 0.10


def rag(value: Any, target: Any, direction: str | None) -> str | None:
    """Green when ``value`` meets ``target``; amber when it misses by no more than 10% of
    the target; red when it misses by more. Returns "green", "amber", "red", or None when
    the value or the target is missing, or the direction is neutral.

    Target 90, higher is better: green from 90, amber from 81 up to (not incl.) 90.
    Target 10, lower is better: green up to 10, amber above 10 up to 11.
    """
    value, target = clean_value(value), clean_value(target)
    direction = normalise_direction(direction)
    if value is None or target is None or direction == NEUTRAL:
        return None
    margin = AMBER_TOLERANCE * abs(target)
    tolerance = _tolerance(target)
    if direction == INCREASE:
        shortfall = target - value
    else:
        shortfall = value - target
    if shortfall <= tolerance:
        return GREEN
    if shortfall <= margin + tolerance:
        return AMBER
    return RED


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


def meets_target(value: float, target: float, direction: str) -> bool:
    tol = _tolerance(target)
    return value >= target - tol if direction == INCREASE else value <= target + tol


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
    direction) the projection is made and the status is "no target". ``bounds`` (e.g.
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
            points=(),
            projected=None,
            lower=None,
            upper=None,
            slope=None,
            intercept=None,
            n_points=sum(1 for m, _ in observed if m >= start_m),
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
            points=(),
            projected=None,
            lower=None,
            upper=None,
            slope=None,
            intercept=None,
            n_points=len(since),
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

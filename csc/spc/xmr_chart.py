"""XmR charts: limits, the four rules, assurance, baseline-then-rebase (see the package's
docstring for missing values)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from csc.spc.common import (
    COMMON_CAUSE,
    CONSISTENT_FAIL,
    CONSISTENT_PASS,
    INCONSISTENT,
    INCREASE,
    LIMIT_FACTOR,
    MIN_POINTS_FOR_LIMITS,
    NEUTRAL,
    RULE_OUTSIDE_LIMITS,
    RULE_RUN,
    RULE_TREND,
    RULE_TWO_OF_THREE,
    RUN_LENGTH,
    SCREEN_FACTOR,
    SHIFT_RUN,
    SMALL_BASE,
    SPECIAL_CAUSE_CONCERN,
    SPECIAL_CAUSE_IMPROVEMENT,
    SPECIAL_CAUSE_NEUTRAL_HIGH,
    SPECIAL_CAUSE_NEUTRAL_LOW,
    TREND_LENGTH,
    _tolerance,
    clean_value,
    meets_target,
    normalise_direction,
)

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

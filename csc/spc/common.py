"""What every SPC module shares: directions, point types, rules, assurance types, the
Making Data Count colours, and reading a value (missing or not)."""

from __future__ import annotations

import math
from typing import Any

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


def _tolerance(reference: float) -> float:
    # Means are floating-point: a value typed as exactly the mean should count as on it.
    return 1e-9 * max(1.0, abs(reference))


def meets_target(value: float, target: float, direction: str) -> bool:
    tol = _tolerance(target)
    return value >= target - tol if direction == INCREASE else value <= target + tol

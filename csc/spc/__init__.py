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

The package's modules, each one job: `common` (directions, point types, colours, reading a
value), `xmr_chart`, `icons`, `rag_rating`, `funnel`, `periods` (values in words; months are `csc.months`)
and `trajectories`. Their public names are all here: ``from csc import spc; spc.xmr(...)``.
"""

from __future__ import annotations

from csc.spc.common import (
    ASSURANCE_TYPES,
    COLOUR_COMMON_CAUSE,
    COLOUR_CONCERN,
    COLOUR_IMPROVEMENT,
    COLOUR_NEUTRAL,
    COMMON_CAUSE,
    CONSISTENT_FAIL,
    CONSISTENT_PASS,
    DECREASE,
    DIRECTIONS,
    INCONSISTENT,
    INCREASE,
    LIMIT_FACTOR,
    MIN_POINTS_FOR_LIMITS,
    NEUTRAL,
    POINT_COLOURS,
    POINT_TYPES,
    RULES,
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
    clean_value,
    meets_target,
    normalise_direction,
)
from csc.spc.xmr_chart import (
    Shift,
    XmrPoint,
    XmrResult,
    XmrSegment,
    assurance_type,
    baseline_xmr,
    bounds_for_unit,
    find_shift,
    small_base,
    xmr,
)
from csc.spc.icons import (
    Icon,
    assurance_icon,
    assurance_label,
    point_colour,
    variation_icon,
    variation_label,
)
from csc.spc.rag_rating import (
    AMBER,
    AMBER_TOLERANCE,
    GREEN,
    RED,
    rag,
)
from csc.spc.funnel import (
    BETWEEN_95_998,
    BEYOND_998,
    WITHIN_95,
    Z_95,
    Z_998,
    funnel_limits,
    funnel_points,
)
from csc.months import month_index, period_from_index, period_label
from csc.spc.periods import apart, format_value
from csc.spc.trajectories import (
    AT_RISK,
    MIN_TRAJECTORY_POINTS,
    NOT_ENOUGH_DATA,
    NO_TARGET,
    OFF_TRACK,
    ON_TRACK,
    ProjectedPoint,
    TARGET_MET,
    TARGET_MISSED,
    TRAJECTORY_STATUSES,
    Trajectory,
    t_quantile,
    trajectory,
)

__all__ = [
    "LIMIT_FACTOR",
    "SCREEN_FACTOR",
    "TREND_LENGTH",
    "RUN_LENGTH",
    "MIN_POINTS_FOR_LIMITS",
    "SHIFT_RUN",
    "SMALL_BASE",
    "INCREASE",
    "DECREASE",
    "NEUTRAL",
    "DIRECTIONS",
    "COMMON_CAUSE",
    "SPECIAL_CAUSE_IMPROVEMENT",
    "SPECIAL_CAUSE_CONCERN",
    "SPECIAL_CAUSE_NEUTRAL_HIGH",
    "SPECIAL_CAUSE_NEUTRAL_LOW",
    "POINT_TYPES",
    "RULE_OUTSIDE_LIMITS",
    "RULE_TREND",
    "RULE_TWO_OF_THREE",
    "RULE_RUN",
    "RULES",
    "CONSISTENT_PASS",
    "CONSISTENT_FAIL",
    "INCONSISTENT",
    "ASSURANCE_TYPES",
    "COLOUR_IMPROVEMENT",
    "COLOUR_CONCERN",
    "COLOUR_NEUTRAL",
    "COLOUR_COMMON_CAUSE",
    "POINT_COLOURS",
    "normalise_direction",
    "clean_value",
    "meets_target",
    "XmrPoint",
    "XmrSegment",
    "Shift",
    "XmrResult",
    "assurance_type",
    "bounds_for_unit",
    "xmr",
    "find_shift",
    "baseline_xmr",
    "small_base",
    "Icon",
    "variation_icon",
    "assurance_icon",
    "variation_label",
    "assurance_label",
    "point_colour",
    "GREEN",
    "AMBER",
    "RED",
    "AMBER_TOLERANCE",
    "rag",
    "Z_95",
    "Z_998",
    "WITHIN_95",
    "BETWEEN_95_998",
    "BEYOND_998",
    "funnel_limits",
    "funnel_points",
    "month_index",
    "period_from_index",
    "period_label",
    "apart",
    "format_value",
    "t_quantile",
    "ON_TRACK",
    "AT_RISK",
    "OFF_TRACK",
    "NOT_ENOUGH_DATA",
    "TARGET_MET",
    "TARGET_MISSED",
    "NO_TARGET",
    "TRAJECTORY_STATUSES",
    "MIN_TRAJECTORY_POINTS",
    "ProjectedPoint",
    "Trajectory",
    "trajectory",
]

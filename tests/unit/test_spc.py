"""Tests for csc.spc. Every expected value is worked out by hand in the comments.

Published cases (NHSRplotthedots' own tests and documentation) come first, then hand-worked
cases of our own.
"""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest

from csc import spc
from csc.spc import (
    CONSISTENT_FAIL,
    CONSISTENT_PASS,
    INCONSISTENT,
    SPECIAL_CAUSE_CONCERN,
    SPECIAL_CAUSE_IMPROVEMENT,
    SPECIAL_CAUSE_NEUTRAL_HIGH,
    SPECIAL_CAUSE_NEUTRAL_LOW,
)

COMMON = spc.COMMON_CAUSE


def types(result):
    return [p.point_type for p in result.points]


def rules(result):
    return [p.rule for p in result.points]


# --- published cases -------------------------------------------------------------------------


def test_one_to_ten_has_mean_5_5():
    # (1 + 2 + ... + 10) / 10 = 55 / 10 = 5.5
    assert spc.xmr(range(1, 11)).mean == pytest.approx(5.5)


def test_one_to_ten_has_limits_2_84_and_8_16():
    # Moving ranges are nine 1s: mean moving range 1 (3.267 x 1 screens nothing out).
    # 2.66 x 1 = 2.66: 5.5 - 2.66 = 2.84 and 5.5 + 2.66 = 8.16.
    result = spc.xmr(range(1, 11))
    assert round(result.lpl, 2) == 2.84
    assert round(result.upl, 2) == 8.16


def test_short_series_has_published_mean_and_limits():
    # 3+1+4+1+5+9+2 = 25; 25 / 7 = 3.571428...
    # Moving ranges 2, 3, 3, 4, 4, 7: sum 23, mean 23/6 = 3.833333; 3.267 x 3.8333 = 12.52
    # screens nothing out. 2.66 x 3.833333 = 10.196667.
    # 3.571429 - 10.196667 = -6.625238 and 3.571429 + 10.196667 = 13.768095.
    result = spc.xmr([3, 1, 4, 1, 5, 9, 2])
    assert round(result.mean, 4) == 3.5714
    assert round(result.lpl, 4) == -6.6252
    assert round(result.upl, 4) == 13.7681


def test_run_of_eight_above_the_mean_then_one_below_flags_the_eight():
    # Sum: (0+4+0+4+0) + (3+2.5)x4 + 1 = 8 + 22 + 1 = 31 over 14 values: mean 2.2143.
    # Moving ranges: 4,4,4,4, 3, 0.5 x7, 1.5 -> sum 24 over 13 = 1.846; limits
    # 2.2143 -/+ 2.66 x 1.846 = -2.70 and 7.13, two-thirds lines -1.06 and 5.49: nothing is
    # outside or near a limit, and no 7 steps go one way. Indexes 5..12 (3 and 2.5) are
    # 8 in a row above the mean (index 4, the 0, is below); index 13 (1) is below.
    values = [0, 4, 0, 4, 0, 3, 2.5, 3, 2.5, 3, 2.5, 3, 2.5, 1]
    result = spc.xmr(values)
    assert result.special_cause_indexes == list(range(5, 13))
    assert {result.points[i].rule for i in range(5, 13)} == {spc.RULE_RUN}


def test_one_to_seven_is_a_trend():
    # 6 steps of +1 make a trend of 7 points. Mean 4, mean moving range 1, limits 1.34 and
    # 6.66: 1 and 7 are also beyond the limits, which takes priority in their label, so the
    # five inner points carry the trend rule and all seven are special causes.
    result = spc.xmr(range(1, 8))
    assert result.special_cause_indexes == [0, 1, 2, 3, 4, 5, 6]
    assert rules(result)[1:6] == [spc.RULE_TREND] * 5


def test_a_tie_breaks_a_trend():
    # 3 -> 3 is not strictly higher, so the longest strictly rising stretch is 4 points.
    result = spc.xmr([1, 2, 3, 3, 4, 5, 6])
    assert spc.RULE_TREND not in rules(result)


@pytest.mark.parametrize(
    ("lpl", "upl", "expected"),
    [
        (1, 3, CONSISTENT_FAIL),  # target 4 above the upper limit: always short of it
        (5, 7, CONSISTENT_PASS),  # target 4 below the lower limit: always above it
        (1, 5, INCONSISTENT),  # target 4 inside the limits: hit and miss
    ],
)
def test_assurance_published_cases_when_increase_is_better(lpl, upl, expected):
    assert spc.assurance_type(4, lpl, upl, "increase") == expected


@pytest.mark.parametrize(
    ("lpl", "upl", "expected"),
    [(1, 3, CONSISTENT_PASS), (5, 7, CONSISTENT_FAIL), (1, 5, INCONSISTENT)],
)
def test_assurance_swaps_pass_and_fail_when_decrease_is_better(lpl, upl, expected):
    # Target 4 above the whole process (1..3) means always under it: passing when lower is better.
    assert spc.assurance_type(4, lpl, upl, "decrease") == expected


# --- assurance ----------------------------------------------------------------------------------


def test_target_exactly_on_a_limit_is_inconsistent():
    # NHSRplotthedots tests target > upl and target < lpl strictly; equality falls through.
    assert spc.assurance_type(3, 1, 3, "increase") == INCONSISTENT
    assert spc.assurance_type(1, 1, 3, "increase") == INCONSISTENT


def test_xmr_assurance_uses_the_latest_limits():
    # 1..10: limits 2.84 and 8.16; target 9 > 8.16 -> consistently failing when higher is better.
    assert spc.xmr(range(1, 11), "increase", target=9).assurance == CONSISTENT_FAIL


def test_no_assurance_without_a_target():
    assert spc.xmr(range(1, 11), "increase").assurance is None


def test_no_assurance_when_direction_is_neutral():
    assert spc.xmr(range(1, 11), "neutral", target=9).assurance is None


# --- limits, screening, rebasing ---------------------------------------------------------------


def test_huge_moving_range_is_screened_out():
    # Values 2,4 x4, 2, 40: sum 10 + 16 + 40 = 66 / 10 -> mean 6.6.
    # Moving ranges: eight 2s and 38 -> mean (16 + 38) / 9 = 6; 3.267 x 6 = 19.6 < 38, so
    # 38 is dropped and the mean moving range is 16 / 8 = 2: upl = 6.6 + 5.32 = 11.92.
    result = spc.xmr([2, 4, 2, 4, 2, 4, 2, 4, 2, 40])
    assert result.upl == pytest.approx(11.92)
    assert result.lpl == pytest.approx(1.28)
    assert result.segments[0].screened_moving_ranges == 1


def test_without_screening_the_huge_moving_range_widens_the_limits():
    # Mean moving range 6 (see above): 6.6 -/+ 2.66 x 6 = 6.6 -/+ 15.96.
    result = spc.xmr([2, 4, 2, 4, 2, 4, 2, 4, 2, 40], screen_outliers=False)
    assert result.upl == pytest.approx(22.56)
    assert result.lpl == pytest.approx(-9.36)


def test_rebase_gives_each_segment_its_own_mean_and_limits():
    # Segment 1: 1,3,1,3,1,3 -> mean 2, moving ranges five 2s -> limits 2 -/+ 5.32.
    # Segment 2: 11,13,... -> mean 12, moving ranges five 2s (the 3 -> 11 jump of 8 crosses
    # the rebase and is not used) -> limits 12 -/+ 5.32 = 6.68 and 17.32.
    result = spc.xmr([1, 3, 1, 3, 1, 3, 11, 13, 11, 13, 11, 13], rebase_at=[6])
    assert (result.mean, result.lpl, result.upl) == pytest.approx((12, 6.68, 17.32))
    first = result.points[0]
    assert (first.mean, first.lpl, first.upl) == pytest.approx((2, -3.32, 7.32))


def test_a_run_does_not_cross_a_rebase():
    # Segment 1 [0,10,0,10,6,6,6,6]: mean 44/8 = 5.5; 10,6,6,6,6 above it (5 in a row).
    # Segment 2 [6,6,6,0,10,0,10]: mean 38/7 = 5.43; 6,6,6 above it (3 in a row).
    # 5 + 3 = 8 would be a run if runs crossed the rebase; limits are wide (5.5 -/+ 12.9 and
    # 5.43 -/+ 16.0) so nothing else is flagged.
    values = [0, 10, 0, 10, 6, 6, 6, 6, 6, 6, 6, 0, 10, 0, 10]
    assert spc.xmr(values, rebase_at=[8]).special_cause_indexes == []


def test_the_same_values_without_a_rebase_have_a_run():
    # One segment: mean 82/15 = 5.47; indexes 3..10 (10 and seven 6s) are 8 above it.
    values = [0, 10, 0, 10, 6, 6, 6, 6, 6, 6, 6, 0, 10, 0, 10]
    assert spc.xmr(values).special_cause_indexes == list(range(3, 11))


def test_rebase_index_outside_the_series_is_an_error():
    with pytest.raises(ValueError):
        spc.xmr([1, 2, 3], rebase_at=[5])


def test_fewer_than_twelve_points_give_trial_limits():
    assert spc.xmr([1, 3] * 5 + [1]).trial_limits is True  # 11 points


def test_twelve_points_give_firm_limits():
    assert spc.xmr([1, 3] * 6).trial_limits is False  # 12 points


def test_a_short_segment_after_a_rebase_gives_trial_limits():
    result = spc.xmr([1, 3] * 8, rebase_at=[10])  # 10 then 6 points
    assert result.trial_limits is True
    assert [s.trial for s in result.segments] == [True, True]


# --- rules and colours -------------------------------------------------------------------------


def test_points_beyond_the_limits_are_coloured_by_side_when_increase_is_better():
    # 1..10: limits 2.84 and 8.16. 1 and 2 below -> concern; 9 and 10 above -> improvement.
    result = spc.xmr(range(1, 11), "increase")
    assert types(result)[0:2] == [SPECIAL_CAUSE_CONCERN] * 2
    assert types(result)[8:10] == [SPECIAL_CAUSE_IMPROVEMENT] * 2


def test_decrease_direction_swaps_the_colours():
    # Same points; lower is better: 1 and 2 are improvement, 9 and 10 concern, and the
    # rising trend through 3..8 is concern.
    result = spc.xmr(range(1, 11), "decrease")
    assert types(result) == [SPECIAL_CAUSE_IMPROVEMENT] * 2 + [SPECIAL_CAUSE_CONCERN] * 8


def test_neutral_direction_uses_high_and_low():
    # 1 and 2 below the lower limit -> low; 3..8 a rising trend and 9, 10 above -> high.
    result = spc.xmr(range(1, 11), "neutral")
    assert types(result) == [SPECIAL_CAUSE_NEUTRAL_LOW] * 2 + [SPECIAL_CAUSE_NEUTRAL_HIGH] * 8


def test_trend_colour_follows_its_direction_not_the_side_of_the_mean():
    # [0,20,0,20, 3..9]: mean 82/11 = 7.45; moving ranges 20,20,20,17 and six 1s -> 83/10 =
    # 8.3 (3.267 x 8.3 = 27.1: none screened); limits 7.45 -/+ 22.08, two-thirds lines at
    # -7.26 and 22.17: nothing outside or near. 3..9 rise 6 times: a trend of 7 points, of
    # which 3..7 lie below the mean. Rising is improvement when higher is better.
    result = spc.xmr([0, 20, 0, 20, 3, 4, 5, 6, 7, 8, 9], "increase")
    assert result.special_cause_indexes == list(range(4, 11))
    assert set(types(result)[4:11]) == {SPECIAL_CAUSE_IMPROVEMENT}


def test_falling_trend_is_concern_when_increase_is_better():
    # The same values reversed in the trend part: 9..3 fall 6 times.
    result = spc.xmr([0, 20, 0, 20, 9, 8, 7, 6, 5, 4, 3], "increase")
    assert set(types(result)[4:11]) == {SPECIAL_CAUSE_CONCERN}


TWO_OF_THREE = [10, 12, 14, 12, 14, 12, 10, 8, 6, 8, 6, 8, 10]
# Sum 130 over 13 -> mean 10; every moving range is 2 -> mean moving range 2.
# Limits 10 -/+ 5.32 = 4.68 and 15.32; two-thirds of the way: 10 -/+ 3.547 = 6.453 and 13.547.
# 14 (indexes 2, 4) lies between 13.547 and 15.32; 6 (indexes 8, 10) between 4.68 and 6.453.
# Above the mean: indexes 1..5 (5 in a row); index 6 is on the mean; below: 7..11 (5): no run.


def test_two_of_three_near_the_upper_limit_flags_those_two():
    result = spc.xmr(TWO_OF_THREE, "increase")
    assert result.points[2].rule == spc.RULE_TWO_OF_THREE
    assert result.points[4].rule == spc.RULE_TWO_OF_THREE
    assert result.points[2].point_type == SPECIAL_CAUSE_IMPROVEMENT


def test_two_of_three_does_not_flag_the_third_point():
    # Index 3 (12) sits between the two 14s but is not beyond two-thirds.
    result = spc.xmr(TWO_OF_THREE, "increase")
    assert result.points[3].point_type == COMMON


def test_two_of_three_near_the_lower_limit_is_concern_when_increase_is_better():
    result = spc.xmr(TWO_OF_THREE, "increase")
    assert result.special_cause_indexes == [2, 4, 8, 10]
    assert {types(result)[8], types(result)[10]} == {SPECIAL_CAUSE_CONCERN}


def test_a_point_on_the_mean_breaks_a_run():
    # Sum 6x7 + 5 + 0 + 4 + 0 + 9 = 60 over 12 -> mean exactly 5, which index 3 sits on.
    # Moving ranges 0,0,1,1,0,0,0,6,4,4,9: mean 25/11 = 2.27; 3.267 x 2.27 = 7.43 screens out
    # the 9, leaving 16/10 = 1.6; limits 5 -/+ 4.256 = 0.744 and 9.256 (the 0s are beyond it,
    # the 9 near it alone). Above the mean: 3 sixes, then the 5, then 4 sixes: no run of 7.
    values = [6, 6, 6, 5, 6, 6, 6, 6, 0, 4, 0, 9]
    result = spc.xmr(values)
    assert [p.point_type for p in result.points[:8]] == [COMMON] * 8


def test_the_same_run_without_the_point_on_the_mean_is_flagged():
    # With 6 for the 5: mean 61/12 = 5.08 and indexes 0..7 are 8 in a row above it.
    values = [6, 6, 6, 6, 6, 6, 6, 6, 0, 4, 0, 9]
    result = spc.xmr(values)
    assert [p.rule for p in result.points[:8]] == [spc.RULE_RUN] * 8


def test_variation_is_the_latest_points_type():
    assert spc.xmr(range(1, 11), "increase").variation == SPECIAL_CAUSE_IMPROVEMENT


def test_common_cause_series_has_common_cause_variation():
    # 1,3 alternating: mean 2, limits 2 -/+ 5.32, nothing near: all common cause.
    result = spc.xmr([1, 3] * 6)
    assert result.variation == COMMON
    assert result.special_cause_indexes == []


# --- missing values -----------------------------------------------------------------------------


def test_missing_values_are_skipped_in_the_limits():
    # Values 1, 3, 5: mean 3; moving ranges |3-1| = 2 and |5-3| = 2 -> 2; limits 3 -/+ 5.32.
    result = spc.xmr([1, None, 3, float("nan"), 5])
    assert (result.mean, result.lpl, result.upl) == pytest.approx((3, -2.32, 8.32))


def test_missing_values_have_no_point_type():
    result = spc.xmr([1, None, 3, float("nan"), 5])
    assert [types(result)[1], types(result)[3]] == [None, None]
    assert result.points[1].value is None


def test_variation_comes_from_the_latest_month_with_a_value():
    # 1..10 then a month with no value: the 10 (above 8.16) is the latest value.
    result = spc.xmr([*range(1, 11), None])
    assert result.variation == SPECIAL_CAUSE_IMPROVEMENT


def test_no_values_give_no_limits():
    result = spc.xmr([])
    assert (result.mean, result.lpl, result.upl, result.variation) == (None, None, None, None)


def test_a_single_value_has_a_mean_but_no_limits():
    result = spc.xmr([7])
    assert (result.mean, result.lpl, result.upl) == (7, None, None)
    assert result.variation == COMMON


# --- icons in words ------------------------------------------------------------------------------


def test_common_cause_label():
    assert spc.variation_label(COMMON, "increase") == "Common cause – no significant change"


def test_improvement_is_higher_values_when_increase_is_better():
    assert spc.variation_label(SPECIAL_CAUSE_IMPROVEMENT, "increase") == "Special cause of improving nature – higher values"


def test_improvement_is_lower_values_when_decrease_is_better():
    assert spc.variation_label(SPECIAL_CAUSE_IMPROVEMENT, "decrease") == "Special cause of improving nature – lower values"


def test_concern_is_lower_values_when_increase_is_better():
    assert spc.variation_label(SPECIAL_CAUSE_CONCERN, "increase") == "Special cause of concerning nature – lower values"


def test_neutral_high_label_says_higher_values():
    assert spc.variation_label(SPECIAL_CAUSE_NEUTRAL_HIGH, "neutral").endswith("higher values")


def test_assurance_labels():
    assert spc.assurance_label(CONSISTENT_PASS) == "Variation indicates consistently passing the target"
    assert spc.assurance_label(CONSISTENT_FAIL) == "Variation indicates consistently failing the target"
    assert spc.assurance_label(INCONSISTENT) == "Variation indicates inconsistently hit and miss the target"


def test_variation_icon_has_letter_arrow_and_making_data_count_colour():
    icon = spc.variation_icon(SPECIAL_CAUSE_CONCERN, "decrease")  # concern, higher values
    assert (icon.letter, icon.arrow, icon.colour) == ("H", "↑", "#fab428")


def test_point_colours_are_making_data_count_colours():
    assert spc.point_colour(SPECIAL_CAUSE_IMPROVEMENT) == "#289de0"
    assert spc.point_colour(SPECIAL_CAUSE_CONCERN) == "#fab428"
    assert spc.point_colour(SPECIAL_CAUSE_NEUTRAL_LOW) == "#361475"
    assert spc.point_colour(COMMON) == "#7B7D7D"


def test_assurance_icon_letters():
    assert [spc.assurance_icon(a).letter for a in (CONSISTENT_PASS, CONSISTENT_FAIL)] == ["P", "F"]


# --- RAG ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (95, "green"),  # above the target
        (90, "green"),  # exactly the target meets it
        (89.9, "amber"),
        (81, "amber"),  # 90 - 10% of 90 = 81: misses by exactly 10%
        (80.9, "red"),  # misses by 9.1 > 9
    ],
)
def test_rag_higher_is_better_target_90(value, expected):
    assert spc.rag(value, 90, "increase") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (8, "green"),
        (10, "green"),
        (11, "amber"),  # 10 + 10% of 10 = 11
        (11.1, "red"),
    ],
)
def test_rag_lower_is_better_target_10(value, expected):
    assert spc.rag(value, 10, "decrease") == expected


def test_rag_accepts_higher_and_lower_as_directions():
    assert spc.rag(81, 90, "higher") == "amber"
    assert spc.rag(11, 10, "lower") == "amber"


def test_rag_is_none_without_a_value_or_target():
    assert spc.rag(None, 90, "increase") is None
    assert spc.rag(float("nan"), 90, "increase") is None
    assert spc.rag(85, None, "increase") is None


# --- funnel ---------------------------------------------------------------------------------------


def test_funnel_limits_for_a_rate_of_80_percent_and_100_cases():
    # sqrt(0.8 x 0.2 / 100) = 0.04; 1.96 x 0.04 = 0.0784; 3.09 x 0.04 = 0.1236.
    limits = spc.funnel_limits(0.8, [100]).iloc[0]
    assert limits["lower_95"] == pytest.approx(0.7216)
    assert limits["upper_95"] == pytest.approx(0.8784)
    assert limits["lower_998"] == pytest.approx(0.6764)
    assert limits["upper_998"] == pytest.approx(0.9236)


def test_funnel_limits_are_clipped_to_one():
    # n = 25: sqrt(0.16 / 25) = 0.08; 0.8 + 3.09 x 0.08 = 1.0472 -> 1.
    limits = spc.funnel_limits(0.8, [25]).iloc[0]
    assert limits["upper_998"] == 1.0
    assert limits["upper_95"] == pytest.approx(0.9568)


FUNNEL_AREAS = pd.DataFrame(
    {
        "area": ["A", "B", "C", "D", "E"],
        "numerator": [90, 60, 80, 90, 0],
        "denominator": [100, 100, 100, 100, 0],
    }
)
# All areas: (90 + 60 + 80 + 90) / 400 = 0.8; limits for n = 100 as above:
# 95% 0.7216..0.8784, 99.8% 0.6764..0.9236.


def test_funnel_points_overall_rate_is_all_areas_together():
    assert spc.funnel_points(FUNNEL_AREAS)["overall_rate"].iloc[0] == pytest.approx(0.8)


def test_funnel_points_classify_each_area():
    points = spc.funnel_points(FUNNEL_AREAS).set_index("area")
    # A 0.9: above 0.8784, below 0.9236. B 0.6: below 0.6764. C 0.8: within.
    assert points.loc["A", "band"] == spc.BETWEEN_95_998
    assert points.loc["A", "side"] == "above"
    assert points.loc["B", "band"] == spc.BEYOND_998
    assert points.loc["B", "side"] == "below"
    assert points.loc["C", "band"] == spc.WITHIN_95
    assert points.loc["C", "side"] is None


def test_funnel_point_with_no_cases_is_not_classified():
    points = spc.funnel_points(FUNNEL_AREAS).set_index("area")
    assert points.loc["E", "band"] is None
    assert math.isnan(points.loc["E", "rate"])


def test_funnel_points_reject_numerator_above_denominator():
    with pytest.raises(ValueError):
        spc.funnel_points(pd.DataFrame({"area": ["A"], "numerator": [5], "denominator": [4]}))


# --- Student's t -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probability", "df", "table"),
    # Values from a printed t table (3 dp).
    [(0.90, 1, 3.078), (0.90, 2, 1.886), (0.90, 3, 1.638), (0.90, 10, 1.372), (0.975, 5, 2.571), (0.975, 30, 2.042)],
)
def test_t_quantile_matches_printed_tables(probability, df, table):
    assert spc.t_quantile(probability, df) == pytest.approx(table, abs=0.0005)


def test_t_quantile_is_symmetric():
    assert spc.t_quantile(0.1, 4) == pytest.approx(-spc.t_quantile(0.9, 4))


# --- trajectory -----------------------------------------------------------------------------------

MONTHS = ["2011-04", "2011-05", "2011-06", "2011-07"]
NOISY = [80, 84, 82, 86]
# x = 0..3 (months since April 2011): x-bar 1.5, y-bar 83, Sxx = 2.25+0.25+0.25+2.25 = 5,
# Sxy = (-1.5)(-3) + (-0.5)(1) + (0.5)(-1) + (1.5)(3) = 8 -> slope 1.6, intercept 83 - 2.4 = 80.6.
# Fitted 80.6, 82.2, 83.8, 85.4; residuals -0.6, 1.8, -1.8, 0.6; SSE 7.2; s = sqrt(7.2/2) = 1.8974.
# Due September 2011, x0 = 5: projected 80.6 + 1.6 x 5 = 88.6.
# 80% band: t(0.9, 2 df) = 1.8856; sqrt(1 + 1/4 + (5 - 1.5)^2 / 5) = sqrt(3.7) = 1.9235;
# half-width 1.8856 x 1.8974 x 1.9235 = 6.882 -> 81.72 to 95.48.


def test_trajectory_projects_the_least_squares_line_to_the_due_month():
    result = spc.trajectory(MONTHS, NOISY, "2011-04", "2011-09", 90, "increase")
    assert result.slope == pytest.approx(1.6)
    assert result.projected == pytest.approx(88.6)


def test_trajectory_without_a_target_projects_nothing_once_its_due_month_has_passed():
    # A review: transfers waiting (no target) on an action due September 2011 read "projects 44.1 by
    # September 2011" in March 2012, beside September's own value on the chart
    before = spc.trajectory(MONTHS, NOISY, "2011-04", "2011-09", None, "increase")
    assert before.status == spc.NO_TARGET and before.projected == pytest.approx(88.6) and before.points
    after = spc.trajectory(MONTHS, NOISY, "2011-04", "2011-06", None, "increase")
    assert after.status == spc.NO_TARGET and after.projected is None and not after.points
    assert after.sentence == "No target, and the due month (June 2011) has passed: there is nothing to project."
    assert after.latest_period == "2011-07" and after.n_points == 4
    due_now = spc.trajectory(MONTHS, NOISY, "2011-04", "2011-07", None, "increase")  # July is the latest month
    assert due_now.sentence == "No target, and the due month (July 2011) is the latest month: there is nothing to project."


def test_trajectory_band_is_an_80_percent_prediction_interval():
    result = spc.trajectory(MONTHS, NOISY, "2011-04", "2011-09", 90, "increase")
    assert result.lower == pytest.approx(81.72, abs=0.01)
    assert result.upper == pytest.approx(95.48, abs=0.01)


def test_band_straddling_the_target_is_at_risk():
    # 90 lies between 81.72 and 95.48.
    assert spc.trajectory(MONTHS, NOISY, "2011-04", "2011-09", 90, "increase").status == spc.AT_RISK


def test_whole_band_meeting_the_target_is_on_track():
    # 80 <= 81.72, the bottom of the band.
    assert spc.trajectory(MONTHS, NOISY, "2011-04", "2011-09", 80, "increase").status == spc.ON_TRACK


def test_whole_band_missing_the_target_is_off_track():
    # 96 > 95.48, the top of the band.
    assert spc.trajectory(MONTHS, NOISY, "2011-04", "2011-09", 96, "increase").status == spc.OFF_TRACK


def test_perfect_line_projects_exactly():
    # 50, 55, 60: slope 5, no residuals; March 2012 is 11 months after April 2011: 50 + 55 = 105.
    result = spc.trajectory(MONTHS[:3], [50, 55, 60], "2011-04", "2012-03", 90, "increase")
    assert (result.projected, result.lower, result.upper) == pytest.approx((105, 105, 105))
    assert result.status == spc.ON_TRACK


def test_lower_is_better_flat_below_target_is_on_track():
    result = spc.trajectory(MONTHS[:3], [8, 8, 8], "2011-04", "2012-03", 10, "decrease")
    assert result.status == spc.ON_TRACK


def test_lower_is_better_rising_away_from_target_is_off_track():
    # 12, 13, 14: slope +1, projected 12 + 11 = 23 > 10 with no band.
    result = spc.trajectory(MONTHS[:3], [12, 13, 14], "2011-04", "2012-03", 10, "decrease")
    assert result.status == spc.OFF_TRACK


def test_fewer_than_three_months_since_the_start_is_not_enough_data():
    # January..March come before the start; only April and May count.
    periods = ["2011-01", "2011-02", "2011-03", "2011-04", "2011-05"]
    result = spc.trajectory(periods, [1, 2, 3, 4, 5], "2011-04", "2012-03", 90, "increase")
    assert result.status == spc.NOT_ENOUGH_DATA
    assert result.points == ()


def test_projected_points_run_from_the_latest_month_to_the_due_month():
    result = spc.trajectory(MONTHS, NOISY, "2011-04", "2011-09", 90, "increase")
    assert [p.period for p in result.points] == ["2011-07", "2011-08", "2011-09"]


def test_projected_periods_keep_the_type_of_the_input_periods():
    periods = [dt.date(2011, m, 1) for m in (4, 5, 6, 7)]
    result = spc.trajectory(periods, NOISY, dt.date(2011, 4, 1), dt.date(2011, 9, 1), 90, "increase")
    assert result.points[-1].period == dt.date(2011, 9, 1)


def test_past_due_judges_the_latest_value():
    # Due September 2011; October's 91 meets the target of 90.
    periods = MONTHS + ["2011-08", "2011-09", "2011-10"]
    result = spc.trajectory(periods, NOISY + [85, 88, 91], "2011-04", "2011-09", 90, "increase")
    assert result.status == spc.TARGET_MET


def test_past_due_latest_value_missing_target_is_missed():
    periods = MONTHS + ["2011-08", "2011-09"]
    result = spc.trajectory(periods, NOISY + [85, 88], "2011-04", "2011-09", 90, "increase")
    assert result.status == spc.TARGET_MISSED


def test_trajectory_sentence_states_the_status_and_numbers():
    result = spc.trajectory(MONTHS, NOISY, "2011-04", "2011-09", 90, "increase", unit="%")
    assert result.sentence.startswith("At risk:")
    assert "88.6%" in result.sentence and "September 2011" in result.sentence


def test_trajectory_bounds_clip_the_band():
    # Perfect line 50, 55, 60 projects 105 by March 2012; a percentage cannot exceed 100.
    result = spc.trajectory(MONTHS[:3], [50, 55, 60], "2011-04", "2012-03", 90, "increase", bounds=(0, 100))
    assert result.projected == 100


# --- months and numbers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "period",
    ["2012-03", "2012-03-31", dt.date(2012, 3, 5), pd.Timestamp("2012-03-31"), pd.Period("2012-03", "M")],
)
def test_period_label_reads_many_period_types(period):
    assert spc.period_label(period) == "March 2012"


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [(84.0, "%", "84%"), (84.26, "%", "84.3%"), (5.5, "days", "5.5 days"), (5.5, " days", "5.5 days"), (1234, "", "1,234")],
)
def test_format_value(value, unit, expected):
    assert spc.format_value(value, unit) == expected

"""Baseline, evidence, rebase; limits in the measure's range; targets at the bound; small
bases; fix_after_n_points; where csc follows NHSRplotthedots. Expected values by hand."""

from __future__ import annotations

import pytest

from csc import spc

COMMON = spc.COMMON_CAUSE
IMPROVE = spc.SPECIAL_CAUSE_IMPROVEMENT

#: 12 baseline months alternating 10, 12: mean 11, eleven moving ranges of 2 -> mean MR 2,
#: limits 11 -/+ 2.66 x 2 = 5.68 and 16.32 (firm: 12 values).
BASELINE = [10, 12] * 6


def types(result):
    return [p.point_type for p in result.points]


# --- fix_after_n_points ---------------------------------------------------------------------


def test_fix_after_n_points_takes_the_limits_from_the_first_n():
    # First 6: 1,3,1,3,1,3 -> mean 2, MR 2 -> limits 2 -/+ 5.32 = -3.32, 7.32.
    # Without fixing, the mean would be (12 + 24) / 8 = 4.5.
    result = spc.xmr([1, 3, 1, 3, 1, 3, 11, 13], fix_after_n_points=6)
    assert (result.mean, result.lpl, result.upl) == pytest.approx((2, -3.32, 7.32))
    assert types(result)[6:] == [IMPROVE, IMPROVE]  # 11 and 13 > 7.32
    assert spc.xmr([1, 3, 1, 3, 1, 3, 11, 13]).mean == pytest.approx(4.5)


def test_fix_after_n_points_counts_months_not_values():
    # The first 3 months are 1, (none), 3: values 1 and 3 -> mean 2, MR 2 -> upper 7.32.
    result = spc.xmr([1, None, 3, 1, 3, 50], fix_after_n_points=3)
    assert result.mean == pytest.approx(2)
    assert result.points[5].rule == spc.RULE_OUTSIDE_LIMITS


def test_fix_after_n_points_applies_to_each_segment():
    # Segment 2 from index 4, fixed after 2: 10, 12 -> mean 11, MR 2 -> 5.68..16.32; 30 outside.
    result = spc.xmr([1, 3, 1, 3, 10, 12, 10, 12, 30], rebase_at=[4], fix_after_n_points=2)
    assert (result.mean, result.lpl, result.upl) == pytest.approx((11, 5.68, 16.32))
    assert result.points[8].rule == spc.RULE_OUTSIDE_LIMITS
    assert [s.n_fixed for s in result.segments] == [2, 2]


def test_limits_fixed_on_few_points_are_trial_limits():
    # 20 values but the limits come from 5 of them: trial.
    assert spc.xmr(list(range(20)), fix_after_n_points=5).trial_limits is True
    assert spc.xmr(list(range(20)), fix_after_n_points=12).trial_limits is False


def test_fix_after_zero_points_is_an_error():
    with pytest.raises(ValueError):
        spc.xmr([1, 2, 3], fix_after_n_points=0)


# --- limits in the measure's range --------------------------------------------------------


def test_a_percentages_lower_limit_is_truncated_at_zero():
    # 0,10 x3: mean 5, MR 10 -> 5 -/+ 26.6 = -21.6 and 31.6; truncated lower limit 0.
    result = spc.xmr([0, 10] * 3, bounds=(0, 100))
    assert (result.lpl, result.upl) == pytest.approx((0, 31.6))
    assert result.segments[0].raw_lpl == pytest.approx(-21.6)
    assert all(p.lpl == 0 for p in result.points)


def test_a_percentages_upper_limit_is_truncated_at_100():
    # 100,90 x3: mean 95, MR 10 -> 68.4 and 121.6 -> upper 100.
    result = spc.xmr([100, 90] * 3, bounds=(0, 100))
    assert (result.lpl, result.upl) == pytest.approx((68.4, 100))


def test_a_counts_limits_stop_at_zero_only():
    result = spc.xmr([0, 10] * 3, bounds=spc.bounds_for_unit("count"))
    assert (result.lpl, result.upl) == pytest.approx((0, 31.6))
    assert spc.bounds_for_unit("pct") == (0, 100)
    assert spc.bounds_for_unit("days") == (0, None)


def test_truncation_does_not_change_which_points_are_flagged():
    # Rules use the untruncated limits: 2/3 of the way to -21.6 is 5 - 17.73 = -12.73, which
    # no value reaches, so nothing is flagged with or without bounds.
    assert spc.xmr([0, 10] * 3, bounds=(0, 100)).special_cause_indexes == []


# --- target at the bound ------------------------------------------------------------------


def test_every_month_at_100_against_a_target_of_100_consistently_passes():
    # Twelve 100s: mean 100, MR 0 -> limits 100 and 100. The target (100) is neither above
    # the upper nor below the lower limit, which the reference calls inconsistent; at the bound
    # it cannot be beaten, only met, and every month meets it.
    result = spc.xmr([100] * 12, "increase", target=100, bounds=(0, 100))
    assert result.assurance == spc.CONSISTENT_PASS
    assert spc.xmr([100] * 12, "increase", target=100).assurance == spc.INCONSISTENT


def test_zero_every_month_against_a_target_of_zero_passes_when_lower_is_better():
    assert spc.xmr([0] * 12, "decrease", target=0, bounds=(0, None)).assurance == spc.CONSISTENT_PASS


def test_a_target_at_the_bound_inside_the_limits_is_hit_and_miss_not_a_fail():
    # 98,100 x6: mean 99, MR 2 -> 93.68 and 104.32, truncated to 100. Target 100 is not above
    # the (truncated) upper limit: inconsistent, never a consistent fail.
    result = spc.xmr([98, 100] * 6, "increase", target=100, bounds=(0, 100))
    assert result.upl == pytest.approx(100)
    assert result.assurance == spc.INCONSISTENT


# --- 2 of 3, trial limits, rebase with no data: against NHSRplotthedots ---------------------


def test_two_of_three_needs_all_three_points_on_the_same_side():
    # Limits fixed on the baseline: 11 -/+ 5.32; two-thirds of the way up 11 + 3.547 = 14.547.
    # 15, 9, 15: the 15s are near the upper limit but 9 is below the mean 11 -> no flag
    # (NHSRplotthedots issue #143). 15, 12, 15: all above the mean -> the 15s are flagged.
    other_side = spc.xmr([10, 12, 10, 12, 10, 12, 15, 9, 15], fix_after_n_points=6)
    assert other_side.special_cause_indexes == []
    same_side = spc.xmr([10, 12, 10, 12, 10, 12, 15, 12, 15], fix_after_n_points=6)
    assert same_side.special_cause_indexes == [6, 8]
    assert {same_side.points[6].rule, same_side.points[8].rule} == {spc.RULE_TWO_OF_THREE}


def test_exactly_twelve_values_are_firm_eleven_are_trial_as_the_reference():
    # NHSRplotthedots warns for a group with n() < 12: 12 is not short.
    assert spc.xmr([1, 3] * 6).segments[0].trial is False
    assert spc.xmr([1, 3] * 5 + [1]).segments[0].trial is True


def test_a_rebase_in_a_month_with_no_data_carries_the_limits_on():
    # Segment 1: 1,3,1,3 -> mean 2, limits -3.32..7.32. Segment 2 has no value: it keeps them.
    result = spc.xmr([1, 3, 1, 3, None], rebase_at=[4])
    assert (result.mean, result.lpl, result.upl) == pytest.approx((2, -3.32, 7.32))
    assert result.segments[1].carried is True


def test_a_rebase_at_the_last_month_judges_it_against_the_limits_before():
    # One value (20) after the rebase: no moving range of its own; against 2 -/+ 5.32 it is outside.
    result = spc.xmr([1, 3, 1, 3, 20], rebase_at=[4])
    assert result.points[4].rule == spc.RULE_OUTSIDE_LIMITS
    assert result.variation == IMPROVE


# --- baseline, evidence, rebase ------------------------------------------------------------


def test_a_ramp_after_the_start_is_judged_against_the_baseline_and_not_rebased():
    # Baseline limits 5.68..16.32 (mean 11). 20..50 in steps of 5 is a trend: not a stable new
    # level, so no shift; every ramp point is above 16.32 -> improvement.
    values = BASELINE + [20, 25, 30, 35, 40, 45, 50]
    result = spc.baseline_xmr(values, start=12, improvement="increase")
    assert result.shift is None and result.baseline_months == 12
    assert (result.mean, result.lpl, result.upl) == pytest.approx((11, 5.68, 16.32))
    assert types(result)[12:] == [IMPROVE] * 7
    # 10, 12 (indexes 10, 11) then 20, 25, 30...: 10 < 12 < 20 < ... is a rising trend of 7
    # from index 10, so the last two baseline months are part of it too.
    assert types(result)[:10] == [COMMON] * 10
    assert [p.rule for p in result.points[10:12]] == [spc.RULE_TREND] * 2


def test_seven_stable_months_on_one_side_rebase_from_the_first_of_them():
    # 20,22,20,22,20,22,20: all above the baseline mean 11; their own mean 146/7 = 20.857,
    # MR 2 -> limits 15.537..26.177, all inside, no trend: a shift from index 12.
    values = BASELINE + [20, 22, 20, 22, 20, 22, 20]
    result = spc.baseline_xmr(values, start=12)
    assert result.shift is not None and result.shift.index == 12 and result.shift.side == 1
    assert result.mean == pytest.approx(146 / 7)
    assert (result.lpl, result.upl) == pytest.approx((146 / 7 - 5.32, 146 / 7 + 5.32))
    assert result.segments[1].trial is True  # 7 values: trial limits
    assert result.segments[0].mean == pytest.approx(11)


def test_the_shift_starts_after_the_ramp():
    # 40 then 20,22,20,22,20,22,20. Window from 40: mean 186/7 = 26.57, moving ranges
    # 20,2,2,2,2,2 (mean 5; 20 > 3.267 x 5 = 16.3 is screened) -> MR 2 -> 21.25..31.89: 40 and
    # the 20s are outside, not stable. Window from index 13 is the stable one.
    values = BASELINE + [40, 20, 22, 20, 22, 20, 22, 20]
    result = spc.baseline_xmr(values, start=12)
    assert result.shift.index == 13
    assert result.points[12].rule == spc.RULE_OUTSIDE_LIMITS  # 40 > 16.32 on the baseline limits


def test_six_stable_months_are_not_enough_evidence():
    values = BASELINE + [20, 22, 20, 22, 20, 22]
    assert spc.baseline_xmr(values, start=12).shift is None


def test_a_short_baseline_gives_trial_limits():
    # 5 months before the start: 10,12,10,12,10 -> mean 10.8; limits from 5 values: trial.
    result = spc.baseline_xmr([10, 12, 10, 12, 10, 11, 11, 12], start=5)
    assert result.baseline_months == 5
    assert result.segments[0].trial is True
    assert result.segments[0].mean == pytest.approx(10.8)


def test_no_baseline_uses_every_month_and_says_so():
    # One month before the start: no moving range, so no baseline (baseline_months 0).
    result = spc.baseline_xmr([10, 12, 10, 12], start=1)
    assert result.baseline_months == 0
    assert result.mean == pytest.approx(11)


# --- small bases --------------------------------------------------------------------------


@pytest.mark.parametrize("denominator, expected", [(9, True), (0, True), (10, False), (250, False), (None, False)])
def test_small_base_is_fewer_than_ten_cases(denominator, expected):
    assert spc.small_base(denominator) is expected

"""The XmR chart with the one verdict (issue 15): the action's start and the rebase marked,
the verdict's notes above the plot, small-base months marked. Expected values by hand."""

from __future__ import annotations

from csc import charts, spc, verdict

# 12 baseline months 10, 12 (mean 11, limits 5.68..16.32), then 20, 22, ... x7: a shift at 12.
VALUES = [10, 12] * 6 + [20, 22, 20, 22, 20, 22, 20]
PERIODS = [spc.period_from_index(spc.month_index("2010-04") + k) for k in range(len(VALUES))]  # 2010-04 .. 2011-10


def build(denominators=None, small=None):
    result = spc.baseline_xmr(VALUES, 12, "increase", 15, bounds=(0, 100))
    vd = verdict.verdict(title="Measure", unit="%", direction="increase", periods=PERIODS, values=VALUES,
                         result=result, target=15, denominators=denominators)
    fig = charts.xmr_chart(PERIODS, VALUES, result, vd.headline, target=15, unit="%", verdict=vd, small_base=small)
    return fig, vd


def annotations(fig):
    return [a.text for a in fig.layout.annotations]


def test_the_action_start_and_the_new_limits_are_marked_once():
    fig, _ = build()
    # the shift starts at the action's start (index 12, April 2011): one marker says both
    assert "Action started · new limits" in annotations(fig)
    assert "New limits" not in annotations(fig)


def test_the_icons_words_are_the_verdicts_with_its_notes():
    fig, vd = build()
    icons = next(a.text for a in fig.layout.annotations if a.name == "icons")
    # latest 20: within the new limits 20.857 -/+ 5.32; target 15 below the lower 15.537 -> consistent pass
    assert vd.assurance == spc.CONSISTENT_PASS
    assert "Assurance: Variation indicates consistently passing the target (P)" in icons
    assert "New limits from April 2011: 7 steady months" in icons.replace("<br>", " ")
    assert fig.layout.title.text.startswith("Measure: 20% in October 2011 meets the target of 15% (green)")


def test_small_base_months_are_marked_with_a_hollow_diamond():
    small = [False] * 17 + [True, True]  # the last two months
    fig, _ = build(denominators=[50] * 17 + [8, 9], small=small)
    trace = next(t for t in fig.data if (t.meta or {}).get("role") == "small_base")
    assert list(trace.y) == [22, 20]  # indexes 17 and 18
    assert trace.marker.symbol == "diamond-open"
    icons = next(a.text for a in fig.layout.annotations if a.name == "icons")
    assert "small base this month" in icons

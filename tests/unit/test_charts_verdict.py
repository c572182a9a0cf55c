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


def _icons(fig) -> str:
    return next(a.text for a in fig.layout.annotations if a.name == "icons")


def test_one_month_is_not_said_to_be_beyond_limits_it_does_not_have():
    """A review chose one month on an Action page: the chart said "Assurance: not judged, the
    latest month is beyond its limits", with no limits at all (one month has no moving range)."""
    import pandas as pd

    from csc import kpis

    kpi = kpis.get("transfer_timely_pct")
    df = pd.DataFrame({"period": ["2012-03"], "numerator": [15.0], "denominator": [16.0], "value": [93.75]})
    assessed = verdict.assess(kpi, df, 90.0, "2011-06", "2012-12")
    assert assessed.result.lpl is None and assessed.verdict.not_rated == verdict.NOT_RATED_ONE_MONTH
    fig = charts.xmr_chart(["2012-03"], [93.75], assessed.result, assessed.verdict.headline, target=90.0, unit="%",
                           verdict=assessed.verdict)
    # (and not "Common cause – no significant change" of one month, nor trial limits it does not draw)
    assert ("Variation and assurance: not rated, as only one month is shown (choose more months to judge change)"
            in _icons(fig).replace("<br>", " "))
    assert "beyond its limits" not in _icons(fig) and "Common cause" not in _icons(fig)
    assert "Trial limits" not in _icons(fig)


def test_the_board_chart_of_a_hidden_month_says_so_and_explains_no_limits_it_does_not_draw():
    """The board's chart with its latest month hidden said "Variation: no value yet" (the month has a
    value, hidden) and "Limits from the 13 months before the action ... extended forward" under a
    caption saying it draws no mean or limits."""
    import pandas as pd

    from csc import kpis, privacy

    kpi = kpis.get("transfer_timely_pct")
    periods = [spc.period_from_index(spc.month_index("2011-01") + k) for k in range(15)]
    values = [70.0, 72.0, 71.0, 74.0, 75.0, 73.0, 76.0, 78.0, 77.0, 80.0, 82.0, 81.0, 84.0, 85.0, 100.0]
    df = pd.DataFrame({"period": periods, "numerator": [v / 10 * 4 for v in values[:-1]] + [5.0],
                       "denominator": [40.0] * 14 + [5.0], "value": values})
    shown = privacy.rates_only(kpi, df.assign(suppressed=[False] * 14 + [True], value=values[:-1] + [None]))
    director = verdict.assess(kpi, df, 90.0, "2011-06", "2012-12")
    board = verdict.assess(kpi, df, 90.0, "2011-06", "2012-12", shown=shown)
    assert any(n.startswith("Limits from the 5 months before the action") for n in director.verdict.notes)
    fig = charts.xmr_chart(periods, list(shown["value"]), board.result, board.verdict.headline, target=90.0,
                           unit="%", verdict=board.verdict)
    icons = _icons(fig).replace("<br>", " ")
    assert ("Variation and assurance: not rated, as some months are suppressed to protect small numbers, and a rating "
            "would give them back") in icons
    assert "no value yet" not in icons and "Limits from" not in icons and "extended forward" not in icons
    assert ("No mean or limits are drawn, and no rating of change, assurance or trend is given: some months are "
            "suppressed to protect small numbers") in icons

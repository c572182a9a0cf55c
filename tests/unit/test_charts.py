"""Tests for csc.charts: the figures carry what the chart guidance asks for (target line,
limits, Making Data Count colours for flagged points, direct labels, source line, alt text)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from csc import charts, spc

PERIODS = [f"2011-{m:02d}" for m in range(1, 11)]  # January..October 2011
VALUES = list(range(1, 11))
# spc.xmr(1..10): mean 5.5, limits 2.84 and 8.16; 1 and 2 below (concern when higher is
# better), 9 and 10 above (improvement), 3..8 a rising trend (improvement). 10 points: trial.


@pytest.fixture
def xmr_fig():
    result = spc.xmr(VALUES, "increase", target=9)
    return charts.xmr_chart(PERIODS, VALUES, result, "Test KPI rose to 10% in October 2011", target=9, due_period="2011-12")


def trace(fig, name_start):
    matches = [t for t in fig.data if t.name and t.name.startswith(name_start)]
    assert matches, f"no trace named {name_start!r}: {[t.name for t in fig.data]}"
    return matches[0]


def annotation_texts(fig):
    return [a.text for a in fig.layout.annotations]


# --- template ------------------------------------------------------------------------------------


def test_app_template_is_registered():
    assert "csc" in pio.templates


def test_app_template_uses_the_colour_blind_safe_palette():
    assert tuple(pio.templates["csc"].layout.colorway) == charts.PALETTE


def test_figures_use_the_app_template(xmr_fig):
    assert xmr_fig.layout.template.layout.colorway == pio.templates["csc"].layout.colorway


# --- XmR chart -----------------------------------------------------------------------------------


def test_xmr_chart_draws_the_mean_at_5_5(xmr_fig):
    mean = trace(xmr_fig, "Mean")
    assert set(mean.y) == {5.5}


def test_xmr_chart_draws_dashed_process_limits(xmr_fig):
    upper = trace(xmr_fig, "Upper process limit")
    lower = trace(xmr_fig, "Lower process limit")
    assert upper.line.dash == "dash" and lower.line.dash == "dash"
    assert upper.y[0] == pytest.approx(8.16) and lower.y[0] == pytest.approx(2.84)


def test_xmr_chart_labels_trial_limits(xmr_fig):
    # 10 points < 12.
    assert "trial limits" in trace(xmr_fig, "Upper process limit").name


def test_xmr_chart_draws_the_target_line(xmr_fig):
    target = trace(xmr_fig, "Target")
    assert list(target.y) == [9, 9]


def test_xmr_target_line_reaches_the_due_month(xmr_fig):
    assert trace(xmr_fig, "Target").x[-1] == dt.date(2011, 12, 1)


def test_xmr_chart_colours_improvement_points_blue(xmr_fig):
    improvement = trace(xmr_fig, "Special cause – improvement")
    assert improvement.marker.color == "#289de0"
    assert dt.date(2011, 10, 1) in improvement.x  # the 10


def test_xmr_chart_colours_concern_points_orange(xmr_fig):
    concern = trace(xmr_fig, "Special cause – concern")
    assert concern.marker.color == "#fab428"
    assert list(concern.x) == [dt.date(2011, 1, 1), dt.date(2011, 2, 1)]  # the 1 and the 2


def test_xmr_value_markers_carry_point_colours(xmr_fig):
    colours = list(trace(xmr_fig, "Monthly value").marker.color)
    assert colours[0] == "#fab428" and colours[-1] == "#289de0"


def test_xmr_hover_shows_the_numbers(xmr_fig):
    template = trace(xmr_fig, "Monthly value").hovertemplate
    assert "Value" in template and "Mean" in template and "Process limits" in template


def test_xmr_chart_labels_lines_directly(xmr_fig):
    texts = annotation_texts(xmr_fig)
    assert "Mean 5.5%" in texts
    assert "Target 9%" in texts
    assert any(t.startswith("Upper limit 8.2%") for t in texts)


def test_xmr_chart_says_what_the_icons_mean(xmr_fig):
    icons = next(a.text for a in xmr_fig.layout.annotations if a.name == "icons")
    assert "Special cause of improving nature – higher values" in icons
    # Target 9 > upper limit 8.16 when higher is better.
    assert "Variation indicates consistently failing the target" in icons


def test_xmr_chart_has_a_source_line(xmr_fig):
    assert "Source: monthly extract, periods 2011-01 to 2011-10" in annotation_texts(xmr_fig)


def test_xmr_chart_names_the_source_given():
    result = spc.xmr(VALUES)
    fig = charts.xmr_chart(PERIODS, VALUES, result, "T", source="Extract of 5 April 2012")
    assert "Source: Extract of 5 April 2012, periods 2011-01 to 2011-10" in annotation_texts(fig)


def test_xmr_chart_marks_the_due_month(xmr_fig):
    assert any(s.x0 == dt.date(2011, 12, 1) for s in xmr_fig.layout.shapes)


def test_xmr_chart_has_alt_text(xmr_fig):
    alt = charts.alt_text(xmr_fig)
    assert alt.startswith("XmR chart: Test KPI rose to 10% in October 2011.")
    assert "process limits 2.8% to 8.2% (trial limits)" in alt


def test_xmr_chart_title_is_the_callers_finding(xmr_fig):
    assert xmr_fig.layout.title.text == "Test KPI rose to 10% in October 2011"


def test_xmr_chart_without_target_has_no_target_line():
    fig = charts.xmr_chart(PERIODS, VALUES, spc.xmr(VALUES), "T")
    assert not any(t.name and t.name.startswith("Target") for t in fig.data)


def test_xmr_chart_accepts_pandas_periods_and_serialises():
    periods = [pd.Period(p, "M") for p in PERIODS]
    fig = charts.xmr_chart(periods, VALUES, spc.xmr(VALUES), "T")
    assert fig.to_json()


def test_xmr_chart_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        charts.xmr_chart(PERIODS[:-1], VALUES, spc.xmr(VALUES), "T")


def test_xmr_chart_breaks_the_mean_line_at_a_rebase():
    values = [1, 3, 1, 3, 1, 3, 11, 13, 11, 13, 11, 13]
    periods = [f"2011-{m:02d}" for m in range(1, 13)]
    fig = charts.xmr_chart(periods, values, spc.xmr(values, rebase_at=[6]), "T")
    # Segment means 2 and 12, separated by a gap.
    assert list(trace(fig, "Mean").y) == [2, 2, None, 12, 12]


# --- funnel ----------------------------------------------------------------------------------------

AREAS = pd.DataFrame(
    {"area": ["North", "South", "East", "West"], "numerator": [90, 60, 80, 90], "denominator": [100, 100, 100, 100]}
)
# Overall 320 / 400 = 80%; for n = 100: 95% limits 72.16%..87.84%, 99.8% 67.64%..92.36%.
# North and West 90%: beyond 95%; South 60%: beyond 99.8%; East 80%: within.


@pytest.fixture
def funnel_fig():
    return charts.funnel_chart(spc.funnel_points(AREAS), "South is below the other areas", period="2012-03")


def test_funnel_chart_draws_95_and_998_limits(funnel_fig):
    names = {t.name for t in funnel_fig.data}
    assert {"95% limits", "99.8% limits"} <= names


def test_funnel_chart_draws_the_all_areas_rate_in_percent(funnel_fig):
    assert list(trace(funnel_fig, "All areas").y) == pytest.approx([80, 80])


def test_funnel_chart_labels_areas_by_name(funnel_fig):
    beyond = trace(funnel_fig, "Beyond 99.8% limits")
    assert list(beyond.text) == ["South"]


def test_funnel_chart_shows_bands_by_shape_as_well_as_colour(funnel_fig):
    symbols = {t.name: t.marker.symbol for t in funnel_fig.data if t.mode == "markers+text"}
    assert len(set(symbols.values())) == 3


def test_funnel_chart_alt_text_names_outlying_areas(funnel_fig):
    alt = charts.alt_text(funnel_fig)
    assert "Beyond the 99.8% limits: South (below, 60%)" in alt


# --- trajectory --------------------------------------------------------------------------------------

T_PERIODS = ["2011-04", "2011-05", "2011-06", "2011-07"]
T_VALUES = [80, 84, 82, 86]


@pytest.fixture
def trajectory_fig():
    result = spc.trajectory(T_PERIODS, T_VALUES, "2011-04", "2011-09", 90, "increase", unit="%")
    return charts.trajectory_chart(T_PERIODS, T_VALUES, result, "Audits graded good may reach 90% by September")


def test_trajectory_chart_shades_the_prediction_band(trajectory_fig):
    band = trace(trajectory_fig, "80% prediction range")
    assert band.fill == "tonexty"


def test_trajectory_chart_draws_the_projection_dashed(trajectory_fig):
    assert trace(trajectory_fig, "Projection").line.dash == "dash"


def test_trajectory_chart_draws_the_target(trajectory_fig):
    assert list(trace(trajectory_fig, "Target").y) == [90, 90]


def test_trajectory_chart_states_the_status(trajectory_fig):
    status = next(a.text for a in trajectory_fig.layout.annotations if a.name == "status")
    assert status.startswith("At risk:")


def test_trajectory_chart_alt_text_includes_the_sentence(trajectory_fig):
    assert "At risk:" in charts.alt_text(trajectory_fig)


# --- several areas -------------------------------------------------------------------------------------

LINES = pd.DataFrame(
    {
        "period": ["2012-01", "2012-02", "2012-03"] * 2,
        "area": ["North"] * 3 + ["South"] * 3,
        "value": [80, 82, 84, 70, 71, 75],
    }
)


@pytest.fixture
def line_fig():
    return charts.line_chart(LINES, "period", "value", "area", "North leads South", target=90)


def test_line_chart_draws_one_line_per_area(line_fig):
    assert [t.name for t in line_fig.data if t.meta and t.meta.get("role") == "series"] == ["North", "South"]


def test_line_chart_labels_lines_at_their_ends_not_in_a_legend(line_fig):
    assert {"North 84%", "South 75%"} <= set(annotation_texts(line_fig))
    assert not any(t.showlegend for t in line_fig.data)


def test_line_chart_draws_the_target(line_fig):
    assert list(trace(line_fig, "Target").y) == [90, 90]


def test_line_chart_alt_text_gives_latest_values(line_fig):
    assert "Latest: North 84%, South 75%." in charts.alt_text(line_fig)


# --- sparkline ------------------------------------------------------------------------------------------


def test_sparkline_has_no_axes():
    fig = charts.sparkline([3, 1, 4, 1, 5])
    assert fig.layout.xaxis.visible is False and fig.layout.yaxis.visible is False


def test_sparkline_marks_the_latest_value():
    fig = charts.sparkline([3, 1, 4, None])
    latest = [t for t in fig.data if t.meta and t.meta.get("role") == "latest"][0]
    assert list(latest.y) == [4]


def test_sparkline_has_alt_text():
    assert charts.alt_text(charts.sparkline([3, 1, 4], unit="%")) == "Sparkline of 3 values from 3% to 4%, lowest 1%, highest 4%."


# --- titles and alt text ----------------------------------------------------------------------------------


def test_finding_title_says_rose_to():
    title = charts.finding_title("Transfers accepted within 5 working days", 84, 80, "%", "increase", period="2012-03")
    assert title == "Transfers accepted within 5 working days rose to 84% in March 2012"


def test_finding_title_says_fell_to():
    assert charts.finding_title("Re-referrals", 18, 21, "%", "decrease") == "Re-referrals fell to 18%"


def test_finding_title_says_stayed_at_when_the_change_does_not_show():
    # 84.01 and 84.04 both show as 84%.
    assert charts.finding_title("Supervision", 84.04, 84.01, "%", "increase") == "Supervision stayed at 84%"


def test_finding_title_without_previous_says_was():
    assert charts.finding_title("Caseload", 15.5, None, "", "decrease") == "Caseload was 15.5"


def test_finding_title_adds_the_target_when_missed():
    title = charts.finding_title("Transfers on time", 84, 80, "%", "increase", target=90)
    assert title == "Transfers on time rose to 84%, below the target of 90%"


def test_finding_title_adds_the_target_when_met_lower_is_better():
    title = charts.finding_title("Agency staff", 9, 11, "%", "decrease", target=10)
    assert title == "Agency staff fell to 9%, meeting the target of 10%"


def test_alt_text_is_empty_for_a_figure_without_it():
    assert charts.alt_text(go.Figure()) == ""


# --- words that fit (what a reader saw cut off at the chart's edge) ---------------------------------


def test_a_long_line_label_gets_the_right_margin_it_needs():
    """"Integrated Access 13.6 per FTE" ran past the Workforce chart's edge: 30 characters of 13 px
    text (about 215 px) and its 8 px shift in a 170 px margin."""
    df = pd.DataFrame({"period": ["2012-02", "2012-03"] * 2, "area": ["North"] * 2 + ["Integrated Access"] * 2,
                       "value": [18.0, 18.4, 13.0, 13.6]})
    fig = charts.line_chart(df, "period", "value", "area", "Caseloads", target=16, unit=" per FTE")
    assert "Integrated Access 13.6 per FTE" in annotation_texts(fig)
    assert fig.layout.margin.r >= 13 * 0.55 * 30 + 8  # the label's width, estimated, and its shift
    assert fig.layout.margin.r <= 300
    short = charts.line_chart(LINES, "period", "value", "area", "North leads South", target=90)
    assert short.layout.margin.r is None  # the template's 170 px: enough for "North 84%"


def test_a_label_too_long_for_any_margin_is_broken_over_lines():
    name = "Children with Disabilities and Short Breaks Service (East)"
    df = pd.DataFrame({"period": ["2012-02", "2012-03"], "area": [name] * 2, "value": [18.0, 18.4]})
    fig = charts.line_chart(df, "period", "value", "area", "Caseloads", unit=" per FTE")
    label = next(a.text for a in fig.layout.annotations if a.name == f"label {name}")
    assert "<br>" in label and label.replace("<br>", " ") == f"{name} 18.4 per FTE"
    assert 170 < fig.layout.margin.r <= 300  # widened for its longest line, no more than the most it may take


def test_the_source_line_and_the_icons_words_are_broken_to_fit_a_640_px_chart():
    """A 150-character source line ran 780 px in Chromium, past a 640 px chart's edge (5.2 px a
    character at 12 px; 5.8 at 13 px for the notes above the plot)."""
    source = "children's social care monthly extracts 2010-04 to 2012-03 (24 imports, latest import 24 loaded " \
             "04 April 2012), periods 2010-04 to 2012-03"
    result = spc.xmr(VALUES, "increase", target=9)
    fig = charts.xmr_chart(PERIODS, VALUES, result, "Test KPI", target=9, source=source)
    by_name = {a.name: a for a in fig.layout.annotations}
    src = by_name["source"]
    assert "<br>" in src.text and src.align == "left"
    assert all(len(line) * 5.2 <= 580 for line in src.text.split("<br>"))
    assert all(len(line) * 5.8 <= 580 for line in by_name["icons"].text.split("<br>"))
    # the legend moves down for the source's second line
    one_line = charts.xmr_chart(PERIODS, VALUES, result, "Test KPI", target=9, source="short")
    assert fig.layout.legend.y < one_line.layout.legend.y


def test_line_labels_pushed_past_the_top_of_a_percentage_axis_stay_on_the_chart():
    # a review: four offices, three at 100% in the last month; the labels were pushed apart upwards,
    # past 100% where the axis stops, and plotly drew none of those (the lines went unnamed). Each
    # label is anchored within the axis and moved apart from the others in pixels instead
    df = pd.DataFrame({"period": ["2012-01", "2012-02", "2012-03"] * 4,
                       "area": [a for a in ("Fenland", "Huntingdon", "Cambridge", "Integrated") for _ in range(3)],
                       "value": [90, 95, 100, 92, 96, 100, 85, 99, 100, 80, 82, 84]})
    fig = charts.line_chart(df, "period", "value", "area", "Supervision", target=90)
    lo, hi = fig.layout.yaxis.range
    assert hi == 100
    labels = [a for a in fig.layout.annotations if str(a.name).startswith(("line label", "label "))
              and a.yref in (None, "y")]
    assert {a.text for a in labels} >= {"Fenland 100%", "Huntingdon 100%", "Cambridge 100%", "Integrated 84%"}
    assert all(lo <= a.y <= hi for a in labels), [(a.text, a.y) for a in labels]
    shifted = sorted((a.yshift or 0) for a in labels if a.text.endswith("100%"))
    assert len(set(shifted)) == 3  # three labels at 100%, each on its own line


def test_a_short_range_of_months_has_a_tick_on_each_month_and_a_long_one_plotlys_own():
    # A review: three months of 2009 were ticked every half month, each label twice ("Mar 2009,
    # Mar 2009, Apr 2009, Apr 2009 ..."), April's point under a "Mar"
    def months(n):
        return pd.DataFrame({"period": [f"{2009 + m // 12}-{m % 12 + 1:02d}" for m in range(3, 3 + n)],
                             "value": [50.0 + m for m in range(n)], "area": "All areas"})

    for n in (1, 3, 7):  # April 2009 .. up to October 2009: 6 months from the first to the last
        assert charts.line_chart(months(n), "period", "value", "area", "t").layout.xaxis.dtick == "M1", n
    for n in (8, 13):  # up to 12 months: every other month (13 labels would crowd a 640 px chart)
        assert charts.line_chart(months(n), "period", "value", "area", "t").layout.xaxis.dtick == "M2", n
    assert charts.line_chart(months(14), "period", "value", "area", "t").layout.xaxis.dtick is None
    xmr = charts.xmr_chart(["2009-04", "2009-05", "2009-06"], [1.0, 2.0, 3.0],
                           spc.xmr([1.0, 2.0, 3.0]), "t")
    assert xmr.layout.xaxis.dtick == "M1"


def test_declutter_takes_a_shift_away_once_the_labels_no_longer_meet_and_a_second_pass_changes_nothing():
    # the layout passes read and change the labels as plain dictionaries and write them back once:
    # a shift no longer needed must be dropped, not left from the pass before
    df = pd.DataFrame({"period": ["2012-01", "2012-02", "2012-03"] * 2, "area": ["North"] * 3 + ["South"] * 3,
                       "value": [80, 82, 84, 81, 83, 84]})
    fig = charts.line_chart(df, "period", "value", "area", "Two lines ending together")
    ends = [a for a in fig.layout.annotations if str(a.name).startswith("label ")]
    assert len(ends) == 2 and ends[0].yshift and ends[1].yshift  # both at 84: pushed apart, a line each
    before = fig.to_plotly_json()
    assert charts.declutter(fig).to_plotly_json() == before  # laid out already: nothing moves
    fig.update_yaxes(range=[0, 10_000])  # now a pixel apart is hundreds of units: they no longer meet
    for a in fig.layout.annotations:
        if str(a.name).startswith("label "):
            a.y = 2_000.0 if a.text.startswith("North") else 5_000.0
    charts.declutter(fig)
    assert [a.yshift for a in fig.layout.annotations if str(a.name).startswith("label ")] == [None, None]


def test_declutter_leaves_a_label_at_a_whole_number_as_it_was_written():
    # plotly's setter left an equal value as it was: a label at y=10 stays 10 in the JSON, not 10.0
    fig = go.Figure(go.Scatter(x=["2024-05-01", "2024-06-01"], y=[5, 20]))
    fig.update_layout(height=460, yaxis=dict(range=[0, 100]), xaxis=dict(range=["2024-04-01", "2024-07-01"]),
                      annotations=[dict(x="2024-06-01", y=10, text="ten", showarrow=False, name="label ten"),
                                   dict(x=0, y=0, xref="paper", yref="paper", text="Source", name="source",
                                        showarrow=False)])
    charts.declutter(fig)
    ten = fig.layout.annotations[0]
    assert ten.y == 10 and type(ten.y) is int

"""Words, not codes (csc/wording.py) and the charts' final pass that keeps labels apart
(charts.fit_axes, charts.declutter)."""

from __future__ import annotations

import datetime as dt
import json

import pandas as pd
import plotly.graph_objects as go

from csc import charts, wording


def test_audit_detail_in_words():
    detail = json.dumps({"page": "overview", "areas": [], "period_from": "2010-04", "period_to": "2012-03"})
    assert wording.audit_detail(detail) == "page: overview · area offices: all areas · from: April 2010 · to: March 2012"


def test_a_plan_change_in_the_audit_log_names_the_field_and_gives_the_text_typed():
    note = json.dumps({"did": "Weekly meeting", "changed": "Fewer waiting", "next": "Audit"})
    words = wording.audit_detail({"action": "A1", "field": "commentary:2012-04", "value": note})
    assert words == ("action: A1 · field: Commentary for April 2012 · value: What we did: Weekly meeting · "
                     "What changed: Fewer waiting · What next: Audit")
    assert "{" not in words and "commentary:" not in words


def test_plan_fields_in_plain_english():
    assert wording.field_words("target:transfer_timely_pct") == "Target: Transfers accepted within 5 working days"
    assert wording.field_words("status") == "Status (owner's)"
    assert wording.value_words("target:transfer_timely_pct", "") == "(cleared)"
    assert wording.value_words("owner", "Head of Service") == "Head of Service"


def test_dates_without_a_time_of_day_unless_there_is_one():
    assert wording.date_words(pd.Timestamp("2011-09-30 00:00:00")) == "30 September 2011"
    assert wording.date_words(dt.datetime(2026, 12, 2, 14, 5, 59)) == "2 December 2026 14:05"
    assert wording.date_words(None) == "–"
    assert wording.due_words("2011-09-30", short=True) == "30 Sep 2011"
    assert wording.due_words("ongoing") == "ongoing"


def test_a_change_too_small_to_show_is_no_change_never_minus_zero():
    assert wording.change_words(-0.04, "pct") == "no change"
    assert wording.change_words(-2.34, "pct") == "-2.3 pts"
    assert wording.change_words(4.0, "count") == "+4.0"
    assert wording.change_words(None, "pct") == "–"


def test_downloads_get_a_label_in_words_beside_each_code():
    df = pd.DataFrame({"rag": ["red", None], "variation": ["special_cause_improvement", "common_cause"],
                       "assurance": ["consistent_fail", None], "direction": ["lower", "higher"],
                       "when": pd.to_datetime(["2011-09-30", "2011-10-31"])})
    out = wording.with_labels(df)
    assert list(out.columns) == ["rag", "rag_label", "variation", "variation_label", "assurance", "assurance_label",
                                 "direction", "when"]
    assert out["rag_label"].tolist() == ["Red", "–"]
    assert out["variation_label"].tolist() == ["Special cause of improving nature – lower values",
                                               "Common cause – no significant change"]
    assert out["assurance_label"].tolist() == ["Variation indicates consistently failing the target", "–"]
    assert out["when"].tolist() == ["2011-09-30", "2011-10-31"]  # no 00:00:00


def test_compact_spc_words_for_a_narrow_column():
    assert wording.variation_short("special_cause_improvement", "decrease") == "Improving ↓"
    assert wording.variation_short("common_cause") == "No change"
    assert wording.assurance_short("consistent_fail") == "Failing"
    assert wording.assurance_short(None) == "–"


def test_a_rag_chip_carries_the_word():
    html = wording.chip("Red", "red")
    assert ">Red</span>" in html and "#f4cdc6" in html


# --- charts: the final pass ------------------------------------------------------------------


def labelled(ys: list[float], height: int = 400) -> go.Figure:
    """A line from 0 to 100 with a label at each of ``ys`` at its end, plot 200 px high."""
    fig = go.Figure(go.Scatter(x=[dt.date(2011, 1, 1), dt.date(2011, 12, 1)], y=[0, 100]))
    fig.update_layout(height=height, margin=dict(t=100, b=100))
    for i, y in enumerate(ys):
        fig.add_annotation(x=dt.date(2011, 12, 1), y=y, text=f"label {i}", xanchor="left", showarrow=False,
                           font=dict(size=14))
    return charts.declutter(charts.fit_axes(fig))


def test_a_percentage_axis_fits_the_data_and_never_passes_100():
    fig = go.Figure(go.Scatter(x=[1, 2, 3], y=[46, 67, 100]))
    fig.update_yaxes(ticksuffix="%")
    charts.fit_axes(fig)
    # 46 to 100, 8% of the 54-point span either side: 41.68 to 104.32, cut at 100
    assert list(fig.layout.yaxis.range) == [46 - 0.08 * 54, 100.0]
    # and a numeric x axis fitted to its data, not from zero: 1 to 3 with 5% of the span either side
    assert list(fig.layout.xaxis.range) == [0.9, 3.1]


def test_labels_at_nearly_the_same_value_are_nudged_apart():
    fig = labelled([50.0, 51.0])
    # axis -8 to 108 over 200 px: 1 point is 1.72 px, so the labels (17.5 px high) overlap
    a, b = fig.layout.annotations
    centre = {n.text: 100 + (108 - n.y) / 116 * 200 - (n.yshift or 0) for n in (a, b)}
    assert abs(centre["label 0"] - centre["label 1"]) >= 17.5
    # labels far apart are left where they are
    far = labelled([10.0, 90.0])
    assert [n.yshift for n in far.layout.annotations] == [None, None]


def test_marker_labels_that_could_meet_are_stacked():
    fig = go.Figure(go.Scatter(x=[dt.date(2011, 1, 1), dt.date(2011, 12, 1)], y=[0, 100]))
    fig.update_layout(height=400, margin=dict(t=100, b=100))
    for x, text, anchor in ((dt.date(2011, 5, 1), "Action started May 2011", "left"),
                            (dt.date(2011, 7, 1), "Due July 2011", "right")):
        fig.add_annotation(x=x, y=1, yref="paper", yanchor="top", xanchor=anchor, text=text, showarrow=False,
                           font=dict(size=12))
    charts.declutter(charts.fit_axes(fig))
    assert sorted(a.yshift for a in fig.layout.annotations) == [-charts.NOTE_LINE_PX, 0]


def test_marker_labels_at_the_foot_that_could_meet_are_stacked_upwards():
    # "Action started" and "New limits" a month apart, both at the foot of the plot, both to the right
    # of their lines: the second goes a line up (found on a phone-width XmR chart by the UX browser test)
    fig = go.Figure(go.Scatter(x=[dt.date(2011, 1, 1), dt.date(2011, 12, 1)], y=[0, 100]))
    fig.update_layout(height=400, margin=dict(t=100, b=100))
    for x, text in ((dt.date(2011, 5, 1), "Action started"), (dt.date(2011, 6, 1), "New limits")):
        fig.add_annotation(x=x, y=0, yref="paper", yanchor="bottom", xanchor="left", text=text, showarrow=False,
                           font=dict(size=12))
    charts.declutter(charts.fit_axes(fig))
    assert sorted(a.yshift for a in fig.layout.annotations) == [0, charts.NOTE_LINE_PX]


def test_every_audited_action_has_words_on_the_audit_log_page():
    """The Audit log page shows each action in words; one written by the code without them showed
    as its code ("import_refused"). The actions are read from the code's audit calls and write
    transactions."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    source = "\n".join(p.read_text() for folder in ("csc", "app_pages") for p in (root / folder).rglob("*.py"))
    audited = set(re.findall(r"\baudit(?:_soon)?\([^,()]+, [^,()]+, \"([a-z_]+)\"", source))
    audited |= set(re.findall(r"\btransaction\([^,()]+(?:\([^()]*\))?[^,()]*, \"([a-z_]+)\"", source))
    assert {"view", "import", "rollback", "page_refused", "import_refused"} <= audited  # the search finds them
    assert audited <= set(wording.AUDIT_ACTIONS), audited - set(wording.AUDIT_ACTIONS)


def test_the_audit_logs_words_for_a_detail_are_kept_but_a_target_names_its_kpi_as_titled_now(monkeypatch):
    from types import SimpleNamespace

    from csc import kpis

    view = json.dumps({"page": "teams"})
    target = json.dumps({"action": "A1", "field": "target:new_measure", "value": 60})
    assert wording.audit_details([view, target, None]) == [
        "page: teams", "action: A1 · field: Target: new_measure · value: 60", ""]  # no such KPI: its name
    monkeypatch.setattr(kpis, "registry", lambda: {"new_measure": SimpleNamespace(title="Visits on time")})
    assert wording.audit_details([target]) == ["action: A1 · field: Target: Visits on time · value: 60"]


def test_a_met_or_missed_target_names_the_month_it_judged():
    assert wording.judged_when("2011-10", "2011-10") == "in its due month, October 2011"
    assert wording.judged_when("2012-03", "2011-10", plural=True) == "in March 2012, after their due month (October 2011)"
    assert wording.trajectory_label("target met", "2012-03", "2011-10") == (
        "target met in March 2012, after its due month (October 2011)")
    assert wording.trajectory_label("target missed", "2012-03", short=True) == "Target missed in Mar 2012"
    assert wording.trajectory_label("on track", "2012-03", "2012-06", short=True) == "On track"
    assert wording.trajectory_label(None) is None
    assert wording.judged_when("2012-03", None) == "in March 2012"  # no due month given: never "its due month"

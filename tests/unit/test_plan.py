"""The living action plan: defaults from data/action_plan.toml, every change kept with who and
when, the latest change winning, and targets changed here changing every rating at once."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from csc import plan, report

HEADER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]


def test_default_plan_has_the_seven_actions_and_their_kpis():
    p = plan.load_default()
    assert [a.id for a in p.actions] == ["A1", "A2", "A3", "A4", "A5", "S1", "S2"]
    assert p.action("A4").kpis == ("assessments_qualified_pct",)
    assert p.action("A1").due == "2011-09-30" and p.action("A1").due_period == "2011-09"
    assert p.target("transfer_timely_pct") == 90  # the KPI's default target



GOOD = """title = "Plan"

[[actions]]
id = "A1"
title = "Transfers"
owner = "Head of Service"
due = 2011-09-30
kpis = ["transfer_timely_pct"]

[[actions]]
id = "A2"
title = "Stability"
owner = "Head of Quality"
due = "ongoing"
"""


@pytest.mark.parametrize(
    "text, message",
    [
        (None, "The action plan file {path} is missing."),
        (GOOD.replace('owner = "Head of Quality"', 'owner "Head of Quality"'),
         "The action plan file {path} is not valid TOML: Expected '=' after a key in a key/value pair (at line 13, "
         "column 7)."),
        (GOOD.replace('owner = "Head of Quality"\n', ""), 'The action plan file {path}: action A2 has no "owner".'),
        (GOOD.replace('id = "A2"\ntitle = "Stability"\n', ""),
         'The action plan file {path}: the 2nd action has no "id" and no "title".'),
        (GOOD.replace('id = "A2"', 'id = "A1"'), "The action plan file {path}: two actions have the id A1."),
        (GOOD.replace('kpis = ["transfer_timely_pct"]', 'kpis = "transfer_timely_pct"'),
         'The action plan file {path}: action A1\'s "kpis" is not a list of KPI names (kpis = ["name", ...]).'),
        (GOOD.replace('kpis = ["transfer_timely_pct"]', 'kpis = ["transfer_timely_pc", "transfer_timely_pct", "x"]'),
         'The action plan file {path}: action A1 lists "transfer_timely_pc", "x", which are not KPIs (each KPI is a '
         "file in queries/kpis/)."),
        (GOOD.replace('kpis = ["transfer_timely_pct"]', 'kpis = ["transfer_timely_pc"]'),
         'The action plan file {path}: action A1 lists "transfer_timely_pc", which is not a KPI (each KPI is a file '
         "in queries/kpis/)."),
        (GOOD.replace('"Head of Service"', '"Head of Service \u2013 Transfers"').encode("cp1252"),
         "The action plan file {path} is not saved as UTF-8 (line 6): save it again as UTF-8."),
        ('title = "Plan"\n', "The action plan file {path} has no actions: each is an [[actions]] table."),
        ('actions = ["A1"]\n', "The action plan file {path} has no actions: each is an [[actions]] table."),
    ],
)
def test_a_plan_file_that_cannot_be_read_says_where_and_what(tmp_path, text, message):
    path = tmp_path / "action_plan.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text)
    with pytest.raises(plan.PlanFileError) as caught:
        plan.load_default(path)
    assert str(caught.value) == message.format(path=path)


def test_a_plan_file_as_written_by_hand(tmp_path):
    """A TOML date for `due`, an action with no measures yet, and an owner not yet named (a key
    present but empty) all load, as they did before the file was checked."""
    path = tmp_path / "action_plan.toml"
    path.write_text(GOOD.replace('owner = "Head of Quality"', 'owner = ""'))
    p = plan.load_default(path)
    assert [(a.id, a.owner, a.due, a.due_period, a.kpis) for a in p.actions] == [
        ("A1", "Head of Service", "2011-09-30", "2011-09", ("transfer_timely_pct",)),
        ("A2", "", "ongoing", None, ()),
    ]

def test_a_change_is_kept_with_who_and_when_and_the_latest_wins(store):
    plan.record_change(store, "A1", "owner", "Jo Bloggs", "director@council", "director")
    plan.record_change(store, "A1", "owner", "Sam Smith", "analyst@council", "analyst")
    current = plan.current(store.cursor())
    assert current.action("A1").owner == "Sam Smith"
    hist = plan.history(store.cursor(), "A1")
    assert hist["value"].tolist() == ["Sam Smith", "Jo Bloggs"]  # newest first
    assert hist["changed_by"].tolist() == ["analyst@council", "director@council"]
    assert all(isinstance(t, dt.datetime) or hasattr(t, "year") for t in hist["changed_at"])
    log = store.audit_log()
    assert (log["action"] == "plan_change").sum() == 2


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("status", "going fine", "Status must be one of"),
        ("due", "next spring", "The due date must be a date"),
        ("target:re_referral_pct", "10", "is not a measure of action A1"),
        ("target:transfer_timely_pct", "ninety", "A target must be a number"),
        ("colour", "red", "cannot be changed"),
    ],
)
def test_unacceptable_changes_are_refused_and_nothing_is_kept(store, field, value, message):
    with pytest.raises(ValueError, match=message):
        plan.record_change(store, "A1", field, value, "someone", "director")
    assert plan.history(store.cursor()).empty


def test_commentary_is_kept_per_action_and_month(store):
    note = {"did": "Daily triage call", "changed": "Waits halved", "next": "Extend to weekends"}
    plan.record_change(store, "A1", "commentary:2011-06", json.dumps(note), "director@council", "director")
    assert plan.current(store.cursor()).action("A1").commentary == {"2011-06": note}


def test_changing_a_target_changes_the_rating_at_once(store, load):
    # June 2011: 8 of 10 transfers accepted within 5 working days (Mon 6 -> Tue 7 Jun = 1 wd) and
    # 2 after 10 (Mon 6 -> Mon 20 Jun): 80.0%.
    rows = [HEADER]
    for i in range(10):
        accepted = dt.date(2011, 6, 7) if i < 8 else dt.date(2011, 6, 20)
        rows.append([f"T{i}", f"C{i}", "IAT", "North 1", dt.date(2011, 6, 6), accepted, "North"])
    load({"Transfers": rows}, period="2011-06")
    sel = report.Selection(None, None, "2011-06")

    def rag():
        df = report.overview(store.cursor(), plan.current(store.cursor()), sel)
        return df.set_index("kpi").loc["transfer_timely_pct", ["value", "target", "rag"]].tolist()

    # target 90, higher is better: 80 misses by 10 > 9 (10% of 90) -> red
    assert rag() == [80.0, 90.0, "red"]
    plan.record_change(store, "A1", "target:transfer_timely_pct", "85", "director@council", "director")
    # target 85: 80 misses by 5 <= 8.5 -> amber
    assert rag() == [80.0, 85.0, "amber"]
    plan.record_change(store, "A1", "target:transfer_timely_pct", "80", "director@council", "director")
    assert rag() == [80.0, 80.0, "green"]

"""Every page, for every role, through Streamlit's AppTest on the small council in conftest.py:
what is shown (titles, values, messages), what each role cannot see, the filters, the URL,
and the empty states. Expected figures are worked out by hand in conftest.py's docstring."""

from __future__ import annotations

import base64
import json
import math
import html
import os
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd
import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from csc import ui
from csc.store import Store
from tests.app.conftest import COMMENTARY

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = str(ROOT / "dashboard.py")
ACTION, WORKFORCE, PRACTICE, QUALITY = "app_pages/action.py", "app_pages/workforce.py", "app_pages/practice.py", "app_pages/data_quality.py"
TIMELY = "Transfers accepted within 5 working days"


def app(db: Path, role: str = "analyst", **params) -> AppTest:
    os.environ["CSC_DB"] = str(db)
    st_config.set_option("server.address", "127.0.0.1")  # local mode: no sign-in, this computer only
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.session_state["preview_role"] = role
    for key, value in params.items():
        at.query_params[key] = value
    return at


def page(db: Path, path: str | None, role: str = "analyst", **params) -> AppTest:
    """Open the app (with URL query params), then switch to a page."""
    at = app(db, role, **params).run()
    if path:
        at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    parts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "error", "warning",
                                  "success") for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def paragraphs(at: AppTest) -> list[str]:
    """Every paragraph of the page's Markdown (a measure's heading, description and verdict are one element)."""
    return [p for m in at.markdown for p in str(m.value).split("\n\n")]


def figures(at: AppTest) -> list[dict]:
    return [json.loads(e.proto.spec) for e in at.get("plotly_chart")]


def plain(value):
    """A figure's array as a list: plotly sends numpy arrays as base64 typed arrays."""
    if isinstance(value, dict) and "bdata" in value:
        array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        if value.get("shape"):
            array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
        return array.tolist()
    return value


def open_tab(at: AppTest, label: str) -> AppTest:
    """Open the tab named `label` in every set of tabs on the page that has one (the Action page's
    per measure, the Practice page's) and run the page again: only the open tab is drawn."""
    keys = [k for k in at.session_state if str(k).startswith("tab-") or k == "practice-tab"]
    assert keys, "no tabs on this page"
    for key in keys:
        at.session_state[key] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def every_tab(at: AppTest, labels, read) -> list:
    """`read(at)` of the page with each of `labels` open in turn (what a reader sees tab by tab), joined."""
    return [item for label in labels for item in read(open_tab(at, label))]


FUNNEL, TRAJECTORY = "Funnel plot (latest month)", "Trajectory to the due date"
PRACTICE_TABS = ["Referrals", "Assessments", "Child protection", "Transfers"]


def titles(at: AppTest) -> list[str]:
    return [f["layout"]["title"]["text"].replace("<br>", " ") for f in figures(at)]


def figure(at: AppTest, starts: str) -> dict:
    return next(f for f in figures(at) if f["layout"]["title"]["text"].replace("<br>", " ").startswith(starts))


def alts(at: AppTest) -> list[str]:
    return [e.proto.alt for e in at.get("plotly_chart")]


def metrics(at: AppTest) -> dict[str, str]:
    """The figures at a glance (`ui.tiles`, HTML): label to value, as a reader sees them."""
    return {html.unescape(label): html.unescape(value) for e in at.get("html") for label, value in re.findall(
        r'<div class="csc-tile-label">(.*?)</div><div class="csc-tile-value">(.*?)</div>', e.proto.body)}


#: A column that tells each page's tables apart (read-only st.dataframe elements carry no key).
TABLES = {"records-table": "record_id", "team-table": "Team", "checks-table": "Check", "offending-table": "detail"}


def frame(at: AppTest, key: str):
    return next(d.value for d in at.dataframe if TABLES[key] in d.value.columns)


def has_frame(at: AppTest, key: str) -> bool:
    return any(TABLES[key] in d.value.columns for d in at.dataframe)


def refused(db: Path, path: str, role: str) -> bool:
    """The page is not in this role's navigation, or refuses when reached."""
    at = app(db, role).run()
    try:
        at.switch_page(path)
    except ValueError:  # not registered for this role
        return True
    at.run()
    return "You do not have access to this page." in texts(at)


# --- who may open what ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["app_pages/upload.py", "app_pages/imports.py", "app_pages/audit.py", QUALITY, "app_pages/plan.py"])
def test_board_cannot_open_management_pages(council_db, path):
    assert refused(council_db, path, "board")


@pytest.mark.parametrize("path", ["app_pages/upload.py", "app_pages/audit.py"])
def test_director_cannot_open_analyst_only_pages(council_db, path):
    assert refused(council_db, path, "director")


@pytest.mark.parametrize("role", ui.ROLES)
@pytest.mark.parametrize("path", [ACTION, WORKFORCE, PRACTICE])
def test_progress_pages_open_for_every_role(council_db, role, path):
    at = page(council_db, path, role)
    assert "You do not have access" not in texts(at)
    assert figures(at)


# --- Overview (the figures the other pages go into) ------------------------------------------


def overview_rows(at: AppTest) -> list[dict[str, str]]:
    """The Overview's measures tables (HTML, issue 17), a dictionary per row: the cells' text as
    a reader sees it (tags dropped, entities read), by column class (name, latest, target, rag, ...)."""
    rows = []
    for body in (e.proto.body for e in at.get("html")):
        for row in re.findall(r"<tr>(<td .*?)</tr>", body):
            rows.append({name: html.unescape(re.sub(r"<[^>]+>", "", cell))
                         for name, cell in re.findall(r'<td class="csc-m-(\w+)">(.*?)</td>', row)})
    return rows


def overview_latest(at: AppTest, measure: str) -> str:
    for row in overview_rows(at):
        if row["name"] == measure:
            return row["latest"]
    raise AssertionError(f"{measure} not on the overview")


def test_overview_shows_the_latest_month_for_all_areas(council_db):
    at = page(council_db, None, "director")
    assert overview_latest(at, TIMELY) == "75.0% (small base)"  # 3 of 4 in July: 4 cases, fewer than 10 (issue 15)


def test_board_overview_shows_c_for_a_figure_from_small_numbers(council_db):
    at = page(council_db, None, "board")
    assert overview_latest(at, TIMELY) == "c"  # 3 of 4


def test_the_boards_overview_rates_a_small_base_as_any_month(council_db):
    # A review: July's caseload stability is 7 of 8 (87.5%), a small base. The board's row stated no
    # assurance for it, while a large base's had one: so "no assurance" meant 6-9 cases, and 87.5% of
    # 6-9 cases is 7 of 8 only. The board's row is now rated as any month (its limits all above the
    # target of 75%: passing); the director's still says the base is too small to read.
    name = "Children who kept the same social worker for the last 6 months"
    director = next(r for r in overview_rows(page(council_db, None, "director")) if r["name"] == name)
    board = next(r for r in overview_rows(page(council_db, None, "board")) if r["name"] == name)
    assert director["latest"] == "87.5% (small base)" and director["spc"] == "No change"
    assert board["latest"] == "87.5%" and board["spc"] == "No change · Passing"


def test_a_figure_that_misses_its_target_never_reads_as_the_target_but_the_boards_stays_as_published(
        council_db, monkeypatch):
    # A review: "95.0% against 95.0%" for 94.96%. July's caseload stability is 7 of 8, 87.5%; against a
    # target of 87.54% (made so here) it misses by less than one decimal place shows: the director
    # reads 87.50%, the board its published figure, 87.5% (more places would give back the fraction)
    import streamlit as st

    from csc import plan, viewcache

    def forget():  # the Overview's rows are kept per data version: made again with this target, and after
        viewcache.clear()
        st.cache_data.clear()

    real = plan.Action.target
    monkeypatch.setattr(plan.Action, "target",
                        lambda self, kpi: 87.54 if kpi == "caseload_stability_pct" else real(self, kpi))
    forget()
    try:
        name = "Children who kept the same social worker for the last 6 months"
        director = next(r for r in overview_rows(page(council_db, None, "director")) if r["name"] == name)
        board = next(r for r in overview_rows(page(council_db, None, "board")) if r["name"] == name)
    finally:
        monkeypatch.undo()
        forget()
    assert director["latest"] == "87.50% (small base)"
    assert board["latest"] == "87.5%"


def test_one_month_chosen_gives_no_rating_of_change(council_db):
    # A review chose one month: "no significant change" of a single point, where the months before it
    # showed a real improvement. May alone: 7 of 10, rated against its target only
    at = page(council_db, None, "director", **{"from": "2011-05", "to": "2011-05"})
    row = next(r for r in overview_rows(at) if r["name"] == TIMELY)
    assert (row["latest"], row["rag"], row["spc"]) == ("70.0%", "Red", "–")
    assert "no rating of change, as only one month is shown (choose more months to judge change)" in overview_html(at)
    assert "no significant change" not in overview_html(at)


def test_area_filter_changes_the_figures_and_is_written_to_the_url(council_db):
    at = page(council_db, None, "director")
    at.sidebar.multiselect[0].select("North").run()
    assert overview_latest(at, TIMELY) == "50.0% (small base)"  # North: 1 of 2 (2 cases, fewer than 10)
    assert at.query_params["area"] == "North"
    assert (at.query_params["from"], at.query_params["to"]) == ("2011-04", "2011-07")


def test_with_an_office_chosen_a_measure_of_all_areas_only_says_so(council_db):
    # A review: with North chosen, the Overview showed the working days to load the data (counted for
    # the council as a whole only) beside North's figures as if it were North's
    name = "Working days from the month end to its data being loaded"
    at = page(council_db, None, "director")
    assert name in [r["name"] for r in overview_rows(at)]
    at.sidebar.multiselect[0].select("North").run()
    names = [r["name"] for r in overview_rows(at)]
    assert f"{name} (all areas: not counted by office)" in names and TIMELY in names
    action = page(council_db, ACTION, "director", action="A5", area="North")
    assert f"### {name} (all areas: not counted by office)" in texts(action)
    assert f"### {name}\n" in texts(page(council_db, ACTION, "director", action="A5"))


def test_period_filter_from_the_url_changes_the_latest_month(council_db):
    at = page(council_db, None, "director", to="2011-05")
    assert overview_latest(at, TIMELY) == "70.0%"  # May: 7 of 10 (10 cases: not a small base)


# --- Action -----------------------------------------------------------------------------------


def test_action_page_opens_the_action_named_in_the_url(council_db):
    at = page(council_db, ACTION, "director", action="A3")
    assert at.selectbox(key="action_pick").value == "A3"
    assert "A3 · Fewer changes of social worker in the child protection process" in [h.value for h in at.header]
    assert at.query_params["action"] == "A3"


def overview_html(at: AppTest) -> str:
    """The Overview's HTML elements (its summary rows, headings with their links, verdicts and cards)."""
    return "\n".join(e.proto.body for e in at.get("html"))


def overview_links(at: AppTest, action_id: str) -> list[str]:
    """The links to `action_id` on the Overview (its summary row and its heading), unescaped."""
    return [html.unescape(h) for h in re.findall(r'<a href="([^"]*)"', overview_html(at))
            if parse_qs(urlsplit(html.unescape(h)).query).get("action") == [action_id]]


def test_overview_links_open_the_action_with_the_selection_even_after_another_was_chosen(council_db):
    at = page(council_db, ACTION, "director")
    assert at.selectbox(key="action_pick").value == "A1"
    at.switch_page("app_pages/overview.py").run()
    at.sidebar.multiselect[0].select("North").run()
    links = overview_links(at, "A3")
    assert len(links) == 2  # the summary row and the action's heading
    for link in links:
        path, query = urlsplit(link).path, parse_qs(urlsplit(link).query)
        assert path == "action"  # relative: the Action page's URL path, under any base path
        # the view's selection goes with it (a plain link opens the page in a new session), and
        # in local mode the role previewed
        assert query == {"action": ["A3"], "area": ["North"], "from": ["2011-04"], "to": ["2011-07"],
                         "preview": ["director"]}
    # a link is a first visit with that query; in a session that had chosen A1, it still opens A3
    for key, value in parse_qs(urlsplit(links[0]).query).items():
        at.query_params[key] = value
    at.switch_page(ACTION).run()
    assert not at.exception
    assert at.selectbox(key="action_pick").value == "A3"
    assert at.query_params["action"] == "A3"


def test_a_link_from_a_previewed_page_keeps_the_role_in_local_mode_only(council_db):
    at = app(council_db, "board")
    del at.session_state["preview_role"]  # a new session, as a link opens
    at.query_params["preview"] = "board"
    at.run()
    assert at.session_state["preview_role"] == "board"
    assert overview_latest(at, TIMELY) == "c"  # suppressed, as the board sees it


def test_action_page_writes_the_chosen_action_to_the_url(council_db):
    at = page(council_db, ACTION, "director")
    assert at.query_params["action"] == "A1"  # the first action by default
    at.selectbox(key="action_pick").select("A4").run()
    assert at.query_params["action"] == "A4"
    # each measure's heading (with what it measures and its verdict, one element)
    assert any(m.value.startswith("### Assessments completed by a qualified social worker\n") for m in at.markdown)


def test_action_xmr_title_states_the_verdict_and_marks_the_due_date(council_db):
    # issue 15: the title is the one verdict's headline. July: 3 of 4 = 75.0%, 15 points short of
    # 90 (more than 9: red); 4 cases, fewer than 10: a small base.
    at = page(council_db, ACTION, "director", action="A1")
    assert (f"{TIMELY}: 75.0% in July 2011 misses the target of 90.0% (red); only 4 cases this month, too small a base to read "
            "month-to-month movement") in titles(at)
    xmr = figure(at, f"{TIMELY}: 75.0% in July 2011")
    notes = [a["text"] for a in xmr["layout"]["annotations"]]
    assert "Due September 2011" in notes
    assert any(n.startswith("Source: children's social care monthly extracts 2011-04 to 2011-07") for n in notes)
    assert any(a.startswith(f"XmR chart: {TIMELY}: 75.0% in July 2011") for a in alts(at))
    assert "Small base (fewer than 10 cases) in" in " ".join(notes).replace("<br>", " ")


def test_action_says_the_one_verdict_in_words(council_db):
    # issue 15: one sentence instead of RAG, variation and assurance side by side. 75 misses 90
    # by more than 9 (red); 4 cases is a small base, so no SPC claim; the trajectory is at risk.
    at = page(council_db, ACTION, "director", action="A1")
    rating = next(p for p in paragraphs(at) if p.startswith("**75.0% in July 2011"))
    assert rating == ("**75.0% in July 2011 misses the target of 90.0% (red); only 4 cases this month, too small a base "
                      "to read month-to-month movement; at risk of missing it by September 2011.**")


def test_too_short_a_baseline_is_said_on_the_chart(council_db):
    # issue 15: limits come from the months before the start (May 2011); here only April, one
    # month, no moving range: no baseline, so every month sets them, as with the toggle off:
    # (100 + 70 + 50 + 75) / 4 = 73.75.
    at = page(council_db, ACTION, "director", action="A1")
    assert "Mean 73.8%" in alts(at)[0]
    xmr = figure(at, f"{TIMELY}: 75.0%")
    words = " ".join(a["text"] for a in xmr["layout"]["annotations"])
    assert "Fewer than 2 months before the action started" in words
    at.toggle(key="rebase").set_value(False).run()
    assert "Mean 73.8%" in alts(at)[0]


def test_action_compares_area_offices_with_the_numbers_on_hover(council_db):
    at = page(council_db, ACTION, "director", action="A1")
    fig = figure(at, f"{TIMELY}: 1 of 2 area offices met the target of 90% in July 2011; North furthest off at 50%")
    north = next(t for t in fig["data"] if t.get("meta", {}).get("group") == "North")
    # North: May 1 of 2, June 0 of 3, July 1 of 2
    assert plain(north["customdata"]) == [[1.0, 2.0], [0.0, 3.0], [1.0, 2.0]]
    assert "of %{customdata[1]" in north["hovertemplate"]
    labels = [a["text"] for a in fig["layout"]["annotations"]]
    assert {"North 50%", "South 100%", "All areas 75%", "Target 90%"} <= set(labels)


def test_action_shows_a_funnel_and_a_trajectory(council_db):
    at = page(council_db, ACTION, "director", action="A1")
    assert not any(t.startswith(f"{TIMELY}: both area offices within") for t in titles(at))  # drawn when opened
    assert f"{TIMELY}: both area offices within the range expected by chance in July 2011" in titles(
        open_tab(at, FUNNEL))
    assert f"{TIMELY}: at risk of missing 90% by September 2011" in titles(open_tab(at, TRAJECTORY))


def test_ongoing_action_has_no_trajectory_and_fte_rates_no_funnel(council_db):
    at = page(council_db, ACTION, "director", action="S1")
    shown = texts(open_tab(at, TRAJECTORY)) + texts(open_tab(at, FUNNEL))
    assert "An ongoing action has no due date, so there is no trajectory to one." in shown
    assert "No funnel plot: this measure is not a share of counted cases" in shown


def test_measures_with_no_figures_say_why(council_db):
    at = page(council_db, ACTION, "director", action="A2")
    infos = [i.value for i in at.info]
    assert "No assessments were audited in these months." in infos
    assert "No child protection plans were audited for being SMART in these months." in infos


def test_action_area_filter(council_db):
    at = page(council_db, ACTION, "director", action="A1", area="North")
    # North, July: 1 of 2 = 50.0% (red), 2 cases: a small base
    assert (f"{TIMELY}: 50.0% in July 2011 misses the target of 90.0% (red); only 2 cases this month, too small a "
            "base to read month-to-month movement") in titles(at)
    assert any(p.startswith("**50.0% in July 2011") for p in paragraphs(at))


def test_commentary_for_the_months_in_range(council_db):
    at = page(council_db, ACTION, "director", action="A1")
    assert any(m.value.startswith("**July 2011** — *What we did:* " + COMMENTARY["did"]) for m in at.markdown)
    at = page(council_db, ACTION, "director", action="A1", to="2011-06")
    assert "No commentary for these months yet." in texts(at)


@pytest.mark.parametrize("role", ["director", "analyst"])
def test_records_behind_a_figure_for_directors_and_analysts(council_db, role):
    at = page(council_db, ACTION, role, action="A1")
    assert "Records behind this figure" in [e.label for e in at.expander]
    assert "rec_kpi" not in at.session_state  # its choices are drawn when it is opened
    at.session_state["records-box"] = True
    at.run()
    at.toggle(key="rec_show").set_value(True).run()
    records = frame(at, "records-table")
    # July's 4 accepted transfers, 3 of them within 5 working days
    assert len(records) == 4
    assert records["numerator"].sum() == 3
    # each with its dates and the working days that decided it: the 3 timely within 5, the other not
    assert {"requested_date", "accepted_date", "from_team", "to_team", "working_days"} <= set(records.columns)
    assert sorted(records["working_days"] <= 5) == [False, True, True, True]
    assert (records["numerator"] == (records["working_days"] <= 5)).all()
    assert "Download these records (CSV)" in [b.label for b in at.download_button]
    at.selectbox(key="rec_area").select("North").run()
    assert len(frame(at, "records-table")) == 2


def test_board_sees_no_records_and_c_for_small_numbers(council_db):
    at = page(council_db, ACTION, "board", action="A1")
    assert "Records behind this figure" not in [e.label for e in at.expander]
    assert not at.dataframe
    assert [t.key for t in at.toggle] == ["rebase"]
    # July, 3 of 4 = 75% against a target of 90%: hidden (3 and 4 are from 1 to 5), and not rated for
    # the board (red and a small base would say it is below 90% of 5 or fewer cases; green would fix
    # it at 100%): the director's rating (red) is not given, nor a small base
    said = "c (suppressed to protect small numbers) in July 2011, not rated this month"
    markdown = "\n".join(m.value for m in at.markdown)
    assert f"**{said}" in markdown
    assert "(red)" not in markdown and "small base" not in markdown
    # the title says so for July, never May's 70% (7 of 10) as the latest, nor the hidden 75%
    assert any(t.startswith(f"{TIMELY}: c (suppressed to protect small numbers) in July 2011") for t in titles(at))
    assert not any("70%" in t or "75" in t for t in titles(at) if t.startswith(TIMELY))
    assert "numbers from 1 to 5 are suppressed (shown as c)" in texts(at)


def test_board_hovers_carry_no_small_numbers(council_db):
    at = page(council_db, ACTION, "board", action="A1")
    shown = []
    for fig in figures(at):
        # the numbers behind the points: area offices' lines and the funnel's offices (XmR hovers carry
        # only the mean and limits)
        for trace in (t for t in fig["data"] if t.get("meta", {}).get("role") in ("series", "areas")):
            for row in plain(trace.get("customdata")) or []:
                for value in row if isinstance(row, list) else [row]:
                    if isinstance(value, (int, float)) and not math.isnan(value):
                        shown.append(value)
    # the board sees rates, never the counts behind them (issue 13): all areas' May 7 of 10 (70%) would
    # give the 3 not on time; so no hover carries a number behind a point, nor says "x of y"
    assert shown == []
    for fig in figures(at):
        for trace in fig["data"]:
            assert " of " not in (trace.get("hovertemplate") or ""), fig["layout"]["title"]["text"]
            assert "÷" not in (trace.get("hovertemplate") or "")


def test_board_gets_no_funnel_plot_and_is_told_why(council_db):
    # the funnel's x axis is each office's number of cases, which the board does not see
    at = open_tab(page(council_db, ACTION, "board", action="A1"), FUNNEL)
    assert not any(t.startswith(f"{TIMELY}: both area offices within") for t in titles(at))
    assert not any(f["layout"].get("xaxis", {}).get("title", {}).get("text", "").startswith("Number of cases")
                   for f in figures(at))
    assert ("The funnel plot needs each office's number of cases, which the board view does not show."
            in [c.value for c in at.caption])
    director = open_tab(page(council_db, ACTION, "director", action="A1"), FUNNEL)
    assert f"{TIMELY}: both area offices within the range expected by chance in July 2011" in titles(director)


def test_board_selection_of_both_offices_is_all_areas(council_db):
    # A review: ticking every office showed c where "All areas" showed the figure. May 2011: North 1 of
    # 2 (c) and South 6 of 8 (its partner, c); all areas 7 of 10 = 70%, shown. Both offices together
    # are those same 7 of 10, shown as all areas is; one office alone stays c.
    from csc import kpis, report

    store = Store.open(council_db)  # the app's database, if it has it open (a file is opened once per process)
    cur, kpi = store.cursor(), kpis.get("transfer_timely_pct")

    def may(areas):
        df = report.series(cur, kpi, report.Selection(areas, "2011-04", "2011-07"), suppress=True)
        row = df[df["period"] == "2011-05"].iloc[0]
        return bool(row["suppressed"]), None if pd.isna(row["value"]) else round(row["value"], 1)

    try:
        assert may(None) == (False, 70.0)
        assert may(("North", "South")) == (False, 70.0)
        assert may(("North",)) == (True, None) and may(("South",)) == (True, None)
    finally:
        store.close()


def test_board_trajectory_past_the_due_month_says_nothing_of_a_hidden_latest_month(council_db, tmp_path):
    # A red-team review: past the due month the trajectory judges the latest month itself, so "target
    # met" (or "missed") under a latest month shown as c fixed it: c meeting 90% is 5 of 5. Here A1 is
    # due in June 2011 and July's all-areas figure, 3 of 4 transfers timely (75%, conftest.py), is c
    # for the board; against the target of 90% the director reads "target missed".
    import shutil

    from csc import plan
    from csc.store import Store

    db = tmp_path / "csc.duckdb"
    shutil.copy(council_db, db)
    with Store.open(db) as store:
        plan.record_change(store, "A1", "due", "2011-06-30", "setup", "director")
    director = texts(open_tab(page(db, ACTION, "director", action="A1"), TRAJECTORY))
    assert "Due June 2011: the latest value, 75% in July 2011, misses the target of 90%." in director
    board = open_tab(page(db, ACTION, "board", action="A1"), TRAJECTORY)
    said = [c.value for c in board.caption if c.value.startswith("Will it be met by the due date?")]
    assert len(said) == 3 and set(said) == {"Will it be met by the due date? not said. Neither the trend line nor its "
                                            "projection is given: some months are suppressed to protect small numbers, "
                                            "and they would give them back."}
    assert "target missed" not in texts(board) and "target met" not in texts(board)


def test_a_target_judged_after_its_due_month_names_the_month_judged(council_db, tmp_path):
    # A review: past the due month "met" or "missed" judges the latest month, and the pages said "at
    # the due date" / "missed at June 2011" as if June had been judged. A1 due in June 2011; July's
    # 3 of 4 (75%, conftest.py) misses 90%: every place names July, and June as the due month.
    import shutil

    from csc import plan
    from csc.store import Store

    db = tmp_path / "csc.duckdb"
    shutil.copy(council_db, db)
    with Store.open(db) as store:
        plan.record_change(store, "A1", "due", "2011-06-30", "setup", "director")
    when = "in July 2011, after its due month (June 2011)"
    action = open_tab(page(db, ACTION, "director", action="A1"), TRAJECTORY)
    assert f"{TIMELY}: target of 90% missed {when}" in titles(action)
    assert f"1 of 2 measures missed its target {when}" in texts(action)
    assert "at the due date" not in texts(action)
    overview = page(db, None, "director")
    row = next(r for r in overview_rows(overview) if r["name"] == TIMELY)
    assert row["due"] == "Target missed in Jul 2011"
    assert f"missed its target {when}" in " ".join(e.proto.body for e in overview.get("html"))


def test_a_measure_with_no_value_in_the_month_chosen_is_not_judged_on_an_older_month(council_db, tmp_path,
                                                                                     monkeypatch):
    # A review: an August 2011 extract with referrals only (no transfers requested or accepted), so A1's
    # transfer measures end in July. The Overview said "no value for August 2011", not rated; the Action
    # page judged July's 75% as the month's ("only 4 cases this month"), and its trajectory title did
    # not say the trend stops in July.
    import datetime as dt
    import shutil

    from csc import plan, report
    from csc.store import Store
    from tests.app import conftest
    from tests.conftest import write_xlsx

    db = tmp_path / "csc.duckdb"
    shutil.copy(council_db, db)
    monkeypatch.setitem(conftest.REFERRALS, "2011-08", {"North": 3, "South": 7})
    with Store.open(db) as store:
        path = write_xlsx(tmp_path / "extract-2011-08.xlsx", {"Referrals": conftest.referrals("2011-08")})
        assert store.import_file(path, "2011-08", user="setup", imported_at=dt.datetime(2011, 9, 6, 9)).status == "loaded"
    for role in ("director", "board"):
        at = page(db, ACTION, role, action="A1", **{"from": "2011-04", "to": "2011-08"})
        assert f"### {TIMELY}" in texts(at) and "**No value for August 2011.**" in texts(at)
        assert "this month" not in next(p for p in paragraphs(at) if p.startswith("**") and "August" in p)
        xmr = figure(at, f"{TIMELY}: no value for August 2011")
        assert any("Variation: no value for August 2011" in a["text"] for a in xmr["layout"]["annotations"])
    director = open_tab(page(db, ACTION, "director", action="A1", **{"from": "2011-04", "to": "2011-08"}), TRAJECTORY)
    assert (f"{TIMELY}: at risk of missing 90% by September 2011, on the months to July 2011 (no value for August "
            "2011)") in titles(director)
    # the board's July (3 of 4) is hidden: no trend's status is given of an empty August either, as it
    # is projected through (or, past the due month, judged on) July (a review)
    board = open_tab(page(db, ACTION, "board", action="A1", **{"from": "2011-04", "to": "2011-08"}), TRAJECTORY)
    said = [c.value for c in board.caption if c.value.startswith("Will it be met by the due date?")]
    assert said and all(s.startswith("Will it be met by the due date? not said.") for s in said), said
    # the Overview's trend: July's 75% (3 of 4) is not drawn as the latest point: August's slot is empty
    store = Store.open(db)  # the app's database, if it has it open (a file is opened once per process)
    con = store.cursor()
    try:
        sel = report.Selection(None, "2011-04", "2011-08")
        for suppress in (False, True):
            rows = report.overview(con, plan.current(con), sel, suppress=suppress)
            row = rows[rows["kpi"] == "transfer_timely_pct"].iloc[0]
            assert row["no_value"] and row["sparkline"][-1] is None
        assert rows[rows["kpi"] == "transfer_timely_pct"].iloc[0]["sparkline"][-2] is None  # the board's July: 3 of 4, c
        # the board pack's chart and the Overview's, drawn on request, say so too (a review)
        from csc import boardpack

        pack = boardpack.build_html(con, plan.current(con), "2011-08", produced=dt.datetime(2011, 9, 7, 9))
        assert f"{TIMELY}: no value for August 2011" in pack and f"{TIMELY}: 75.0% in July 2011" not in pack
    finally:
        store.close()
    overview = page(db, None, "director", **{"from": "2011-04", "to": "2011-08"})
    overview.pills(key="spc-actions").set_value(["A1"]).run()
    assert f"{TIMELY}: no value for August 2011" in titles(overview)
    assert not any(t.startswith(f"{TIMELY}: 75.0% in July 2011") for t in titles(overview))


# --- Workforce -----------------------------------------------------------------------------------


def team_row(at: AppTest, team: str) -> dict:
    table = frame(at, "team-table")
    return table.set_index("Team").loc[team].to_dict()


def test_workforce_headline_figures(council_db):
    at = page(council_db, WORKFORCE, "director")
    got = metrics(at)
    assert got["Caseload per qualified FTE"] == "1.4"  # 7 cases / 5 FTE
    assert got["Turnover, last 12 months"] == "13.3%"  # 1 / 7.5 FTE
    assert got["Agency share of qualified FTE"] == "21.1%"  # 2 / 9.5 FTE
    assert got["Vacancy rate"] == "37.5%"  # 4.5 / 12 funded FTE
    assert got["Supervised in last 6 weeks"] == "80.0%"  # 8 of 10


def test_workforce_by_area_charts_state_the_finding(council_db):
    at = page(council_db, WORKFORCE, "director")
    # issue 15: North 2 of 3 and South's 7 supervisions are small bases (fewer than 10), said in the title
    assert ("Qualified social workers supervised in the last 6 weeks: 0 of 2 area offices met the target of 95% "
            "in July 2011; North furthest off at 66.7%; small bases in North (3 cases), South (7 cases): with so few "
            "cases a rate swings from month to month, so compare offices with care") in titles(at)  # (no funnel plot here)
    assert len(figures(at)) == 5
    # one download for the five charts (a sheet each), not one under each
    assert [b.label for b in at.download_button if "chart" in b.label] == ["Download the data behind these charts (Excel)"]


def test_workforce_by_team(council_db):
    at = page(council_db, WORKFORCE, "director")
    assert "Each team in July 2011" in texts(at)
    assert team_row(at, "North A") == {
        "Area office": "North", "Caseload per qualified FTE": "1.0 per FTE", "Turnover, last 12 months": "0.0%",
        "Agency share of qualified FTE": "40.0%", "Vacancy rate": "50.0%", "Supervised in last 6 weeks": "66.7%"}
    south_b = team_row(at, "South B")  # W12 left in June: funded posts, no one in post
    assert (south_b["Vacancy rate"], south_b["Supervised in last 6 weeks"]) == ("100.0%", "–")


def tile_notes(at: AppTest) -> dict[str, str]:
    """The line under each figure at a glance: label to note (month, target, rating)."""
    out = {}
    for e in at.get("html"):
        for tile in e.proto.body.split('<div class="csc-tile"')[1:]:  # each tile's own label and note
            label = re.search(r'<div class="csc-tile-label">(.*?)</div>', tile)
            note = re.search(r'<div class="csc-tile-note">(.*?)</div>', tile)
            if label and note:
                out[html.unescape(label.group(1))] = html.unescape(note.group(1))
    return out


def test_board_workforce_suppresses_small_numbers(council_db):
    at = page(council_db, WORKFORCE, "board")
    got = metrics(at)
    assert got["Caseload per qualified FTE"] == "c"  # 7 cases / 5 FTE
    # hidden, so not rated for the board: 1.4 against a target rated it (a review saw "c ... Green"),
    # and a rating pins a hidden figure to one side of its target
    assert tile_notes(at)["Caseload per qualified FTE"].endswith("· not rated (suppressed to protect small numbers)")
    director = tile_notes(page(council_db, WORKFORCE, "director"))["Caseload per qualified FTE"]
    assert not director.endswith("not rated (suppressed to protect small numbers)") and director.split(" · ")[-1] in (
        "Green", "Amber", "Red", "–")
    assert got["Supervised in last 6 weeks"] == "80.0%"  # 8 of 10
    north = team_row(at, "North A")
    assert {v for k, v in north.items() if k != "Area office"} == {"c"}
    south = team_row(at, "South A")
    # South A's 6 of 7 supervised has no small number, but it is all of South (South B has no one in
    # post), and South is all areas' 8 of 10 minus North's hidden 2 of 3: hidden with North
    assert south["Supervised in last 6 weeks"] == "c"
    assert south["Agency share of qualified FTE"] == "c"  # 1 of 7 FTE


def test_workforce_area_filter(council_db):
    at = page(council_db, WORKFORCE, "director", area="North")
    assert metrics(at)["Supervised in last 6 weeks"] == "66.7%"
    assert list(frame(at, "team-table")["Team"]) == ["North A"]


def test_workforce_period_filter_uses_the_last_month_chosen(council_db):
    at = page(council_db, WORKFORCE, "director", to="2011-06")
    assert "Each team in June 2011" in texts(at)
    assert metrics(at)["Supervised in last 6 weeks"] == "0.0%"  # no supervision in the 42 days to 30 June


# --- Practice -------------------------------------------------------------------------------------


def test_practice_charts_state_the_finding(council_db):
    at = page(council_db, PRACTICE, "director")
    assert [t.label for t in at.tabs] == PRACTICE_TABS
    first = titles(at)  # only the open tab is drawn
    assert "Referrals received stayed at 10 in July 2011" in first
    assert not any(t.startswith("Assessments within timescale") for t in first)
    got = every_tab(at, PRACTICE_TABS, titles)
    assert "Referrals received stayed at 10 in July 2011" in got
    assert "Assessments within timescale in July 2011: Single lowest at 50%, Core highest at 100%" in got
    # issue 15: one child on a plan in each office (fewer than 10): small bases, said in the title
    assert ("Children on a protection plan who have had 3 or more social workers: 1 of 2 area offices met the "
            "target of 10% in July 2011; North furthest off at 100%; small bases in North (1 case), South (1 case): "
            "with so few cases a rate swings from month to month, so compare offices with care") in got
    assert "Transfers waiting to be accepted at the month end: North highest (1) and South lowest (0) in July 2011" in got
    # the Action page, which has a funnel plot, sends the reader to it
    action = page(council_db, "app_pages/action.py", "director", action="A3")
    assert any(t.endswith("small bases in North (1 case), South (1 case): compare offices on the funnel plot's "
                          "limits, not the raw swings") for t in titles(action))


def test_practice_empty_state_for_a_measure_with_no_events(council_db):
    at = open_tab(page(council_db, PRACTICE, "director"), "Child protection")
    assert "No child protection plans ended in these months." in [i.value for i in at.info]


def test_practice_area_filter(council_db):
    at = open_tab(page(council_db, PRACTICE, "director", area="North"), "Assessments")
    assert "Assessments within timescale in July 2011: Initial lowest at 50%, Core highest at 100%" in titles(at)


def test_board_practice_suppresses_small_counts(council_db):
    at = page(council_db, PRACTICE, "board")
    referrals = next(a for a in alts(at) if a.startswith("Line chart: Referrals received"))
    # North's 3 is suppressed, and South's 7 with it (all areas' 10 minus 7 would give North's 3)
    assert "Latest: All areas 10." in referrals
    assert "North 3" not in referrals and "South 7" not in referrals
    # North's one transfer waiting: every figure small
    assert "Every figure for these months is suppressed (shown as c)" in "\n".join(
        every_tab(at, PRACTICE_TABS, lambda a: [texts(a)]))


# --- Data quality ------------------------------------------------------------------------------


def check_row(at: AppTest, title: str) -> dict:
    table = frame(at, "checks-table")
    return table.set_index("Check").loc[title].to_dict()


def test_data_quality_summary_counts(council_db):
    at = page(council_db, QUALITY, "analyst")
    waiting = check_row(at, "Transfers waiting more than 20 working days to be accepted")
    assert (waiting["Now (all months)"], waiting["In these months"]) == (1, 1)
    quiet = check_row(at, "Open involvements with no activity for the child in over 12 months")
    assert (quiet["Now (all months)"], quiet["In these months"]) == (1, 0)  # it went quiet in January 2011
    assert check_row(at, "Child protection plans open for more than 2 years")["Now (all months)"] == 0


def test_data_quality_chosen_check_is_kept_in_the_url(council_db):
    at = page(council_db, QUALITY, "analyst")
    assert at.query_params["check"] == "assessment_worker_unknown"  # the first check that finds something
    at = page(council_db, QUALITY, "analyst", check="transfer_waiting_over_20_days")
    assert at.selectbox(key="check_pick").value == "transfer_waiting_over_20_days"
    assert ("Transfers waiting more than 20 working days to be accepted: 1, all from June 2011 "
            "(the month the transfer was requested)") in titles(at)


def test_analysts_see_the_offending_records(council_db):
    at = page(council_db, QUALITY, "analyst", check="transfer_waiting_over_20_days")
    rows = frame(at, "offending-table")
    assert list(rows["record_id"]) == ["T-WAIT"]
    assert rows["working_days_waiting"].iloc[0] == 29  # 21 June to 31 July
    assert "Download these records (CSV)" in [b.label for b in at.download_button]


def test_records_outside_the_months_are_counted_not_shown(council_db):
    at = page(council_db, QUALITY, "analyst", check="involvement_no_recent_activity")
    # other months, not "earlier" (with an older month chosen last they can be later ones: a review)
    assert "1 fall in other months: widen the months to see them." in texts(at)
    assert "judged at the end of July 2011 (the latest month loaded)" in texts(at)  # the month's name, not 2011-07


def test_directors_see_counts_over_time_but_no_records(council_db):
    at = page(council_db, QUALITY, "director", check="transfer_waiting_over_20_days")
    assert figures(at)
    assert "Analysts can see the offending records." in texts(at)
    assert not has_frame(at, "offending-table")


def test_data_quality_area_filter(council_db):
    at = page(council_db, QUALITY, "analyst", area="North")
    # the unknown assessment worker (W99) is South's; the waiting transfer is North's
    assert check_row(at, "Assessments by a worker missing from the workforce sheet")["Now (all months)"] == 0
    assert check_row(at, "Transfers waiting more than 20 working days to be accepted")["Now (all months)"] == 1


# --- empty database ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [None, ACTION, WORKFORCE, PRACTICE, QUALITY])
def test_every_page_says_what_to_do_with_no_extract_loaded(empty_db, path):
    at = page(empty_db, path, "analyst")
    assert any(i.value.startswith("No extract loaded yet — upload one on the Upload page") for i in at.info)
    assert not figures(at)


@pytest.mark.parametrize("path", ["app_pages/plan.py", "app_pages/upload.py", "app_pages/imports.py", "app_pages/audit.py"])
def test_management_pages_run_with_no_extract_loaded(empty_db, path):
    page(empty_db, path, "analyst")


def test_overview_draws_the_xmr_charts_of_an_action_on_request(council_db):
    at = page(council_db, None, "director")
    assert not figures(at)  # nothing drawn until asked: the first screen stays fast
    at.pills(key="spc-actions").set_value(["A1"]).run()  # one control for every action
    specs = figures(at)
    texts_in_charts = [a.get("text", "") for f in specs for a in f["layout"].get("annotations", [])]
    chart_titles = [f["layout"]["title"]["text"] for f in specs]
    # A1 has three measures with values in the fixture: one XmR chart each
    assert len(specs) == 3
    assert any(t.startswith(TIMELY) for t in chart_titles)
    # the SPC icons' meaning in words, beside the target
    assert any(t.startswith("Variation:") for t in texts_in_charts)
    assert any("Target 90%" in t for t in texts_in_charts)


def test_months_before_the_first_extract_are_not_chosen_by_default_and_are_said_to_be_incomplete(tmp_path):
    # one extract, June 2011, carrying referrals from April: the series starts in April (the spec: from
    # the first month with data), but April and May come only from the history June's extract carried
    # (a review found 0% supervision and ramping re-referrals there, judged as real): the months
    # chosen by default start at June, and choosing April says what is incomplete
    import datetime as dt

    from csc.store import Store
    from tests.conftest import write_xlsx

    rows = [["referral_id", "child_id", "referral_date", "area_office", "team", "source"],
            *[[f"R{i}", f"C{i}", dt.date(2011, 4 + i % 3, 1 + i), "North", "Team A", "Police"] for i in range(9)]]
    db = tmp_path / "csc.duckdb"
    with Store.open(db) as store:
        assert store.import_file(write_xlsx(tmp_path / "june.xlsx", {"Referrals": rows}), "2011-06",
                                 user="t").status == "loaded"
    ui.clear_caches()
    at = page(db, None, "director")
    assert at.select_slider(key="w_range").value == ("2011-06", "2011-06")
    assert "the first extract loaded" not in texts(at)
    at = page(db, None, "director", **{"from": "2011-04", "to": "2011-06"})
    assert at.select_slider(key="w_range").value == ("2011-04", "2011-06")
    assert ("Months before June 2011, the first extract loaded, come from the history it carried: measures that "
            "look back over months") in texts(at)
    # on the page, above its figures (in the sidebar alone, a review read 2009's 0% supervision rated
    # red without a word), and said once
    (said,) = [w.value for w in at.warning if "the first extract loaded" in w.value]
    assert said.endswith("are incomplete there, and so are their ratings. Choose months from June 2011 for figures "
                         "to rely on.")
    assert not any("the first extract loaded" in c.value for c in at.sidebar.caption)
    ui.clear_caches()


def test_the_boards_office_lines_with_hidden_months_say_what_their_gaps_are(council_db):
    # A review: the board saw offices drawn at 0% only (the months with enough cases) beside all
    # areas' 23.8%, and nothing said. A1's offices have 2 transfers a month or so (conftest.py):
    # their months are hidden from the board, and the note is under the chart, after its source line
    # (in the figure: no element more a view); the director's has none
    # the rule as published (a number from 1 to 5, or one giving such a number away), not "the months
    # with enough cases": a count of 0 is never hidden, so what is left leans to 0% (a review)
    note = "months hidden to protect small numbers (a number in them from 1 to 5, or one that would give such"

    def sources(at):
        return [a["text"] for f in figures(at) for a in f["layout"].get("annotations", []) if a.get("name") == "source"]

    board = sources(page(council_db, "app_pages/action.py", "board", action="A1"))
    assert any(note in s.replace("<br>", " ") for s in board), board
    director = sources(page(council_db, "app_pages/action.py", "director", action="A1"))
    assert director and not any("Gaps in an office" in s for s in director)


def test_the_board_is_not_sent_to_a_page_it_cannot_open(council_db):
    # A review: "Red …, and no commentary yet: … (on the Action plan page)" to the board, which has
    # no Action plan page. A4's assessments by qualified staff are red (85.7% against 100%)
    warned = {}
    for role in ("director", "board"):
        at = page(council_db, "app_pages/action.py", role, action="A4")
        (warned[role],) = [w.value for w in at.warning if w.value.startswith("Red in ")]
    assert warned["director"].endswith("what changed and what next (on the Action plan page).")
    assert warned["board"].endswith("what changed and what next.")


def test_the_overview_never_says_every_measure_meets_its_target_of_one_it_does_not_rate(council_db):
    # A review: the board's Overview said "Every measure meets its target" of an action one of whose
    # measures it sees as c (the director sees it red), and counted "measures meeting target" out of
    # every measure, those without a rating included. Here A3's children with 3 or more workers is
    # hidden from the board (its 1 of 2 plans, conftest.py): the other, green, is "every measure
    # with a rating", and the one without says why.
    board = page(council_db, "app_pages/overview.py", "board")
    a3 = re.search(r'csc-summary-A3.*?<div class="csc-sum-worst">(.*?)</div>', overview_html(board)).group(1)
    assert a3 == "Every measure with a rating meets its target; 1 has no rating: hidden as c"
    director = page(council_db, "app_pages/overview.py", "director")
    a3 = re.search(r'csc-summary-A3.*?<div class="csc-sum-worst">(.*?)</div>', overview_html(director)).group(1)
    assert a3.startswith("Most off target: ")
    for at in (board, director):  # the count is of the measures rated, and the rest are counted apart
        value = re.search(r'Measures meeting target</div><div class="csc-tile-value">(\d+) of (\d+)</div>',
                          overview_html(at))
        not_rated = int(tile_notes(at)["Measures meeting target"].split()[0])
        assert int(value.group(2)) + not_rated == 19  # the plan's 19 measures


def test_with_no_measure_rated_the_overview_says_so_not_0_of_0(council_db, tmp_path):
    # every target taken out of the plan: no measure has a RAG rating, and the count says "–" with
    # why, not "0 of 0" (a review)
    import shutil

    from csc import plan as plans, ui
    from csc.store import Store

    db = tmp_path / "csc.duckdb"
    shutil.copy(council_db, db)
    with Store.open(db) as store:
        for action in plans.current(store.cursor()).actions:
            for name in action.kpis:
                plans.record_change(store, action.id, f"target:{name}", "", "t", "director")
    ui.clear_caches()
    at = page(db, "app_pages/overview.py", "director")
    value = re.search(r'Measures meeting target</div><div class="csc-tile-value">(.*?)</div>', overview_html(at))
    assert value.group(1) == "–"
    assert tile_notes(at)["Measures meeting target"] == "19 have no rating"
    ui.clear_caches()


def test_the_overviews_count_of_real_improvements_says_what_it_counts(council_db):
    """The count is what the verdicts say ("a real improvement": this month's signal or a new level
    held since the action), the SPC column this month's signal only: a review read 12 against 4
    "Improving" in the column. The tile says which, under it and on hover."""
    at = page(council_db, "app_pages/overview.py", "director")
    assert tile_notes(at)["Showing real improvement (SPC)"] == "this month or since the action"
    assert "the SPC column shows this month&#x27;s signal only" in overview_html(at)

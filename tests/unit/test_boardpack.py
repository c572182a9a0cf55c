"""The board pack (csc.boardpack): a small council with transfers in two area offices over three
months, loaded through the real upload path, then the Excel and HTML packs checked against
figures worked out by hand.

The fixture (every transfer is requested and accepted in the same month):

- North: 10 transfers accepted each month; timely (accepted the day requested, 0 working days)
  8 in April, 9 in May, 10 in June. One more transfer requested on Mon 27 June is not accepted.
- South: 2 transfers accepted each month, 1 timely and 1 late.
- Late transfers: Fri 1 Apr -> Wed 20 Apr (13 working days), Tue 3 May -> Tue 24 May (15),
  Wed 1 Jun -> Wed 22 Jun (15): all more than 5.

transfer_timely_pct (higher is better, target 90), all areas:
  April 9/12 = 75%, May 10/12 = 83.33%, June 11/12 = 91.67%.
  June: Green (91.67 >= 90); change since May +8.33 points.
  SPC: action A1 started 2011-05; one month before it (April) is too few for a baseline (issue
  15), so the limits come from all three months: mean 83.33, moving ranges 8.33 and 8.33,
  limits 83.33 +/- 22.17 = 61.2 and 105.5, truncated to 100 -> common cause; the target 90
  lies inside the limits -> "inconsistently hit and miss". Trajectory: 2 months since the start
  (fewer than 3) -> "not enough data yet".
  South alone: 1 of 2 each month = 50%, Red (misses 90 by 40 > 9); numerator 1 and denominator 2
  are small numbers, so the board sees "c".
transfers_waiting_count (lower, no target), all areas: 0 at the end of April and May, 1 at the
  end of June (the 27 June request): the board sees "c" for June, the director 1 (+1 since May).
transfer_median_days: South's 2 transfers a month are a small denominator, so c for the board.
data_timeliness_days (lower, target 5): every extract is loaded 10 working days after its month
  end (April's on Mon 16 May: 3-6 May (2 May is a bank holiday) = 4, 9-13 May = 9, 16 May = 10;
  May's on Tue 14 June: 1-3 = 3, 6-10 = 8, 13-14 = 10; June's on Thu 14 July: 1 = 1, 4-8 = 6,
  11-14 = 10) -> 10 days, Red (misses 5 by 5 > 0.5); no change since May.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest

from csc import boardpack, plan
from csc.store import Store

ROOT = Path(__file__).resolve().parents[2]
HEADER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
ACTIONS = ["A1", "A2", "A3", "A4", "A5", "S1", "S2"]
PRODUCED = dt.datetime(2011, 7, 20, 9, 30)
EVIL = '=HYPERLINK("http://example.com/x","click me")'
MONTHS = {
    # period: (timely day, late requested, late accepted, North timely count, imported at)
    "2011-04": ("2011-04-12", "2011-04-01", "2011-04-20", 8, dt.datetime(2011, 5, 16, 10, 0)),
    "2011-05": ("2011-05-10", "2011-05-03", "2011-05-24", 9, dt.datetime(2011, 6, 14, 10, 0)),
    "2011-06": ("2011-06-14", "2011-06-01", "2011-06-22", 10, dt.datetime(2011, 7, 14, 10, 0)),
}


def day(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def month_rows(period: str) -> list[list[object]]:
    timely, late_from, late_to, north_timely, _ = MONTHS[period]
    tag = period.replace("-", "")
    rows = [HEADER]
    for i in range(10):
        requested, accepted = (timely, timely) if i < north_timely else (late_from, late_to)
        rows.append([f"N{tag}-{i}", f"CN{tag}-{i}", "Intake", "North Team", day(requested), day(accepted), "North"])
    rows.append([f"S{tag}-0", f"CS{tag}-0", "Intake", "South Team", day(timely), day(timely), "South"])
    rows.append([f"S{tag}-1", f"CS{tag}-1", "Intake", "South Team", day(late_from), day(late_to), "South"])
    if period == "2011-06":
        rows.append(["W-1", "CW-1", "Intake", "North Team", day("2011-06-27"), None, "North"])
    return rows


def write_workbook(path: Path, rows: list[list[object]]) -> Path:
    # the same as tests/conftest.py's write_xlsx (not importable by name: there are two conftest modules)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Transfers"
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def build_council(folder: Path) -> Path:
    """The fixture council in `folder`/csc.duckdb, closed again (so a subprocess can open it)."""
    db = folder / "csc.duckdb"
    with Store.open(db) as store:
        for period, spec in MONTHS.items():
            path = write_workbook(folder / f"extract-{period}.xlsx", month_rows(period))
            result = store.import_file(path, period, user="tester", imported_at=spec[4])
            assert result.status == "loaded", [p.message for p in result.problems]
        commentary = {"did": EVIL, "changed": "+ new duty rota; <b>not bold</b>", "next": "@SUM(A1:A9)"}
        plan.record_change(store, "A1", "commentary:2011-06", json.dumps(commentary), "tester", "director")
        plan.record_change(store, "A5", "commentary:2011-05", json.dumps({"did": "May only", "changed": "",
                                                                          "next": ""}), "tester", "director")
    return db


@pytest.fixture(scope="module")
def council(tmp_path_factory) -> Path:
    return build_council(tmp_path_factory.mktemp("council"))


@pytest.fixture
def cur(council):
    with Store.open(council) as store:
        yield store.cursor()


def pack_workbook(cur, areas=None, role="director") -> openpyxl.Workbook:
    data = boardpack.build_excel(cur, plan.current(cur), "2011-06", areas=areas, role=role, produced=PRODUCED)
    return openpyxl.load_workbook(io.BytesIO(data))


def summary(wb) -> dict[str, dict[str, object]]:
    """Summary rows by KPI name: column header -> cell value."""
    ws = wb["Summary"]
    header = [c.value for c in ws[boardpack.SUMMARY_HEADER_ROW]]
    rows = {}
    for row in ws.iter_rows(min_row=boardpack.SUMMARY_HEADER_ROW + 1, values_only=True):
        record = dict(zip(header, row))
        rows[record["KPI"]] = record
    return rows


def table_below(ws, title: str) -> list[tuple]:
    """The monthly table under a KPI's title on an action sheet: its header and rows."""
    start = next(c.row for c in ws["A"] if c.value == title)
    header_row = start + 3
    out = []
    for row in ws.iter_rows(min_row=header_row, values_only=True):
        if row[0] is None:
            break
        out.append(row[:6])
    return out


# --- the workbook ------------------------------------------------------------------------------


def test_workbook_has_summary_a_sheet_per_action_commentary_and_notes(cur):
    wb = pack_workbook(cur)
    assert wb.sheetnames == ["Summary", *ACTIONS, "Commentary", "Notes"]


def test_summary_lists_every_action_and_kpi_of_the_plan(cur):
    rows = summary(pack_workbook(cur))
    expected = [k for a in plan.current(cur).actions for k in a.kpis]
    assert sorted(rows) == sorted(expected)
    assert len(rows) == 19  # 3 + 2 + 2 + 1 + 1 + 5 + 5
    assert rows["transfer_timely_pct"]["Action"] == "A1"
    assert rows["supervision_pct"]["Action"] == "S1"


def test_summary_values_targets_and_ratings_worked_out_by_hand(cur):
    row = summary(pack_workbook(cur))["transfer_timely_pct"]
    assert row["Month"] == "2011-06"
    assert row["Value"] == pytest.approx(100 * 11 / 12)
    assert row["Target"] == 90
    assert row["RAG"] == "Green"
    assert row["Change since last month"] == pytest.approx(100 * 11 / 12 - 100 * 10 / 12)
    assert row["Variation (SPC)"] == "Common cause – no significant change"
    assert row["Assurance (SPC)"] == "Variation indicates inconsistently hit and miss the target"
    assert row["Will the target be met by the due date?"] == "not enough data yet"


def test_a_target_judged_after_its_due_month_names_the_month_judged(cur):
    # A1 made due in May 2011: June's 11 of 12 (91.7%) meets its 90% a month after the due month;
    # the pack said "target met" under "will the target be met by the due date?" as if May had
    import dataclasses

    p = plan.current(cur)
    early = dataclasses.replace(p, actions=tuple(dataclasses.replace(a, due="2011-05-31") if a.id == "A1" else a
                                                 for a in p.actions))
    wb = openpyxl.load_workbook(io.BytesIO(boardpack.build_excel(cur, early, "2011-06", produced=PRODUCED)))
    assert summary(wb)["transfer_timely_pct"]["Will the target be met by the due date?"] == (
        "target met in June 2011, after its due month (May 2011)")


def test_the_pack_gives_the_status_worked_out_from_the_figures_beside_the_owners(cur):
    # A review: the pack's only status was the owner's typed "on track" on every action, where the
    # Overview it is made from showed A5 off track. A5's one measure, data timeliness, is 10 working
    # days against a target of 5 in June (Red), before its due month (July 2011): off track, while
    # its owner says on track. A1's timely transfers (11 of 12, Green; too few months to project)
    # and median days agree with the owner's "on track".
    wb = pack_workbook(cur)
    rows = summary(wb)
    assert rows["data_timeliness_days"]["Status"] == "off track; owner says on track"
    assert rows["transfer_timely_pct"]["Status"] == "on track"
    line = wb["A5"]["A2"].value
    assert "status from the figures: off track · owner says on track; 1 of 1 measure is off track" in line, line
    commentary = {r[0]: r[3] for r in wb["Commentary"].iter_rows(min_row=boardpack.SUMMARY_HEADER_ROW + 1,
                                                                  values_only=True)}
    assert commentary["A5"] == "off track; owner says on track" and commentary["A1"] == "on track"
    page = boardpack.build_html(cur, plan.current(cur), "2011-06", produced=PRODUCED)
    assert ("status from the figures: <strong>off track</strong> · owner says <b>on track</b>; 1 of 1 measure is "
            "off track") in page


def test_summary_red_for_late_data_and_no_target_for_the_waiting_count(cur):
    rows = summary(pack_workbook(cur))
    late = rows["data_timeliness_days"]
    assert (late["Value"], late["Target"], late["RAG"], late["Change since last month"]) == (10, 5, "Red", 0)
    waiting = rows["transfers_waiting_count"]
    assert (waiting["Value"], waiting["Target"], waiting["RAG"]) == (1, "no target set", "No target")
    assert waiting["Change since last month"] == 1


def test_summary_for_one_area_office(cur):
    row = summary(pack_workbook(cur, areas=["South"]))["transfer_timely_pct"]
    assert (row["Value"], row["RAG"]) == (50, "Red")


def test_a_pack_for_one_office_says_which_measures_are_the_councils(cur):
    # the working days to load the data are counted for the council as a whole only: in South's pack
    # its figure is not South's, and the pack says so (as the Overview does)
    title = "Working days from the month end to its data being loaded"
    assert summary(pack_workbook(cur))["data_timeliness_days"]["Measure"] == title
    assert summary(pack_workbook(cur, areas=["South"]))["data_timeliness_days"]["Measure"] == (
        f"{title} (all areas: not counted by office)")
    assert summary(pack_workbook(cur, areas=["South"]))["transfer_timely_pct"]["Measure"] == (
        "Transfers accepted within 5 working days")
    text = boardpack.build_html(cur, plan.current(cur), "2011-06", areas=["South"], produced=PRODUCED)
    assert f"<h3>{title} (all areas: not counted by office)</h3>" in text
    sheet = pack_workbook(cur, areas=["South"])["A5"]  # the action's sheet, its measure's heading and chart
    assert f"{title} (all areas: not counted by office)" in [c.value for c in sheet["A"]]
    chart_titles = ["".join(r.t for p in c.title.tx.rich.p for r in (p.r or [])) for c in sheet._charts]
    # at most 60 characters: the title shortened, the note kept
    assert "Working days from the month end to its data b... (all areas)" in chart_titles, chart_titles
    assert all(len(t) <= 60 for t in chart_titles)


def test_kpis_without_data_say_so(cur):
    row = summary(pack_workbook(cur))["supervision_pct"]
    assert (row["Value"], row["RAG"], row["Variation (SPC)"]) == ("–", "–", "–")
    assert row["Will the target be met by the due date?"] == "Ongoing: no due date"


def test_action_sheet_has_the_monthly_figures(cur):
    ws = pack_workbook(cur)["A1"]
    rows = table_below(ws, "Transfers accepted within 5 working days")
    assert rows[0][:5] == ("Period", "Value", "Numerator", "Denominator", "Target")
    assert [r[0] for r in rows[1:]] == ["2011-04", "2011-05", "2011-06"]
    assert [r[2:5] for r in rows[1:]] == [(9, 12, 90), (10, 12, 90), (11, 12, 90)]
    assert [round(r[1], 2) for r in rows[1:]] == [75.0, 83.33, 91.67]


def test_each_charted_kpi_has_a_native_line_chart_with_the_target_as_a_second_series(cur):
    wb = pack_workbook(cur)
    a1 = wb["A1"]._charts
    # A1: timely % and median days (targets 90 and 5: two series each), waiting count (no target: one)
    assert [type(c).__name__ for c in a1] == ["LineChart"] * 3
    assert [len(c.series) for c in a1] == [2, 2, 1]
    timely = a1[0]
    assert timely.series[0].val.numRef.f == "'A1'!$B$9:$B$11"
    assert timely.series[1].val.numRef.f == "'A1'!$E$9:$E$11"
    assert timely.series[0].tx.strRef.f.replace("$", "") == "'A1'!B8"  # the title "Value" from the header
    assert [len(c.series) for c in wb["A5"]._charts] == [2]
    # the other actions have no data in this council: no charts, and the sheet says so
    assert wb["A2"]._charts == []
    assert any(c.value == "No figures for this selection up to June 2011." for c in wb["A2"]["A"])


def test_notes_list_the_extracts_the_selection_and_the_definitions(cur):
    ws = pack_workbook(cur)["Notes"]
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    for period in MONTHS:
        assert period in cells
        assert f"extract-{period}.xlsx" in cells
    assert "All areas" in cells
    assert "20 July 2011 at 09:30" in cells
    from csc import kpis

    assert kpis.get("transfer_timely_pct").description in cells
    assert boardpack.SUPPRESSION_RULE not in cells  # not applied to the director's pack


def test_a_pack_from_months_before_the_first_extract_says_they_are_incomplete(cur):
    # A review: the pages now say so of months before the first extract loaded (April 2011 here),
    # and a pack made from such a view said nothing
    def notes(period_from):
        wb = openpyxl.load_workbook(io.BytesIO(boardpack.build_excel(cur, plan.current(cur), "2011-06",
                                                                     produced=PRODUCED, period_from=period_from)))
        return {r[0]: r[1] for r in wb["Notes"].iter_rows(values_only=True) if r[0]}

    said = notes("2011-03").get("Incomplete months")
    assert said == ("Months before April 2011, the first extract loaded, come from the history it carried: measures "
                    "that look back over months (re-referrals within 12 months, 12-month turnover, supervision in the "
                    "last 6 weeks) are incomplete there, and so are their ratings.")
    assert "Incomplete months" not in notes("2011-04") and "Incomplete months" not in notes(None)
    page = boardpack.build_html(cur, plan.current(cur), "2011-06", produced=PRODUCED, period_from="2011-03")
    assert "<dt>Incomplete months</dt>" in page


def test_commentary_sheet_has_the_month_and_is_inert(cur):
    ws = pack_workbook(cur)["Commentary"]
    a1 = next(r for r in ws.iter_rows(min_row=boardpack.SUMMARY_HEADER_ROW + 1) if r[0].value == "A1")
    assert a1[4].value == "'" + EVIL
    assert a1[5].value == "'+ new duty rota; <b>not bold</b>"
    assert a1[6].value == "'@SUM(A1:A9)"
    assert all(c.data_type == "s" for c in a1[4:7])
    a5 = next(r for r in ws.iter_rows(min_row=boardpack.SUMMARY_HEADER_ROW + 1) if r[0].value == "A5")
    assert a5[4].value == "No commentary recorded for June 2011."  # May's commentary is not June's


def test_no_cell_of_the_workbook_is_a_formula(cur):
    data = boardpack.build_excel(cur, plan.current(cur), "2011-06", produced=PRODUCED)
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [n for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        assert len(sheets) == 10
        for name in sheets:
            assert b"<f>" not in z.read(name) and b"<f " not in z.read(name), name


# --- suppression -------------------------------------------------------------------------------


def test_board_pack_shows_c_for_small_counts_and_the_director_pack_the_number(cur):
    board = summary(pack_workbook(cur, role="board"))
    director = summary(pack_workbook(cur, role="director"))
    assert board["transfers_waiting_count"]["Value"] == "c"
    assert director["transfers_waiting_count"]["Value"] == 1
    # 11 of 12 is not a small number: shown to the board, as on screen (91.666..% to full precision
    # would give 11 of 12 back, and so the 1 not on time)
    assert board["transfer_timely_pct"]["Value"] == 91.7
    assert director["transfer_timely_pct"]["Value"] == pytest.approx(100 * 11 / 12)


def test_board_pack_shows_a_rate_without_the_counts_behind_it(cur):
    # all areas, June: 11 of 12 on time is shown to the board as 91.7%, with no 11 or 12 (12 - 11 = 1
    # not on time would be a small number); the count of transfers waiting keeps its figure
    rows = table_below(pack_workbook(cur, role="board")["A1"], "Transfers accepted within 5 working days")
    june = next(r for r in rows if r[0] == "2011-06")
    assert june[1] == 91.7 and june[2:4] == (None, None)
    director = table_below(pack_workbook(cur, role="director")["A1"], "Transfers accepted within 5 working days")
    assert next(r for r in director if r[0] == "2011-06")[2:4] == (11, 12)
    text = boardpack.build_html(cur, plan.current(cur), "2011-06", role="board", produced=PRODUCED)
    assert "91.7%" in text and ">Denominator<" not in text
    assert ">Denominator<" in boardpack.build_html(cur, plan.current(cur), "2011-06", produced=PRODUCED)


def test_board_pack_for_a_small_area_suppresses_every_month(cur):
    wb = pack_workbook(cur, areas=["South"], role="board")
    row = summary(wb)["transfer_timely_pct"]
    # the value is hidden and so not rated for the board: the director's red, from the true 1 of 2
    # (50%), would say a figure of 5 or fewer cases is below its target
    director_row = summary(pack_workbook(cur, areas=["South"], role="director"))["transfer_timely_pct"]
    assert "Red" in director_row["RAG"]
    assert row["Value"] == "c" and row["RAG"] == "–" and row["Variation (SPC)"] in ("–", None, "")
    rows = table_below(wb["A1"], "Transfers accepted within 5 working days")
    # a rate: the board's pack has its value (c here) and never the numerator or denominator (issue 13)
    assert [r[1:4] for r in rows[1:]] == [("c", None, None)] * 3
    director = table_below(pack_workbook(cur, areas=["South"], role="director")["A1"],
                           "Transfers accepted within 5 working days")
    assert [r[1:4] for r in director[1:]] == [(50, 1, 2)] * 3


def test_board_chart_never_plots_a_suppressed_month(cur):
    wb = pack_workbook(cur, role="board")
    ws = wb["A1"]
    rows = table_below(ws, "Transfers waiting to be accepted at the month end")
    assert rows[0] == ("Period", "Value", "Numerator", "Denominator", "Target", "Value for the chart")
    # a count has no denominator; June's 1 is suppressed and left out of the chart's own column
    assert rows[1:] == [("2011-04", 0, 0, None, None, 0), ("2011-05", 0, 0, None, None, 0),
                        ("2011-06", "c", "c", None, None, None)]
    waiting = ws._charts[2]
    assert len(waiting.series) == 1
    assert waiting.series[0].val.numRef.f.split("!")[1].startswith("$F$")


def test_board_notes_state_the_suppression_rule(cur):
    ws = pack_workbook(cur, role="board")["Notes"]
    cells = [c for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert boardpack.SUPPRESSION_RULE in cells


# --- HTML --------------------------------------------------------------------------------------


def test_html_is_self_contained_and_escapes_the_commentary(cur):
    text = boardpack.build_html(cur, plan.current(cur), "2011-06", produced=PRODUCED)
    assert text.startswith("<!DOCTYPE html>")
    assert "<script src" not in text and 'src="http' not in text and "<link" not in text
    assert text.count("Plotly.newPlot") == 4  # timely %, median days, waiting count, data timeliness
    assert text.count("plotly.js v") <= 2  # the library once (its banner comment)
    assert "&lt;b&gt;not bold&lt;/b&gt;" in text and "<b>not bold</b>" not in text
    assert "@media print" in text and "break-before: page" in text
    for period in MONTHS:
        assert f"extract-{period}.xlsx" in text


def test_html_summary_says_each_change_in_words_as_the_dashboard_does(cur):
    text = boardpack.build_html(cur, plan.current(cur), "2011-06", produced=PRODUCED)
    summary_table = text[text.index('<table class="summary">'):text.index("</table>", text.index('<table class="summary">'))]
    rows = {}
    for row in summary_table.split("<tr>")[2:]:
        cells = [c.split("</td>")[0] for c in row.split("<td")[1:]]
        rows[cells[1].split(">", 1)[1]] = [c.split(">", 1)[1] for c in cells]
    # timely %: 91.67 - 83.33 = +8.33 points; data timeliness: 10 days in May and in June; waiting: 0 -> 1
    assert rows["Transfers accepted within 5 working days"][7] == "+8.3 pts"
    late = rows["Working days from the month end to its data being loaded"]
    assert late[7] == "no change"
    assert rows["Transfers waiting to be accepted at the month end"][7] == "+1.0"
    assert '<span class="rag rag-red">Red</span>' in late[4]


def test_html_board_pack_suppresses(cur):
    text = boardpack.build_html(cur, plan.current(cur), "2011-06", areas=["South"], role="board", produced=PRODUCED)
    assert html.escape(boardpack.SUPPRESSION_RULE) in text
    assert "50.0%" not in text
    # South has 2 transfers a month: its timely % and median days (denominator 2) are c every month;
    # charted: South's waiting count (0 every month) and data timeliness (all areas only, 10 days)
    assert text.count("Plotly.newPlot") == 2


def test_write_chooses_the_format_by_suffix(cur, tmp_path):
    p = plan.current(cur)
    assert boardpack.write(tmp_path / "p.xlsx", cur, p, "2011-06").read_bytes()[:2] == b"PK"
    assert boardpack.write(tmp_path / "p.html", cur, p, "2011-06").read_text().startswith("<!DOCTYPE html>")
    with pytest.raises(ValueError, match=".xlsx or .html"):
        boardpack.write(tmp_path / "p.pdf", cur, p, "2011-06")


def test_bad_period_or_role_is_refused(cur):
    with pytest.raises(ValueError, match="YYYY-MM"):
        boardpack.build_excel(cur, plan.current(cur), "June 2011")
    with pytest.raises(ValueError, match="role"):
        boardpack.build_excel(cur, plan.current(cur), "2011-06", role="cabinet")


# --- the command line --------------------------------------------------------------------------


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CSC_ID_KEY": "test-key-not-secret"}
    return subprocess.run([sys.executable, "-m", "csc", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def test_cli_writes_both_formats_board_by_default(council, tmp_path):
    xlsx, page = tmp_path / "pack.xlsx", tmp_path / "pack.html"
    done = run_cli("boardpack", "--period", "2011-06", "--db", str(council), str(xlsx))
    assert done.returncode == 0, done.stderr
    assert "board" in done.stdout
    assert summary(openpyxl.load_workbook(xlsx))["transfers_waiting_count"]["Value"] == "c"
    done = run_cli("boardpack", "--period", "2011-06", "--area", "South", "--role", "director",
                   "--db", str(council), str(page))
    assert done.returncode == 0, done.stderr
    assert "50.0%" in page.read_text()


def test_cli_refuses_an_unknown_area_and_a_bad_suffix(council, tmp_path):
    done = run_cli("boardpack", "--period", "2011-06", "--area", "Atlantis", "--db", str(council), str(tmp_path / "x.xlsx"))
    assert done.returncode == 2 and "Atlantis" in done.stderr
    done = run_cli("boardpack", "--period", "2011-06", "--db", str(council), str(tmp_path / "x.pdf"))
    assert done.returncode == 2 and ".xlsx or .html" in done.stderr
    assert not (tmp_path / "x.xlsx").exists()


# --- LibreOffice -------------------------------------------------------------------------------


def test_libreoffice_opens_the_workbook_and_prints_it_to_pdf(cur, tmp_path):
    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice is required in CI (apt-get install -y libreoffice-calc)")
        pytest.skip("LibreOffice is not installed")
    xlsx = boardpack.write(tmp_path / "pack.xlsx", cur, plan.current(cur), "2011-06", role="board")
    profile = tmp_path / "lo-profile"
    out = tmp_path / "pdf"
    done = subprocess.run(
        [office, f"-env:UserInstallation={profile.as_uri()}", "--headless", "--norestore",
         "--convert-to", "pdf", "--outdir", str(out), str(xlsx)],
        capture_output=True, text=True, timeout=180,
    )
    pdf = out / "pack.pdf"
    assert done.returncode == 0, done.stderr
    assert pdf.exists(), done.stdout + done.stderr
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 10_000


def test_cli_says_what_is_wrong_with_the_plan_file_and_writes_nothing(council, tmp_path, monkeypatch, capsys):
    from csc import cli, config

    bad = tmp_path / "action_plan.toml"
    bad.write_text('[[actions]]\nid = "A1"\nkpis = ["transfer_timely_pct"]\n')
    monkeypatch.setattr(config, "ACTION_PLAN", bad)
    out = tmp_path / "pack.xlsx"
    capsys.readouterr()
    # (the boardpack command says it through its own `except ValueError`; `docs --check` below
    # through `main`'s, for every command)
    assert cli.main(["boardpack", "--period", "2011-06", "--db", str(council), str(out)]) == 2
    said = f'Error: The action plan file {bad}: action A1 has no "title" and no "owner" and no "due".\n'
    assert capsys.readouterr().err == said
    assert not out.exists()
    assert cli.main(["docs", "--check"]) == 2  # the KPI reference names each KPI's action from the plan
    assert capsys.readouterr().err == said

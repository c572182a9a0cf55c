"""Revisions (csc.revisions, kpi_history): every KPI value knows the import that last changed it;
a figure changed after it was first shown is "revised", with what it was and when it changed; the
board pack states its data version and lists the revised figures.

March 2012's extract (loaded Wed 4 April 2012 10:00):
  T1 requested Mon 5 Mar, accepted Tue 6 Mar: 1 working day, timely.
  T2 requested Mon 12 Mar, not yet accepted.
  -> March (all areas): transfer_timely_pct 1/1 = 100.0%; transfer_median_days median(1) = 1.0;
     transfers_waiting_count at 31 Mar: T2 = 1.
April's extract (loaded Fri 4 May 2012 10:00) records T2 as accepted on Mon 26 Mar (13-16 Mar: 4,
  19-23: 5, 26: 1 = 10 working days, late), and T3 requested Mon 16 Apr, accepted Tue 17 Apr.
  -> March revised: timely 1/2 = 50.0% (was 100.0%); median(1, 10) = 5.5 days (was 1.0);
     waiting at 31 Mar 0 (was 1).
"""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest

from csc import boardpack, plan, revisions
from tests.conftest import write_xlsx

D = dt.date
TRANSFER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
MARCH = [TRANSFER, ["T1", "C1", "Intake", "North A", D(2012, 3, 5), D(2012, 3, 6), "North"],
         ["T2", "C2", "Intake", "North A", D(2012, 3, 12), None, "North"]]
APRIL = [TRANSFER, ["T2", "C2", "Intake", "North A", D(2012, 3, 12), D(2012, 3, 26), "North"],
         ["T3", "C3", "Intake", "North A", D(2012, 4, 16), D(2012, 4, 17), "North"]]
MARCH_AT, APRIL_AT = dt.datetime(2012, 4, 4, 10, 0), dt.datetime(2012, 5, 4, 10, 0)
PRODUCED = dt.datetime(2012, 5, 8, 9, 0)


@pytest.fixture
def loaded(store, tmp_path):
    def _load(name, rows, period, at):
        result = store.import_file(write_xlsx(tmp_path / name, {"Transfers": rows}), period, user="tester",
                                   imported_at=at)
        assert result.status == "loaded", [p.message for p in result.problems]
        return result.import_id
    return _load


def history(store, kpi, period="2012-03"):
    return store.cursor().execute(
        "select import_id, event, value from kpi_history where kpi = $k and period = $p and area is null "
        "order by change_id", {"k": kpi, "p": period}).fetchall()


def test_only_changes_are_kept_with_the_import_that_made_them(store, loaded):
    loaded("extract-2012-03.xlsx", MARCH, "2012-03", MARCH_AT)
    loaded("extract-2012-04.xlsx", APRIL, "2012-04", APRIL_AT)
    assert history(store, "transfer_timely_pct") == [(1, "import", 100.0), (2, "import", 50.0)]
    # data timeliness of March did not change when April was loaded: one row only
    assert [r[0] for r in history(store, "data_timeliness_days")] == [1]
    last = revisions.last_changed(store.cursor(), "2012-03").set_index("kpi")
    assert last.loc["data_timeliness_days", "import_id"] == 1
    assert last[last["area"].isna()].loc["transfer_timely_pct", "import_id"] == 2


def test_a_rollback_is_a_change_and_restores_the_figure_first_shown(store, loaded):
    loaded("extract-2012-03.xlsx", MARCH, "2012-03", MARCH_AT)
    april = loaded("extract-2012-04.xlsx", APRIL, "2012-04", APRIL_AT)
    assert set(revisions.revised(store.cursor(), "2012-03", "2012-03")["kpi"]) == {
        "transfer_timely_pct", "transfer_median_days", "transfers_waiting_count"}
    store.rollback(april, user="tester")
    assert history(store, "transfer_timely_pct") == [(1, "import", 100.0), (2, "import", 50.0),
                                                     (2, "rollback", 100.0)]
    # April's figures no longer exist: a row with no value says so
    assert history(store, "transfer_timely_pct", "2012-04")[-1] == (2, "rollback", None)
    assert revisions.revised(store.cursor(), "2012-03", "2012-03").empty  # back to what was first shown


def test_revised_figures_say_what_they_were_and_when_they_changed(store, loaded):
    loaded("extract-2012-03.xlsx", MARCH, "2012-03", MARCH_AT)
    loaded("extract-2012-04.xlsx", APRIL, "2012-04", APRIL_AT)
    rows = revisions.for_report(store.cursor(), ["transfer_timely_pct", "transfers_waiting_count"], "2012-03")
    got = rows[["kpi", "period", "area", "was", "now", "changed", "file_name"]].values.tolist()
    assert got == [
        ["transfer_timely_pct", "2012-03", "All areas", "100.0%", "50.0%", "import 2 loaded 4 May 2012 10:00",
         "extract-2012-04.xlsx"],
        ["transfers_waiting_count", "2012-03", "All areas", "1", "0", "import 2 loaded 4 May 2012 10:00",
         "extract-2012-04.xlsx"],
    ]


def cover(data: bytes) -> tuple[str, list[list]]:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    revised = []
    if boardpack.REVISED_SHEET in wb.sheetnames:
        ws = wb[boardpack.REVISED_SHEET]
        revised = [list(r) for r in ws.iter_rows(min_row=boardpack.SUMMARY_HEADER_ROW, values_only=True)]
    return wb["Summary"]["A4"].value, revised


def test_a_march_pack_made_again_after_april_lists_the_revised_figures(store, loaded):
    loaded("extract-2012-03.xlsx", MARCH, "2012-03", MARCH_AT)
    before = boardpack.build_excel(store.cursor(), plan.current(store.cursor()), "2012-03", produced=PRODUCED)
    version, revised = cover(before)
    assert version == ('Data version: import 1 (2012-03, "extract-2012-03.xlsx", loaded 4 Apr 2012 10:00) · No '
                       "figure of the pack has been revised since it was first shown.")
    assert revised == []

    loaded("extract-2012-04.xlsx", APRIL, "2012-04", APRIL_AT)
    cur = store.cursor()
    after = boardpack.build_excel(cur, plan.current(cur), "2012-03", produced=PRODUCED)
    version, revised = cover(after)
    assert version.startswith('Data version: import 2 (2012-04, "extract-2012-04.xlsx", loaded 4 May 2012 10:00) · '
                              "3 figure(s) revised since first shown")
    changed = "import 2 loaded 4 May 2012 10:00"
    assert revised == [
        ["Measure", "Month", "Area", "Was", "Now", "Changed by", "File"],
        ["Median working days from transfer request to acceptance", "2012-03", "All areas", "1.0 days", "5.5 days",
         changed, "extract-2012-04.xlsx"],
        ["Transfers accepted within 5 working days", "2012-03", "All areas", "100.0%", "50.0%", changed,
         "extract-2012-04.xlsx"],
        ["Transfers waiting to be accepted at the month end", "2012-03", "All areas", "1", "0", changed,
         "extract-2012-04.xlsx"],
    ]
    html = boardpack.build_html(cur, plan.current(cur), "2012-03", produced=PRODUCED)
    assert "50.0% (revised: was 100.0%, import 2 loaded 4 May 2012 10:00)" in html
    assert "<h2>Revised figures</h2>" in html


def test_the_board_is_not_told_of_a_revision_to_a_figure_from_small_numbers(store, loaded):
    loaded("extract-2012-03.xlsx", MARCH, "2012-03", MARCH_AT)
    loaded("extract-2012-04.xlsx", APRIL, "2012-04", APRIL_AT)
    rows = revisions.for_report(store.cursor(), ["transfer_timely_pct"], "2012-03", suppress=True)
    # 1 of 1 and 1 of 2 are small numbers: the figure is hidden, and so is that it changed
    assert rows.empty
    director = revisions.for_report(store.cursor(), ["transfer_timely_pct"], "2012-03")
    assert director[["was", "now"]].values.tolist() == [["100.0%", "50.0%"]]


def test_the_board_is_not_told_of_a_revision_to_a_figure_hidden_with_a_small_one(store, loaded):
    # March: North 1 of 1 transfers timely (small: hidden), South 8 of 8; all areas 9 of 9. South is
    # hidden with North (complementary: all areas minus South would give North back). April's
    # extract revises South's S8 (requested Mon 12 Mar) to accepted Mon 26 Mar, 10 working days:
    # late, so South's March becomes 7 of 8, 87.5%, a revised figure. South is still hidden from
    # the board, and its revision is not listed: neither its value before nor after, nor that it
    # (and not North) changed. All areas, shown, went from 9 of 9 to 8 of 9.
    south = [[f"S{i}", f"C{10 + i}", "Intake", "South A", D(2012, 3, 5), D(2012, 3, 6), "South"]
             for i in range(1, 8)]
    march = [TRANSFER, ["T1", "C1", "Intake", "North A", D(2012, 3, 5), D(2012, 3, 6), "North"], *south,
             ["S8", "C18", "Intake", "South A", D(2012, 3, 12), D(2012, 3, 13), "South"]]
    april = [TRANSFER, ["S8", "C18", "Intake", "South A", D(2012, 3, 12), D(2012, 3, 26), "South"]]
    loaded("extract-2012-03.xlsx", march, "2012-03", MARCH_AT)
    loaded("extract-2012-04.xlsx", april, "2012-04", APRIL_AT)
    cur = store.cursor()
    assert cur.execute("select area, numerator, denominator, hidden from kpi_results where kpi = 'transfer_timely_pct' "
                       "and period = '2012-03' order by area nulls first").fetchall() == \
        [(None, 8.0, 9.0, False), ("North", 1.0, 1.0, True), ("South", 7.0, 8.0, True)]
    director = revisions.for_report(cur, ["transfer_timely_pct"], "2012-03", areas=["South"])
    assert director[["was", "now"]].values.tolist() == [["100.0%", "87.5%"]]
    board = revisions.for_report(cur, ["transfer_timely_pct"], "2012-03", areas=["South"], suppress=True)
    assert board.empty
    board = revisions.for_report(cur, ["transfer_timely_pct"], "2012-03", suppress=True)
    assert board[["area", "was", "now"]].values.tolist() == [["All areas", "100.0%", "88.9%"]]


def test_a_figure_hidden_from_the_board_stays_hidden_when_a_revision_makes_it_large(store, loaded):
    # A review (2026-12-04) recovered a hidden figure from the revised figures: hidden once, then
    # revised to numbers large enough to show, it was listed as "was <its hidden value>".
    # March: North 1 of 1 transfers timely (small: hidden); South 7 of 7 (hidden with North: all
    # areas minus South would give North back); all areas 8 of 8, 100.0%.
    # April's extract adds North's N2-N7, requested Mon 5 Mar: N2-N6 accepted Tue 6 Mar (1 working
    # day), N7 on Mon 19 Mar (10 working days: late). North's March is now 6 of 7, no small number,
    # and South's 7 of 7 is unchanged: shown, they would give the March figures the board was
    # denied back (all areas was 8, South 7 then and now, so North was 1). Both stay hidden; all
    # areas is 14 transfers, 13 timely: 92.9%.
    south = [[f"S{i}", f"C{10 + i}", "Intake", "South A", D(2012, 3, 5), D(2012, 3, 6), "South"] for i in range(1, 8)]
    march = [TRANSFER, ["N1", "C1", "Intake", "North A", D(2012, 3, 5), D(2012, 3, 6), "North"], *south]
    north = [[f"N{i}", f"C{i}", "Intake", "North A", D(2012, 3, 5), D(2012, 3, 6), "North"] for i in range(2, 7)]
    april = [TRANSFER, *north, ["N7", "C7", "Intake", "North A", D(2012, 3, 5), D(2012, 3, 19), "North"]]
    loaded("extract-2012-03.xlsx", march, "2012-03", MARCH_AT)
    loaded("extract-2012-04.xlsx", april, "2012-04", APRIL_AT)
    cur = store.cursor()
    march_rows = "select area, numerator, denominator, hidden from kpi_results where kpi = 'transfer_timely_pct' " \
                 "and period = '2012-03' order by area nulls first"
    assert cur.execute(march_rows).fetchall() == [(None, 13.0, 14.0, False), ("North", 6.0, 7.0, True),
                                                  ("South", 7.0, 7.0, True)]
    assert sorted(cur.execute("select area, team from kpi_hidden_ever where kpi = 'transfer_timely_pct' "
                              "and period = '2012-03' and team is null").fetchall()) == [("North", None), ("South", None)]
    # the board: North and South not listed; all areas, shown then and now, is
    board = revisions.for_report(cur, ["transfer_timely_pct"], "2012-03", areas=["North", "South"], suppress=True)
    assert board.empty
    board = revisions.for_report(cur, ["transfer_timely_pct"], "2012-03", suppress=True)
    assert board[["area", "was", "now"]].values.tolist() == [["All areas", "100.0%", "92.9%"]]
    # the director sees North's revision
    director = revisions.for_report(cur, ["transfer_timely_pct"], "2012-03", areas=["North"])
    assert director[["was", "now"]].values.tolist() == [["100.0%", "85.7%"]]
    # a value stored before the board's decision was kept with it is not known to have been shown: c
    cur.execute("update kpi_history set hidden = null where import_id = 1")
    board = revisions.for_report(cur, ["transfer_timely_pct"], "2012-03", suppress=True)
    assert board[["area", "was", "now"]].values.tolist() == [["All areas", "c", "92.9%"]]


def test_an_old_value_with_a_small_complement_is_not_given_back_as_was(store, tmp_path):
    # Re-referrals in July 2012, all in North: the first extract has 8 referrals, 6 of them of children
    # referred in March (75.0%); a later one adds 10 new children (6 of 18, 33.3%). The board sees the
    # referral counts beside the rate, so 75.0% of 8 tells that 2 children were not re-referrals: hidden
    # now (with North, its only area). A database upgraded from before that rule has the first version
    # stored as shown; listed as "was 75.0%" beside 8 referrals it would tell the 2 again: it is "c".
    head = ["referral_id", "child_id", "referral_date", "area_office"]
    march = [[f"M{i}", f"C{i}", D(2012, 3, 5), "North"] for i in range(1, 7)]
    july = [[f"J{i}", f"C{i}", D(2012, 7, 10), "North"] for i in range(1, 7)] + \
           [[f"J{i}", f"N{i}", D(2012, 7, 10), "North"] for i in range(7, 9)]
    more = [[f"J{i}", f"N{i}", D(2012, 7, 11), "North"] for i in range(9, 19)]
    for n, (rows, at) in enumerate([(march + july, dt.datetime(2012, 8, 6, 9)),
                                    (march + july + more, dt.datetime(2012, 9, 5, 9))]):
        result = store.import_file(write_xlsx(tmp_path / f"r{n}.xlsx", {"Referrals": [head, *rows]}), "2012-07",
                                   user="tester", imported_at=at)
        assert result.status == "loaded", [p.message for p in result.problems]
    cur = store.cursor()
    figure = "select numerator, denominator, hidden from kpi_history where kpi = 're_referral_pct' " \
             "and period = '2012-07' and area is null order by change_id"
    assert cur.execute(figure).fetchall() == [(6.0, 8.0, True), (6.0, 18.0, True)]
    assert revisions.for_report(cur, ["re_referral_pct"], "2012-07", suppress=True).empty  # hidden once, hidden now
    director = revisions.for_report(cur, ["re_referral_pct"], "2012-07")
    assert director[["area", "was", "now"]].values.tolist() == [["All areas", "75.0%", "33.3%"]]
    # as an older version stored it: shown then, nothing remembered as hidden
    cur.execute("update kpi_history set hidden = false where kpi = 're_referral_pct'")
    cur.execute("update kpi_results set hidden = false where kpi = 're_referral_pct'")
    board = revisions.for_report(cur, ["re_referral_pct"], "2012-07", suppress=True)
    assert board[["area", "was", "now"]].values.tolist() == [["All areas", "c", "33.3%"]]
    board = revisions.for_report(cur, ["re_referral_pct"], "2012-07", areas=["North"], suppress=True)
    assert board[["area", "was", "now"]].values.tolist() == [["North", "c", "33.3%"]]

"""The board sees rates, never the counts behind them (issue 13: "177 of 178" discloses the 1
not counted; a rate with its denominator gives the numerator, and so that complement). Worked by
hand on a tiny store of KPI results: a ratio (transfers accepted on time), a median (days to
accept) and a count (transfers waiting)."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from csc import breakdowns, kpis, privacy, report, verdict

RATE, MEDIAN, COUNT = "transfer_timely_pct", "transfer_median_days", "transfers_waiting_count"

# (kpi, period, area, numerator, denominator, value, hidden): all areas = North + South.
# March: 177 of 178 on time (North 120 of 120, South 57 of 58); 30 waiting (North 12, South 18).
ROWS = [
    (RATE, "2012-03", None, 177, 178, 100 * 177 / 178, False),
    (RATE, "2012-03", "North", 120, 120, 100.0, False),
    (RATE, "2012-03", "South", 57, 58, 100 * 57 / 58, False),
    (MEDIAN, "2012-03", None, None, 178, 4.0, False),
    (MEDIAN, "2012-03", "North", None, 120, 3.0, False),
    (MEDIAN, "2012-03", "South", None, 58, 5.0, False),
    (COUNT, "2012-03", None, 30, None, 30, False),
    (COUNT, "2012-03", "North", 12, None, 12, False),
    (COUNT, "2012-03", "South", 18, None, 18, False),
]


@pytest.fixture()
def cur():
    con = duckdb.connect()
    con.execute("create table kpi_results (kpi varchar, period varchar, area varchar, numerator double, "
                "denominator double, value double, hidden boolean default false)")
    con.executemany("insert into kpi_results values (?, ?, ?, ?, ?, ?, ?)", ROWS)
    con.execute("create table kpi_team_results (kpi varchar, period varchar, area varchar, team varchar, "
                "numerator double, denominator double, value double, hidden boolean default false)")
    con.executemany("insert into kpi_team_results values (?, ?, ?, 'T1', ?, ?, ?, ?)", [r for r in ROWS if r[2]])
    yield con
    con.close()


def test_results_for_the_board_keep_a_rates_value_and_drop_its_counts(cur):
    board = kpis.results(cur, board=True).set_index(["kpi", "area"])
    rate = board.loc[RATE]
    assert rate["numerator"].isna().all() and rate["denominator"].isna().all()
    assert rate["value"].round(2).tolist() == [99.44, 100.0, 98.28]  # 177/178, 120/120, 57/58
    median = board.loc[MEDIAN]
    assert median["denominator"].isna().all() and median["value"].tolist() == [4.0, 3.0, 5.0]
    count = board.loc[COUNT]  # a plain count keeps its figure (primary + complementary suppression)
    assert count["numerator"].tolist() == [30.0, 12.0, 18.0] and count["value"].tolist() == [30.0, 12.0, 18.0]
    # the director's keep everything
    director = kpis.results(cur, kpi=RATE)
    assert director["numerator"].tolist() == [177.0, 120.0, 57.0]
    assert director["denominator"].tolist() == [178.0, 120.0, 58.0]


def test_team_results_for_the_board_drop_a_rates_counts(cur):
    teams = kpis.team_results(cur, board=True).set_index("kpi")
    assert teams.loc[RATE, ["numerator", "denominator"]].isna().all(axis=None)
    assert teams.loc[RATE, "value"].notna().all()
    assert teams.loc[COUNT, "numerator"].tolist() == [12.0, 18.0]


@pytest.mark.parametrize("areas", [None, ("South",), ("North", "South")])
def test_the_boards_series_has_no_counts_for_a_rate(cur, areas):
    sel = report.Selection(areas, None, "2012-03")
    shown = report.series(cur, kpis.get(RATE), sel, suppress=True)
    truth = report.series(cur, kpis.get(RATE), sel)
    assert shown[["numerator", "denominator"]].isna().all(axis=None)
    assert shown["value"].tolist() == truth["value"].tolist()
    assert truth["denominator"].notna().all()
    count = report.series(cur, kpis.get(COUNT), sel, suppress=True)
    assert count["value"].notna().all() and count["numerator"].notna().all()


def test_by_area_hover_and_funnel_for_the_board(cur):
    kpi = kpis.get(RATE)
    shown = report.by_area(cur, kpi, suppress=True)
    assert shown[["numerator", "denominator"]].isna().all(axis=None)
    fig = breakdowns.area_figure(kpi, shown, 90.0, "test")
    for trace in fig.data:
        assert " of " not in (trace.hovertemplate or "") and trace.customdata is None
    assert "case" not in fig.layout.title.text
    assert breakdowns.funnel_figure(kpi, shown, "2012-03", "test") == (None, None, breakdowns.BOARD_NO_FUNNEL)
    download = breakdowns.for_download(shown)
    assert "numerator" not in download and "denominator" not in download
    # the director's hover names the counts: South 57 of 58
    director = report.by_area(cur, kpi)
    fig = breakdowns.area_figure(kpi, director, 90.0, "test")
    south = next(t for t in fig.data if (t.meta or {}).get("group") == "South")
    assert south.customdata.tolist() == [[57.0, 58.0]] and " of " in south.hovertemplate


def test_rates_only_leaves_counts_alone():
    df = pd.DataFrame({"period": ["2012-03"], "numerator": [3.0], "denominator": [4.0], "value": [75.0]})
    assert privacy.rates_only(kpis.get(RATE), df)[["numerator", "denominator"]].isna().all(axis=None)
    assert privacy.rates_only(kpis.get(COUNT), df).equals(df)


def test_the_boards_verdict_names_no_number_of_cases():
    # 7 of 8 (87.5%) shown to the board (neither is from 1 to 5), but 8 cases is a small base (< 10):
    # the director reads "only 8 cases"; the board is not told the base is small at all (it would
    # bound the base to 6-9, and 87.5% is then 7 of 8 only), and gets the same rating
    df = pd.DataFrame({"period": ["2012-01", "2012-02", "2012-03"], "numerator": [40.0, 45.0, 7.0],
                       "denominator": [50.0, 50.0, 8.0], "value": [80.0, 90.0, 87.5]})
    kpi = kpis.get(RATE)
    shown = privacy.rates_only(kpi, df.assign(suppressed=False))
    director = verdict.assess(kpi, df, 90.0).verdict
    board = verdict.assess(kpi, df, 90.0, shown=shown).verdict
    assert "only 8 cases this month" in director.sentence
    assert board.sentence.startswith("87.5% in March 2012 misses the target of 90.0% (amber); no significant change")
    assert "small" not in board.sentence and board.denominator is None and board.small_base is False
    assert (board.variation, board.assurance) == (director.variation, director.assurance)
    assert board.rag == director.rag == "amber"

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
    # 177/178 = 99.438..%, 120/120, 57/58 = 98.275..%: as shown, to one decimal (to many decimals a
    # rate gives its fraction back, and so the 1 of 178 not on time)
    assert rate["value"].tolist() == [99.4, 100.0, 98.3]
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
    assert teams.loc[RATE, "value"].tolist() == [100.0, 98.3]  # 120/120, 57/58 as shown
    assert teams.loc[COUNT, "numerator"].tolist() == [12.0, 18.0]


@pytest.mark.parametrize("areas", [None, ("South",), ("North", "South")])
def test_the_boards_series_has_no_counts_for_a_rate(cur, areas):
    sel = report.Selection(areas, None, "2012-03")
    shown = report.series(cur, kpis.get(RATE), sel, suppress=True)
    truth = report.series(cur, kpis.get(RATE), sel)
    assert shown[["numerator", "denominator"]].isna().all(axis=None)
    assert shown["value"].tolist() == [round(v, 1) for v in truth["value"]]
    assert shown["value"].tolist() != truth["value"].tolist()  # not one of 100% (North) only
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
    # bound the base to 6-9, and 87.5% is then 7 of 8 only), nor may anything it reads differ with the
    # base (a review: the assurance clause was dropped for a small base only). By hand: mean
    # (80 + 90 + 87.5) / 3 = 85.83, moving ranges 10 and 2.5, mean 6.25, limits 85.83 ± 2.66 × 6.25 =
    # 69.2 to 102.5 (100 for a percentage); 90 lies within them: hit and miss
    df = pd.DataFrame({"period": ["2012-01", "2012-02", "2012-03"], "numerator": [40.0, 45.0, 7.0],
                       "denominator": [50.0, 50.0, 8.0], "value": [80.0, 90.0, 87.5]})
    kpi = kpis.get(RATE)
    shown = privacy.rates_only(kpi, df.assign(suppressed=False))
    director = verdict.assess(kpi, df, 90.0).verdict
    board = verdict.assess(kpi, df, 90.0, shown=shown).verdict
    assert "only 8 cases this month" in director.sentence
    assert board.sentence == ("87.5% in March 2012 misses the target of 90.0% (amber); no significant change, but the "
                              "process can also meet it: trial limits 69.2–100%, set on fewer than 12 months.")
    assert "small" not in board.sentence and board.denominator is None and board.small_base is False
    assert (board.variation, board.assurance) == ("common_cause", "inconsistent")
    assert (director.variation, director.assurance) == ("common_cause", None)  # the director's: too small to read
    assert board.rag == director.rag == "amber"
    # a large base's words have the same parts: 35 of 40 is 87.5% too
    large = df.assign(numerator=[40.0, 45.0, 35.0], denominator=[50.0, 50.0, 40.0])
    assert verdict.assess(kpi, large, 90.0, shown=privacy.rates_only(kpi, large.assign(suppressed=False))).verdict == board


def _fraction(value: float, most: int = 1000):
    """The attack a review made: the simplest fraction within a float's precision of a rate."""
    from fractions import Fraction

    return Fraction(value / 100).limit_denominator(most)


def test_no_board_surface_gives_a_rate_back_as_its_fraction(cur):
    # 57/58 to full precision is 98.27586206896551%: its fraction comes back, and with it the 1 of
    # 58 not on time. Every board surface carries it as shown, 98.3%, the fraction 983/1000
    from fractions import Fraction

    assert _fraction(100 * 57 / 58) == _fraction(100 * 57 / 58, 100) == Fraction(57, 58)
    kpi = kpis.get(RATE)
    south = report.Selection(("South",), None, "2012-03")
    surfaces = {
        "results": kpis.results(cur, kpi=RATE, area="South", board=True)["value"].iloc[0],
        "team results": kpis.team_results(cur, kpi=RATE, areas=["South"], board=True)["value"].iloc[0],
        "series": report.series(cur, kpi, south, suppress=True)["value"].iloc[0],
        "by area": report.by_area(cur, kpi, suppress=True).set_index("area").loc["South", "value"],
    }
    assert surfaces == {name: 98.3 for name in surfaces}
    assert all(_fraction(v) == Fraction(983, 1000) for v in surfaces.values())


def test_the_boards_chart_draws_each_month_as_shown_against_the_directors_limits():
    # 24 months of a rate to full precision (n of 58); the board's chart draws the values as shown
    # (one decimal) and the same mean, limits and signals as the director's, made from the true figures
    periods = [f"{2010 + m // 12}-{m % 12 + 1:02d}" for m in range(24)]
    numerators = [50 + (m * 7) % 8 for m in range(24)]
    df = pd.DataFrame({"period": periods, "numerator": [float(n) for n in numerators],
                       "denominator": [58.0] * 24, "value": [100 * n / 58 for n in numerators]})
    kpi = kpis.get(RATE)
    shown = privacy.rates_only(kpi, df.assign(suppressed=False))
    director = verdict.assess(kpi, df, 90.0, "2011-01", "2011-12").result
    board = verdict.assess(kpi, df, 90.0, "2011-01", "2011-12", shown=shown).result
    assert [p.value for p in board.points] == [round(100 * n / 58, 1) for n in numerators]
    assert [p.value for p in director.points] == [100 * n / 58 for n in numerators]
    keep = ("point_type", "rule", "segment")
    assert [[getattr(p, k) for k in keep] for p in board.points] == [[getattr(p, k) for k in keep] for p in director.points]
    # the mean and limits: the director's, rounded as the board's figures are (see the test below)
    one = privacy.shown
    assert [(p.mean, p.lpl, p.upl) for p in board.points] == [(one(p.mean), one(p.lpl), one(p.upl))
                                                              for p in director.points]
    assert (board.mean, board.lpl, board.upl, board.variation) == (one(director.mean), one(director.lpl),
                                                                  one(director.upl), director.variation)


def _spc_numbers(result, traj) -> list[float]:
    """Every number of an XmR result and a trajectory that a chart or its download carries."""
    out = [result.mean, result.lpl, result.upl]
    out += [x for p in result.points for x in (p.mean, p.lpl, p.upl)]
    out += [x for s in result.segments for x in (s.mean, s.mean_moving_range, s.lpl, s.upl, s.raw_lpl, s.raw_upl)]
    out += [result.shift.baseline_mean] if result.shift else []
    if traj is not None:
        out += [traj.projected, traj.lower, traj.upper, traj.slope, traj.intercept, traj.latest_value]
        out += [x for p in traj.points for x in (p.projected, p.lower, p.upper)]
    return [float(x) for x in out if x is not None and not pd.isna(x)]


@pytest.mark.parametrize("months", [
    [("2012-03", 15, 16)],
    [("2012-02", 19, 22), ("2012-03", 15, 16)],
    [("2012-01", 41, 45), ("2012-02", 19, 22), ("2012-03", 15, 16)],
], ids=["one month", "two months", "three months"])
def test_the_boards_mean_limits_and_trend_over_the_months_it_chooses_give_no_fraction_back(months):
    """A review chose one month on an Action page as the board: 15 of 16 SMART plans showed as
    93.8%, but the chart's mean (and its download's) said 93.75, so 1 not SMART; over two months
    the mean 90.0568... and the lower limit 70.409... gave 19/22 and 15/16 back; over three, the
    trend line fitted to them and its band would. The board's are rounded as its figures are."""
    kpi = kpis.get(RATE)
    df = pd.DataFrame({"period": [m for m, _, _ in months], "numerator": [float(n) for _, n, _ in months],
                       "denominator": [float(d) for *_, d in months],
                       "value": [100 * n / d for _, n, d in months]})
    shown = privacy.rates_only(kpi, df.assign(suppressed=False))
    director = verdict.assess(kpi, df, 90.0, "2011-06", "2012-12")
    board = verdict.assess(kpi, df, 90.0, "2011-06", "2012-12", shown=shown)
    assert director.result.mean == pytest.approx(sum(100 * n / d for _, n, d in months) / len(months))
    assert any(round(x, 1) != x for x in _spc_numbers(director.result, director.trajectory))  # what the review read
    board_numbers = _spc_numbers(board.result, board.trajectory)
    assert board_numbers and all(round(x, 1) == x for x in board_numbers)
    assert board.result.mean == round(director.result.mean, 1)
    table = breakdowns.xmr_table(shown, board.result, kpi.improvement)  # the action download's sheet
    for col in ("mean", "lower_process_limit", "upper_process_limit"):
        assert all(round(x, 1) == x for x in table[col].dropna()), col
    assert (board.verdict.rag, board.verdict.variation) == (director.verdict.rag, director.verdict.variation)


def test_a_month_hidden_from_the_board_is_not_rated_for_it():
    # the review's case: 5 of 5 SMART plans in March (100%, against a target of 90%), hidden from the
    # board (5 is from 1 to 5). "c ... meets the target of 90% (green); a small base" fixes it at
    # 100% (below 10 cases only 10 of 10... or n of n reaches 90%): the board gets no rating of the
    # month, no signal and no small base; nor the trend's projection (fitted through the hidden value,
    # its words changed with it: a red-team review, 2026-12-05)
    periods = [f"2011-{m:02d}" for m in range(1, 13)] + ["2012-01", "2012-02", "2012-03"]
    values = [70.0, 72.0, 71.0, 74.0, 75.0, 73.0, 76.0, 78.0, 77.0, 80.0, 82.0, 81.0, 84.0, 85.0, 100.0]
    df = pd.DataFrame({"period": periods, "numerator": [v / 10 * 4 for v in values[:-1]] + [5.0],
                       "denominator": [40.0] * 14 + [5.0], "value": values})
    kpi = kpis.get(RATE)
    shown = privacy.rates_only(kpi, df.assign(suppressed=[False] * 14 + [True], value=values[:-1] + [None]))
    director = verdict.assess(kpi, df, 90.0, "2011-06", "2012-12")
    board = verdict.assess(kpi, df, 90.0, "2011-06", "2012-12", shown=shown)
    assert director.verdict.rag == "green" and director.verdict.sentence.startswith("100.0% in March 2012 meets")
    vd = board.verdict
    assert vd.sentence.startswith("c (suppressed to protect small numbers) in March 2012, not rated this month")
    assert (vd.rag, vd.meets_target, vd.variation, vd.assurance, vd.small_base, vd.value) == \
        (None, None, None, None, False, None)
    for word in ("green", "meets", "misses", "small base", "100", "limits", "trend", "track"):
        assert word not in vd.sentence, word
    assert vd.sentence == "c (suppressed to protect small numbers) in March 2012, not rated this month."
    assert director.trajectory.status == "on track" and vd.trajectory is None
    assert board.result.variation is None and board.result.assurance is None  # no icon rates the month


def _board_reads(kpi, df: pd.DataFrame, shown: pd.DataFrame, target, start, due) -> list:
    """Everything the board's verdict and chart carry, for every window of months holding the hidden
    one that the board can choose (from, to), with the rebase on and off, and with the month after
    the window chosen but empty (`report.through`: a review found the trend's status of such a
    month judged on the hidden one)."""
    import dataclasses
    import json

    from csc import report
    from csc.months import add_months

    hidden = int(shown.index[shown["suppressed"]][0])
    out = []
    for first in range(hidden + 1):
        for last in range(hidden, len(df)):
            for rebase in (True, False):
                for empty_after in (False, True):
                    part, sh = df.iloc[first:last + 1].reset_index(drop=True), shown.iloc[first:last + 1].reset_index(drop=True)
                    if empty_after:
                        after = add_months(part["period"].iloc[-1], 1)
                        part, sh = report.through(part, after), report.through(sh, after)
                    a = verdict.assess(kpi, part, target, start, due, rebase=rebase, shown=sh)
                    out.append((json.dumps(dataclasses.asdict(a.verdict), default=str),
                                json.dumps(dataclasses.asdict(a.result), default=str)))
    return out


def test_nothing_the_board_reads_changes_with_a_hidden_count():
    # A red-team review worked hidden counts (1-5) out exactly from the board's ratings in 13 of 40
    # random series: a later month's signal, the assurance and the trend's projection were worked out
    # from every month, the hidden one included, over months and a rebase the board chooses. Now every
    # verdict and chart the board gets is the same whatever the hidden count is.
    import random

    kpi = kpis.get("transfers_waiting_count")
    rnd = random.Random(20261205)
    periods = [f"{2010 + (i + 9) // 12}-{(i + 9) % 12 + 1:02d}" for i in range(12)]
    for _ in range(8):
        level, slope = rnd.uniform(12, 22), rnd.uniform(-1.5, 0.3)
        counts = [float(max(6, round(level + slope * i + rnd.gauss(0, 2)))) for i in range(12)]
        hidden, target = rnd.randint(6, 11), rnd.choice([None, 6.0, 8.0, 12.0])

        def reads(h: float, counts=counts, hidden=hidden, target=target) -> list:
            c = counts[:hidden] + [h] + counts[hidden + 1:]
            df = pd.DataFrame({"period": periods, "numerator": c, "denominator": [None] * 12, "value": c})
            shown = df.assign(suppressed=[i == hidden for i in range(12)])
            shown.loc[hidden, ["value", "numerator"]] = None
            return _board_reads(kpi, df, shown, target, periods[5], "2011-12")

        first = reads(1.0)
        assert all(reads(float(h)) == first for h in (2, 3, 4, 5)), (counts, hidden, target)


def test_the_helpers_example_is_not_rated_for_change():
    # the review's series: transfers waiting 21, 21, 14, 17, 12, 12, then April as c (2), then 7, 6, 6,
    # 6, 6, 6; target 8, the action from March 2011. With April in the months chosen the board reads
    # June's own rating only (6 meets 8: green)
    kpi = kpis.get("transfers_waiting_count")
    periods = ["2010-10", "2010-11", "2010-12", "2011-01", "2011-02", "2011-03", "2011-04", "2011-05", "2011-06"]
    c = [21.0, 21.0, 14.0, 17.0, 12.0, 12.0, 2.0, 7.0, 6.0]
    df = pd.DataFrame({"period": periods, "numerator": c, "denominator": [None] * 9, "value": c})
    shown = df.assign(suppressed=[p == "2011-04" for p in periods])
    shown.loc[6, ["value", "numerator"]] = None
    vd = verdict.assess(kpi, df, 8.0, "2011-03", "2011-12", rebase=False, shown=shown).verdict
    assert vd.sentence == ("6 in June 2011 meets the target of 8 (green); no rating of change, assurance or trend: some "
                           "months are suppressed to protect small numbers, and a rating would give them back.")
    assert (vd.rag, vd.variation, vd.assurance, vd.trajectory, vd.improved) == ("green", None, None, None, False)
    # April out of the months chosen (from May): the board's series has no hidden month, and is rated
    rated = verdict.assess(kpi, df.iloc[7:].reset_index(drop=True), 8.0, "2011-03", "2011-12",
                           shown=shown.iloc[7:].reset_index(drop=True)).verdict
    assert rated.not_rated is None and rated.variation is not None


def test_the_overviews_trend_puts_each_value_in_its_month():
    # a review: the last 12 rows put a series that ended in May in July's slot when August was chosen
    from csc import report

    df = pd.DataFrame({"period": ["2011-03", "2011-04", "2011-05"], "value": [10.0, 12.0, 14.0]})
    assert report.sparkline(df, "2011-08") == [10.0, 12.0, 14.0, None, None, None]
    # a month missing in the middle is a gap where it is; January 2010 is before the last 12 months
    gap = pd.DataFrame({"period": ["2010-01", "2011-06", "2011-08"], "value": [1.0, 2.0, 3.0]})
    assert report.sparkline(gap, "2011-08") == [None] * 9 + [2.0, None, 3.0]
    assert report.sparkline(df.iloc[:0], "2011-08") == []

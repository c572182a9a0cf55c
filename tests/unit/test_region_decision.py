"""The board decision that pooled results carry (`csc.spark.with_decision`, `board_decision`):
each council's own `hidden` flag on each of its figures, null where its export says nothing.
Without Spark: the join is plain pandas."""

from __future__ import annotations

import duckdb
import pandas as pd

from csc import spark


def figures() -> pd.DataFrame:
    return pd.DataFrame({"kpi": ["a", "a", "a", "b"], "period": ["2011-05"] * 4,
                         "area": [None, "North", "South", None], "numerator": [7.0, 3.0, 4.0, 1.0],
                         "denominator": [10.0, 5.0, 5.0, 2.0], "value": [70.0, 60.0, 80.0, 50.0],
                         "council": ["x"] * 4})


def decided(rows: list[tuple]) -> pd.DataFrame:
    """The export's decision: (kpi, area, numerator, denominator, value, hidden) in May 2011."""
    d = pd.DataFrame(rows, columns=["kpi", "area", "numerator", "denominator", "value", "hidden"])
    return d.assign(period="2011-05")


def test_each_figure_gets_the_flag_of_its_own_kpi_month_and_area():
    decision = decided([("a", "South", 4.0, 5.0, 80.0, False), ("a", None, 7.0, 10.0, 70.0, False),
                        ("a", "North", 3.0, 5.0, 60.0, True), ("b", None, 1.0, 2.0, 50.0, True)])
    got = spark.with_decision(figures(), decision)
    assert got["hidden"].tolist() == [False, True, False, True]
    assert got["area"].tolist()[1:3] == ["North", "South"] and pd.isna(got["area"].iloc[0])
    assert got[["numerator", "value"]].equals(figures()[["numerator", "value"]])


def test_a_figure_the_decision_does_not_name_is_undecided_not_shown():
    got = spark.with_decision(figures(), decided([("a", None, 7.0, 10.0, 70.0, False)]))
    assert got["hidden"].iloc[0] == False  # noqa: E712
    assert got["hidden"].iloc[1:].isna().all()


def test_a_figure_decided_on_other_numbers_is_undecided():
    # A review: the flag must be the decision about these numbers. An export stopped between its
    # records and its results, or another version's KPIs, decided on other figures: 72 of 100
    # shown says nothing about 7 of 10. Figures equal to 1e-9 (FTE sums added in another order) agree.
    decision = decided([("a", None, 7.0, 10.0, 70.0, False), ("a", "North", 3.0, 6.0, 50.0, False),
                        ("a", "South", 4.0 + 1e-12, 5.0, 80.0, False), ("b", None, 1.0, 2.0, None, False)])
    got = spark.with_decision(figures(), decision)
    assert got["hidden"].iloc[0] == False and got["hidden"].iloc[2] == False  # noqa: E712
    assert pd.isna(got["hidden"].iloc[1])  # 3 of 5 computed, 3 of 6 decided
    assert pd.isna(got["hidden"].iloc[3])  # a value computed, none decided


def test_a_figure_decided_twice_is_undecided():
    decision = decided([("a", None, 7.0, 10.0, 70.0, False), ("a", None, 7.0, 10.0, 70.0, True)])
    assert pd.isna(spark.with_decision(figures(), decision)["hidden"].iloc[0])


def test_an_export_without_a_decision_leaves_every_figure_undecided(tmp_path):
    council = tmp_path / "x"
    council.mkdir()
    assert spark.board_decision(council) is None  # no kpi_results.parquet at all
    duckdb.execute(f"copy (select 'a' as kpi, '2011-05' as period, null::varchar as area, 1.0 as value) "
                   f"to '{council}/kpi_results.parquet' (format parquet)")
    assert spark.board_decision(council) is None  # written before the export carried `hidden`
    assert spark.with_decision(figures(), None)["hidden"].isna().all()
    duckdb.execute(f"copy (select 'a' as kpi, '2011-05' as period, null::varchar as area, 7.0 as numerator, "
                   f"10.0 as denominator, 70.0 as value, true as hidden) to '{council}/kpi_results.parquet' "
                   "(format parquet)")
    got = spark.with_decision(figures(), spark.board_decision(council))
    assert got["hidden"].iloc[0] == True and got["hidden"].iloc[1:].isna().all()  # noqa: E712

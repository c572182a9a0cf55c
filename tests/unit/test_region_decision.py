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


def test_each_figure_gets_the_flag_of_its_own_kpi_month_and_area():
    decision = pd.DataFrame({"kpi": ["a", "a", "a", "b"], "period": ["2011-05"] * 4,
                             "area": ["South", None, "North", None], "hidden": [True, False, True, False]})
    got = spark.with_decision(figures(), decision)
    assert got["hidden"].tolist() == [False, True, True, False]
    assert got["area"].tolist()[1:3] == ["North", "South"] and pd.isna(got["area"].iloc[0])
    assert got[["numerator", "value"]].equals(figures()[["numerator", "value"]])


def test_a_figure_the_decision_does_not_name_is_undecided_not_shown():
    decision = pd.DataFrame({"kpi": ["a"], "period": ["2011-05"], "area": [None], "hidden": [False]})
    got = spark.with_decision(figures(), decision)
    assert got["hidden"].iloc[0] == False  # noqa: E712
    assert got["hidden"].iloc[1:].isna().all()


def test_an_export_without_a_decision_leaves_every_figure_undecided(tmp_path):
    council = tmp_path / "x"
    council.mkdir()
    assert spark.board_decision(council) is None  # no kpi_results.parquet at all
    duckdb.execute(f"copy (select 'a' as kpi, '2011-05' as period, null::varchar as area, 1.0 as value) "
                   f"to '{council}/kpi_results.parquet' (format parquet)")
    assert spark.board_decision(council) is None  # written before the export carried `hidden`
    assert spark.with_decision(figures(), None)["hidden"].isna().all()
    duckdb.execute(f"copy (select 'a' as kpi, '2011-05' as period, null::varchar as area, true as hidden) "
                   f"to '{council}/kpi_results.parquet' (format parquet)")
    got = spark.with_decision(figures(), spark.board_decision(council))
    assert got["hidden"].iloc[0] == True and got["hidden"].iloc[1:].isna().all()  # noqa: E712

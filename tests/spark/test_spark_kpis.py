"""Proved equal: every KPI computed on Apache Spark (local[2]) from two councils' Parquet exports,
by the DuckDB SQL of `queries/kpis/*.sql` translated at run time, equals DuckDB's `kpi_results`
for each council: exactly where the figure is a count, to 1e-9 otherwise (ratios, FTE sums,
medians)."""

from __future__ import annotations

import math

import duckdb
import pandas as pd
import pytest

from csc import cli, kpis, spark
from csc.store import Store

pytestmark = pytest.mark.slow


def duckdb_results(db) -> pd.DataFrame:
    with Store.open(db, read_only=True) as store:
        return store.cursor().execute(
            "select kpi, period, area, numerator, denominator, value from kpi_results").df()


def keyed(df: pd.DataFrame) -> dict[tuple, tuple]:
    return {(r.kpi, r.period, None if pd.isna(r.area) else r.area): (r.numerator, r.denominator, r.value)
            for r in df.itertuples()}


def counted(kpi: kpis.Kpi, figure: str) -> bool:
    """Whether a figure is a count (of records, or of whole days): then it must match exactly.
    FTE sums (turnover, agency, vacancy, caseload per FTE) depend on the order of addition."""
    if kpi.unit == "count" or kpi.aggregate == "sum":
        return True
    if kpi.aggregate == "median":
        return figure == "denominator"  # how many records
    return figure != "value" and kpi.is_count_proportion


def assert_same_figures(expected: pd.DataFrame, got: pd.DataFrame) -> int:
    """Same rows; counts exactly, everything else to 1e-9. Returns the number of exact comparisons."""
    want, have = keyed(expected), keyed(got)
    assert len(want) == len(expected) and len(have) == len(got), "one row per KPI, month and area"
    assert sorted(have, key=str) == sorted(want, key=str)
    exact = 0
    for key, figures in want.items():
        kpi = kpis.get(key[0])
        for name, w, h in zip(("numerator", "denominator", "value"), figures, have[key]):
            if pd.isna(w):
                assert pd.isna(h), (key, name, w, h)
            elif counted(kpi, name):
                assert h == w, (key, name, w, h)  # a count: exactly
                exact += 1
            else:
                assert math.isclose(h, w, rel_tol=1e-9, abs_tol=1e-9), (key, name, w, h)
    return exact


@pytest.fixture(scope="module")
def pooled(spark_session, parquet_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("spark-out")
    result, run = spark.run(spark_session, parquet_dir, out)
    return result, run, out


def test_every_kpi_on_spark_equals_duckdb_for_each_council(pooled, councils):
    result, run, _ = pooled
    assert sorted(run.councils) == sorted(councils) and sorted(result["council"].unique()) == sorted(councils)
    for code, db in councils.items():
        expected = duckdb_results(db)
        got = result[result["council"] == code].drop(columns="council")
        assert set(got["kpi"]) == set(kpis.registry()), "every KPI has figures on Spark"
        assert len(expected) > 500
        assert assert_same_figures(expected, got) > 1000


def test_the_two_councils_differ_so_a_mix_up_would_show(pooled, councils):
    result, _, _ = pooled
    a, b = (result[result["council"] == c].drop(columns="council") for c in councils)
    with pytest.raises(AssertionError):
        assert_same_figures(a, b)


def test_pooled_results_are_written_as_parquet_by_council(pooled, councils):
    result, _, out = pooled
    assert sorted(p.name for p in (out / "kpi_results").iterdir() if p.is_dir()) == [f"council={c}" for c in sorted(councils)]
    written = spark.read_results(out)
    assert len(written) == len(result)
    for code, db in councils.items():
        assert_same_figures(duckdb_results(db), written[written["council"] == code].drop(columns="council"))


def test_each_figure_carries_its_own_councils_board_decision(pooled, councils):
    # the regional view hides from the board what each council's own dashboard hides (csc.region)
    _, _, out = pooled
    written = spark.read_results(out)
    for code, db in councils.items():
        with Store.open(db, read_only=True) as store:
            want = store.cursor().execute("select kpi, period, area, hidden from kpi_results").df()
        got = written[written["council"] == code]
        assert got["hidden"].notna().all()
        flags = {(r.kpi, r.period, None if pd.isna(r.area) else r.area): bool(r.hidden) for r in got.itertuples()}
        assert flags == {(r.kpi, r.period, None if pd.isna(r.area) else r.area): bool(r.hidden) for r in want.itertuples()}
        assert 0 < sum(flags.values()) < len(flags)  # some hidden, some shown: a mix-up would show


def test_the_hard_kpis_on_spark_records_too(spark_session, councils, parquet_dir):
    """The records behind caseload stability (the rewritten ASOF joins) row for row, not only the sums."""
    code, db = next(iter(councils.items()))
    kpi = kpis.get("caseload_stability_pct")
    spark.council_tables(spark_session, parquet_dir / code)
    got = spark_session.sql(spark.to_spark(kpis._strip(kpi.sql))).toArrow().to_pandas()
    with Store.open(db) as store:
        cur = store.cursor()
        kpis.prepare(cur)
        want = cur.execute(kpis._strip(kpi.sql)).df()

    def rows(df: pd.DataFrame) -> list[tuple]:
        cols = ["period", "record_id", "child_id", "worker_id", "area", "numerator"]
        return sorted((tuple(None if pd.isna(v) else v for v in r) for r in df[cols].itertuples(index=False, name=None)),
                      key=str)

    assert len(want) > 1000
    assert rows(got) == rows(want)


def test_the_command_reads_every_council_and_the_dashboard_can_read_its_output(spark_session, parquet_dir, tmp_path, capsys):
    assert cli.main(["spark-kpis", str(parquet_dir), str(tmp_path), "--council", "north-shire"]) == 0
    assert "1 council(s)" in capsys.readouterr().out
    assert not spark_session.sparkContext._jsc.sc().isStopped()  # the command leaves a session it did not start
    rows = duckdb.connect().execute(
        f"select distinct council from read_parquet('{tmp_path}/kpi_results/*/*.parquet', hive_partitioning = true)"
    ).fetchall()
    assert rows == [("north-shire",)]
    assert cli.main(["spark-kpis", str(parquet_dir), str(tmp_path), "--council", "nowhere"]) == 2

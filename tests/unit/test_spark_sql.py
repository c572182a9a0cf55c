"""The DuckDB SQL translated for Spark by sqlglot (no Spark needed): every KPI, the staging SQL
and the aggregation translate, and the constructs Spark lacks are refused rather than passed on."""

from __future__ import annotations

import re

import pytest

from csc import annexa, kpis, spark, spec
from csc.store import current_table_sql


@pytest.mark.parametrize("name", list(kpis.registry()))
def test_every_kpi_translates(name):
    kpi = kpis.get(name)
    sql = re.sub(r"/\*.*?\*/", "", spark.to_spark(spark.kpi_sql(kpi)), flags=re.S)  # without comments
    assert "GROUPING SETS" in sql and "kpi_months" in sql
    assert "ASOF" not in sql.upper() and " BY NAME" not in sql.upper()


def test_the_staging_sql_translates():
    for sheet in spec.SHEETS.values():
        sql = spark.to_spark(current_table_sql(sheet))
        assert sql.startswith("SELECT") and "QUALIFY" not in sql.upper()  # qualify becomes a subquery
    assert "MAX_BY" in spark.to_spark(annexa.inferred_sql())  # arg_max in Spark's words
    assert "ANTI JOIN" in spark.to_spark(kpis.zero_counts_sql(kpis.get("transfers_waiting_count")))


@pytest.mark.parametrize("sql, words", [
    ("select * from a asof join b on a.d >= b.d", "ASOF"),
    ("select * from a asof left join b on a.d >= b.d", "ASOF"),
    ("select 1 as x union all by name select 2 as x", "BY NAME"),
    ("select try_cast(x as hugeint) from t", "hugeint"),
])
def test_what_spark_lacks_is_refused(sql, words):
    with pytest.raises(spark.UntranslatableSql, match=words):
        spark.to_spark(sql)

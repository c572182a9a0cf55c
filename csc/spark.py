"""The KPI and staging SQL on Apache Spark, over councils' Parquet exports, pooled by council.

`python -m csc spark-kpis PARQUET_DIR OUT_DIR [--master local[2]]` reads every council folder
that `python -m csc export-parquet` wrote into PARQUET_DIR (`<council>/<sheet>/import_id=<n>/...`),
and for each council defines the same tables the KPI SQL reads in DuckDB (`raw_<sheet>`,
`imports`, `cur_<sheet>`, `inferred_involvements`, `calendar`, `kpi_months`), runs every
`queries/kpis/*.sql` file and the same aggregation (`csc.kpis._aggregate_sql`, the zero rows of
`csc.kpis.zero_counts_sql`), and writes the results, each row with its council, to
`OUT_DIR/kpi_results/council=<code>/*.parquet` (the regional view reads them). Each row also
carries `hidden`: whether the council's own dashboard denies that figure to its board, read from
the council's exported decision (`<council>/kpi_results.parquet`), null where the export carries
none; the regional view hides from the board every figure not known to be shown
(`csc.region.series`).

There is no Spark copy of any SQL: the DuckDB SQL is translated at run time by sqlglot
(`to_spark`). A construct the translation cannot carry (an ASOF join, UNION ... BY NAME, hugeint)
is refused here, loudly, and the DuckDB SQL itself is written in a form both engines run
(docs/reliability.md, "Beyond one machine"). `tests/spark/test_spark_kpis.py` proves the results
equal DuckDB's for each council.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import sqlglot
from sqlglot import exp

from csc import annexa, kpis, parquet, spec, workdays
from csc.months import month_range, period_end, period_start
from csc.store import current_table_sql

log = logging.getLogger("csc.spark")

SPARK_TYPES = {spec.ID: "string", spec.TEXT: "string", spec.DATE: "date", spec.FLAG: "boolean",
               spec.NUMBER: "double", spec.WHOLE: "int", spec.ENUM: "string"}
RESULT_SCHEMA = "kpi string, period string, area string, numerator double, denominator double, value double"


class UntranslatableSql(ValueError):
    """DuckDB SQL using a construct Spark lacks: write it in a form both engines run."""


# --- translation -------------------------------------------------------------------------------


def _refuse_what_spark_lacks(tree: exp.Expression) -> None:
    for join in tree.find_all(exp.Join):
        if "ASOF" in (join.text("kind") + " " + join.text("method") + " " + join.text("side")).upper():
            raise UntranslatableSql("an ASOF join (Spark has none): join on a computed key instead")
    for union in tree.find_all(exp.Union):
        if union.args.get("by_name"):
            raise UntranslatableSql("UNION ... BY NAME (Spark SQL has none): list the columns")
    for dtype in tree.find_all(exp.DataType):
        if dtype.this in (exp.DataType.Type.INT128, exp.DataType.Type.UINT128):
            raise UntranslatableSql("hugeint (Spark has none): use decimal(38, 0)")


@lru_cache(maxsize=256)
def to_spark(duckdb_sql: str) -> str:
    """One DuckDB SELECT (or CREATE ... AS SELECT: its SELECT) as Spark SQL, by sqlglot."""
    trees = [t for t in sqlglot.parse(duckdb_sql, read="duckdb") if t is not None]
    if len(trees) != 1:
        raise UntranslatableSql(f"expected one statement, got {len(trees)}")
    tree = trees[0]
    if isinstance(tree, exp.Create):
        tree = tree.expression
    _refuse_what_spark_lacks(tree)
    try:
        return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.UnsupportedError as exc:
        raise UntranslatableSql(str(exc)) from exc


def kpi_sql(kpi: kpis.Kpi) -> str:
    """One KPI's figures, in DuckDB SQL: the KPI file's records, aggregated as `csc.kpis` does.
    Numerators and denominators are added as doubles (Spark's decimal division keeps only 6
    places; DuckDB's gives a double)."""
    return (f"with records as ({kpis._strip(kpi.sql)}), "
            "as_double as (select period, area, numerator::double as numerator, "
            "denominator::double as denominator from records) "
            f"select * from ({kpis._aggregate_sql(kpi, 'as_double')}) where value is not null")


# --- the session -------------------------------------------------------------------------------


def session(master: str | None = None, memory: str = "1g", app: str = "csc-kpis"):
    """A SparkSession: local[2] unless told (e.g. spark://127.0.0.1:7077), modest memory, no UI,
    dates in UTC, and the driver on this machine's loopback unless $SPARK_LOCAL_IP says."""
    from pyspark.sql import SparkSession

    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    builder = (SparkSession.builder.master(master or os.environ.get("CSC_SPARK_MASTER", "local[2]")).appName(app)
               .config("spark.driver.memory", memory)
               .config("spark.executor.memory", memory)
               .config("spark.sql.shuffle.partitions", "4")
               .config("spark.default.parallelism", "4")
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.session.timeZone", "UTC")
               .config("spark.sql.sources.partitionOverwriteMode", "dynamic")
               .config("spark.sql.warehouse.dir", str(Path(tempfile.gettempdir()) / "csc-spark-warehouse"))
               .config("spark.driver.host", os.environ["SPARK_LOCAL_IP"])
               .config("spark.driver.bindAddress", os.environ["SPARK_LOCAL_IP"]))
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


# --- one council's tables --------------------------------------------------------------------


def _empty_raw(spark, sheet: spec.Sheet):
    cols = ["cast(null as int) as import_id", "cast(null as int) as excel_row"]
    cols += [f"cast(null as {SPARK_TYPES[c.type]}) as {c.name}" for c in sheet.columns]
    return spark.sql(f"select {', '.join(cols)} where false")


def _table(spark, name: str, duckdb_sql: str, cache: bool = True) -> None:
    df = spark.sql(to_spark(duckdb_sql))
    if cache:
        df = df.cache()
    df.createOrReplaceTempView(name)


def _arrow_view(spark, name: str, table: pa.Table) -> None:
    spark.createDataFrame(table).createOrReplaceTempView(name)


def month_spine(first: str, last: str) -> pa.Table:
    """`kpi_months`: each month from first to last (YYYY-MM) with its first and last day."""
    periods = month_range(first, last)
    m0s, m1s = [period_start(p) for p in periods], [period_end(p) for p in periods]
    return pa.table({"period": pa.array(periods, pa.string()), "m0": pa.array(m0s, pa.date32()),
                     "m1": pa.array(m1s, pa.date32())})


def council_tables(spark, folder: Path) -> list[str]:
    """Define, for one council's export folder, every table the KPI SQL reads; return the months."""
    folder = Path(folder)
    for sheet in spec.SHEETS.values():
        cols = ", ".join(("cast(import_id as int) as import_id", "excel_row", *sheet.column_names))
        if any((folder / sheet.name).glob("import_id=*/part.parquet")):
            spark.read.parquet(str(folder / sheet.name)).createOrReplaceTempView(f"raw_{sheet.name}_files")
            spark.sql(f"select {cols} from raw_{sheet.name}_files").createOrReplaceTempView(f"raw_{sheet.name}")
        else:  # no import had this sheet: an empty table of the same shape
            _empty_raw(spark, sheet).createOrReplaceTempView(f"raw_{sheet.name}")
    for table in ("imports", "plan_changes"):
        spark.read.parquet(str(folder / f"{table}.parquet")).createOrReplaceTempView(table)
    counts = folder / "referral_counts_current.parquet"  # Annex A's List 3 counts (re_referral_pct)
    if counts.exists():
        spark.read.parquet(str(counts)).createOrReplaceTempView("referral_counts_current")
    else:
        spark.sql("select cast(null as string) as referral_id, cast(null as int) as prior_referrals_12m "
                  "where false").createOrReplaceTempView("referral_counts_current")
    for sheet in spec.SHEETS.values():
        _table(spark, f"cur_{sheet.name}", current_table_sql(sheet))
    _table(spark, "inferred_involvements", annexa.inferred_sql())
    if not spark.catalog.tableExists("calendar"):
        _arrow_view(spark, "calendar", workdays.calendar_table())
        spark.catalog.cacheTable("calendar")
    first = spark.sql(to_spark(kpis.FIRST_MONTH_SQL)).collect()[0][0]
    earliest, last = spark.sql(
        to_spark("select min(period), max(period) from imports where status = 'loaded'")).collect()[0]
    periods = kpis.spine(first, earliest, last)
    spine = month_spine(*periods) if periods else month_spine("0001-02", "0001-01")
    _arrow_view(spark, "kpi_months", spine)
    spark.catalog.cacheTable("kpi_months")
    return spine.column("period").to_pylist()


def _release(spark) -> None:
    for sheet in spec.SHEETS.values():
        spark.catalog.dropTempView(f"cur_{sheet.name}")  # uncaches it too
    for name in ("inferred_involvements", "kpi_months", "kpi_results"):
        spark.catalog.dropTempView(name)


def council_kpis(spark, folder: Path, council: str) -> pa.Table:
    """Every KPI for one council: `kpis.RESULT_COLUMNS` plus council. Each KPI is its own small
    Spark job, collected (a few thousand rows at most): one plan of every KPI unioned is far
    slower for Spark's analyser than the KPIs one by one."""
    schema = pa.schema([("kpi", pa.string()), ("period", pa.string()), ("area", pa.string()),
                        ("numerator", pa.float64()), ("denominator", pa.float64()), ("value", pa.float64())])

    def collect(sql: str) -> pa.Table:
        return spark.sql(to_spark(sql)).toArrow().select(schema.names).cast(schema)

    months = council_tables(spark, folder)
    parts = []
    if months:
        parts = [collect(kpi_sql(kpi)) for kpi in kpis.registry().values()]
        spark.createDataFrame(pa.concat_tables(parts)).createOrReplaceTempView("kpi_results")
        parts += [collect(kpis.zero_counts_sql(kpi)) for kpi in kpis.registry().values() if kpi.unit == "count"]
    table = pa.concat_tables(parts) if parts else schema.empty_table()
    return table.append_column("council", pa.array([council] * len(table), pa.string()))


# --- the command ---------------------------------------------------------------------------------


@dataclass
class Run:
    councils: list[str]
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    out: Path | None = None

    def summary(self) -> str:
        parts = ", ".join(f"{c} {self.rows[c]:,} rows in {self.seconds[c]:.1f} s" for c in self.councils)
        return f"Computed every KPI on Spark for {len(self.councils)} council(s) ({parts}); wrote {self.out}."


def results_path(out_dir: str | Path) -> Path:
    return Path(out_dir) / "kpi_results"


def board_decision(folder: Path) -> pd.DataFrame | None:
    """The council's board decision as exported: `kpi, period, area, numerator, denominator,
    value, hidden` of its `kpi_results.parquet`, or None where the export carries none (written
    by an older version)."""
    import duckdb

    path = Path(folder) / "kpi_results.parquet"
    if not path.exists():
        return None
    con = duckdb.connect()
    rel = con.read_parquet(str(path))
    if "hidden" not in rel.columns:
        return None
    return rel.select(", ".join(["kpi", "period", "area", *FIGURES, "hidden"])).df()


FIGURES = ("numerator", "denominator", "value")


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Each pair of figures the same: both missing, or equal to 1e-9 (as `tests/spark` proves)."""
    x, y = a.to_numpy(dtype=float, na_value=np.nan), b.to_numpy(dtype=float, na_value=np.nan)
    both_missing = np.isnan(x) & np.isnan(y)
    with np.errstate(invalid="ignore"):
        return both_missing | (np.abs(x - y) <= 1e-9 + 1e-9 * np.abs(y))


def with_decision(df: pd.DataFrame, decision: pd.DataFrame | None) -> pd.DataFrame:
    """`df` with the council's `hidden` flag on each figure: the flag its export gives the same
    KPI, month and area with the same numbers. Null (not known) where the export has no such
    figure, or has it with other numbers (decided on other data: an export stopped half-way, or
    another version of the KPIs), or carries no decision at all."""
    if decision is None:
        return df.assign(hidden=pd.Series(pd.NA, index=df.index, dtype="boolean"))
    keys = ["kpi", "period", "office", "all_areas"]  # the all-areas figure's area is null

    def keyed(d: pd.DataFrame) -> pd.DataFrame:
        return d.assign(office=d["area"].fillna("").astype(str), all_areas=d["area"].isna())

    decided = keyed(decision).assign(hidden=decision["hidden"].astype("boolean"))
    twice = decided.duplicated(keys, keep=False)  # never expected: a figure decided twice is not known
    decided.loc[twice, "hidden"] = pd.NA
    decided = decided.drop_duplicates(keys).rename(columns={f: f"{f}_decided" for f in FIGURES}).drop(columns="area")
    merged = keyed(df).merge(decided, on=keys, how="left", validate="many_to_one")
    same = np.logical_and.reduce([_same(merged[f], merged[f"{f}_decided"]) for f in FIGURES])
    hidden = merged["hidden"].astype("boolean").where(same, pd.NA)
    return merged[list(df.columns)].assign(hidden=hidden)


def run(spark, parquet_dir: str | Path, out_dir: str | Path | None = None,
        councils: list[str] | None = None) -> tuple[pd.DataFrame, Run]:
    """Every KPI for every council in `parquet_dir` (or those named), pooled: a DataFrame with a
    council column; written as Parquet partitioned by council under `out_dir/kpi_results` when
    given (a council's partition is replaced, the others kept)."""
    found = parquet.councils(parquet_dir)
    todo = councils or found
    missing = sorted(set(todo) - set(found))
    if missing:
        raise FileNotFoundError(f"No export of {', '.join(missing)} in {parquet_dir} (found: {', '.join(found) or 'none'}).")
    report = Run(list(todo))
    pooled = []
    for code in todo:
        t0 = time.perf_counter()
        df = council_kpis(spark, Path(parquet_dir) / code, code).to_pandas()
        _release(spark)
        df = with_decision(df, board_decision(Path(parquet_dir) / code))
        report.rows[code] = len(df)
        report.seconds[code] = time.perf_counter() - t0
        pooled.append(df)
    cols = ["council", *kpis.RESULT_COLUMNS, "hidden"]
    result = (pd.concat(pooled, ignore_index=True)[cols] if pooled else pd.DataFrame(columns=cols))
    result = result.sort_values(["council", "kpi", "period", "area"], na_position="first").reset_index(drop=True)
    if out_dir is not None and len(result):
        report.out = results_path(out_dir)
        table = pa.Table.from_pandas(result, preserve_index=False).cast(pa.schema(
            [("council", pa.string()), ("kpi", pa.string()), ("period", pa.string()), ("area", pa.string()),
             ("numerator", pa.float64()), ("denominator", pa.float64()), ("value", pa.float64()),
             ("hidden", pa.bool_())]))
        (spark.createDataFrame(table).repartition("council").write.mode("overwrite")
         .partitionBy("council").parquet(str(report.out)))
    return result, report


def read_results(out_dir: str | Path) -> pd.DataFrame:
    """The pooled results `run` wrote, as the regional view reads them (`csc.region.read`)."""
    from csc import region

    return region.read(out_dir)


def java_available() -> bool:
    import shutil

    return bool(os.environ.get("JAVA_HOME") or shutil.which("java"))

"""Parquet, for engines beyond one machine (moved from `csc.recovery`): the records as one Parquet
file set per import, under the council's own folder and hive-partitioned by `import_id`, and views
that let the same KPI SQL run over them (in DuckDB here, on Spark in `csc.spark`)."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb

from csc import annexa_tables, config, spec
from csc.schema import sql_str, current_table_sql, raw_table_sql


# --- Parquet, for engines beyond one machine -----------------------------------------------


def export_parquet(store, folder: str | Path, council: str | None = None) -> dict[str, int]:
    """Write the records as Parquet under the council's own folder:
    `<folder>/<council>/<sheet>/import_id=<n>/part.parquet` (one file set per import: immutable,
    so files already written are kept), plus `<council>/imports.parquet`, `plan_changes.parquet`
    and `kpi_results.parquet` (rewritten each time; every KPI row carries the council code). The
    council code comes from `config.council` ($CSC_COUNCIL), so several councils' exports sit side
    by side in one folder or bucket. One snapshot: every file comes from the same committed state.
    Returns the number of files written."""
    code = config.council(council)
    folder = Path(folder) / code
    folder.mkdir(parents=True, exist_ok=True)
    cur = store.cursor()
    written = {"records": 0, "kept": 0, "tables": 0}
    cur.execute("begin transaction read only")
    try:
        for sheet in spec.SHEETS.values():
            counts = cur.execute(
                f"select import_id, count(*) from raw_{sheet.name} group by import_id order by import_id"
            ).fetchall()
            for import_id, n in counts:
                out = folder / sheet.name / f"import_id={int(import_id)}" / "part.parquet"
                if out.exists() and _parquet_rows(cur, out) == n:
                    written["kept"] += 1
                    continue
                out.parent.mkdir(parents=True, exist_ok=True)
                tmp = out.with_name("part.parquet.partial")
                # import_id is an integer from the database; file paths cannot be bound as parameters
                cur.execute(f"copy (select * exclude (import_id) from raw_{sheet.name} where import_id = {int(import_id)} "
                            f"order by excel_row) to {sql_str(tmp)} (format parquet)")
                os.replace(tmp, out)
                written["records"] += 1
        tables = {"imports": "*", "plan_changes": "*", "kpi_results": f"{sql_str(code)} as council, *",
                  # Annex A's List 3 counts of earlier referrals, which re_referral_pct reads
                  "referral_counts_current": "*"}
        for table, columns in tables.items():
            tmp = folder / f"{table}.parquet.partial"
            cur.execute(f"copy (select {columns} from {table} order by all) to {sql_str(tmp)} (format parquet)")
            os.replace(tmp, folder / f"{table}.parquet")
            written["tables"] += 1
    finally:
        cur.execute("commit")
    return written


def councils(folder: str | Path) -> list[str]:
    """The councils exported into `folder` (each a sub-folder holding `imports.parquet`)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir()
                  if p.is_dir() and (p / "imports.parquet").exists() and config.COUNCIL_CODE.match(p.name))


def _parquet_rows(cur, path: Path) -> int:
    return cur.execute(f"select count(*) from read_parquet({sql_str(path)})").fetchall()[0][0]


def parquet_views(con: duckdb.DuckDBPyConnection, folder: str | Path) -> None:
    """Define `raw_<sheet>`, `imports`, `plan_changes` and `cur_<sheet>` over one council's folder
    of an `export_parquet` export (`<folder>/<council>`), so the KPI SQL (`csc.kpis.materialise`)
    runs on the Parquet unchanged."""
    folder = Path(folder)
    for sheet in spec.SHEETS.values():
        cols = ", ".join(sheet.column_names)
        if any((folder / sheet.name).glob("import_id=*/part.parquet")):
            pattern = sql_str(folder / sheet.name / "*" / "part.parquet")
            con.execute(f"create or replace view raw_{sheet.name} as select import_id::integer as import_id, "
                        f"excel_row, {cols} from read_parquet({pattern}, hive_partitioning = true)")
        else:  # no import had this sheet: an empty table of the same shape
            con.execute(raw_table_sql(sheet))
    for table in ("imports", "plan_changes"):
        con.execute(f"create or replace view {table} as select * from read_parquet({sql_str(folder / f'{table}.parquet')})")
    counts = folder / "referral_counts_current.parquet"
    if counts.exists():
        con.execute(f"create or replace view referral_counts_current as select * from read_parquet({sql_str(counts)})")
    else:  # an export made before the counts were exported: none
        con.execute("create or replace table referral_counts_current (referral_id varchar, prior_referrals_12m integer)")
    for sheet in spec.SHEETS.values():
        con.execute(current_table_sql(sheet).replace("create or replace table", "create or replace view", 1))
    con.execute(f"create or replace table inferred_involvements as {annexa_tables.inferred_sql()}")  # changes of worker inferred from Annex A imports, as the store does

"""Helpers for the reliability tests and the load benchmark.

Realistic multi-sheet extract workbooks: the records come from `benchmarks.bigcouncil` (ten
years of a synthetic council, every sheet of the extract spec) at a small scale, written to a
real .xlsx the way an analyst's extract looks:
one sheet per spec sheet, a header row, Y/N flags and Excel dates. A different seed gives a
new version of the same record ids (a re-extract), so later imports supersede earlier ones.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
from openpyxl import Workbook

from benchmarks import bigcouncil

LAST_PERIOD = f"{bigcouncil.LAST:%Y-%m}"  # 2022-03: the month the synthetic council runs to


def council_tables(seed: int, scale: float) -> dict[str, pa.Table]:
    return bigcouncil.generate(seed=seed, scale=scale)


def write_council(path: Path, seed: int = 7, scale: float = 0.01, sheets: tuple[str, ...] | None = None) -> Path:
    """Write one extract workbook; returns its path. scale=0.01 is about 11,000 rows."""
    tables = council_tables(seed, scale)
    wb = Workbook(write_only=True)
    for name, table in tables.items():
        if sheets is not None and name not in sheets:
            continue
        ws = wb.create_sheet(name)
        ws.append(table.column_names)
        columns = [table.column(c).to_pylist() for c in table.column_names]
        for row in zip(*columns):
            ws.append([_cell(v) for v in row])
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _cell(value):
    if isinstance(value, bool):
        return "Y" if value else "N"
    return value  # text, numbers and dates (written as Excel dates) as they are


def row_count(seed: int = 7, scale: float = 0.01) -> int:
    return sum(t.num_rows for t in council_tables(seed, scale).values())


# --- what a database holds, for comparing two of them -----------------------------------------


def kpi_rows(cur, digits: int = 9) -> list[tuple]:
    """Every stored KPI value, rounded (sums over many rows may differ in the last float bits
    depending on the order DuckDB's threads add them), in a stable order."""
    rows = cur.execute(
        "select kpi, period, coalesce(area, '(all)'), round(numerator, $d), round(denominator, $d), round(value, $d) "
        "from kpi_results order by all",
        {"d": digits},
    ).fetchall()
    return rows


def state(cur) -> dict:
    """The imports, the rows per raw table and the KPIs: what must be all-or-nothing."""
    from csc import spec

    return {
        "imports": cur.execute("select import_id, period, status, file_name, sha256 from imports order by import_id").fetchall(),
        "raw": {s: cur.execute(f"select count(*) from raw_{s}").fetchall()[0][0] for s in spec.SHEETS},
        "current": {s: cur.execute(f"select count(*) from cur_{s}").fetchall()[0][0] for s in spec.SHEETS},
        "kpis": kpi_rows(cur),
    }

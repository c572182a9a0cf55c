"""The KPI registry, read from `queries/kpis/*.sql`, and the runner.

Each KPI file returns the records behind the KPI, one row per record per month, with the
columns of `RECORD_COLUMNS`: `numerator` and `denominator` are that record's contribution
(1/0 for counts, fte for workforce rates; for a median KPI the numerator is the record's value).
The runner aggregates them per month and area office and for all areas together, so the same
SQL gives the figure and the records behind it (drill-down).

The SQL may read the `cur_<sheet>` tables (current version of each record), `imports`,
`calendar` (day, wd_index: wd(a, b) = idx(b) - idx(a)) and `kpi_months` (period, m0, m1).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from csc import config, suppression, workdays

KPI_DIR = config.QUERIES / "kpis"
RECORD_COLUMNS = ("period", "area", "team", "record_id", "child_id", "worker_id", "numerator", "denominator")
RESULT_COLUMNS = ("kpi", "period", "area", "numerator", "denominator", "value")
UNITS = {"pct": "%", "days": " days", "count": "", "per_fte": " per FTE"}
AGGREGATES = {"ratio", "median", "sum"}

# Dates that mark activity: the first month with any of them is where the KPI series start.
FIRST_MONTH_SQL = """
select min(d) from (
    select min(referral_date) as d from cur_referrals
    union all select min(start_date) from cur_assessments
    union all select min(start_date) from cur_cp_plans
    union all select min(requested_date) from cur_transfers
    union all select min(audit_date) from cur_audits
    union all select min(supervision_date) from cur_supervisions
)
"""


@dataclass(frozen=True)
class Kpi:
    """A KPI as its `.sql` file declares it in its header comments."""

    name: str
    title: str
    action: str
    unit: str
    direction: str  # higher | lower
    target: float | None
    aggregate: str  # ratio | median | sum
    all_areas_only: bool
    description: str
    sql: str
    path: Path

    @property
    def higher_is_better(self) -> bool:
        return self.direction == "higher"

    @property
    def improvement(self) -> str:
        """The direction of improvement in `csc.spc.xmr` terms."""
        return "increase" if self.direction == "higher" else "decrease"

    @property
    def unit_suffix(self) -> str:
        return UNITS[self.unit]

    def format(self, value: float | None) -> str:
        if value is None or pd.isna(value):
            return "–"
        if self.unit == "pct":
            return f"{value:.1f}%"
        if self.unit == "count":
            return f"{value:,.0f}"
        return f"{value:.1f}{self.unit_suffix}"


_HEADER = re.compile(r"^--\s*([a-z_]+):\s*(.*)$")


def parse_kpi(path: Path) -> Kpi:
    meta: dict[str, str] = {}
    lines = path.read_text().splitlines()
    for line in lines:
        m = _HEADER.match(line.strip())
        if not m:
            if line.strip() and not line.strip().startswith("--"):
                break
            continue
        key, value = m.groups()
        meta[key] = (meta[key] + " " + value) if key == "description" and key in meta else value
    name = path.stem
    if meta.get("kpi", name) != name:
        raise ValueError(f"{path.name}: header says kpi {meta['kpi']}, file is {name}")
    missing = {"title", "action", "unit", "direction", "aggregate"} - meta.keys()
    if missing:
        raise ValueError(f"{path.name}: header lacks {sorted(missing)}")
    if meta["unit"] not in UNITS or meta["aggregate"] not in AGGREGATES or meta["direction"] not in ("higher", "lower"):
        raise ValueError(f"{path.name}: bad unit, aggregate or direction")
    target = meta.get("target", "none").strip()
    return Kpi(
        name=name,
        title=meta["title"],
        action=meta["action"],
        unit=meta["unit"],
        direction=meta["direction"],
        target=None if target in ("none", "") else float(target),
        aggregate=meta["aggregate"],
        all_areas_only=meta.get("areas", "each") == "all",
        description=meta.get("description", ""),
        sql=path.read_text(),
        path=path,
    )


@lru_cache(maxsize=1)
def _registry(mtimes: tuple) -> dict[str, Kpi]:
    return {p.stem: parse_kpi(p) for p in sorted(KPI_DIR.glob("*.sql"))}


def registry() -> dict[str, Kpi]:
    """Every KPI, by name, in file-name order."""
    return _registry(tuple((p.name, p.stat().st_mtime_ns) for p in sorted(KPI_DIR.glob("*.sql"))))


def get(name: str) -> Kpi:
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(f"Unknown KPI {name!r}; known: {', '.join(registry())}") from None


# --- running -----------------------------------------------------------------------------


def series_floor(earliest_period: str) -> str:
    """The earliest month a KPI series may start: $CSC_SERIES_START when set, else 12 months
    before the first loaded period. Extracts carry history (a year of referrals for the
    re-referral look-back, long-open plans) that feeds look-backs but would make incomplete
    months of its own; a bulk load of years of history sets CSC_SERIES_START."""
    start = os.environ.get("CSC_SERIES_START")
    if start:
        return start
    y, m = int(earliest_period[:4]), int(earliest_period[5:7])
    return f"{y - 1:04d}-{m:02d}"


def spine(first_day, earliest_period: str | None, last_period: str | None) -> tuple[str, str] | None:
    """The months the KPI series cover: from the first month with any activity (`FIRST_MONTH_SQL`)
    but not before `series_floor`, to the latest loaded period; None when there is nothing. With no
    case records (e.g. only a workforce census loaded), the loaded months themselves."""
    if last_period is None:
        return None
    start = f"{first_day:%Y-%m}" if first_day is not None else earliest_period
    return (min(max(start, series_floor(earliest_period)), last_period), last_period)


def prepare(cur: duckdb.DuckDBPyConnection, periods: tuple[str, str] | None = None) -> list[str]:
    """Create the calendar and the month spine (temp tables of this connection); return the months."""
    has_calendar = cur.execute(
        "select count(*) from information_schema.tables where table_name = 'calendar'"
    ).fetchall()[0][0]
    if not has_calendar:
        cur.register("calendar_in", workdays.calendar_table())
        cur.execute("create table calendar as select * from calendar_in")
        cur.unregister("calendar_in")
    if periods is None:
        first = cur.execute(FIRST_MONTH_SQL).fetchall()[0][0]
        earliest, last = cur.execute(
            "select min(period), max(period) from imports where status = 'loaded'"
        ).fetchall()[0]
        periods = spine(first, earliest, last)
    cur.execute("create or replace temp table kpi_months (period varchar, m0 date, m1 date)")
    if periods is None:
        return []
    cur.execute(
        """
        insert into kpi_months
        select strftime(m, '%Y-%m'), m::date, (m + interval 1 month - interval 1 day)::date
        from range(strptime($first, '%Y-%m'), strptime($last, '%Y-%m') + interval 1 day, interval 1 month) as t(m)
        """,
        {"first": periods[0], "last": periods[1]},
    )
    return [r[0] for r in cur.execute("select period from kpi_months order by period").fetchall()]


def _aggregate_sql(kpi: Kpi, records: str = "records", teams: bool = False) -> str:
    if kpi.aggregate == "median":
        num, den = "null::double", "count(*)::double"
        value = "median(numerator)"
    elif kpi.aggregate == "sum":
        num, den = "sum(numerator)", "null::double"
        value = "sum(numerator)"
    else:
        scale = "100.0 * " if kpi.unit == "pct" else ""
        num, den = "sum(numerator)", "sum(denominator)"
        value = f"case when sum(denominator) > 0 then {scale}sum(numerator) / sum(denominator) end"
    sets = "(period)" if kpi.all_areas_only else "(period, area), (period)"
    # grouping(area) is only allowed when area is a grouping column
    area = "null::varchar" if kpi.all_areas_only else "case when grouping(area) = 1 then null else area end"
    team = ""
    if teams:
        # one row per (area office, team) as well, named as `breakdowns.team_figures` names them
        sets = "(period)" if kpi.all_areas_only else "(period, area, team), (period, area), (period)"
        team = (", null::varchar as team" if kpi.all_areas_only else
                ", case when grouping(team) = 1 then null else coalesce(team, '(no team)') end as team")
        if not kpi.all_areas_only:
            area = ("case when grouping(area) = 1 then null when grouping(team) = 0 "
                    "then coalesce(area, '(no area)') else area end")
    return f"""
        select '{kpi.name}' as kpi, period,
               {area} as area,
               {num} as numerator, {den} as denominator, {value} as value{team}
        from {records}
        group by grouping sets ({sets})
    """


def compute(cur: duckdb.DuckDBPyConnection, kpi: Kpi) -> pd.DataFrame:
    """One KPI for every month of `kpi_months`, all areas and each area (after `prepare`)."""
    sql = f"with records as ({_strip(kpi.sql)}) {_aggregate_sql(kpi)} "
    df = cur.execute(f"select * from ({sql}) where value is not null order by period, area nulls first").df()
    return df


def _strip(sql: str) -> str:
    return sql.strip().rstrip(";")


def materialise(cur: duckdb.DuckDBPyConnection) -> None:
    """Recompute every KPI into `kpi_results` (called inside each import's transaction)."""
    months = prepare(cur)
    cur.execute(
        "create or replace table kpi_results (kpi varchar, period varchar, area varchar, "
        "numerator double, denominator double, value double, hidden boolean default false)"
    )
    cur.execute(
        "create or replace table kpi_team_results (kpi varchar, period varchar, area varchar, team varchar, "
        "numerator double, denominator double, value double, hidden boolean default false)"
    )
    if not months:
        return
    for kpi in registry().values():
        sql = f"with records as ({_strip(kpi.sql)}) {_aggregate_sql(kpi, teams=True)}"
        cur.execute(f"create or replace temp table kpi_rows as select * from ({sql}) where value is not null")
        cur.execute("insert into kpi_results select kpi, period, area, numerator, denominator, value, false "
                    "from kpi_rows where team is null")
        cur.execute("insert into kpi_team_results select kpi, period, area, team, numerator, denominator, value, "
                    "false from kpi_rows where team is not null")
    cur.execute("drop table if exists kpi_rows")
    # A count with nothing to count is 0, not a gap (e.g. no transfers waiting in an area).
    for kpi in registry().values():
        if kpi.unit == "count":
            cur.execute("insert into kpi_results (kpi, period, area, numerator, denominator, value) "
                        f"{zero_counts_sql(kpi)}")
    suppression.board_suppression(cur)


def zero_counts_sql(kpi: Kpi) -> str:
    """The rows of 0 a count KPI lacks in `kpi_results`: each month and area (and all areas) with
    nothing to count. The SQL runs on DuckDB and, translated, on Spark (`csc.spark`)."""
    name = kpi.name.replace("'", "''")
    return f"""
        with areas as (
            select distinct area from kpi_results where area is not null
            union all select null
        ),
        present as (select period, area from kpi_results where kpi = '{name}')
        select '{name}' as kpi, m.period, a.area, 0::double as numerator, null::double as denominator,
               0::double as value
        from kpi_months as m
        cross join areas as a
        anti join present as p on p.period = m.period and p.area is not distinct from a.area
    """


def rate_kpis() -> list[str]:
    """The KPIs that are not plain counts (ratios and medians): the board sees their value only,
    never the numerator or denominator behind it (18 of 20 would disclose the 2 not counted, and a
    rate times its denominator gives the numerator back)."""
    return sorted(name for name, k in registry().items() if k.aggregate != "sum")


def _board_columns() -> str:
    """numerator, denominator, value as the board may see them (`$rates`: `rate_kpis`)."""
    nd = ", ".join(f"case when hidden or list_contains($rates, kpi) then null else {c} end as {c}"
                   for c in ("numerator", "denominator"))
    return f"{nd}, case when hidden then null else value end as value"


def filters(conditions: dict[str, tuple[str, object]]) -> tuple[str, dict]:
    """A `where` clause and its parameters from {parameter: (condition using $parameter, value)}:
    a condition whose value is None is left out (every row passes)."""
    used = {name: (sql, value) for name, (sql, value) in conditions.items() if value is not None}
    return " and ".join(["true", *(sql for sql, _ in used.values())]), {n: v for n, (_, v) in used.items()}


def results(
    cur: duckdb.DuckDBPyConnection,
    kpi: str | None = None,
    period: str | None = None,
    area: str | None = None,
    areas: list[str] | None = None,
    period_from: str | None = None,
    period_to: str | None = None,
    board: bool = False,
) -> pd.DataFrame:
    """Stored KPI results, filtered. `area="all"` or None with `areas=None` gives every row.

    `board=True`: what a board member may see, with a `suppressed` column; numerator,
    denominator and value are missing where the figure is hidden (`suppression.board_suppression`), and the
    numerator and denominator of every KPI that is not a plain count always (`rate_kpis`)."""
    where, params = filters({
        "kpi": ("kpi = $kpi", kpi or None),
        "period": ("period = $period", period or None),
        "pfrom": ("period >= $pfrom", period_from or None),
        "pto": ("period <= $pto", period_to or None),
        "area": ("area = $area", area),
        "areas": ("(area is null or list_contains($areas, area))", None if areas is None else list(areas)),
    })
    if board:
        params["rates"] = rate_kpis()
        cols = f"kpi, period, area, {_board_columns()}, hidden as suppressed"
    else:
        cols = "kpi, period, area, numerator, denominator, value"
    return cur.execute(
        f"select {cols} from kpi_results where {where} order by kpi, period, area nulls first",
        params,
    ).df()


def team_results(cur: duckdb.DuckDBPyConnection, kpi: str | None = None, period: str | None = None,
                 areas: list[str] | None = None, board: bool = False) -> pd.DataFrame:
    """Stored KPI results by area office and team; with `board=True` as `results` gives them."""
    where, params = filters({
        "kpi": ("kpi = $kpi", kpi or None),
        "period": ("period = $period", period or None),
        "areas": ("list_contains($areas, area)", list(areas) if areas else None),
    })
    if board:
        params["rates"] = rate_kpis()
    cols = _board_columns() if board else "numerator, denominator, value"
    return cur.execute(
        f"select kpi, period, area, team, {cols}, hidden as suppressed from kpi_team_results "
        f"where {where} order by kpi, period, area, team",
        params,
    ).df().pipe(lambda df: df if board else df.assign(suppressed=False))


def records(cur: duckdb.DuckDBPyConnection, kpi: Kpi, period: str, area: str | None = None) -> pd.DataFrame:
    """The records behind one month's figure (for analysts): one row per record."""
    prepare(cur, (period, period))
    where = "area = $area" if area else "true"
    params = {"area": area} if area else {}
    df = cur.execute(
        f"with records as ({_strip(kpi.sql)}) select * from records where {where} "
        "order by numerator desc, record_id",
        params,
    ).df()
    prepare(cur)  # restore the full spine for this connection
    return df


def areas(cur: duckdb.DuckDBPyConnection) -> list[str]:
    rows = cur.execute("select distinct area from kpi_results where area is not null order by area").fetchall()
    return [r[0] for r in rows]

"""The KPI registry, read from `queries/kpis/*.sql`, and the runner.

A KPI is one self-describing file: its header (`-- key: value` lines, read by `read_query`, the
one header reader, which `csc.quality` uses for checks too) says everything the app needs to
know about it (`Kpi`; docs/contributing.md lists the keys), and its SQL may read the shared
building blocks of `queries/staging/`, included as CTEs (`with_staging`). Each KPI file returns the records behind the KPI, one row per record per month, with the
columns of `RECORD_COLUMNS`: `numerator` and `denominator` are that record's contribution
(1/0 for counts, fte for workforce rates; for a median KPI the numerator is the record's value).
The runner aggregates them per month and area office and for all areas together, so the same
SQL gives the figure and the records behind it (drill-down).

The SQL may read the `cur_<sheet>` tables (current version of each record), `imports`,
`calendar` (day, wd_index: wd(a, b) = idx(b) - idx(a)), `kpi_months` (period, m0, m1) and the
`stg_*` staging models. Numerators and denominators are aggregated by one rule, `measures_sql`,
for the stored results, a multi-area selection (`csc.report`) and the teams (`csc.breakdowns`).
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from csc import config, privacy, spec, suppression, workdays
from csc.months import add_months
from csc.spc.periods import apart
from csc.schema import has_table, sql_str

RECORD_COLUMNS = ("period", "area", "team", "record_id", "child_id", "worker_id", "numerator", "denominator")
RESULT_COLUMNS = ("kpi", "period", "area", "numerator", "denominator", "value")
UNITS = {"pct": "%", "days": " days", "count": "", "per_fte": " per FTE"}
AGGREGATES = {"ratio", "median", "sum"}
#: What a ratio's denominator counts: cases (a binomial proportion: funnel plots and small-base
#: warnings apply), fte (full-time equivalents: neither applies); none for a count.
DENOMINATORS = ("cases", "fte", "none")
#: The pages that show KPIs in sections of their own (every KPI is also on its action's page
#: and the overview, through the action plan).
PAGES = ("practice", "workforce")


def queries_dir() -> Path:
    """The queries folder: $CSC_QUERIES when set (a council's own KPIs and checks), else `queries/`."""
    return config.queries()


def kpi_dir() -> Path:
    return queries_dir() / "kpis"


def __getattr__(name: str):
    # `kpis.KPI_DIR` follows $CSC_QUERIES (read when asked, not when imported)
    if name == "KPI_DIR":
        return kpi_dir()
    if name == "FIRST_MONTH_SQL":
        return app_sql("first_month")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def app_sql(name: str) -> str:
    """One of the app's own queries, `queries/app/<name>.sql` (staging models included)."""
    return with_staging((queries_dir() / "app" / f"{name}.sql").read_text())


# --- one .sql file: header and text ------------------------------------------------------------

_HEADER = re.compile(r"^--\s*([a-z_]+):\s*(.*)$")
_STAGING_REF = re.compile(r"\bstg_[a-z0-9_]+\b")


@dataclass(frozen=True)
class Query:
    """One `.sql` file of the queries folder, as datasette's StoredQuery: its name (the file's
    stem), its header (the `-- key: value` comment lines before the SQL; a key given on several
    lines is one value, the lines joined with spaces) and its text."""

    name: str
    path: Path
    header: dict[str, str]
    text: str

    def require(self, *keys: str) -> None:
        missing = sorted(set(keys) - self.header.keys())
        if missing:
            raise ValueError(f"{self.path.name}: header lacks {missing}")

    def get(self, key: str, default: str = "") -> str:
        return self.header.get(key, default).strip()

    def choice(self, key: str, allowed, default: str | None = None) -> str:
        value = self.get(key, default or "")
        if value not in allowed:
            raise ValueError(f"{self.path.name}: {key} must be one of {tuple(allowed)}, not {value!r}")
        return value

    @property
    def body(self) -> str:
        """The SQL with the staging models it reads included (`with_staging`), no trailing `;`."""
        return with_staging(self.text)


def read_query(path: Path, kind: str | None = None) -> Query:
    """Read a `.sql` file's header and text; with `kind` ("kpi", "check"), a header line
    `-- <kind>: <name>` must name the file."""
    text = path.read_text()
    header: dict[str, str] = {}
    for line in text.splitlines():
        stripped = line.strip()
        m = _HEADER.match(stripped)
        if not m:
            if stripped and not stripped.startswith("--"):
                break
            continue
        key, value = m.groups()
        header[key] = f"{header[key]} {value}" if key in header else value
    if kind and header.get(kind, path.stem) != path.stem:
        raise ValueError(f"{path.name}: header says {kind} {header[kind]}, file is {path.stem}")
    return Query(path.stem, path, header, text)


def _strip(sql: str) -> str:
    return sql.strip().rstrip(";")


def staging() -> dict[str, Query]:
    """The shared building blocks, `queries/staging/stg_*.sql`, by name."""
    return {p.stem: read_query(p) for p in sorted((queries_dir() / "staging").glob("stg_*.sql"))}


def with_staging(sql: str, models: dict[str, Query] | None = None) -> str:
    """`sql` with every staging model it reads (`stg_<name>`, and those they read) put before
    it as common table expressions, dependencies first: one self-contained statement that runs
    as it is on DuckDB and, translated, on Spark. A query reading no staging model is unchanged."""
    models = staging() if models is None else models
    order: list[str] = []

    def visit(name: str, seen: tuple) -> None:
        if name in order:
            return
        if name in seen:
            raise ValueError(f"staging models read each other in a circle: {' -> '.join((*seen, name))}")
        for dep in _refs(models[name].text, models, name):
            visit(dep, (*seen, name))
        order.append(name)

    for name in _refs(sql, models):
        visit(name, ())
    body = _strip(sql)
    if not order:
        return body
    ctes = ",\n\n".join(f"{name} as (\n{_strip(_code(models[name].text))}\n)" for name in order)
    code = _code(body)
    head = re.match(r"with\b", code, re.IGNORECASE)
    rest = f",\n\n{code[head.end():].lstrip()}" if head else f"\n\n{code}"
    return f"with\n\n{ctes}{rest}"


def _code(sql: str) -> str:
    """The SQL without its leading comment lines (the header)."""
    lines = sql.strip().splitlines()
    while lines and (not lines[0].strip() or lines[0].strip().startswith("--")):
        lines.pop(0)
    return "\n".join(lines)


def _refs(sql: str, models: dict[str, Query], own: str | None = None) -> list[str]:
    return sorted({m for m in _STAGING_REF.findall(without_comments(sql)) if m in models and m != own})


def without_comments(sql: str) -> str:
    """The SQL without its `--` comments."""
    return "\n".join(line.split("--", 1)[0] for line in sql.splitlines())


_BLOCK = re.compile(r"^\s*[a-z_][a-z0-9_]*\s+as\s+\(", re.M)  # a common table expression starts


def sql_blocks(sql: str) -> list[str]:
    """A KPI's SQL (`Kpi.sql`, staging models included), lower-cased and without comments, cut
    where each common table expression starts (the text before the first is a block of its own):
    the pieces in which to look for the columns a KPI reads of a table it names. Joined, they are
    the whole SQL again."""
    code = without_comments(sql.lower())
    starts = [m.start() for m in _BLOCK.finditer(code)]
    return [code[a:b] for a, b in zip([0, *starts], [*starts, len(code)])]


# --- the KPI registry --------------------------------------------------------------------------


@dataclass(frozen=True)
class Kpi:
    """A KPI as its `.sql` file declares it in its header comments (docs/contributing.md)."""

    name: str
    title: str
    action: str
    unit: str
    direction: str  # higher | lower
    target: float | None
    aggregate: str  # ratio | median | sum
    all_areas_only: bool
    description: str
    sql: str  # the records' SQL, staging models included (`with_staging`)
    path: Path
    short_title: str = ""  # for narrow places (metric labels, table columns); the title when blank
    label: str = ""  # one word for a table column's header; the short title when blank
    denominator: str = "cases"  # cases | fte | none (`DENOMINATORS`)
    suppressible: bool = True  # small numbers hidden from the board (False: counts no people)
    # the one-level table whose counts, shown to the board, are its denominators (re-referrals:
    # `referrals_by_area`), or "": then its complement is a count of people too, hidden when small
    # (`csc.privacy.primary`), its cells whose count is hidden are hidden, and it has no team figure
    denominator_shown: str = ""
    page: str = ""  # a topic page that shows it in a section (`PAGES`), or none
    section: str = ""  # that page's section
    order: int = 0  # its place in the section
    empty: str = ""  # what to say when it has no figure in the months chosen
    # the sheet whose key its records' record_id is: the records behind a figure show that
    # record's other columns (its dates, type, ...) beside them (`records`)
    record_sheet: str = ""
    record_days: tuple[str, str] | None = None  # two dates of that sheet: the working days between them, shown too

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

    @property
    def reads_inferred(self) -> bool:
        """Whether its records include the changes of worker inferred from Annex A lists
        (read from its SQL, not declared)."""
        return "inferred_involvements" in self.sql

    @property
    def is_count_proportion(self) -> bool:
        """A percentage of cases (a binomial proportion), so funnel plots and small-base warnings
        apply; rates of FTE (turnover, agency, vacancy) are not counts of cases."""
        return self.unit == "pct" and self.aggregate == "ratio" and self.denominator == "cases"

    @property
    def empty_message(self) -> str:
        return self.empty or f"No figures for “{self.title}” in these months."

    def format(self, value: float | None, places: int = 1) -> str:
        if value is None or pd.isna(value):
            return "–"
        if self.unit == "pct":
            return f"{value:.{places}f}%"
        if self.unit == "count":
            return f"{value:,.{max(places - 1, 0)}f}"
        return f"{value:.{places}f}{self.unit_suffix}"

    def format_against(self, value: float | None, target: float | None) -> str:
        """`format(value)`, with as many more decimal places as it takes (up to 4) not to read as the
        target it differs from (`spc.apart`)."""
        return apart(value, target, self.format)


def parse_kpi(path: Path, models: dict[str, Query] | None = None) -> Kpi:
    q = read_query(path, "kpi")
    q.require("title", "action", "unit", "direction", "aggregate")
    unit = q.choice("unit", UNITS)
    aggregate = q.choice("aggregate", AGGREGATES)
    target = q.get("target", "none")
    default_den = "none" if aggregate == "sum" else "cases"
    page = q.get("page", "none")
    if page not in (*PAGES, "none"):
        raise ValueError(f"{path.name}: page must be one of {PAGES} or none, not {page!r}")
    suppressible = q.choice("suppress", ("yes", "no"), "yes" if privacy.counts_people(unit, aggregate) else "no") == "yes"
    denominator_shown = q.choice("denominator_shown", ("none", *suppression.COUNT_TABLES), "none")
    denominator_shown = "" if denominator_shown == "none" else denominator_shown
    if denominator_shown and not (aggregate == "ratio" and suppressible):
        raise ValueError(f"{path.name}: denominator_shown is for a ratio whose small numbers are suppressed "
                         "(aggregate: ratio, suppress: yes)")
    return Kpi(
        name=q.name,
        title=q.get("title"),
        action=q.get("action"),
        unit=unit,
        direction=q.choice("direction", ("higher", "lower")),
        target=None if target in ("none", "") else float(target),
        aggregate=aggregate,
        all_areas_only=q.get("areas", "each") == "all",
        description=q.get("description"),
        sql=with_staging(q.text, models),
        path=path,
        short_title=q.get("short_title") or q.get("title"),
        label=q.get("label") or q.get("short_title") or q.get("title"),
        denominator=q.choice("denominator", DENOMINATORS, default_den),
        suppressible=suppressible,
        denominator_shown=denominator_shown,
        page="" if page == "none" else page,
        section=q.get("section"),
        order=int(q.get("order", "0") or 0),
        empty=q.get("empty"),
        **_record_details(path, q.get("records"), q.get("record_days")),
    )


def _record_details(path: Path, sheet_name: str, days: str) -> dict:
    """The `records` and `record_days` header keys, checked against the contract (`csc.spec`)."""
    if not sheet_name:
        if days:
            raise ValueError(f"{path.name}: record_days needs records (the sheet whose key record_id is)")
        return {}
    sheet = spec.SHEETS.get(sheet_name)
    if sheet is None or len(sheet.key) != 1 or sheet.key_includes_period:
        raise ValueError(f"{path.name}: records must name a sheet with a one-column key, not {sheet_name!r}")
    if not days:
        return {"record_sheet": sheet_name}
    pair = tuple(d.strip() for d in days.split(","))
    dates = {c.name for c in sheet.columns if c.type == "date"}
    if len(pair) != 2 or not set(pair) <= dates:
        raise ValueError(f"{path.name}: record_days must name two date columns of {sheet_name}: {sorted(dates)}")
    return {"record_sheet": sheet_name, "record_days": pair}


@lru_cache(maxsize=1)
def _registry(folder: Path, mtimes: tuple) -> dict[str, Kpi]:
    models = staging()
    return {p.stem: parse_kpi(p, models) for p in sorted((folder / "kpis").glob("*.sql"))}


def _mtimes(folder: Path) -> tuple:
    return tuple((str(p.relative_to(folder)), p.stat().st_mtime_ns)
                 for sub in ("kpis", "staging") for p in sorted((folder / sub).glob("*.sql")))


#: What the KPI files are read against in the dashboard (`csc.ui.begin_run` sets it: a function
#: giving the run's data version, None outside a run): the files are looked at again only when
#: it changes. A KPI's definition and its stored values move together, at an import, a rollback
#: or a `csc refresh` (each moves the data version), and a running server sees a new or edited file
#: then, not in the middle of a page. Outside the dashboard every call looks at the files' times.
files_key: Callable[[], object | None] | None = None
_by_key: tuple | None = None
_writing = threading.local()  # `files_as_they_are` blocks open on this thread


@contextmanager
def files_as_they_are() -> Iterator[None]:
    """Inside the block (every write transaction: `csc.store.Store.transaction`), `registry` looks
    at the files whatever `files_key` says: an import or rollback made in a page run computes with
    the definitions on disk, whose stored values then go with the data version it makes, not with
    the definitions read earlier in the run."""
    _writing.depth = getattr(_writing, "depth", 0) + 1
    try:
        yield
    finally:
        _writing.depth -= 1


def per_files_key(memo: tuple | None, folder: Path, read: Callable[[], Any]) -> tuple[Any, tuple | None]:
    """(`read()`'s answer, or `memo`'s when it was read from `folder` under the same `files_key`;
    the memo to keep): definition files looked at once per data version in the dashboard, and at
    every call outside it or inside a write (`files_as_they_are`)."""
    key = files_key() if files_key is not None and not getattr(_writing, "depth", 0) else None
    if key is None:
        return read(), memo
    if memo is not None and memo[0] == (folder, key):
        return memo[1], memo
    found = read()
    return found, ((folder, key), found)


def registry() -> dict[str, Kpi]:
    """Every KPI, by name, in file-name order (the files' changes are seen at once; in the
    dashboard, when the data version next moves: `files_key`; in a write, at once)."""
    global _by_key
    folder = queries_dir()
    found, _by_key = per_files_key(_by_key, folder, lambda: _registry(folder, _mtimes(folder)))
    return found


def get(name: str) -> Kpi:
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(f"Unknown KPI {name!r}; known: {', '.join(registry())}") from None


def on_page(page: str) -> dict[str, list[Kpi]]:
    """The KPIs a topic page shows, by section (sections in the order of their first KPI),
    each section's in their `order`, then by name."""
    out: dict[str, list[Kpi]] = {}
    for kpi in sorted((k for k in registry().values() if k.page == page), key=lambda k: (k.order, k.name)):
        out.setdefault(kpi.section, []).append(kpi)
    return out


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
    """The months the KPI series cover: from the first month with any activity (`first_month.sql`)
    but not before `series_floor`, to the latest loaded period; None when there is nothing. With no
    case records (e.g. only a workforce census loaded), the loaded months themselves."""
    if last_period is None:
        return None
    start = f"{first_day:%Y-%m}" if first_day is not None else earliest_period
    return (min(max(start, series_floor(earliest_period)), last_period), last_period)


def prepare(cur: duckdb.DuckDBPyConnection, periods: tuple[str, str] | None = None) -> list[str]:
    """Create the calendar and the month spine (temp tables of this connection); return the months."""
    if not has_table(cur, "calendar"):
        cur.register("calendar_in", workdays.calendar_table())
        cur.execute("create table calendar as select * from calendar_in")
        cur.unregister("calendar_in")
    if periods is None:
        first = cur.execute(app_sql("first_month")).fetchall()[0][0]
        earliest, last = cur.execute(
            "select min(period), max(period) from imports where status = 'loaded'"
        ).fetchall()[0]
        periods = spine(first, earliest, last)
    cur.execute("create or replace temp table kpi_months (period varchar, m0 date, m1 date)")
    if periods is None:
        return []
    cur.execute(f"insert into kpi_months {app_sql('kpi_months')}", {"first": periods[0], "last": periods[1]})
    return [r[0] for r in cur.execute("select period from kpi_months order by period").fetchall()]


def measures_sql(kpi: Kpi) -> str:
    """The aggregation rule, the only one: a KPI's numerator, denominator and value as SQL
    aggregates over rows with `numerator` and `denominator` (its records, or stored cells of a
    ratio or a count, which add up). A ratio adds numerators and denominators, then divides (×100
    for a percentage; no value when the denominator is 0); a median takes the median of the
    records' values, with their count as the denominator; a sum adds the numerators."""
    num, den, value = _measures(kpi)
    return f"{num} as numerator, {den} as denominator, {value} as value"


def _measures(kpi: Kpi) -> tuple[str, str, str]:
    """`measures_sql`'s three aggregates: numerator, denominator, value."""
    if kpi.aggregate == "median":
        return "null::double", "count(*)::double", "median(numerator)"
    if kpi.aggregate == "sum":
        return "sum(numerator)", "null::double", "sum(numerator)"
    scale = "100.0 * " if kpi.unit == "pct" else ""
    return "sum(numerator)", "sum(denominator)", f"case when sum(denominator) > 0 then {scale}sum(numerator) / sum(denominator) end"


# a team's row, and the area office of a team row: records with no team are the team "(no team)"
# (`breakdowns.NO_TEAM`), a team row's records with no area office the office "(no area)"
# (`_aggregate_sql(teams=True)`, `_pooled_sql`)
_TEAM = "case when grouping(team) = 1 then null else coalesce(team, '(no team)') end"
_TEAMS_AREA = "case when grouping(area) = 1 then null when grouping(team) = 0 then coalesce(area, '(no area)') else area end"


def _aggregate_sql(kpi: Kpi, records: str = "records", teams: bool = False) -> str:
    sets = "(period)" if kpi.all_areas_only else "(period, area), (period)"
    # grouping(area) is only allowed when area is a grouping column
    area = "null::varchar" if kpi.all_areas_only else "case when grouping(area) = 1 then null else area end"
    team = ""
    if teams:
        # one row per (area office, team) as well (`_TEAM`, `_TEAMS_AREA`), read by `breakdowns.team_table`
        sets = "(period)" if kpi.all_areas_only else "(period, area, team), (period, area), (period)"
        team = ", null::varchar as team" if kpi.all_areas_only else f", {_TEAM} as team"
        if not kpi.all_areas_only:
            area = _TEAMS_AREA
    return f"""
        select '{kpi.name}' as kpi, period,
               {area} as area,
               {measures_sql(kpi)}{team}
        from {records}
        group by grouping sets ({sets})
    """


def _pooled_sql(chosen: list[Kpi]) -> str:
    """What `_aggregate_sql(kpi, teams=True)` gives for each of `chosen` (none a median), from one
    aggregation over all their records: each KPI's aggregates (`measures_sql`) picked by its name
    from the aggregates of the rule each kind of KPI follows. One set of groupings over the pooled
    records costs a month's recompute a fifth less than one a KPI (DuckDB plans and runs each
    grouping set apart); a median cannot be pooled (it would be taken of every group)."""
    records = " union all ".join(
        f"select '{k.name}' as kpi, period, "
        + ("null::varchar as area, null::varchar as team, " if k.all_areas_only else "area, team, ")
        + f"numerator::double as numerator, denominator::double as denominator from ({_strip(k.sql)})"
        for k in chosen)

    def pick(i: int) -> str:
        rules: dict[str, list[str]] = {}
        for k in chosen:
            rules.setdefault(_measures(k)[i], []).append(k.name)
        cases = " ".join(f"when list_contains({_names(names)}, kpi) then {rule}" for rule, names in rules.items())
        return f"case {cases} end"

    whole = [k.name for k in chosen if k.all_areas_only]
    return f"""
        select kpi, period, area, numerator, denominator, value, team from (
            select kpi, period, {_TEAMS_AREA} as area,
                   {pick(0)} as numerator, {pick(1)} as denominator, {pick(2)} as value,
                   {_TEAM} as team,
                   grouping(area) = 1 as all_areas,
            from ({records})
            group by grouping sets ((kpi, period, area, team), (kpi, period, area), (kpi, period))
        )
        where all_areas or not list_contains({_names(whole)}, kpi)
    """


def _names(names: list[str]) -> str:
    """A list of names as a SQL literal (varchar[])."""
    return "[" + ", ".join(sql_str(n) for n in names) + "]::varchar[]"


def aggregate(cur: duckdb.DuckDBPyConnection, kpi: Kpi, rows_sql: str, by: tuple[str, ...],
              params: dict | None = None) -> pd.DataFrame:
    """The rows `rows_sql` selects (with numerator and denominator) aggregated by the columns `by`
    as `measures_sql` says: those columns, numerator, denominator, value, ordered by `by`."""
    keys = ", ".join(by)
    return cur.execute(
        f"with cells as ({rows_sql}) select {keys}, {measures_sql(kpi)} from cells group by {keys} order by {keys}",
        params or {},
    ).df()


def compute(cur: duckdb.DuckDBPyConnection, kpi: Kpi) -> pd.DataFrame:
    """One KPI for every month of `kpi_months`, all areas and each area (after `prepare`)."""
    sql = f"with records as ({_strip(kpi.sql)}) {_aggregate_sql(kpi)} "
    df = cur.execute(f"select * from ({sql}) where value is not null order by period, area nulls first").df()
    return df


def materialise(cur: duckdb.DuckDBPyConnection, since: str | dict[str, str] | None = None,
                margins=None) -> str | None:
    """Recompute the KPIs into `kpi_results` and `kpi_team_results`, with the zero counts and the
    board's suppression (called inside each import's transaction). Returns the first month
    recomputed; None: every month. `margins(start)`: the decision of the board's one-level tables
    from month `start`, made just before the KPIs' own (`csc.breakdowns.record_board_margins`: a
    rate whose denominators they show is hidden where its count is).

    `since` ("YYYY-MM", or KPI -> "YYYY-MM": each KPI's own, `csc.incremental.update`): the
    caller's word that no record changed that can move a month before it (of that KPI), so the
    stored months before it are kept, provided they were made by the same definitions and code
    (`fingerprint`), on a spine starting in the same month, with the same area offices; else (and
    with `since` None) every month is recomputed. Every KPI is backward-looking (docs/kpis.md,
    "What an import recomputes"), and each (KPI, month) is decided on by the suppression alone, so
    the months kept are what a full recompute makes."""
    months = prepare(cur)
    if not months:  # nothing loaded (or all rolled back): no results
        _clear(cur, None)
        cur.execute("drop table if exists kpi_state")
        return None
    fp = fingerprint()  # reads the KPI files and the code: once a recompute
    state = _stored_state(cur) if since else None
    start, groups = _months_to_recompute(since, months, state, fp)
    _clear(cur, groups if start is not None else None)
    if None in groups:  # every KPI, the spine of `prepare`
        _insert_results(cur)
    else:
        # each group's months (`start`'s in kpi_months itself: the zero counts' months), and all
        # the groups' KPIs in one statement
        spines = {}
        for i, (month, names) in enumerate(sorted(groups.items())):
            table = "kpi_months" if month == start else f"_kpi_months_{i}"
            cur.execute(f"create or replace temp table {table} as select * from _kpi_spine where period >= $m "
                        "order by period", {"m": month})
            spines |= dict.fromkeys(names, table)
        _insert_results(cur, spines)
        for table in sorted(set(spines.values()) - {"kpi_months"}):
            cur.execute(f"drop table {table}")
    areas = [r[0] for r in cur.execute("select distinct area from kpi_results where area is not null "
                                       "order by area").fetchall()]
    if start is not None and areas != state[3]:
        # the zero counts of the months kept name every area office: a new or gone one changes them
        cur.execute("drop table _kpi_spine")
        return materialise(cur, margins=margins)
    # A count with nothing to count is 0, not a gap (e.g. no transfers waiting in an area).
    for kpi in registry().values():
        if kpi.unit == "count":
            cur.execute("insert into kpi_results (kpi, period, area, numerator, denominator, value) "
                        f"select * from ({zero_counts_sql(kpi)}) order by period, area nulls first")
    if margins is not None:
        margins(start)
    suppression.board_suppression(cur, registry(), since=start)
    if start is not None:  # the whole spine again, for this connection
        cur.execute("create or replace temp table kpi_months as select * from _kpi_spine order by period; "
                    "drop table _kpi_spine")
    cur.execute("create or replace table kpi_state as select $fp as fingerprint, $first as first_period, "
                "$last as last_period, $areas::varchar[] as areas",
                {"fp": fp, "first": months[0], "last": months[-1], "areas": areas})
    return start


def _months_to_recompute(since: str | dict[str, str] | None, months: list[str], state: tuple | None,
                         fp: str) -> tuple[str | None, dict[str | None, list[str] | None]]:
    """(the first month to recompute, None for every month; that month's groups: the first month
    of each group -> its KPIs), from what the caller says can move (`materialise`'s `since`) and
    what the stored results were made by and over (`_stored_state`). Stored results of other
    definitions or code, or of a spine starting in another month, are recomputed whole; else from
    the earliest month `since` names, and never after the first new month of the spine."""
    own = since if isinstance(since, dict) else {}
    first = min(own.values(), default=None) if isinstance(since, dict) else since
    if first is None or state is None or state[0] != fp or state[1] != months[0]:
        return None, {None: None}  # every KPI, the spine of `prepare`
    bound = min(add_months(state[2], 1), add_months(months[-1], 1))  # the new months; none past the last
    start = max(min(first, bound), months[0])
    if start == months[0]:
        return None, {None: None}
    groups: dict[str | None, list[str] | None] = {}  # the first month to recompute -> its KPIs
    for name in registry():
        groups.setdefault(max(min(own.get(name, first), bound), start), []).append(name)
    return start, groups


def _clear(cur: duckdb.DuckDBPyConnection, groups: dict[str | None, list[str] | None] | None) -> None:
    """Make way for the results to recompute: the tables made anew (`groups` None: every month), or
    each group's KPIs' rows from its first month on deleted, the spine kept aside (`_kpi_spine`)."""
    if groups is None:
        for table, team in (("kpi_results", ""), ("kpi_team_results", "team varchar, ")):
            cur.execute(f"create or replace table {table} (kpi varchar, period varchar, area varchar, {team}"
                        "numerator double, denominator double, value double, hidden boolean default false)")
        return
    for table in ("kpi_results", "kpi_team_results"):
        cur.execute(f"delete from {table} as r using (select unnest($kpis) as kpi, unnest($starts) as since) as g "
                    "where r.kpi = g.kpi and r.period >= g.since",
                    {"kpis": [n for names in groups.values() for n in names],
                     "starts": [m for m, names in groups.items() for _ in names]})
    cur.execute("create or replace temp table _kpi_spine as select * from kpi_months")


def _insert_results(cur: duckdb.DuckDBPyConnection, spines: dict[str, str] | None = None) -> None:
    """Every KPI for the months of `kpi_months` (or those of `spines`, each for the months of the
    table it names: a KPI's SQL reads its months from `kpi_months`, and reads that table in its
    place), appended to both results tables, from one statement (DuckDB runs the KPIs side by side;
    one statement a KPI cost a fifth more, one a group of KPIs recomputed from one month ~20 ms
    more), the records of all but the medians aggregated together (`_pooled_sql`); each (KPI,
    month)'s rows in one order (all areas, then each area office by name; teams by area and name)
    whatever the months around it, so the suppression decides them alike (`csc.suppression`)."""
    chosen = [k for k in registry().values() if spines is None or k.name in spines]
    nothing = _without_records(cur, chosen)
    chosen = [k if spines is None else _reading_months(k, spines[k.name]) for k in chosen if k.name not in nothing]
    if not chosen:
        return
    pooled = [k for k in chosen if k.aggregate != "median"]
    parts = [f"select * from (with records as ({_strip(k.sql)}) {_aggregate_sql(k, teams=True)})"
             for k in chosen if k.aggregate == "median"] + ([f"select * from ({_pooled_sql(pooled)})"] if pooled else [])
    cur.execute(f"create or replace temp table kpi_rows as select * from ({' union all '.join(parts)}) "
                "where value is not null")
    cur.execute("insert into kpi_results select kpi, period, area, numerator, denominator, value, false "
                "from kpi_rows where team is null order by kpi, period, area nulls first")
    cur.execute("insert into kpi_team_results select kpi, period, area, team, numerator, denominator, value, "
                "false from kpi_rows where team is not null order by kpi, period, area, team")
    cur.execute("drop table kpi_rows")


@lru_cache(maxsize=4)
def tables_read(sqls: tuple[tuple[str, str], ...]) -> dict[str, frozenset[str]]:
    """KPI -> the words of its SQL (without comments; "raw_" among them when it names a raw_
    table), from (name, SQL) pairs: the tables it reads are among them (`csc.incremental`'s first
    months, `_without_records`)."""
    out = {}
    for name, sql in sqls:
        words = set(re.findall(r"[a-z_][a-z0-9_]*", without_comments(sql.lower())))
        out[name] = frozenset(words | ({"raw_"} if any(w.startswith("raw_") for w in words) else set()))
    return out


def _reading_months(kpi: Kpi, table: str) -> Kpi:
    """`kpi` reading its months from `table` where its SQL names `kpi_months` (in any case, as
    DuckDB reads a name: a council's own KPI may spell it `KPI_MONTHS`; a spelling left would
    read the wider months of the first group, and its rows would be made twice)."""
    if table == "kpi_months":
        return kpi
    return replace(kpi, sql=re.sub(r"\bkpi_months\b", table, kpi.sql, flags=re.IGNORECASE))


#: The tables a KPI's records come from (`calendar` and the months, which it reads too, never
#: give a record on their own: `tests/unit/test_kpi_registry.py` holds every KPI to that).
RECORD_TABLES = (*(f"cur_{name}" for name in spec.SHEETS), "inferred_involvements", "referral_counts_current", "imports")


def _without_records(cur: duckdb.DuckDBPyConnection, chosen: list[Kpi]) -> set[str]:
    """The KPIs of `chosen` that can have no record now: every table of records they read is empty
    (sheets never loaded: an extract of assessments alone leaves fifteen KPIs with nothing to
    aggregate, and a statement with all nineteen plans them all). One reading a `raw_` table, or
    none of `RECORD_TABLES` (a council's own KPI of some other table), is never among them."""
    read = tables_read(tuple((k.name, k.sql) for k in chosen))
    own = {k.name: read[k.name] & set(RECORD_TABLES) for k in chosen if "raw_" not in read[k.name]}
    tables = sorted(set().union(*own.values()))
    if not tables:
        return set()
    full = {t for t, some in cur.execute(" union all ".join(
        f"select '{t}', exists (select 1 from {t})" for t in tables)).fetchall() if some}
    return {name for name, theirs in own.items() if theirs and not theirs & full}


def _stored_state(cur: duckdb.DuckDBPyConnection) -> tuple | None:
    """What the stored results were made by and over: (fingerprint, first month, last month, area
    offices); None when not recorded (a database from before, or no results)."""
    if not has_table(cur, "kpi_state"):
        return None
    rows = cur.execute("select fingerprint, first_period, last_period, areas from kpi_state").fetchall()
    return (*rows[0][:3], list(rows[0][3])) if len(rows) == 1 else None


def made_by_other_code(cur: duckdb.DuckDBPyConnection) -> bool:
    """Whether the stored results were made by other KPI definitions or code than these
    (`fingerprint`; results with no record of what made them count as other): then they, and the
    board's suppression stored with them, are to be made again."""
    if not has_table(cur, "kpi_results") or not cur.execute("select exists (select 1 from kpi_results)").fetchall()[0][0]:
        return False
    state = _stored_state(cur)
    return state is None or state[0] != fingerprint()


def fingerprint() -> str:
    """What the stored results depend on besides the records: each KPI's definition (its SQL with
    the staging models, and the header keys that change its figures), the spine's and the
    suppression's SQL, and the code that aggregates and suppresses (this module,
    `csc.suppression`, `csc.privacy`), with the board's one-level tables whose hidden cells each
    recompute records (`csc.breakdowns.record_board_margins` and its two queries). Results made by
    anything else are recomputed whole."""
    h = hashlib.sha256()
    for k in registry().values():
        h.update(repr((k.name, k.sql, k.aggregate, k.unit, k.all_areas_only, k.suppressible,
                       k.denominator_shown)).encode())
    for name in ("kpi_months", "first_month", "small_cell_trees", "hidden_ever_add", "referrals_by_month",
                 "assessment_timeliness_by_type"):
        h.update((queries_dir() / "app" / f"{name}.sql").read_bytes())
    # csc.breakdowns imports this module: its file is read, not imported
    for path in (Path(__file__), Path(suppression.__file__), Path(privacy.__file__), Path(__file__).with_name("breakdowns.py")):
        h.update(path.read_bytes())
    return h.hexdigest()


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
    numerator and denominator of every KPI that is not a plain count always (`rate_kpis`), whose
    value is rounded as shown (`privacy.shown`)."""
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
    df = cur.execute(
        f"select {cols} from kpi_results where {where} order by kpi, period, area nulls first",
        params,
    ).df()
    return privacy.round_rates(df, df["kpi"].isin(params["rates"])) if board else df


def team_results(cur: duckdb.DuckDBPyConnection, kpi: str | None = None, period: str | None = None,
                 areas: list[str] | None = None, board: bool = False) -> pd.DataFrame:
    """Stored KPI results by area office and team; with `board=True` as `results` gives them, but
    for no KPI whose denominators the board sees as counts (`denominator_shown`): it has no team
    figures at all (an office's count, public, would give a team's back from its rate)."""
    where, params = filters({
        "kpi": ("kpi = $kpi", kpi or None),
        "period": ("period = $period", period or None),
        "areas": ("list_contains($areas, area)", list(areas) if areas else None),
        "counted": ("not list_contains($counted::varchar[], kpi)",
                    [k.name for k in registry().values() if k.denominator_shown] if board else None),
    })
    if board:
        params["rates"] = rate_kpis()
    cols = _board_columns() if board else "numerator, denominator, value"
    df = cur.execute(
        f"select kpi, period, area, team, {cols}, hidden as suppressed from kpi_team_results "
        f"where {where} order by kpi, period, area, team",
        params,
    ).df()
    return privacy.round_rates(df, df["kpi"].isin(params["rates"])) if board else df.assign(suppressed=False)


#: Columns of a record's sheet not repeated beside the records behind a figure: there already (its area
#: office is the record's area), or the name the working days take
_NOT_DETAILS = {*RECORD_COLUMNS, "area_office", "working_days"}


def records(cur: duckdb.DuckDBPyConnection, kpi: Kpi, period: str, area: str | None = None) -> pd.DataFrame:
    """The records behind one month's figure (for analysts): one row per record, the columns of
    `RECORD_COLUMNS`, then, for a KPI whose header names its records' sheet (`records`), the
    working days between its `record_days` (`working_days`: what decides a timeliness figure,
    next to the figure's columns) and that record's other columns as currently loaded."""
    prepare(cur, (period, period))
    where = "area = $area" if area else "true"
    params = {"area": area} if area else {}
    details, joins = "", ""
    if kpi.record_sheet:
        sheet = spec.SHEETS[kpi.record_sheet]
        key = sheet.key[0]
        cols = [c for c in sheet.column_names if c != key and c not in _NOT_DETAILS]
        source = f"cur_{sheet.name}"
        if sheet.name == "involvements" and has_table(cur, "inferred_involvements"):
            # with no involvements sheet, the changes of worker inferred from Annex A lists (`INF-...`)
            picked = ", ".join((key, *cols))
            source = f"(select {picked} from cur_involvements union all select {picked} from inferred_involvements)"
        details = "".join(f", s.{c}" for c in cols)
        joins = f" left join {source} as s on s.{key} = r.record_id"
        if kpi.record_days:  # first of the details, beside the figure's own columns: what decides it
            start, end = kpi.record_days
            details = ", d1.wd_index - d0.wd_index as working_days" + details
            joins += (f" left join calendar as d0 on d0.day = s.{start}"
                      f" left join calendar as d1 on d1.day = s.{end}")
    df = cur.execute(
        f"with records as ({_strip(kpi.sql)}) select r.*{details} from records as r{joins} where {where} "
        "order by r.numerator desc, r.record_id",
        params,
    ).df()
    prepare(cur)  # restore the full spine for this connection
    return df


def areas(cur: duckdb.DuckDBPyConnection) -> list[str]:
    rows = cur.execute("select distinct area from kpi_results where area is not null order by area").fetchall()
    return [r[0] for r in rows]

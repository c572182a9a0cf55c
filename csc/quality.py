"""Data-quality checks: the registry, read from `queries/checks/*.sql`, and the runner.

Each check is one `.sql` file that returns the offending rows over the current version of
every record (`cur_<sheet>`, `imports`, `calendar`, and the `stg_*` staging models, included as
for KPIs), with a header read by `csc.kpis.read_query` (the one header reader):

    -- check: <the file's name>
    -- title: <what the rows are, as a noun phrase>
    -- severity: error | warning
    -- period: <what a row's period is, e.g. "the month the transfer was requested">
    -- description: <what it finds, why it matters, and what `period` means for it>

Every check returns at least the columns of `REQUIRED_COLUMNS`: `period` (YYYY-MM: the month
the row belongs to, so counts can be drawn over time), `area` (the area office, so the
sidebar's filter applies), `record_id` and `detail` (the problem in words). Checks that look
at "now" judge the records as at the last day of the latest loaded period.

`errors` are data that make a KPI wrong until fixed in the case system; `warnings` are records
worth a look (a missing date or work that has stalled).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb
import pandas as pd

from csc import kpis, spc

SEVERITIES = ("error", "warning")
REQUIRED_COLUMNS = ("period", "area", "record_id", "detail")


def check_dir() -> Path:
    return kpis.queries_dir() / "checks"


def __getattr__(name: str):
    # `quality.CHECK_DIR` follows $CSC_QUERIES (read when asked, not when imported)
    if name == "CHECK_DIR":
        return check_dir()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Check:
    name: str
    title: str
    severity: str
    description: str
    sql: str
    path: Path
    period: str = "the month the row belongs to"


def parse_check(path: Path) -> Check:
    q = kpis.read_query(path, "check")
    q.require("title", "severity", "description")
    severity = q.get("severity")
    if severity not in SEVERITIES:
        raise ValueError(f"{path.name}: severity must be one of {SEVERITIES}, not {severity!r}")
    return Check(q.name, q.get("title"), severity, q.get("description"), q.body, path,
                 q.get("period", Check.period))


@lru_cache(maxsize=1)
def _registry(folder: Path, mtimes: tuple) -> dict[str, Check]:
    return {p.stem: parse_check(p) for p in sorted(folder.glob("*.sql"))}


def registry() -> dict[str, Check]:
    """Every check, by name: errors first, then warnings, each in file-name order. The files are
    looked at as the KPIs' are (`kpis.per_files_key`): in the dashboard once per data version, not
    on every view; elsewhere at every call."""
    global _by_key
    folder = check_dir()
    found, _by_key = kpis.per_files_key(_by_key, folder, lambda: _read_registry(folder))
    return found


_by_key: tuple | None = None


def _read_registry(folder: Path) -> dict[str, Check]:
    checks = _registry(folder, tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.sql"))))
    return dict(sorted(checks.items(), key=lambda kv: (SEVERITIES.index(kv[1].severity), kv[0])))


def get(name: str) -> Check:
    try:
        return registry()[name]
    except KeyError:
        raise KeyError(f"Unknown check {name!r}; known: {', '.join(registry())}") from None


def _sql(check: Check) -> str:
    return check.sql.strip().rstrip(";")


def _filters(areas, period_from, period_to) -> tuple[str, dict]:
    return kpis.filters({
        "areas": ("list_contains($areas, area)", list(areas) if areas else None),
        "pfrom": ("period >= $pfrom", period_from or None),
        "pto": ("period <= $pto", period_to or None),
    })


def rows(cur: duckdb.DuckDBPyConnection, check: Check, areas=None, period_from=None, period_to=None) -> pd.DataFrame:
    """The offending rows of one check (record-level: analysts only), newest period first."""
    where, params = _filters(areas, period_from, period_to)
    return cur.execute(
        f"with offending as ({_sql(check)}) select * from offending where {where} "
        "order by period desc, area, record_id",
        params,
    ).df()


def counts(cur: duckdb.DuckDBPyConnection, areas=None, period_from=None, period_to=None) -> pd.DataFrame:
    """How many rows each check finds, per period: columns check, period, count (periods with
    none are absent; see `fill_months`)."""
    where, params = _filters(areas, period_from, period_to)
    frames = []
    for check in registry().values():
        df = cur.execute(
            f"with offending as ({_sql(check)}) select period, count(*)::bigint as count from offending "
            f"where {where} group by period order by period",
            params,
        ).df()
        frames.append(df.assign(check=check.name))
    if not frames:
        return pd.DataFrame(columns=["check", "period", "count"])
    out = pd.concat(frames, ignore_index=True)
    return out[["check", "period", "count"]]


def fill_months(counts_df: pd.DataFrame, check: str, months: list[str]) -> pd.DataFrame:
    """One check's counts for every month in ``months`` (0 where none): period, count."""
    got = counts_df[counts_df["check"] == check].set_index("period")["count"]
    return pd.DataFrame({"period": months, "count": [int(got.get(m, 0)) for m in months]})


def finding(check: Check, over_time: pd.DataFrame) -> str:
    """A chart title that states what the counts over the months show."""
    total = int(over_time["count"].sum())
    if not total:
        return f"{check.title}: none in these months"
    peak = over_time.loc[over_time["count"].idxmax()]
    label = spc.period_label(peak["period"])
    if int(peak["count"]) == total:
        return f"{check.title}: {total:,}, all from {label} ({check.period})"
    top = int(peak["count"])
    if top * 2 > total:
        return f"{check.title}: {total:,} in these months, most ({top:,}) from {label} ({check.period})"
    # not most of them: the busiest month (or months) and its count ("most (16)" of 224 was not: a review)
    busiest = [spc.period_label(p) for p in over_time.loc[over_time["count"] == top, "period"]]
    months = busiest[0] if len(busiest) == 1 else (f"{busiest[0]} and {busiest[1]}" if len(busiest) == 2
                                                   else f"{busiest[0]} and {len(busiest) - 1} other months")
    return f"{check.title}: {total:,} in these months; the most in one month was {top:,}, in {months} ({check.period})"


def summary(counts_df: pd.DataFrame, months: list[str]) -> pd.DataFrame:
    """One row per check: name, title, severity, description, total (every period), in_range
    (the months given), latest (the last of them), trend (counts per month, for a sparkline)."""
    out = []
    for check in registry().values():
        mine = counts_df[counts_df["check"] == check.name]
        trend = fill_months(counts_df, check.name, months)["count"].tolist() if months else []
        out.append({
            "check": check.name,
            "title": check.title,
            "severity": check.severity,
            "description": check.description,
            "total": int(mine["count"].sum()),
            "in_range": int(mine[mine["period"].isin(months)]["count"].sum()),
            "latest": trend[-1] if trend else 0,
            "trend": trend,
        })
    return pd.DataFrame(out)

"""Revisions: every KPI value knows the import that last changed it, and keeps what it was.

`kpi_history` holds one row each time a KPI value (kpi, period, area) first appears or changes:
written by `record`, inside the same transaction as the import or rollback that changed it, right
after `kpi_results` is recomputed. Only changes are stored, so it stays small (a figure that
disappears gets a row with no value).

A figure is *revised* when its current value differs from the value it had when first shown
(its first row): a later import revised the records behind it, or an import it came from was
rolled back. Values are compared to 6 decimal places, so summing in another order is no change.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from csc import kpis
from csc.months import add_months

SCHEMA = """
create sequence if not exists kpi_history_seq start 1;
create table if not exists kpi_history (
    change_id bigint primary key default nextval('kpi_history_seq'),
    import_id integer,                  -- the import loaded or rolled back; null: recomputed (definitions changed)
    event varchar not null,             -- import | rollback | refresh
    changed_at timestamp not null,      -- the import's time, or the rollback's
    kpi varchar not null,
    period varchar not null,
    area varchar,                       -- null: all areas together
    numerator double,
    denominator double,
    value double,                       -- null: the figure no longer exists
    hidden boolean                      -- the board was denied it (null: stored before this was kept)
);
alter table kpi_history add column if not exists hidden boolean;
"""


def record(cur: duckdb.DuckDBPyConnection, import_id: int | None, event: str, at: dt.datetime,
           since: str | None = None) -> int:
    """Store every KPI value that is new or changed since its last stored row; returns how many.
    `since`: only the months from it on were recomputed (`csc.kpis.materialise`), so only they
    can have changed."""
    before = cur.execute("select count(*) from kpi_history").fetchall()[0][0]
    params = {"id": import_id, "event": event, "at": at, "since": since}
    cur.execute(
        "insert into kpi_history (import_id, event, changed_at, kpi, period, area, numerator, denominator, value, "
        "hidden) "
        + kpis.app_sql("kpi_history_changes"),
        params,
    )
    return cur.execute("select count(*) from kpi_history").fetchall()[0][0] - before


def last_changed(cur: duckdb.DuckDBPyConnection, period: str | None = None) -> pd.DataFrame:
    """For each current KPI value: the import that last changed it (kpi, period, area, import_id,
    event, changed_at)."""
    return cur.execute(kpis.app_sql("kpi_last_changed"), {"p": period or None}).df()


def revised(
    cur: duckdb.DuckDBPyConnection,
    period_from: str | None = None,
    period_to: str | None = None,
    areas: list[str] | tuple[str, ...] | None = None,
    kpi: str | None = None,
) -> pd.DataFrame:
    """The revised figures: one row per (kpi, period, area) whose current value differs from the
    value first shown. `areas` None: all areas together (area is null); else those area offices.

    Columns: kpi, period, area, first_value, first_at, was_value, was_numerator, was_denominator
    (the value just before the latest change), value, numerator, denominator (now), import_id,
    event, changed_at (the latest change), file_name (of that import)."""
    params = {"pfrom": period_from or None, "pto": period_to or None, "kpi": kpi or None,
              "areas": list(areas) if areas else None}
    return cur.execute(kpis.app_sql("revised_figures"), params).df()


def data_version(cur: duckdb.DuckDBPyConnection) -> dict | None:
    """The data a figure was made from: the latest import (id, period, file, when) and the latest
    rollback after it, if any. None when nothing was ever imported."""
    row = cur.execute(
        "select import_id, period, file_name, imported_at, status from imports order by import_id desc limit 1"
    ).fetchall()
    if not row:
        return None
    import_id, period, file_name, at, status = row[0]
    rb = cur.execute(
        "select import_id, rolled_back_at from imports where rolled_back_at is not null "
        "order by rolled_back_at desc limit 1"
    ).fetchall()
    out = {"import_id": import_id, "period": period, "file_name": file_name, "imported_at": at, "status": status,
           "rolled_back_id": None, "rolled_back_at": None}
    if rb:
        out["rolled_back_id"], out["rolled_back_at"] = rb[0]
    return out


def version_words(cur: duckdb.DuckDBPyConnection) -> str:
    """'Data version: import 27 (2012-04, "extract-2012-04.xlsx", loaded 3 Apr 2012 10:00)', and
    the latest rollback when there is one."""
    v = data_version(cur)
    if v is None:
        return "Data version: no extract loaded"
    words = (f"Data version: import {v['import_id']} ({v['period']}, \"{v['file_name']}\", loaded "
             f"{_when(v['imported_at'])})")
    if v["rolled_back_id"] is not None:
        words += f"; import {v['rolled_back_id']} rolled back {_when(v['rolled_back_at'])}"
    return words


def _when(at) -> str:
    at = pd.Timestamp(at)
    return f"{at.day} {at:%b %Y %H:%M}"


def change_words(row: dict, fmt=lambda v: f"{v:g}") -> str:
    """'revised: was 8, now 9 (import 5, loaded 14 May 2012)'."""
    was = row.get("was_value")
    was_text = "no value" if was is None or pd.isna(was) else fmt(was)
    how = "rolled back" if row.get("event") == "rollback" else "loaded"
    by = f"import {int(row['import_id'])} {how}" if not pd.isna(row.get("import_id")) else "recomputed"
    return f"revised: was {was_text}, now {fmt(row['value'])} ({by} {_when(row['changed_at'])})"


def for_report(cur: duckdb.DuckDBPyConnection, kpi_names: list[str], period: str, areas=None,
               suppress: bool = False, months: int = 12) -> pd.DataFrame:
    """The revised figures a report for `period` shows (its month and the `months` before it), for
    the KPIs named, with words: kpi, title, period, area, was, now, changed (e.g. "import 5 loaded
    14 May 2012"), file_name, and the raw values.

    For the board (`suppress`), a figure its stored decision hides now (`kpi_results.hidden`:
    small numbers, complementary suppression, or denied in an earlier version) is left out: its
    row would say which hidden figures changed and which did not, and an unchanged one, shown
    before, gives its hidden partner back by subtraction. The value before is `c` unless the board
    was shown it (`kpi_history.hidden` false: a row stored before that was kept is not known to
    have been shown) and it is not from small numbers."""
    from csc import kpis, privacy

    first = add_months(period, -months)
    df = revised(cur, period_from=first, period_to=period, areas=areas)
    df = df[df["kpi"].isin(kpi_names)].reset_index(drop=True)
    # the board's stored decision for the figures now (complementary suppression included, and the
    # cells denied in an earlier version: `csc.suppression`)
    hidden = set(cur.execute("select kpi, period, area from kpi_results where hidden and period between $a and $b",
                             {"a": first, "b": period}).fetchall()) if suppress else set()
    rows = []
    for rec in df.to_dict("records"):
        kpi = kpis.get(rec["kpi"])
        now, was = rec["value"], rec["was_value"]
        if suppress and not privacy.exempt(kpi):
            if (rec["kpi"], rec["period"], rec["area"] if isinstance(rec["area"], str) else None) in hidden \
                    or privacy.primary(kpi, rec["numerator"], rec["denominator"]):
                continue
            shown = rec["was_hidden"] is not None and not pd.isna(rec["was_hidden"]) and not rec["was_hidden"]
            if not (was is None or pd.isna(was)) and (not shown or privacy.primary(kpi, rec["was_numerator"],
                                                                                   rec["was_denominator"])):
                was = privacy.SUPPRESSED
        how = "rolled back" if rec["event"] == "rollback" else "loaded"
        changed = (f"import {int(rec['import_id'])} {how} {_when(rec['changed_at'])}"
                   if not pd.isna(rec["import_id"]) else f"recomputed {_when(rec['changed_at'])}")
        rows.append({
            "kpi": rec["kpi"], "title": kpi.title, "period": rec["period"],
            "area": rec["area"] if isinstance(rec["area"], str) else "All areas",
            "was": was if isinstance(was, str) else (None if was is None or pd.isna(was) else kpi.format(was)),
            "now": now if isinstance(now, str) else kpi.format(now),
            "changed": changed, "file_name": rec["file_name"] if isinstance(rec["file_name"], str) else "",
        })
    return pd.DataFrame(rows, columns=["kpi", "title", "period", "area", "was", "now", "changed", "file_name"])

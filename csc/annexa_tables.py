"""Annex A's tables in the store, and the changes of worker inferred from successive Annex A
imports (moved from `csc.annexa`)."""

from __future__ import annotations

import duckdb

from csc import kpis


# The store's tables for Annex A (created by `Store._ensure_schema`).
SCHEMA = """
create table if not exists team_areas (
    team varchar primary key,           -- an Allocated Team as written in Annex A
    area_office varchar,                -- null: seen in an Annex A upload, not mapped yet
    changed_by varchar,                 -- who last set the area office (null while not mapped)
    changed_at timestamp                -- when it was set (or first seen, while not mapped)
);
create table if not exists raw_referral_counts (
    import_id integer not null, excel_row integer,
    referral_id varchar,                -- an Annex A referral (A3-<child>-<date>)
    prior_referrals_12m integer         -- List 3's "Number of Referrals in Last 12 Months"
);
create table if not exists referral_counts_current (referral_id varchar, prior_referrals_12m integer);
-- Teams named by an Annex A upload that was refused because they have no area office yet: kept
-- apart from the data (a refused file changes no table the figures are made from), for the Teams
-- page to list; each addition is in the audit log. A team leaves this list once it is saved.
create table if not exists teams_awaiting_area (
    team varchar primary key,
    first_seen timestamp not null,
    seen_by varchar
);
create table if not exists inferred_involvements (
    involvement_id varchar, child_id varchar, worker_id varchar, start_date date, end_date date,
    area_office varchar, team varchar, change_reason varchar, import_period varchar, import_id integer
);
"""



# --- inferred involvements ------------------------------------------------------------------

def inferred_sql() -> str:
    """The inferred involvements (`queries/app/inferred_involvements.sql`), one SELECT: the store,
    `csc.parquet` and (translated) `csc.spark` build their table `inferred_involvements` from it."""
    return kpis.app_sql("inferred_involvements")


def rebuild_inferred(cur: duckdb.DuckDBPyConnection) -> None:
    """Rebuild `inferred_involvements` (inside the store's rebuild, before the KPIs): empty as soon
    as any involvements sheet is loaded; and `referral_counts_current`, the current List 3 count of
    each Annex A referral (as `cur_<sheet>` is built: the latest loaded import's)."""
    cur.execute(f"create or replace table inferred_involvements as {inferred_sql()}")
    cur.execute(f"create or replace table referral_counts_current as {kpis.app_sql('referral_counts_current')}")


def involvements_inferred(cur: duckdb.DuckDBPyConnection) -> bool:
    """True when the changes-of-worker KPIs use inferred involvements (no involvements sheet loaded)."""
    return bool(cur.execute("select count(*) from inferred_involvements").fetchall()[0][0])


def inferred_summary(cur: duckdb.DuckDBPyConnection) -> dict:
    rows = cur.execute(
        "select count(*), count(distinct child_id), "
        "(select count(distinct period) from imports where status = 'loaded' and source_format = 'annex_a') "
        "from inferred_involvements"
    ).fetchall()[0]
    return {"involvements": rows[0], "children": rows[1], "imports": rows[2]}

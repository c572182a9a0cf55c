"""Annex A's tables in the store, and the changes of worker inferred from successive Annex A
imports (moved from `csc.annexa`)."""

from __future__ import annotations


import duckdb


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

INFERRED_SQL = """
create or replace table inferred_involvements as
with

snapshots as (
    -- each period's latest loaded Annex A import: a full list of the children open at the time
    select
        period,
        max(import_id) as import_id,
        strptime(period, '%Y-%m')::date as m0,
    from imports
    where status = 'loaded' and source_format = 'annex_a'
    group by period
),

numbered as (
    select *, row_number() over (order by period) as seq from snapshots
),

seen as (
    -- the Allocated Worker on each child's rows; an open plan says most about the current worker,
    -- then an open assessment, then a closed plan, then a completed assessment
    select n.seq, n.m0, r.child_id, r.worker_id, r.area_office, r.team, r.start_date,
           case when r.end_date is null then 0 else 2 end as priority, r.end_date as ended,
    from raw_cp_plans as r
    inner join numbered as n on n.import_id = r.import_id
    where r.worker_id is not null
    union all
    select n.seq, n.m0, r.child_id, r.worker_id, r.area_office, r.team, r.start_date,
           case when r.completed_date is null then 1 else 3 end, r.completed_date,
    from raw_assessments as r
    inner join numbered as n on n.import_id = r.import_id
    where r.worker_id is not null
),

observed as (
    -- one worker per child per import
    select *
    from seen
    qualify row_number() over (
        partition by child_id, seq order by priority, start_date desc, worker_id
    ) = 1
),

changes as (
    -- a new involvement where the worker differs from the previous import's, or the child was
    -- not seen in the previous import
    select
        *,
        lag(worker_id) over w is distinct from worker_id
            or coalesce(lag(seq) over w, -1) <> seq - 1 as is_new,
    from observed
    window w as (partition by child_id order by seq)
),

runs as (
    select *, sum(is_new::int) over (partition by child_id order by seq) as run,
    from changes
),

involvements as (
    select
        child_id,
        run,
        any_value(worker_id) as worker_id,
        min(m0) as start_date,
        max(seq) as last_seq,
        arg_max(area_office, seq) as area_office,
        arg_max(team, seq) as team,
        -- the plan or assessment the child was last seen on had ended: the involvement ends there
        nullif(arg_max(coalesce(ended, '9999-12-31'::date), seq), '9999-12-31'::date) as last_ended,
    from runs
    group by child_id, run
)

select
    'INF-' || i.child_id || '-' || strftime(i.start_date, '%Y%m') as involvement_id,
    i.child_id,
    i.worker_id,
    least(i.start_date, coalesce(i.last_ended, i.start_date)) as start_date,
    -- where the record it was last seen on ended; else the next Annex A month in which it was not seen
    coalesce(i.last_ended, after.m0) as end_date,
    i.area_office,
    i.team,
    null::varchar as change_reason,
    last.period as import_period,
    last.import_id::integer as import_id,
from involvements as i
inner join numbered as last on last.seq = i.last_seq
left join numbered as after on after.seq = i.last_seq + 1
where not exists (select 1 from cur_involvements)
order by i.child_id, i.start_date
"""


REFERRAL_COUNTS_SQL = """
create or replace table referral_counts_current as
select r.referral_id, r.prior_referrals_12m
from raw_referral_counts as r
join imports as i on i.import_id = r.import_id
where i.status = 'loaded'
qualify row_number() over (partition by r.referral_id order by i.period desc, r.import_id desc) = 1
"""


def rebuild_inferred(cur: duckdb.DuckDBPyConnection) -> None:
    """Rebuild `inferred_involvements` (inside the store's rebuild, before the KPIs): empty as soon
    as any involvements sheet is loaded; and `referral_counts_current`, the current List 3 count of
    each Annex A referral (as `cur_<sheet>` is built: the latest loaded import's)."""
    cur.execute(INFERRED_SQL)
    cur.execute(REFERRAL_COUNTS_SQL)


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

-- The changes of worker inferred from successive Annex A imports, one row per involvement, as the
-- involvements sheet has them (empty as soon as an involvements sheet is loaded). Built into the
-- table `inferred_involvements` by `csc.annexa_tables.rebuild_inferred` (and `csc.parquet`,
-- `csc.spark`); runs on DuckDB and, translated, on Spark.
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

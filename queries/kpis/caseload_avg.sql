-- kpi: caseload_avg
-- title: Average caseload per qualified social worker FTE
-- action: S1
-- unit: per_fte
-- direction: lower
-- target: 16
-- aggregate: ratio
-- short_title: Caseload per qualified FTE
-- label: Caseload
-- denominator: fte
-- suppress: yes
-- page: workforce
-- section: Workforce
-- order: 1
-- empty: No qualified social workers held open cases at the end of these months.
-- description: The number of involvements open at the month end whose worker is a qualified worker,
-- description: divided by the FTE of the different qualified workers holding at least one of them
-- description: (a number of cases per FTE, not a percentage). Area: the worker's area office.
with

qualified as (
    select
        worker_id,
        -- a whole number for the worker: cheap to group over a million open cases
        row_number() over (order by worker_id) as worker_no,
        area_office,
        team,
        fte,
    from cur_workforce
    where is_qualified
),

open_cases as (
    select
        i.period,
        i.month_no,
        i.involvement_id,
        i.child_id,
        w.worker_id,
        w.worker_no,
        w.area_office,
        w.team,
        w.fte,
    from stg_open_involvements as i
    inner join qualified as w on w.worker_id = i.worker_id
),

cases as (
    select
        period,
        area_office as area,
        team,
        involvement_id as record_id,
        child_id,
        worker_id,
        1.0 as numerator,
        0.0 as denominator,
    from open_cases
),

holders as (
    -- each qualified worker holding at least one open case, once per month
    select distinct
        month_no,
        worker_no,
    from open_cases
),

workers as (
    select
        months.period,
        w.area_office as area,
        w.team,
        w.worker_id as record_id,
        null::varchar as child_id,
        w.worker_id,
        0.0 as numerator,
        w.fte as denominator,
    from holders as h
    inner join qualified as w on w.worker_no = h.worker_no
    inner join stg_month_spine as months on months.month_no = h.month_no
),

final as (
    select * from cases
    union all
    select * from workers
)

select * from final

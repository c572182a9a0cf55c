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
        area_office,
        team,
        fte,
    from cur_workforce
    where is_qualified
),

open_cases as (
    select
        i.period,
        i.involvement_id,
        i.child_id,
        w.worker_id,
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

workers as (
    -- each qualified worker holding at least one open case, once per month
    select
        period,
        any_value(area_office) as area,
        any_value(team) as team,
        worker_id as record_id,
        null::varchar as child_id,
        worker_id,
        0.0 as numerator,
        any_value(fte) as denominator,
    from open_cases
    group by period, worker_id
),

final as (
    select * from cases
    union all
    select * from workers
)

select * from final

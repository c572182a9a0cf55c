-- kpi: caseload_stability_pct
-- title: Children who kept the same social worker for the last 6 months
-- action: A3
-- unit: pct
-- direction: higher
-- target: 75
-- aggregate: ratio
-- description: Of the children with an involvement open at the month end, the share whose
-- description: involvements that started by the month end and were still open after the day 6 months
-- description: before it all have the same worker. Area: that of the child's open involvement that
-- description: started last (then the greatest involvement id).
with

months as (
    select
        period,
        m1,
        (m1 - interval 6 month)::date as six_months_before,
    from kpi_months
),

involvements as (
    -- `latest_rank` orders a child's involvements by start date, then involvement id
    -- (ids that are numbers compared as numbers, above ids that are not)
    select
        involvement_id,
        child_id,
        worker_id,
        area_office,
        team,
        start_date,
        coalesce(end_date, '9999-12-31'::date) as end_or_open,
        row_number() over (
            partition by child_id
            order by start_date, try_cast(involvement_id as hugeint) nulls first, involvement_id
        ) as latest_rank,
    -- inferred_involvements is empty unless only Annex A lists were loaded (docs/annex-a.md)
    from (select * from cur_involvements union all by name select * from inferred_involvements)
),

in_window as (
    -- each involvement in each month whose window it falls in: started by M1 and
    -- still open after the day six months before M1
    select
        months.period,
        i.child_id,
        i.worker_id,
        i.involvement_id,
        i.latest_rank,
        i.end_or_open > months.m1 as is_open,
    from involvements as i
    inner join months
        on i.start_date <= months.m1
        and i.end_or_open > months.six_months_before
),

children as (
    -- children with an involvement open at M1: is every worker in the window the same,
    -- and which open involvement started last (it gives the area)
    select
        period,
        child_id,
        min(worker_id) = max(worker_id) as is_stable,
        arg_max(involvement_id, latest_rank) filter (where is_open) as latest_open_id,
    from in_window
    group by period, child_id
    having bool_or(is_open)
),

final as (
    select
        c.period,
        i.area_office as area,
        i.team,
        i.involvement_id as record_id,
        i.child_id,
        i.worker_id,
        c.is_stable::int::double as numerator,
        1.0 as denominator,
    from children as c
    inner join involvements as i on i.involvement_id = c.latest_open_id
)

select * from final

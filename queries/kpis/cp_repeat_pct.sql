-- kpi: cp_repeat_pct
-- title: Child protection plans that are a second or later plan
-- action: S2
-- unit: pct
-- direction: lower
-- target: 15
-- aggregate: ratio
-- short_title: Child protection plans that are a second or later plan
-- denominator: cases
-- suppress: yes
-- page: practice
-- section: Child protection
-- order: 6
-- records: cp_plans
-- empty: No child protection plans started in these months.
-- description: Of the child protection plans starting in the month, the percentage where the
-- description: extract records 1 or more previous plans, or the child has another plan (in any
-- description: area) with an earlier start date. Area: the plan's area office.
with

months as (select * from kpi_months),

plans as (
    select
        cp_plan_id,
        child_id,
        area_office,
        team,
        worker_id,
        start_date,
        previous_plans,
    from cur_cp_plans
),

with_earlier_plan as (
    select distinct p.cp_plan_id,
    from plans as p
    inner join plans as earlier
        on earlier.child_id = p.child_id
        and earlier.cp_plan_id != p.cp_plan_id
        and earlier.start_date < p.start_date
),

final as (
    select
        months.period,
        p.area_office as area,
        p.team,
        p.cp_plan_id as record_id,
        p.child_id,
        p.worker_id,
        (
            coalesce(p.previous_plans, 0) >= 1
            or e.cp_plan_id is not null
        )::int::double as numerator,
        1.0 as denominator,
    from plans as p
    inner join months on date_trunc('month', p.start_date) = months.m0
    left join with_earlier_plan as e on e.cp_plan_id = p.cp_plan_id
)

select * from final

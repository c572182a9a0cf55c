-- kpi: cp_2years_pct
-- title: Child protection plans ending after 2 years or more
-- action: S2
-- unit: pct
-- direction: lower
-- target: 5
-- aggregate: ratio
-- short_title: Child protection plans ending after 2 years or more
-- denominator: cases
-- suppress: yes
-- page: practice
-- section: Child protection
-- order: 7
-- records: cp_plans
-- empty: No child protection plans ended in these months.
-- description: Of the child protection plans that ended in the month, the percentage that had
-- description: lasted 2 years or more: the end date is on or after the same day 2 years after the
-- description: start date. Area: the plan's area office.
with

months as (select * from kpi_months),

ended_plans as (
    select
        cp_plan_id,
        child_id,
        area_office,
        team,
        worker_id,
        start_date,
        end_date,
    from cur_cp_plans
    where end_date is not null
),

final as (
    select
        months.period,
        p.area_office as area,
        p.team,
        p.cp_plan_id as record_id,
        p.child_id,
        p.worker_id,
        (p.end_date >= (p.start_date + interval 2 year)::date)::int::double as numerator,
        1.0 as denominator,
    from ended_plans as p
    inner join months on date_trunc('month', p.end_date) = months.m0
)

select * from final

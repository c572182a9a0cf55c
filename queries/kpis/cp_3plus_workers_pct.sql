-- kpi: cp_3plus_workers_pct
-- title: Children on a protection plan who have had 3 or more social workers
-- action: A3
-- unit: pct
-- direction: lower
-- target: 10
-- aggregate: ratio
-- short_title: Children on a protection plan who have had 3 or more social workers
-- denominator: cases
-- suppress: yes
-- page: practice
-- section: Child protection
-- order: 5
-- records: cp_plans
-- empty: No child protection plans were open at the end of these months.
-- description: Of the child protection plans open at the month end, the percentage whose child has
-- description: had 3 or more different workers, counting the child's involvements (in any area)
-- description: that started on or before the month end and had not ended before the plan started
-- description: (no end date, or an end date on or after the plan's start date). A plan whose child
-- description: has no involvements counts in the denominator only. Area: the plan's area office.
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
        coalesce(end_date, '9999-12-31'::date) as end_or_open,
    from cur_cp_plans
),

involvements as (
    select
        child_id,
        worker_id,
        start_date,
        coalesce(end_date, '9999-12-31'::date) as end_or_open,
    from stg_involvements
),

open_plans as (
    select
        months.period,
        months.m1,
        plans.*,
    from plans
    inner join months
        on plans.start_date <= months.m1
        and plans.end_or_open > months.m1
),

workers_per_plan as (
    select
        p.period,
        p.cp_plan_id,
        count(distinct i.worker_id) as worker_count,
    from open_plans as p
    inner join involvements as i
        on i.child_id = p.child_id
        and i.start_date <= p.m1
        and i.end_or_open >= p.start_date
    group by p.period, p.cp_plan_id
),

final as (
    select
        p.period,
        p.area_office as area,
        p.team,
        p.cp_plan_id as record_id,
        p.child_id,
        p.worker_id,
        (coalesce(w.worker_count, 0) >= 3)::int::double as numerator,
        1.0 as denominator,
    from open_plans as p
    left join workers_per_plan as w
        on w.period = p.period
        and w.cp_plan_id = p.cp_plan_id
)

select * from final

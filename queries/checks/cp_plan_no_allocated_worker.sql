-- check: cp_plan_no_allocated_worker
-- title: Children on a protection plan with no allocated worker
-- severity: error
-- period: the month the plan started
-- description: Child protection plans open at the end of the latest loaded month whose child has no
-- description: involvement (allocation to a worker) open then. Every child on a plan must have an
-- description: allocated social worker: either an involvement is missing from the extract or the
-- description: child is unallocated. Period: the month the plan started.
with

as_of as (
    select last_day(strptime(max(period), '%Y-%m')::date) as as_of_date,
    from imports
    where status = 'loaded'
),

open_plans as (
    select
        p.cp_plan_id,
        p.child_id,
        p.start_date,
        p.area_office,
        p.team,
        p.import_period,
        as_of.as_of_date,
    from cur_cp_plans as p
    cross join as_of
    where
        p.start_date <= as_of.as_of_date
        and (p.end_date is null or p.end_date > as_of.as_of_date)
),

final as (
    select
        strftime(p.start_date, '%Y-%m') as period,
        p.area_office as area,
        p.team,
        p.cp_plan_id as record_id,
        p.child_id,
        p.start_date,
        p.import_period,
        'No open involvement for the child at ' || strftime(p.as_of_date, '%Y-%m-%d') as detail,
    from open_plans as p
    where not exists (
        select 1
        from cur_involvements as i
        where
            i.child_id = p.child_id
            and i.start_date <= p.as_of_date
            and (i.end_date is null or i.end_date > p.as_of_date)
    )
)

select * from final

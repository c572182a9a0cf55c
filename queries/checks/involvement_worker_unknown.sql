-- check: involvement_worker_unknown
-- title: Involvements with a worker missing from the workforce sheet
-- severity: error
-- period: the month the involvement started
-- description: Involvements (allocations) whose worker_id matches no loaded workforce row. Their
-- description: cases are left out of the average caseload, and the worker cannot be shown as
-- description: qualified or not. Period: the month the involvement started.
with

involvements as (
    select
        involvement_id,
        child_id,
        worker_id,
        start_date,
        end_date,
        area_office,
        team,
        import_period,
    from cur_involvements
),

workforce as (
    select worker_id from cur_workforce
),

final as (
    select
        strftime(i.start_date, '%Y-%m') as period,
        i.area_office as area,
        i.team,
        i.involvement_id as record_id,
        i.child_id,
        i.worker_id,
        i.start_date,
        i.end_date,
        i.import_period,
        'Worker ' || i.worker_id || ' is on no loaded workforce sheet' as detail,
    from involvements as i
    where not exists (select 1 from workforce as w where w.worker_id = i.worker_id)
)

select * from final

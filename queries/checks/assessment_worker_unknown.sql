-- check: assessment_worker_unknown
-- title: Assessments by a worker missing from the workforce sheet
-- severity: error
-- period: the month the assessment started
-- description: Assessments whose worker_id matches no loaded workforce row. They drop out of
-- description: "assessments by qualified staff" (only known workers count), so that figure is
-- description: wrong until the workforce sheet lists the worker. Blank worker ids are not flagged.
-- description: Period: the month the assessment started.
with

assessments as (
    select
        assessment_id,
        child_id,
        assessment_type,
        start_date,
        completed_date,
        area_office,
        team,
        worker_id,
        import_period,
    from cur_assessments
    where worker_id is not null
),

workforce as (
    select worker_id from cur_workforce
),

final as (
    select
        strftime(a.start_date, '%Y-%m') as period,
        a.area_office as area,
        a.team,
        a.assessment_id as record_id,
        a.child_id,
        a.worker_id,
        a.assessment_type,
        a.start_date,
        a.completed_date,
        a.import_period,
        'Worker ' || a.worker_id || ' is on no loaded workforce sheet' as detail,
    from assessments as a
    where not exists (select 1 from workforce as w where w.worker_id = a.worker_id)
)

select * from final

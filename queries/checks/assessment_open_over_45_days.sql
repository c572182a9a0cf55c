-- check: assessment_open_over_45_days
-- title: Assessments open for more than 45 working days
-- severity: warning
-- period: the month the assessment started
-- description: Assessments with no completed date that had been open for more than 45 working days
-- description: (the longest timescale, a Single assessment's) at the end of the latest loaded
-- description: month. Either the completion date is missing or the assessment is long overdue.
-- description: Period: the month the assessment started.
with

as_of as (
    select last_day(strptime(max(period), '%Y-%m')::date) as as_of_date,
    from imports
    where status = 'loaded'
),

open_assessments as (
    select
        assessment_id,
        child_id,
        assessment_type,
        start_date,
        area_office,
        team,
        worker_id,
        import_period,
    from cur_assessments
    where completed_date is null
),

with_working_days as (
    select
        a.*,
        as_of_day.wd_index - started_day.wd_index as working_days_open,
    from open_assessments as a
    cross join as_of
    inner join calendar as started_day on started_day.day = a.start_date
    inner join calendar as as_of_day on as_of_day.day = as_of.as_of_date
),

final as (
    select
        strftime(start_date, '%Y-%m') as period,
        area_office as area,
        team,
        assessment_id as record_id,
        child_id,
        worker_id,
        assessment_type,
        start_date,
        working_days_open,
        import_period,
        assessment_type || ' assessment open for ' || working_days_open || ' working days' as detail,
    from with_working_days
    where working_days_open > 45
)

select * from final

-- check: assessment_child_seen_blank
-- title: Completed assessments that do not say whether the child was seen
-- severity: warning
-- period: the month the assessment was completed
-- description: Completed assessments with child_seen blank. They are left out of "assessments
-- description: where the child was seen", so that figure rests on fewer assessments than were done.
-- description: Period: the month the assessment was completed.
with

final as (
    select
        strftime(completed_date, '%Y-%m') as period,
        area_office as area,
        team,
        assessment_id as record_id,
        child_id,
        worker_id,
        assessment_type,
        start_date,
        completed_date,
        import_period,
        'Child seen not recorded' as detail,
    from cur_assessments
    where
        completed_date is not null
        and child_seen is null
)

select * from final

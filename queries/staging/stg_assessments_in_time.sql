-- staging: stg_assessments_in_time
-- description: Completed assessments of a type with a timescale (stg_assessment_limits), with the
-- description: working days from the start to the completion and whether that is within the limit
-- description: (a count equal to the limit is within it).
select
    a.*,
    limits.limit_days,
    completed_day.wd_index - started_day.wd_index as working_days,
    (completed_day.wd_index - started_day.wd_index <= limits.limit_days) as is_in_time,
from stg_completed_assessments as a
inner join stg_assessment_limits as limits on limits.assessment_type = a.assessment_type
inner join calendar as started_day on started_day.day = a.start_date
inner join calendar as completed_day on completed_day.day = a.completed_date

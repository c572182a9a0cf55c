-- staging: stg_completed_assessments
-- description: Assessments with a completed date.
select
    assessment_id,
    child_id,
    area_office,
    team,
    worker_id,
    assessment_type,
    start_date,
    completed_date,
    child_seen,
from cur_assessments
where completed_date is not null

-- staging: stg_assessment_limits
-- description: The timescale of each assessment type, in working days from the start: Initial 7,
-- description: Core 35, Single 45.
select *
from (values ('Initial', 7), ('Core', 35), ('Single', 45)) as t(assessment_type, limit_days)

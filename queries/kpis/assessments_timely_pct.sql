-- kpi: assessments_timely_pct
-- title: Assessments completed within timescale
-- action: S2
-- unit: pct
-- direction: higher
-- target: 80
-- aggregate: ratio
-- short_title: Assessments completed within timescale
-- denominator: cases
-- suppress: yes
-- page: practice
-- section: Assessments
-- order: 2
-- empty: No assessments were completed in these months.
-- description: Of the assessments completed in the month, the percentage completed within the limit
-- description: for their type, counted in working days from the start date to the completion date:
-- description: Initial 7, Core 35, Single 45 (a count equal to the limit is within it). Area: the
-- description: assessment's area office.
with

months as (select * from kpi_months),

limits as (
    select *
    from (values ('Initial', 7), ('Core', 35), ('Single', 45)) as t(assessment_type, limit_days)
),

assessments as (
    select
        assessment_id,
        child_id,
        area_office,
        team,
        worker_id,
        assessment_type,
        start_date,
        completed_date,
    from cur_assessments
    where completed_date is not null
),

with_working_days as (
    select
        a.*,
        limits.limit_days,
        completed_day.wd_index - started_day.wd_index as working_days,
    from assessments as a
    inner join limits on limits.assessment_type = a.assessment_type
    inner join calendar as started_day on started_day.day = a.start_date
    inner join calendar as completed_day on completed_day.day = a.completed_date
),

final as (
    select
        months.period,
        a.area_office as area,
        a.team,
        a.assessment_id as record_id,
        a.child_id,
        a.worker_id,
        (a.working_days <= a.limit_days)::int::double as numerator,
        1.0 as denominator,
    from with_working_days as a
    inner join months on a.completed_date between months.m0 and months.m1
)

select * from final

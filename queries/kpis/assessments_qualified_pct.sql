-- kpi: assessments_qualified_pct
-- title: Assessments completed by a qualified social worker
-- action: A4
-- unit: pct
-- direction: higher
-- target: 100
-- aggregate: ratio
-- short_title: Assessments completed by a qualified social worker
-- denominator: cases
-- suppress: yes
-- page: practice
-- section: Assessments
-- order: 4
-- records: assessments
-- empty: No assessments by a worker on the workforce sheet were completed in these months.
-- description: Of the assessments completed in the month whose worker is a known worker, the
-- description: percentage whose worker is a qualified worker. Assessments with no worker, or with a
-- description: worker the workforce sheet does not list, are left out of both numerator and
-- description: denominator (the import warns about unknown workers). Area: the assessment's area
-- description: office.
with

months as (select * from kpi_months),

workforce as (
    select
        worker_id,
        is_qualified,
    from cur_workforce
),

known_worker_assessments as (
    select
        a.*,
        w.is_qualified,
    from stg_completed_assessments as a
    inner join workforce as w on w.worker_id = a.worker_id
),

final as (
    select
        months.period,
        a.area_office as area,
        a.team,
        a.assessment_id as record_id,
        a.child_id,
        a.worker_id,
        a.is_qualified::int::double as numerator,
        1.0 as denominator,
    from known_worker_assessments as a
    inner join months on date_trunc('month', a.completed_date) = months.m0
    -- the spine's months alone (the same as the join, said as dates: the scan then skips the
    -- records of other months before joining anything)
    where
        a.completed_date >= (select min(m0) from kpi_months)
        and a.completed_date <= (select max(m1) from kpi_months)
)

select * from final

-- kpi: child_seen_pct
-- title: Assessments where the child was seen
-- action: S2
-- unit: pct
-- direction: higher
-- target: 95
-- aggregate: ratio
-- short_title: Assessments where the child was seen
-- denominator: cases
-- suppress: yes
-- page: practice
-- section: Assessments
-- order: 3
-- records: assessments
-- empty: No completed assessments in these months record whether the child was seen.
-- description: Of the assessments completed in the month that record whether the child was seen,
-- description: the percentage where the child was seen. Assessments that leave "child seen" blank
-- description: are left out. Area: the assessment's area office.
with

months as (select * from kpi_months),

final as (
    select
        months.period,
        a.area_office as area,
        a.team,
        a.assessment_id as record_id,
        a.child_id,
        a.worker_id,
        a.child_seen::int::double as numerator,
        1.0 as denominator,
    from stg_completed_assessments as a
    inner join months on date_trunc('month', a.completed_date) = months.m0
    -- the spine's months alone (the same as the join, said as dates: the scan then skips the
    -- records of other months before joining anything)
    where
        a.completed_date >= (select min(m0) from kpi_months)
        and a.completed_date <= (select max(m1) from kpi_months)
        and a.child_seen is not null
)

select * from final

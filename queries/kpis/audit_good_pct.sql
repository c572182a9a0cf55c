-- kpi: audit_good_pct
-- title: Audited assessments graded good or outstanding
-- action: A2
-- unit: pct
-- direction: higher
-- target: 80
-- aggregate: ratio
-- short_title: Audited assessments graded good or outstanding
-- denominator: cases
-- suppress: yes
-- page: none
-- records: audits
-- empty: No assessments were audited in these months.
-- description: Of the case-file audits of assessments dated in the month, the percentage graded
-- description: Outstanding or Good. Denominator: all assessment audits dated in the month (audits
-- description: of plans or of other subjects are not included). Area: the audit's area office.
with

months as (select * from kpi_months),

assessment_audits as (
    select
        audit_id,
        child_id,
        area_office,
        audit_date,
        grade in ('Outstanding', 'Good') as is_good,
    from cur_audits
    where subject = 'assessment'
),

final as (
    select
        months.period,
        a.area_office as area,
        null::varchar as team,
        a.audit_id as record_id,
        a.child_id,
        null::varchar as worker_id,
        a.is_good::int::double as numerator,
        1.0 as denominator,
    from assessment_audits as a
    inner join months on date_trunc('month', a.audit_date) = months.m0
)

select * from final

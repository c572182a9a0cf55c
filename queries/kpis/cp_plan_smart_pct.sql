-- kpi: cp_plan_smart_pct
-- title: Audited child protection plans that are SMART
-- action: A2
-- unit: pct
-- direction: higher
-- target: 90
-- aggregate: ratio
-- short_title: Audited child protection plans that are SMART
-- denominator: cases
-- suppress: yes
-- page: none
-- records: audits
-- empty: No child protection plans were audited for being SMART in these months.
-- description: Of the case-file audits of child protection plans dated in the month that record
-- description: whether the plan is SMART, the percentage that found it SMART. Audits that leave
-- description: "SMART" blank are left out of both numerator and denominator. Area: the audit's area
-- description: office.
with

months as (select * from kpi_months),

plan_audits as (
    select
        audit_id,
        child_id,
        area_office,
        audit_date,
        is_smart,
    from cur_audits
    where
        subject = 'cp_plan'
        and is_smart is not null
),

final as (
    select
        months.period,
        a.area_office as area,
        null::varchar as team,
        a.audit_id as record_id,
        a.child_id,
        null::varchar as worker_id,
        a.is_smart::int::double as numerator,
        1.0 as denominator,
    from plan_audits as a
    inner join months on date_trunc('month', a.audit_date) = months.m0
)

select * from final

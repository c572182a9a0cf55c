-- kpi: transfer_timely_pct
-- title: Transfers accepted within 5 working days
-- action: A1
-- unit: pct
-- direction: higher
-- target: 90
-- aggregate: ratio
-- short_title: Transfers accepted within 5 working days
-- denominator: cases
-- suppress: yes
-- page: practice
-- section: Transfers
-- order: 8
-- records: transfers
-- record_days: requested_date, accepted_date
-- empty: No transfers were accepted in these months.
-- description: Of the transfers accepted in the month, the percentage accepted within 5 working
-- description: days of the request (requested to accepted ≤ 5 working days). Denominator: all
-- description: transfers accepted in the month. Area: the receiving area office.
with

months as (select * from kpi_months),

final as (
    select
        months.period,
        t.area_office as area,
        t.to_team as team,
        t.transfer_id as record_id,
        t.child_id,
        null::varchar as worker_id,
        (t.wait_days <= 5)::int::double as numerator,
        1.0 as denominator,
    from stg_transfers_accepted as t
    inner join months on date_trunc('month', t.accepted_date) = months.m0
    -- the spine's months alone (the same as the join, said as dates: the scan then skips the
    -- records of other months before joining anything)
    where
        t.accepted_date >= (select min(m0) from kpi_months)
        and t.accepted_date <= (select max(m1) from kpi_months)
)

select * from final

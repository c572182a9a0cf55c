-- kpi: transfer_median_days
-- title: Median working days from transfer request to acceptance
-- action: A1
-- unit: days
-- direction: lower
-- target: 5
-- aggregate: median
-- short_title: Median working days from transfer request to acceptance
-- denominator: cases
-- suppress: yes
-- page: practice
-- section: Transfers
-- order: 9
-- records: transfers
-- record_days: requested_date, accepted_date
-- empty: No transfers were accepted in these months.
-- description: The middle value of the working days from request to acceptance over the transfers
-- description: accepted in the month; with an even number of transfers, the average of the two
-- description: middle values (so it can be a half day). The count of those transfers is shown as
-- description: the denominator. Area: the receiving area office.
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
        t.wait_days::double as numerator,
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

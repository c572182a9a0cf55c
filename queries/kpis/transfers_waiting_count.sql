-- kpi: transfers_waiting_count
-- title: Transfers waiting to be accepted at the month end
-- action: A1
-- unit: count
-- direction: lower
-- target: none
-- aggregate: sum
-- short_title: Transfers waiting to be accepted at the month end
-- denominator: none
-- suppress: yes
-- page: practice
-- section: Transfers
-- order: 10
-- records: transfers
-- empty: No transfers were waiting to be accepted at the end of any of these months.
-- description: The number of transfers requested on or before the month end and not accepted by
-- description: then (no accepted date, or accepted after the month end). A count, with no
-- description: denominator. Area: the receiving area office.
with

months as (select * from kpi_months),

transfers as (
    select
        transfer_id,
        child_id,
        area_office,
        to_team,
        requested_date,
        coalesce(accepted_date, '9999-12-31'::date) as accepted_or_never,
    from cur_transfers
),

final as (
    select
        months.period,
        t.area_office as area,
        t.to_team as team,
        t.transfer_id as record_id,
        t.child_id,
        null::varchar as worker_id,
        1.0 as numerator,
        null::double as denominator,
    from transfers as t
    inner join months
        on t.requested_date <= months.m1
        and t.accepted_or_never > months.m1
)

select * from final

-- check: transfer_waiting_over_20_days
-- title: Transfers waiting more than 20 working days to be accepted
-- severity: warning
-- period: the month the transfer was requested
-- description: Transfers not accepted by the end of the latest loaded month that had been
-- description: requested more than 20 working days before it (four times the 5-day standard).
-- description: Either the acceptance date is missing or the case is stuck between teams.
-- description: Period: the month the transfer was requested.
with

as_of as (
    select last_day(strptime(max(period), '%Y-%m')::date) as as_of_date,
    from imports
    where status = 'loaded'
),

waiting as (
    select
        t.transfer_id,
        t.child_id,
        t.from_team,
        t.to_team,
        t.requested_date,
        t.area_office,
        t.import_period,
        as_of_day.wd_index - requested_day.wd_index as working_days_waiting,
    from cur_transfers as t
    cross join as_of
    inner join calendar as requested_day on requested_day.day = t.requested_date
    inner join calendar as as_of_day on as_of_day.day = as_of.as_of_date
    where
        t.requested_date <= as_of.as_of_date
        and (t.accepted_date is null or t.accepted_date > as_of.as_of_date)
),

final as (
    select
        strftime(requested_date, '%Y-%m') as period,
        area_office as area,
        to_team as team,
        transfer_id as record_id,
        child_id,
        from_team,
        to_team,
        requested_date,
        working_days_waiting,
        import_period,
        'Waiting ' || working_days_waiting || ' working days for ' || to_team as detail,
    from waiting
    where working_days_waiting > 20
)

select * from final

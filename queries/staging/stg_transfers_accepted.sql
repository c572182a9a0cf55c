-- staging: stg_transfers_accepted
-- description: Transfers with an accepted date, with the working days from the request to the
-- description: acceptance (wait_days; calendar: wd(a, b) = idx(b) - idx(a)).
select
    t.transfer_id,
    t.child_id,
    t.area_office,
    t.to_team,
    t.requested_date,
    t.accepted_date,
    accepted_day.wd_index - requested_day.wd_index as wait_days,
from cur_transfers as t
inner join calendar as requested_day on requested_day.day = t.requested_date
inner join calendar as accepted_day on accepted_day.day = t.accepted_date
where t.accepted_date is not null

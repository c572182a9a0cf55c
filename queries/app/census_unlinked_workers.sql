-- How many workers the workforce census could not link to the case system (their worker id is no
-- case-system worker's: no loaded SSD registration gives it, as when the census was read,
-- `csc.census.read`; a linked worker whose case-system record has no team is under the census's
-- placeholder team too, and is not one of them) and how many workers of other sources were in post
-- at a month end together with one of them: "in post" at a month end m1 as stg_workers_in_post has
-- it (start <= m1 < end), so a pair shares a month end when the first month end on or after the
-- later start falls before the earlier end. Those pairs are what the KPIs may count twice.
-- `csc.census.census_note`.
with

registered as (
    select distinct r.worker_id
    from raw_worker_registrations as r
    inner join imports as i on i.import_id = r.import_id
    where i.status = 'loaded' and r.worker_id is not null
),

workers as (
    select
        w.worker_id,
        w.start_date,
        coalesce(w.end_date, '9999-12-31'::date) as end_date,
        i.source_format = $census as from_census,
        w.worker_id not in (select worker_id from registered) as unlinked,
    from cur_workforce as w
    inner join imports as i on i.import_id = w.import_id
),

pairs as (
    select
        u.worker_id as unlinked,
        o.worker_id as other,
    from workers as u
    inner join workers as o
        on last_day(greatest(u.start_date, o.start_date)) < least(u.end_date, o.end_date)
    where
        u.from_census
        and u.unlinked
        and not o.from_census
        -- a worker without a start date is never in post (an SSD professional without dates)
        and u.start_date is not null
        and o.start_date is not null
)

select
    count(distinct unlinked) as unlinked,
    count(distinct other) as beside,
    (select count(*) from workers where from_census and unlinked) as unlinked_all,
from pairs

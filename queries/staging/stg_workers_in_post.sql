-- staging: stg_workers_in_post
-- description: A month-end snapshot of the workforce: each worker in post at the end of each month
-- description: of the spine (started on or before its last day, m1, and not ended by then), one row
-- description: per worker and month.
select
    months.period,
    months.m1,
    w.worker_id,
    w.area_office,
    w.team,
    w.is_qualified,
    w.is_agency,
    w.fte,
from cur_workforce as w
inner join kpi_months as months
    on w.start_date <= months.m1
    and coalesce(w.end_date, '9999-12-31'::date) > months.m1

-- staging: stg_open_involvements
-- description: A month-end snapshot of the loaded involvements: each involvement open at the end of
-- description: each month of the spine (started on or before its last day, m1, and not ended by
-- description: then), one row per involvement and month.
select
    months.period,
    months.m1,
    i.involvement_id,
    i.child_id,
    i.worker_id,
from cur_involvements as i
inner join kpi_months as months
    on i.start_date <= months.m1
    and coalesce(i.end_date, '9999-12-31'::date) > months.m1

-- staging: stg_open_involvements
-- description: A month-end snapshot of the loaded involvements: each involvement open at the end of
-- description: each month of the spine (started on or before its last day, m1, and not ended by
-- description: then), one row per involvement and month. Worked out from month numbers
-- description: (stg_month_spine, whose month_no it carries): open from its start's month to the month
-- description: before its end's.
select
    months.period,
    months.m1,
    months.month_no,
    i.involvement_id,
    i.child_id,
    i.worker_id,
from (
    select
        involvement_id,
        child_id,
        worker_id,
        unnest(range(first_no, last_no + 1)) as month_no,
    from (
        select
            i.involvement_id,
            i.child_id,
            i.worker_id,
            greatest((year(i.start_date) - year(spine.first_m0)) * 12
                + month(i.start_date) - month(spine.first_m0) + 1, 1) as first_no,
            least((year(coalesce(i.end_date, '9999-12-31'::date)) - year(spine.first_m0)) * 12
                + month(coalesce(i.end_date, '9999-12-31'::date)) - month(spine.first_m0),
                spine.month_count) as last_no,
        from cur_involvements as i
        cross join stg_month_spine as spine
        where spine.month_no = 1
    ) as numbered
    where first_no <= last_no
) as i
inner join stg_month_spine as months on months.month_no = i.month_no

-- kpi: caseload_stability_pct
-- title: Children who kept the same social worker for the last 6 months
-- action: A3
-- unit: pct
-- direction: higher
-- target: 75
-- aggregate: ratio
-- description: Of the children with an involvement open at the month end, the share whose
-- description: involvements that started by the month end and were still open after the day 6 months
-- description: before it all have the same worker. Area: that of the child's open involvement that
-- description: started last (then the greatest involvement id).
with

months as (
    select
        period,
        m1,
        (m1 - interval 6 month)::date as six_months_before,
        row_number() over (order by period) as month_no,
    from kpi_months
),

involvements as (
    select
        involvement_id,
        child_id,
        worker_id,
        -- whole numbers standing for the worker and the child: exact, and far cheaper to
        -- group and compare than text over millions of child-months
        dense_rank() over (order by worker_id) as worker_no,
        dense_rank() over (order by child_id) as child_no,
        area_office,
        team,
        start_date,
        coalesce(end_date, '9999-12-31'::date) as end_or_open,
        row_number() over (
            partition by child_id
            order by start_date, try_cast(involvement_id as hugeint) nulls first, involvement_id
        ) as latest_rank,
    from (select * from cur_involvements union all by name select * from inferred_involvements)
),

month_span as (
    -- the months whose window an involvement falls in: from the month it starts in
    -- (the first M1 on or after its start) to the last month whose day six months before M1
    -- is before its end (that day rises month by month, so these months are a prefix)
    select
        i.*,
        first_month.month_no as first_no,
        coalesce(last_month.month_no, 0) as last_no,
    from involvements as i
    asof inner join months as first_month on i.start_date <= first_month.m1
    asof left join months as last_month on i.end_or_open > last_month.six_months_before
),

in_window as (
    select
        s.child_no,
        s.worker_no,
        s.latest_rank,
        s.end_or_open,
        unnest(range(s.first_no, s.last_no + 1)) as month_no,
    from month_span as s
    where s.first_no is not null and s.last_no >= s.first_no
),

children as (
    select
        w.month_no,
        w.child_no,
        min(w.worker_no) = max(w.worker_no) as is_stable,
        max(w.latest_rank) filter (where w.end_or_open > m.m1) as latest_open_rank,
    from in_window as w
    inner join months as m on m.month_no = w.month_no
    group by w.month_no, w.child_no
    having latest_open_rank is not null
),

final as (
    select
        m.period,
        i.area_office as area,
        i.team,
        i.involvement_id as record_id,
        i.child_id,
        i.worker_id,
        c.is_stable::int::double as numerator,
        1.0 as denominator,
    from children as c
    inner join months as m on m.month_no = c.month_no
    inner join involvements as i on i.child_no = c.child_no and i.latest_rank = c.latest_open_rank
)

select * from final

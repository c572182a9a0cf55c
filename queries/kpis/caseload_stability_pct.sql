-- kpi: caseload_stability_pct
-- title: Children who kept the same social worker for the last 6 months
-- action: A3
-- unit: pct
-- direction: higher
-- target: 75
-- aggregate: ratio
-- short_title: Children who kept the same social worker for the last 6 months
-- denominator: cases
-- suppress: yes
-- page: none
-- records: involvements
-- empty: No children had an allocated worker at the end of these months.
-- description: Of the children with an involvement open at the month end, the percentage whose
-- description: involvements that started on or before the month end and were still open after the
-- description: day 6 months before it (no end date, or an end date after that day) all have the
-- description: same worker. Each child counts once. Area: that of the child's open involvement that
-- description: started last (if two started the same day, the one with the greatest involvement
-- description: id).
with

months as (
    -- months are numbered from the spine's first, one a month, so a date's month number is
    -- arithmetic (no ASOF join: the same SQL runs on Spark, which has none)
    select
        period,
        m1,
        (m1 - interval 6 month)::date as six_months_before,
        month_no,
        first_m0,
        month_count,
    from stg_month_spine
),

involvements as (
    select
        involvement_id,
        child_id,
        worker_id,
        area_office,
        team,
        start_date,
        coalesce(end_date, '9999-12-31'::date) as end_or_open,
        -- whole numbers, cheap to group, join and compare: one for the child (the place of its
        -- first involvement), one for the involvement, rising within a child in the order of
        -- "started last" (start date, then the greatest involvement id: as a number where it
        -- is one). A cast that fails is slow (a tenth of a second over 300,000 ids): it is tried
        -- only on ids made of the characters a number can have (and of no other; an id is stored
        -- with its white space made single spaces and trimmed, csc.extract._clean, so a space is
        -- the only one it can hold, and the pattern reads alike on Spark)
        rank() over (order by child_id) as child_no,
        row_number() over (
            order by
                child_id,
                start_date,
                case
                    when regexp_matches(involvement_id, '^[0-9+._eE -]+$')
                        then try_cast(involvement_id as decimal(38, 0))
                end nulls first,
                involvement_id
        ) as involvement_no,
    from stg_involvements
    -- only an involvement in some month's window can count: started by the last month's end, and
    -- still open after the day six months before the first month's end (that day rises month by
    -- month). All of them over the whole spine; after an import, the few months recomputed need
    -- only the involvements of their windows (csc.incremental)
    where
        start_date <= (select max(m1) from kpi_months)
        and coalesce(end_date, '9999-12-31'::date) > (select (min(m1) - interval 6 month)::date from kpi_months)
),

month_numbers as (
    select
        i.*,
        (year(i.start_date) - year(spine.first_m0)) * 12
            + month(i.start_date) - month(spine.first_m0) + 1 as start_no,
        (year(i.end_or_open) - year(spine.first_m0)) * 12
            + month(i.end_or_open) - month(spine.first_m0) + 1 as end_no,
        spine.month_count,
    from involvements as i
    cross join months as spine
    where spine.month_no = 1
),

month_span as (
    -- the months whose window an involvement falls in: from the month it starts in
    -- (the first M1 on or after its start; none after the last month) to the last month whose
    -- day six months before M1 is before its end. That day rises month by month and falls in
    -- the month six before, so the last such month is the end's month + 6 when that month's day
    -- is before the end, else the end's month + 5 (and every month when past the last month)
    select
        i.*,
        case when i.start_no <= i.month_count then greatest(i.start_no, 1) end as first_no,
        case
            when i.end_no + 6 > i.month_count then i.month_count
            when i.end_no + 6 < 1 then 0
            when six_after.six_months_before < i.end_or_open then i.end_no + 6
            else greatest(i.end_no + 5, 0)
        end as last_no,
    from month_numbers as i
    left join months as six_after on six_after.month_no = i.end_no + 6
),

spans as (
    -- each involvement's months in the window (first_no to last_no) and, within them, the
    -- months it is open at M1 (to open_last_no: M1 before its end, i.e. before the end's month)
    select
        child_no,
        worker_id,
        involvement_no,
        first_no,
        last_no,
        least(last_no, end_no - 1) as open_last_no,
    from month_span
    where first_no is not null and last_no >= first_no
),

bounds as (
    -- the months where a child's set of involvements in the window, or open, can change
    select child_no, first_no as month_no from spans
    union all
    select child_no, last_no + 1 as month_no from spans
    union all
    select child_no, open_last_no + 1 as month_no from spans where open_last_no >= first_no
),

runs as (
    -- runs of months over which a child's involvements in the window and open stay the same
    -- (a month named twice gives an empty run, dropped below, instead of a distinct)
    select
        child_no,
        month_no as first_no,
        lead(month_no) over (partition by child_no order by month_no) - 1 as last_no,
    from bounds
),

children as (
    -- a run's children: stable when every involvement in the window has one worker; the
    -- open involvement that started last gives the record
    select
        r.child_no,
        r.first_no,
        r.last_no,
        case
            when count(s.worker_id) = 0 then true
            else count(s.worker_id) = count(*) and min(s.worker_id) = max(s.worker_id)
        end as is_stable,
        max(s.involvement_no) filter (where s.open_last_no >= r.first_no) as latest_open_no,
    from runs as r
    inner join spans as s
        on s.child_no = r.child_no
        and s.first_no <= r.first_no
        and s.last_no >= r.first_no
    where r.last_no >= r.first_no
    group by r.child_no, r.first_no, r.last_no
    having latest_open_no is not null
),

child_months as (
    select
        i.area_office,
        i.team,
        i.involvement_id,
        i.child_id,
        i.worker_id,
        c.is_stable,
        unnest(range(c.first_no, c.last_no + 1)) as month_no,
    from children as c
    inner join involvements as i on i.involvement_no = c.latest_open_no
),

final as (
    select
        m.period,
        c.area_office as area,
        c.team,
        c.involvement_id as record_id,
        c.child_id,
        c.worker_id,
        c.is_stable::int::double as numerator,
        1.0 as denominator,
    from child_months as c
    inner join months as m on m.month_no = c.month_no
)

select * from final

-- Assessments completed in each month within their timescale, by type, for the chosen area
-- offices together ($all_areas, or those in $areas), from $pfrom to $pto (either null: no
-- limit). `csc.breakdowns.assessment_timeliness`.
with

completed as (
    select
        strftime(completed_date, '%Y-%m') as period,
        area_office,
        assessment_type,
        limit_days,
        is_in_time::int as is_in_time,
    from stg_assessments_in_time
    -- the months asked for, said as dates: the scan then skips other months' assessments before
    -- counting working days
    where
        ($pfrom is null or completed_date >= ($pfrom || '-01')::date)
        and ($pto is null or completed_date < ($pto || '-01')::date + interval 1 month)
),

final as (
    select
        period,
        assessment_type,
        sum(is_in_time)::double as numerator,
        count(*)::double as denominator,
        100.0 * sum(is_in_time) / count(*) as value,
        assessment_type || ' (' || any_value(limit_days) || ' days)' as label,
    from completed
    where $all_areas or list_contains($areas, area_office)
    group by period, assessment_type
)

select * from final order by period, assessment_type

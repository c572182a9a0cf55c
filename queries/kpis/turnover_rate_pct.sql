-- kpi: turnover_rate_pct
-- title: Qualified social worker turnover over the last 12 months
-- action: S1
-- unit: pct
-- direction: lower
-- target: 12
-- aggregate: ratio
-- short_title: Turnover, last 12 months
-- label: Turnover
-- denominator: fte
-- suppress: yes
-- page: workforce
-- section: Workforce
-- order: 2
-- records: workforce
-- empty: No qualified permanent social workers were in post in these months (load a workforce
-- empty: sheet).
-- description: The FTE of qualified, non-agency workers who left in the 12 months to the month end
-- description: (end date after the day 12 months before the month end, up to and including the
-- description: month end), as a percentage of the FTE of qualified, non-agency workers in post at
-- description: the month end. Area: the worker's area office.
with

months as (select * from kpi_months),

leavers as (
    select
        months.period,
        w.area_office as area,
        w.team,
        w.worker_id as record_id,
        null::varchar as child_id,
        w.worker_id,
        w.fte as numerator,
        0.0 as denominator,
    from cur_workforce as w
    inner join months
        on w.end_date > (months.m1 - interval 12 month)::date
        and w.end_date <= months.m1
    where
        w.is_qualified
        and not w.is_agency
),

in_post as (
    select
        w.period,
        w.area_office as area,
        w.team,
        w.worker_id as record_id,
        null::varchar as child_id,
        w.worker_id,
        0.0 as numerator,
        w.fte as denominator,
    from stg_workers_in_post as w
    where
        w.is_qualified
        and not w.is_agency
),

final as (
    select * from leavers
    union all
    select * from in_post
)

select * from final

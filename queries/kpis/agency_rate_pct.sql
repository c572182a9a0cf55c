-- kpi: agency_rate_pct
-- title: Qualified social worker FTE filled by agency workers
-- action: S1
-- unit: pct
-- direction: lower
-- target: 10
-- aggregate: ratio
-- short_title: Agency share of qualified FTE
-- label: Agency
-- denominator: fte
-- suppress: yes
-- page: workforce
-- section: Workforce
-- order: 3
-- empty: No qualified social workers were in post in these months (load a workforce sheet).
-- description: The FTE of qualified agency workers in post at the month end as a percentage of the
-- description: FTE of all qualified workers in post at the month end. Area: the worker's area
-- description: office.
with

months as (select * from kpi_months),

qualified as (
    select
        worker_id,
        area_office,
        team,
        is_agency,
        fte,
        start_date,
        coalesce(end_date, '9999-12-31'::date) as end_or_open,
    from cur_workforce
    where is_qualified
),

final as (
    select
        months.period,
        w.area_office as area,
        w.team,
        w.worker_id as record_id,
        null::varchar as child_id,
        w.worker_id,
        case when w.is_agency then w.fte else 0.0 end as numerator,
        w.fte as denominator,
    from qualified as w
    inner join months
        on w.start_date <= months.m1
        and w.end_or_open > months.m1
)

select * from final

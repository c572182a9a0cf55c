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
-- records: workforce
-- empty: No qualified social workers were in post in these months (load a workforce sheet).
-- description: The FTE of qualified agency workers in post at the month end as a percentage of the
-- description: FTE of all qualified workers in post at the month end. Area: the worker's area
-- description: office.
with

final as (
    select
        w.period,
        w.area_office as area,
        w.team,
        w.worker_id as record_id,
        null::varchar as child_id,
        w.worker_id,
        case when w.is_agency then w.fte else 0.0 end as numerator,
        w.fte as denominator,
    from stg_workers_in_post as w
    where w.is_qualified
)

select * from final

-- kpi: supervision_pct
-- title: Qualified social workers supervised in the last 6 weeks
-- action: S1
-- unit: pct
-- direction: higher
-- target: 95
-- aggregate: ratio
-- short_title: Supervised in last 6 weeks
-- label: Supervised
-- denominator: cases
-- suppress: yes
-- page: workforce
-- section: Workforce
-- order: 5
-- records: workforce
-- empty: No qualified social workers were in post in these months (load a workforce sheet).
-- description: Of the qualified workers in post at the month end, counted as people (not FTE), the
-- description: percentage with a supervision dated in the 42 days ending on the month end (month
-- description: end − 41 days up to the month end). Area: the worker's area office.
with

supervisions as (
    select
        worker_id,
        supervision_date,
    from cur_supervisions
),

in_post as (
    select *
    from stg_workers_in_post
    where is_qualified
),

supervised as (
    select distinct
        p.period,
        p.worker_id,
    from in_post as p
    inner join supervisions as s
        on s.worker_id = p.worker_id
        and s.supervision_date between p.m1 - 41 and p.m1
),

final as (
    select
        p.period,
        p.area_office as area,
        p.team,
        p.worker_id as record_id,
        null::varchar as child_id,
        p.worker_id,
        (s.worker_id is not null)::int::double as numerator,
        1.0 as denominator,
    from in_post as p
    left join supervised as s
        on s.period = p.period
        and s.worker_id = p.worker_id
)

select * from final

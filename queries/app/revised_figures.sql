-- The revised figures: one row per (kpi, period, area) whose current value differs from the value
-- first shown, with the value before the latest change (and whether the board was denied it) and
-- the import that made it. Filters (each null: no limit): months $pfrom to $pto, KPI $kpi, area
-- offices $areas (null: all areas together, area null). `csc.revisions.revised`.
with h as (
    select *,
        row_number() over w as n,
        count(*) over (partition by kpi, period, area) as total,
        first_value(value) over w as first_value,
        first_value(changed_at) over w as first_at,
        lag(value) over w as was_value,
        lag(numerator) over w as was_numerator,
        lag(denominator) over w as was_denominator,
        lag(hidden) over w as was_hidden
    from kpi_history
    window w as (partition by kpi, period, area order by change_id)
)
select h.kpi, h.period, h.area, h.first_value, h.first_at, h.was_value, h.was_numerator, h.was_denominator,
       h.was_hidden, h.value, h.numerator, h.denominator, h.import_id, h.event, h.changed_at, i.file_name
from h
left join imports as i on i.import_id = h.import_id
where h.n = h.total and h.n > 1
  and round(h.value, 6) is distinct from round(h.first_value, 6)
  and h.value is not null
  and ($pfrom is null or h.period >= $pfrom)
  and ($pto is null or h.period <= $pto)
  and ($kpi is null or h.kpi = $kpi)
  and (case when $areas is null then h.area is null else list_contains($areas::varchar[], h.area) end)
order by h.period desc, h.kpi, h.area nulls first

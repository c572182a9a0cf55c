-- The KPI values that are new or changed since their last row in `kpi_history` (a value that no
-- longer exists: a row of nulls), with whether the board is denied each (`hidden`), to be stored for
-- import $id (event $event at $at).
-- `csc.revisions.record` inserts them into `kpi_history`. $since: only the months from it on were
-- recomputed, so only they are compared (null: every month).
with
latest as (select * from stg_kpi_history_latest where $since is null or period >= $since),
results as (select * from kpi_results where $since is null or period >= $since)
select $id, $event, $at, r.kpi, r.period, r.area, r.numerator, r.denominator, r.value, r.hidden
from results as r
left join latest as l on l.kpi = r.kpi and l.period = r.period and l.area is not distinct from r.area
where l.kpi is null
   or round(l.value, 6) is distinct from round(r.value, 6)
   or round(l.numerator, 6) is distinct from round(r.numerator, 6)
   or round(l.denominator, 6) is distinct from round(r.denominator, 6)
union all
select $id, $event, $at, l.kpi, l.period, l.area, null, null, null, null
from latest as l
anti join results as r on l.kpi = r.kpi and l.period = r.period and l.area is not distinct from r.area
where l.value is not null

-- The month spine of the KPI series: one row a month from $first to $last (YYYY-MM), with its
-- first day (m0) and last day (m1). Inserted into the temp table kpi_months (`csc.kpis.prepare`).
select
    strftime(m, '%Y-%m') as period,
    m::date as m0,
    (m + interval 1 month - interval 1 day)::date as m1,
from range(strptime($first, '%Y-%m'), strptime($last, '%Y-%m') + interval 1 day, interval 1 month) as t(m)

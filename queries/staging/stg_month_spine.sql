-- staging: stg_month_spine
-- description: The months of the spine (kpi_months) numbered from 1, one a month, with the spine's
-- description: first day (first_m0) and its number of months (month_count) on every row: a date's
-- description: month number is then arithmetic, (year(d) - year(first_m0)) * 12 + month(d) -
-- description: month(first_m0) + 1, with no join of dates against months (nor an ASOF join, which
-- description: Spark lacks).
select
    period,
    m0,
    m1,
    row_number() over (order by period) as month_no,
    min(m0) over () as first_m0,
    count(*) over () as month_count,
from kpi_months

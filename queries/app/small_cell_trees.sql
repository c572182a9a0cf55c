-- The (KPI, month) trees of cells with a cell hidden on its own (`csc.privacy.primary`: a number
-- above 0 and at most $high, once rounded to $digits decimals, where it counts people), in `kpi_results` or `kpi_team_results`: a ratio's
-- numerator or denominator ($ratio: those KPIs), a sum's numerator ($sum), a median's denominator
-- ($median). Only these trees are read for complementary suppression (`csc.suppression._rows`).
-- $since: only the months from it on (the months an import recomputed; null: every month).
with

cells as (
    select kpi, period, numerator, denominator from kpi_results where $since is null or period >= $since
    union all
    select kpi, period, numerator, denominator from kpi_team_results where $since is null or period >= $since
),

final as (
    select distinct kpi, period
    from cells
    where (list_contains($ratio::varchar[], kpi) and (round(numerator, $digits) > 0 and round(numerator, $digits) <= $high
                                                      or round(denominator, $digits) > 0 and round(denominator, $digits) <= $high))
       or (list_contains($sum::varchar[], kpi) and round(numerator, $digits) > 0 and round(numerator, $digits) <= $high)
       or (list_contains($median::varchar[], kpi) and round(denominator, $digits) > 0 and round(denominator, $digits) <= $high)
)

select * from final

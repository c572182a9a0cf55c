-- The (KPI, month) trees of cells to decide on for the board (`csc.suppression._rows`): those with
-- a cell hidden on its own (`csc.privacy.primary`: a number above 0 and at most $high, once rounded
-- to $digits decimals (n, d), where it counts people), in `kpi_results` or `kpi_team_results`: a
-- ratio's numerator or denominator ($ratio: those KPIs), a sum's numerator ($sum), a median's
-- denominator ($median); every tree of a ratio whose denominators the board sees as counts
-- ($complement: `denominator_shown`: its teams are hidden, its complement may be small, and its
-- cells whose count is hidden are hidden); and the trees with a cell the board was denied in an
-- earlier version (`kpi_hidden_ever`: hidden again). A tree with none of these hides nothing.
-- $since: only the months from it on (the months an import recomputed; null: every month).
with

cells as (
    select kpi, period, round(numerator, $digits) as n, round(denominator, $digits) as d from kpi_results
    where $since is null or period >= $since
    union all
    select kpi, period, round(numerator, $digits), round(denominator, $digits) from kpi_team_results
    where $since is null or period >= $since
),

final as (
    select distinct kpi, period
    from cells
    where (list_contains($ratio::varchar[], kpi) and (n > 0 and n <= $high or d > 0 and d <= $high))
       or list_contains($complement::varchar[], kpi)
       or (list_contains($sum::varchar[], kpi) and n > 0 and n <= $high)
       or (list_contains($median::varchar[], kpi) and d > 0 and d <= $high)
    union
    select kpi, period from kpi_hidden_ever
    where $since is null or period >= $since
)

select * from final

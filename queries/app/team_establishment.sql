-- One row per team of the workforce census `w` (with `teams`, the census's own team): the FTE of
-- its permanent qualified workers in post at the census date $d (as the vacancy KPI counts them),
-- plus the LA's vacancies $v on the census team's ($census) row. Runs on a connection of its own
-- over the census's tables (`csc.census._establishment`), not on the store.
with staff as (
    select team, any_value(area_office) as area_office,
           coalesce(sum(fte) filter (where is_qualified and not is_agency and start_date <= $d
                                     and coalesce(end_date, '9999-12-31'::date) > $d), 0) as fte,
    from w group by team
),
every_team as (
    select * from staff
    union all
    select team, area_office, 0.0 from teams where team not in (select team from staff)
)
select row_number() over (order by team) as excel_row, team, area_office,
       fte + case when team = $census then $v else 0 end as funded_fte,
from every_team order by team

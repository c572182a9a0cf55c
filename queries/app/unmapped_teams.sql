-- The teams an Annex A sheet (`sheet`) names that have no area office (`known`: the mapped teams,
-- lower case), each as first written with the Excel rows naming it. Runs on a connection of its
-- own over the sheet (`csc.annexa._unmapped_teams`), not on the store.
with named as (
    select trim(regexp_replace(team, '[\s\p{Z}]+', ' ', 'g')) as team, excel_row from sheet
)
select min(team) as team, list(excel_row order by excel_row) as rows
from named
where team <> '' and lower(team) not in (select k from known)
group by lower(team)
order by 1

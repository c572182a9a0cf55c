-- The cells the board is denied now (`hidden`, of the months from $since on; null: every month),
-- added to those it was ever denied (`kpi_hidden_ever`), each once: `csc.suppression`.
insert into kpi_hidden_ever (kpi, period, area, team)
select kpi, period, area, null from kpi_results
where hidden and ($since is null or period >= $since)
union
select kpi, period, area, team from kpi_team_results
where hidden and ($since is null or period >= $since)
except
select kpi, period, area, team from kpi_hidden_ever

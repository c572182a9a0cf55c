-- For each current KPI value (of month $p; null: every month), the import that last changed it.
-- `csc.revisions.last_changed`.
select kpi, period, area, import_id, event, changed_at
from stg_kpi_history_latest
where value is not null and ($p is null or period = $p)
order by kpi, period, area

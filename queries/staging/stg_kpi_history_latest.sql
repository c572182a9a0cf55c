-- staging: stg_kpi_history_latest
-- description: The latest stored row of each KPI value (kpi, period, area) in `kpi_history`: what
-- description: the app last showed (value null: the figure no longer exists).
select * from kpi_history
qualify row_number() over (partition by kpi, period, area order by change_id desc) = 1

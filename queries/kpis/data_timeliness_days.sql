-- kpi: data_timeliness_days
-- title: Working days from the month end to its data being loaded
-- action: A5
-- unit: days
-- direction: lower
-- target: 5
-- aggregate: sum
-- areas: all
-- short_title: Working days from the month end to its data being loaded
-- denominator: none
-- suppress: no
-- page: none
-- empty: No extract was loaded for these months.
-- description: For each month, the working days from its last day to the day the earliest extract
-- description: for that month that is still loaded was imported. A month with no loaded extract of
-- description: its own has no value. All areas only (there is no area breakdown).
with

months as (select * from kpi_months),

loaded_imports as (
    select
        import_id,
        period,
        imported_at,
        imported_at::date as imported_date,
    from imports
    where status = 'loaded'
),

first_import as (
    -- the earliest loaded import of each period (then the lowest import id)
    select *
    from loaded_imports
    qualify row_number() over (partition by period order by imported_at, import_id) = 1
),

final as (
    select
        months.period,
        null::varchar as area,
        null::varchar as team,
        f.import_id::varchar as record_id,
        null::varchar as child_id,
        null::varchar as worker_id,
        (imported_day.wd_index - month_end.wd_index)::double as numerator,
        null::double as denominator,
    from months
    inner join first_import as f on f.period = months.period
    inner join calendar as month_end on month_end.day = months.m1
    inner join calendar as imported_day on imported_day.day = f.imported_date
)

select * from final

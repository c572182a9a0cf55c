-- The workforce census's workers it could not link to the case system (team and area office the
-- census's placeholders, $team and $area), and the other sources' workers in post at some time one
-- of them was ("in post": started, and not ended, as stg_workers_in_post has it). `csc.census.census_note`.
with

workers as (
    select w.*, i.source_format = $census as from_census
    from cur_workforce as w
    inner join imports as i on i.import_id = w.import_id
),

unlinked as (
    select * from workers where from_census and team = $team and area_office = $area
)

select
    (select count(*) from unlinked) as unlinked,
    (
        select count(*) from workers as o
        where not o.from_census and exists (
            select 1 from unlinked as u
            where u.start_date < coalesce(o.end_date, '9999-12-31'::date)
            and o.start_date < coalesce(u.end_date, '9999-12-31'::date)
        )
    ) as beside

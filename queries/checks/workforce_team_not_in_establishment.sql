-- check: workforce_team_not_in_establishment
-- title: Qualified permanent workers in a team with no funded posts listed
-- severity: warning
-- period: the month of the extract the worker's row came from
-- description: Qualified, non-agency workers in post at the end of the latest loaded month whose
-- description: team is blank or on no establishment list. The vacancy rate cannot count them
-- description: against their team's funded posts. Not run until an establishment sheet is loaded.
-- description: (A check that a worker's FTE adds up to more than 1 is not needed: worker_id is the
-- description: workforce sheet's key, so each worker has one row, and FTE above 1 is refused on
-- description: import.) Period: the month of the extract the worker's row came from.
with

as_of as (
    select last_day(strptime(max(period), '%Y-%m')::date) as as_of_date,
    from imports
    where status = 'loaded'
),

teams as (
    select distinct team from cur_establishment
),

in_post as (
    select
        w.worker_id,
        w.area_office,
        w.team,
        w.fte,
        w.start_date,
        w.import_period,
    from cur_workforce as w
    cross join as_of
    where
        w.is_qualified
        and not w.is_agency
        and w.start_date <= as_of.as_of_date
        and (w.end_date is null or w.end_date > as_of.as_of_date)
),

final as (
    select
        import_period as period,
        area_office as area,
        team,
        worker_id as record_id,
        worker_id,
        fte,
        start_date,
        import_period,
        case
            when team is null then 'No team recorded'
            else 'Team "' || team || '" is on no establishment list'
        end as detail,
    from in_post as w
    where
        exists (select 1 from teams)
        and (w.team is null or not exists (select 1 from teams as t where t.team = w.team))
)

select * from final

-- check: involvement_no_recent_activity
-- title: Open involvements with no activity for the child in over 12 months
-- severity: warning
-- period: the month it passed 12 months without activity
-- description: Involvements still open at the end of the latest loaded month that started more
-- description: than 12 months before it, whose child has had no referral, assessment (started or
-- description: completed), child protection plan (started or ended) or transfer (requested or
-- description: accepted) in those 12 months, and who is not on a child protection plan open then.
-- description: Either the case should have been closed (an end date is missing) or the work is not
-- description: being recorded. Period: the month it passed 12
-- description: months without activity (12 months after the later of its start and the child's
-- description: last activity).
with

as_of as (
    select last_day(strptime(max(period), '%Y-%m')::date) as as_of_date,
    from imports
    where status = 'loaded'
),

open_involvements as (
    select
        i.involvement_id,
        i.child_id,
        i.worker_id,
        i.start_date,
        i.area_office,
        i.team,
        i.import_period,
        as_of.as_of_date,
    from cur_involvements as i
    cross join as_of
    where
        i.start_date <= as_of.as_of_date
        and (i.end_date is null or i.end_date > as_of.as_of_date)
),

activity as (
    select child_id, referral_date as activity_date from cur_referrals
    union all
    select child_id, start_date from cur_assessments
    union all
    select child_id, completed_date from cur_assessments
    union all
    select child_id, start_date from cur_cp_plans
    union all
    select child_id, end_date from cur_cp_plans
    union all
    select child_id, requested_date from cur_transfers
    union all
    select child_id, accepted_date from cur_transfers
),

last_activity as (
    select
        o.involvement_id,
        max(a.activity_date) as last_activity_date,
    from open_involvements as o
    inner join activity as a
        on a.child_id = o.child_id
        and a.activity_date <= o.as_of_date
    group by o.involvement_id
),

quiet as (
    select
        o.*,
        l.last_activity_date,
        greatest(o.start_date, coalesce(l.last_activity_date, o.start_date)) as quiet_since,
    from open_involvements as o
    left join last_activity as l on l.involvement_id = o.involvement_id
),

final as (
    select
        strftime((quiet_since + interval 12 month)::date, '%Y-%m') as period,
        area_office as area,
        team,
        involvement_id as record_id,
        child_id,
        worker_id,
        start_date,
        last_activity_date,
        import_period,
        'Open since ' || strftime(start_date, '%Y-%m-%d') || '; last activity for the child '
            || coalesce(strftime(last_activity_date, '%Y-%m-%d'), 'none recorded') as detail,
    from quiet
    where
        quiet_since < (as_of_date - interval 12 month)::date
        and not exists (
            select 1
            from cur_cp_plans as p
            where
                p.child_id = quiet.child_id
                and p.start_date <= quiet.as_of_date
                and (p.end_date is null or p.end_date > quiet.as_of_date)
        )
)

select * from final

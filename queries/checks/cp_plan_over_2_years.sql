-- check: cp_plan_over_2_years
-- title: Child protection plans open for more than 2 years
-- severity: warning
-- period: the month the plan reached 2 years
-- description: Child protection plans still open at the end of the latest loaded month that
-- description: started more than 2 years before it. Rare in practice: either the plan has ended and
-- description: its end date is missing, or the case needs a senior review. Period: the month the
-- description: plan reached 2 years.
with

as_of as (
    select last_day(strptime(max(period), '%Y-%m')::date) as as_of_date,
    from imports
    where status = 'loaded'
),

plans as (
    select
        cp_plan_id,
        child_id,
        start_date,
        end_date,
        area_office,
        team,
        worker_id,
        import_period,
        (start_date + interval 2 year)::date as two_years_on,
    from cur_cp_plans
),

final as (
    select
        strftime(p.two_years_on, '%Y-%m') as period,
        p.area_office as area,
        p.team,
        p.cp_plan_id as record_id,
        p.child_id,
        p.worker_id,
        p.start_date,
        p.import_period,
        'Open since ' || strftime(p.start_date, '%Y-%m-%d') || ' ('
            || date_diff('month', p.start_date, as_of.as_of_date) || ' months)' as detail,
    from plans as p
    cross join as_of
    where
        p.start_date <= as_of.as_of_date
        and (p.end_date is null or p.end_date > as_of.as_of_date)
        and p.two_years_on < as_of.as_of_date
)

select * from final

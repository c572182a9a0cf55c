-- kpi: vacancy_rate_pct
-- title: Funded social worker posts not filled by qualified permanent staff
-- action: S1
-- unit: pct
-- direction: lower
-- target: 10
-- aggregate: ratio
-- short_title: Vacancy rate
-- label: Vacancies
-- denominator: fte
-- suppress: yes
-- page: workforce
-- section: Workforce
-- order: 4
-- empty: No funded posts are recorded for these months: include the establishment sheet in an
-- empty: extract.
-- description: For each team, take its funded FTE from the most recent establishment list for the
-- description: month or an earlier month, and subtract the FTE of the qualified, non-agency workers
-- description: of that team in post at the month end; a team with more staff than funded posts
-- description: counts as 0, not as a negative. The sum of those gaps over the teams, as a
-- description: percentage of the sum of their funded FTE. Area: the area office on the
-- description: establishment list.
with

months as (select * from kpi_months),

establishment as (
    select
        team,
        area_office,
        funded_fte,
        import_period,
    from cur_establishment
),

team_establishment as (
    -- each team's establishment row of the latest period on or before the month
    select
        months.period,
        e.team,
        e.area_office,
        e.funded_fte,
    from establishment as e
    inner join months on e.import_period <= months.period
    qualify row_number() over (partition by months.period, e.team order by e.import_period desc) = 1
),

team_staff as (
    -- the FTE of the team's qualified, non-agency workers in post at the month end
    select
        t.period,
        t.team,
        sum(w.fte) as staff_fte,
    from team_establishment as t
    inner join stg_workers_in_post as w
        on w.period = t.period
        and w.team = t.team
    where
        w.is_qualified
        and not w.is_agency
    group by t.period, t.team
),

final as (
    select
        t.period,
        t.area_office as area,
        t.team,
        t.team as record_id,
        null::varchar as child_id,
        null::varchar as worker_id,
        greatest(0.0, t.funded_fte - coalesce(s.staff_fte, 0.0)) as numerator,
        t.funded_fte as denominator,
    from team_establishment as t
    left join team_staff as s
        on s.period = t.period
        and s.team = t.team
)

select * from final

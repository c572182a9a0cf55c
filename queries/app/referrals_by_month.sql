-- Referrals received per month (by referral date), for each area office and all areas together
-- (area null), from $pfrom to $pto (either null: no limit). `csc.breakdowns.referrals_by_month`.
with

referrals as (
    select
        strftime(referral_date, '%Y-%m') as period,
        area_office as area,
    from cur_referrals
),

final as (
    select
        period,
        case when grouping(area) = 1 then null else area end as area,
        count(*)::double as value,
    from referrals
    where
        ($pfrom is null or period >= $pfrom)
        and ($pto is null or period <= $pto)
    group by grouping sets ((period, area), (period))
)

select * from final order by period, area nulls first

-- Referrals received per month (by referral date), for each area office and all areas together
-- (area null), from $pfrom to $pto (either null: no limit). `csc.breakdowns.referrals_by_month`.
with

referrals as (
    select
        strftime(referral_date, '%Y-%m') as period,
        area_office as area,
    from cur_referrals
    -- the months asked for, said as dates: the scan then skips other months' referrals before
    -- spelling out any month
    where
        ($pfrom is null or referral_date >= ($pfrom || '-01')::date)
        and ($pto is null or referral_date < ($pto || '-01')::date + interval 1 month)
),

final as (
    select
        period,
        case when grouping(area) = 1 then null else area end as area,
        count(*)::double as value,
    from referrals
    group by grouping sets ((period, area), (period))
)

select * from final order by period, area nulls first

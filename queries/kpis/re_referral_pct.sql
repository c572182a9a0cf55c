-- kpi: re_referral_pct
-- title: Re-referrals within 12 months
-- action: S2
-- unit: pct
-- direction: lower
-- target: 20
-- aggregate: ratio
-- short_title: Re-referrals within 12 months
-- denominator: cases
-- suppress: yes
-- denominator_shown: referrals_by_area
-- page: practice
-- section: Referrals
-- order: 1
-- records: referrals
-- empty: No referrals were received in these months.
-- description: Of the referrals dated in the month, the percentage whose child had another referral
-- description: (in any area) dated on or after the same day 12 months earlier and strictly before
-- description: this referral's date. Where the loaded referrals do not reach back the whole 12
-- description: months before it (an Annex A snapshot is the only history), its Annex A List 3
-- description: "Number of Referrals in Last 12 Months" above 0 counts too; where they do, the
-- description: loaded referrals alone decide. Area: the referral's area office.
with

months as (select * from kpi_months),

referrals as (
    select
        referral_id,
        child_id,
        area_office,
        team,
        referral_date,
    from cur_referrals
    -- those the months computed can read: referred in them, or in the 12 months before one (after
    -- an import, most of a long history is neither)
    where
        referral_date >= (select (min(m0) - interval 12 month)::date from kpi_months)
        and referral_date <= (select max(m1) from kpi_months)
),

history as (
    select min(referral_date) as first_loaded from cur_referrals
),

this_month as (
    select
        months.period,
        r.*,
    from referrals as r
    inner join months on date_trunc('month', r.referral_date) = months.m0
),

repeats as (
    -- the referrals of the months computed (after an import, only the few it can move) that repeat
    select distinct r.referral_id,
    from this_month as r
    inner join referrals as earlier
        on earlier.child_id = r.child_id
        and earlier.referral_id != r.referral_id
        and earlier.referral_date >= (r.referral_date - interval 12 month)::date
        and earlier.referral_date < r.referral_date
),

final as (
    select
        t.period,
        t.area_office as area,
        t.team,
        t.referral_id as record_id,
        t.child_id,
        null::varchar as worker_id,
        (
            repeats.referral_id is not null
            or (
                history.first_loaded > (t.referral_date - interval 12 month)::date
                and coalesce(counts.prior_referrals_12m, 0) > 0
            )
        )::int::double as numerator,
        1.0 as denominator,
    from this_month as t
    cross join history
    left join repeats on repeats.referral_id = t.referral_id
    left join referral_counts_current as counts on counts.referral_id = t.referral_id
)

select * from final

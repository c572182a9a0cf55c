-- check: referral_area_unknown
-- title: Referrals with an area office that is not on the establishment list
-- severity: error
-- period: the month of the referral
-- description: Referrals whose area_office is none of the area offices named on the loaded
-- description: establishment lists (a misspelt or retired office name). They form an area of their
-- description: own in every referral figure. Not run until an establishment sheet is loaded.
-- description: Period: the month of the referral.
with

areas as (
    select distinct area_office from cur_establishment
),

final as (
    select
        strftime(r.referral_date, '%Y-%m') as period,
        r.area_office as area,
        r.team,
        r.referral_id as record_id,
        r.child_id,
        r.referral_date,
        r.import_period,
        'Area office "' || r.area_office || '" is not on the establishment list' as detail,
    from cur_referrals as r
    where
        exists (select 1 from areas)
        and not exists (select 1 from areas as a where a.area_office = r.area_office)
)

select * from final

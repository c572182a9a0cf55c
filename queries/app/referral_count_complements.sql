-- The months and area offices (null: all areas) whose referral count the board may not see
-- beside the re-referral rate it is shown: the count is that rate's denominator, so the two give
-- the referrals that were not re-referrals, here from 1 to 5 ($high; $digits as `csc.privacy`).
-- Of the months from $since on (null: every month). `csc.breakdowns.referrals_by_month`.
select period, area
from kpi_results
where
    kpi = 're_referral_pct'
    and not coalesce(hidden, false)
    and round(denominator - numerator, $digits) > 0
    and round(denominator - numerator, $digits) <= $high
    and ($since is null or period >= $since)
order by period, area nulls first

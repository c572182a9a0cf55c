-- The current List 3 count of each Annex A referral: the latest loaded import's, as `cur_<sheet>`
-- is built. Built into the table `referral_counts_current` by `csc.annexa_tables.rebuild_inferred`.
select r.referral_id, r.prior_referrals_12m
from raw_referral_counts as r
join imports as i on i.import_id = r.import_id
where i.status = 'loaded'
qualify row_number() over (partition by r.referral_id order by i.period desc, r.import_id desc) = 1

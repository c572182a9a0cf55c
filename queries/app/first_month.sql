-- The first day with activity in the loaded records: the KPI series start in its month
-- (`csc.kpis.spine`). Runs on DuckDB and, translated, on Spark (`csc.spark`).
select min(d) from (
    select min(referral_date) as d from cur_referrals
    union all select min(start_date) from cur_assessments
    union all select min(start_date) from cur_cp_plans
    union all select min(requested_date) from cur_transfers
    union all select min(audit_date) from cur_audits
    union all select min(supervision_date) from cur_supervisions
)

-- staging: stg_involvements
-- description: Every involvement: those loaded, and the changes of worker inferred from successive
-- description: Annex A lists (inferred_involvements: empty unless only Annex A lists were loaded;
-- description: docs/annex-a.md). A KPI that reads this model says so on its page.
select
    involvement_id,
    child_id,
    worker_id,
    area_office,
    team,
    start_date,
    end_date,
from cur_involvements
union all
select
    involvement_id,
    child_id,
    worker_id,
    area_office,
    team,
    start_date,
    end_date,
from inferred_involvements

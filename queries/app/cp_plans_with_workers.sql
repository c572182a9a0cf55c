-- The SSD's child protection plans (`plans`) with what the SSD gives only across tables: the
-- child's plans that started before each (previous_plans) and, where the initial conference gave
-- no team or worker, those of the allocated involvement (`inv`) open at the plan's start. Runs on
-- a connection of its own over the typed tables (`csc.ssd._derive`), not on the store.
with open_at_start as (
    select p.cp_plan_id, i.worker_id, i.team,
    from plans as p
    inner join inv as i
        on i.child_id = p.child_id and i.start_date <= p.start_date
        and coalesce(i.end_date, '9999-12-31'::date) >= p.start_date
    qualify row_number() over (partition by p.cp_plan_id order by i.start_date desc, i.involvement_id desc) = 1
)
select p.* exclude (worker_id, team),
       coalesce(p.team, o.team) as team,
       coalesce(p.worker_id, o.worker_id) as worker_id,
       (select count(*) from plans as e
        where e.child_id = p.child_id and e.start_date < p.start_date)::integer as previous_plans,
from plans as p
left join open_at_start as o on o.cp_plan_id = p.cp_plan_id
order by p.excel_row

-- The Audit log page's table (`csc.store.Store.audit_entries`): the newest $shown entries (null:
-- every one) of the actions $actions and, when $users is not empty, of those people only, with how
-- many match in all (`matching`: counted apart, so that the newest are found without reading every
-- entry's detail); the time in the page's words (`csc.wording.date_words`: "2 December 2026 14:05",
-- or the day alone at midnight).
select audit_id, logged_at, user_name, role, action, detail,
    (select count(*) from audit_log
     where list_contains($actions, action) and (len($users) = 0 or list_contains($users, user_name))) as matching,
    case when hour(logged_at) = 0 and minute(logged_at) = 0 and second(logged_at) = 0
        then strftime(logged_at, '%-d %B %Y') else strftime(logged_at, '%-d %B %Y %H:%M') end as when_words
from (
    select * from audit_log
    where list_contains($actions, action) and (len($users) = 0 or list_contains($users, user_name))
    order by audit_id desc
    limit $shown
)
order by audit_id desc

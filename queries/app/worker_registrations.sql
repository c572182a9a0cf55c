-- Each worker's Social Work England number, from the latest loaded SSD import listing the worker
-- (`raw_worker_registrations`, the table `csc.ssd.REGISTRATIONS` names). `csc.ssd.registrations`.
select r.swe_number, r.worker_id
from raw_worker_registrations as r join imports as i on i.import_id = r.import_id
where i.status = 'loaded'
qualify row_number() over (partition by r.worker_id order by i.period desc, r.import_id desc) = 1

"""A large synthetic council for the benchmarks: ten years of history, over a million records
across the sheets, generated with numpy straight into typed Arrow tables (the Excel path is
measured separately by bench_import.py) and loaded through `Store.import_tables`."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

FIRST = dt.date(2012, 4, 1)
LAST = dt.date(2022, 3, 31)
AREAS = [f"Area {c}" for c in "ABCDEFGH"]
TEAMS = [f"{a} team {i}" for a in AREAS for i in range(1, 6)]


def _dates(rng, n, first=FIRST, last=LAST):
    span = (last - first).days
    return np.datetime64(first) + rng.integers(0, span + 1, n).astype("timedelta64[D]")


def _ids(prefix, n):
    return pa.array([f"{prefix}{i:07d}" for i in range(n)], pa.string())


def _date_arr(values, mask=None):
    arr = pa.array(values.astype("datetime64[D]"), pa.date32())
    if mask is not None:
        arr = pa.array(values.astype("datetime64[D]"), pa.date32(), mask=mask)
    return arr


def generate(seed: int = 7, scale: float = 1.0) -> dict[str, pa.Table]:
    rng = np.random.default_rng(seed)
    n_children = int(150_000 * scale)
    last = np.datetime64(LAST)
    children = np.array([f"CH{i:07d}" for i in range(n_children)])
    child_area = rng.integers(0, len(AREAS), n_children)

    def child_cols(n):
        c = rng.integers(0, n_children, n)
        team_idx = child_area[c] * 5 + rng.integers(0, 5, n)
        return pa.array(children[c]), pa.array(np.array(AREAS)[child_area[c]]), pa.array(np.array(TEAMS)[team_idx])

    n_workers = int(3_000 * scale)
    w_start = _dates(rng, n_workers, dt.date(2000, 1, 1), LAST)
    w_len = rng.exponential(900, n_workers).astype("int64")
    w_end = w_start + w_len.astype("timedelta64[D]")
    w_open = w_end > last
    w_team = rng.integers(0, len(TEAMS), n_workers)
    workers = np.array([f"W{i:06d}" for i in range(n_workers)])
    qualified = rng.random(n_workers) < 0.85
    workforce = pa.table({
        "worker_id": pa.array(workers),
        "area_office": pa.array(np.array(AREAS)[w_team // 5]),
        "team": pa.array(np.array(TEAMS)[w_team]),
        "role": pa.array(np.where(qualified, "Social Worker", "Family Support Worker")),
        "is_qualified": pa.array(qualified),
        "is_agency": pa.array(rng.random(n_workers) < 0.16),
        "fte": pa.array(np.where(rng.random(n_workers) < 0.8, 1.0, 0.6)),
        "start_date": _date_arr(w_start),
        "end_date": _date_arr(np.minimum(w_end, last), mask=w_open),
        "leave_reason": pa.array([None] * n_workers, pa.string()),
    })

    def worker_ids(n):
        return pa.array(workers[rng.integers(0, n_workers, n)])

    n_ref = int(250_000 * scale)
    c, a, t = child_cols(n_ref)
    referrals = pa.table({"referral_id": _ids("R", n_ref), "child_id": c, "referral_date": _date_arr(_dates(rng, n_ref)),
                          "area_office": a, "team": t, "source": pa.array(["Police"] * n_ref)})

    n_ass = int(200_000 * scale)
    c, a, t = child_cols(n_ass)
    s = _dates(rng, n_ass)
    done = s + rng.integers(1, 60, n_ass).astype("timedelta64[D]")
    open_ = done > last
    assessments = pa.table({
        "assessment_id": _ids("AS", n_ass), "child_id": c,
        "assessment_type": pa.array(np.where(rng.random(n_ass) < 0.6, "Initial", "Core")),
        "start_date": _date_arr(s), "completed_date": _date_arr(np.minimum(done, last), mask=open_),
        "child_seen": pa.array(rng.random(n_ass) < 0.93), "area_office": a, "team": t, "worker_id": worker_ids(n_ass),
    })

    n_cp = int(20_000 * scale)
    c, a, t = child_cols(n_cp)
    s = _dates(rng, n_cp)
    e = s + rng.exponential(300, n_cp).astype("int64").astype("timedelta64[D]")
    cp_plans = pa.table({
        "cp_plan_id": _ids("CP", n_cp), "child_id": c, "start_date": _date_arr(s),
        "end_date": _date_arr(np.minimum(e, last), mask=e > last), "category": pa.array(["Neglect"] * n_cp),
        "previous_plans": pa.array(rng.poisson(0.2, n_cp).astype("int32")), "area_office": a, "team": t,
        "worker_id": worker_ids(n_cp),
    })

    n_inv = int(300_000 * scale)
    c, a, t = child_cols(n_inv)
    s = _dates(rng, n_inv)
    e = s + rng.exponential(200, n_inv).astype("int64").astype("timedelta64[D]")
    involvements = pa.table({
        "involvement_id": _ids("I", n_inv), "child_id": c, "worker_id": worker_ids(n_inv), "start_date": _date_arr(s),
        "end_date": _date_arr(np.minimum(e, last), mask=e > last), "area_office": a, "team": t,
        "change_reason": pa.array(["LEFTRL"] * n_inv),
    })

    n_tr = int(100_000 * scale)
    c, a, t = child_cols(n_tr)
    s = _dates(rng, n_tr)
    acc = s + rng.integers(0, 20, n_tr).astype("timedelta64[D]")
    transfers = pa.table({
        "transfer_id": _ids("T", n_tr), "child_id": c, "from_team": pa.array(["Intake"] * n_tr), "to_team": t,
        "requested_date": _date_arr(s), "accepted_date": _date_arr(np.minimum(acc, last), mask=acc > last),
        "area_office": a,
    })

    establishment = pa.table({"team": pa.array(TEAMS), "area_office": pa.array([x.split(" team")[0] for x in TEAMS]),
                              "funded_fte": pa.array(np.full(len(TEAMS), 12.0))})

    n_au = int(50_000 * scale)
    c, a, t = child_cols(n_au)
    audits = pa.table({
        "audit_id": _ids("AU", n_au), "child_id": c, "audit_date": _date_arr(_dates(rng, n_au)), "area_office": a,
        "subject": pa.array(np.where(rng.random(n_au) < 0.5, "assessment", "cp_plan")),
        "grade": pa.array(np.array(["Outstanding", "Good", "Adequate", "Requires improvement", "Inadequate"])[
            rng.integers(0, 5, n_au)]),
        "is_smart": pa.array(rng.random(n_au) < 0.7),
    })

    n_sup = int(150_000 * scale)
    supervisions = pa.table({"supervision_id": _ids("S", n_sup), "worker_id": worker_ids(n_sup),
                             "supervision_date": _date_arr(_dates(rng, n_sup))})
    return {"referrals": referrals, "assessments": assessments, "cp_plans": cp_plans, "involvements": involvements,
            "transfers": transfers, "workforce": workforce, "establishment": establishment, "audits": audits,
            "supervisions": supervisions}


def load(store, scale: float = 1.0) -> int:
    """Load the big council as one import (period = its last month); returns the record count."""
    tables = generate(scale=scale)
    store.import_tables(tables, f"{LAST:%Y-%m}", user="benchmark", name="big-council",
                        imported_at=dt.datetime.combine(LAST + dt.timedelta(days=5), dt.time(9)))
    return sum(t.num_rows for t in tables.values())

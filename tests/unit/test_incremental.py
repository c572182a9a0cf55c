"""An import or rollback recomputes only the months its records can move (`csc.incremental`,
`kpis.materialise(since=...)`, docs/kpis.md "What an import recomputes"): after every kind of
change, the stored results (with the board's hidden cells), their history and the current tables
must be what recomputing everything from scratch gives (a second store that always does)."""

from __future__ import annotations

import datetime as dt
import math
import random

import pyarrow as pa
import pytest

from csc import demo, kpis, spec
from csc.store import Store

ARROW = {spec.ID: pa.string(), spec.TEXT: pa.string(), spec.ENUM: pa.string(), spec.DATE: pa.date32(),
         spec.FLAG: pa.bool_(), spec.NUMBER: pa.float64(), spec.WHOLE: pa.int32()}


class FullStore(Store):
    """The reference: every import and rollback rebuilds every current table and every KPI."""

    def _rebuild(self, cur, change=None, sheets=None):
        super()._rebuild(cur, change, None)


class Starts(list):
    kpis: dict[str, str] = {}


@pytest.fixture
def starts(monkeypatch):
    """The `since` each incremental recompute was given (the earliest of its KPIs') and the first
    month it recomputed; `starts.kpis`: each KPI's, of the latest."""
    seen = Starts()
    real = kpis.materialise

    def spy(cur, since=None, **kwargs):
        start = real(cur, since=since, **kwargs)
        if since is not None:
            seen.append((min(since.values()), start))
            seen.kpis = since
        return start

    monkeypatch.setattr(kpis, "materialise", spy)
    return seen


@pytest.fixture
def pair(tmp_path, monkeypatch):
    monkeypatch.setenv("CSC_ID_KEY", "incremental-test")
    inc, full = Store.open(tmp_path / "inc" / "csc.duckdb"), FullStore.open(tmp_path / "full" / "csc.duckdb")
    yield inc, full
    inc.close()
    full.close()


def table(sheet: str, rows: list[dict]) -> pa.Table:
    cols = spec.SHEETS[sheet].columns
    return pa.table({c.name: pa.array([r.get(c.name) for r in rows], ARROW[c.type]) for c in cols})


def close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) or (math.isnan(a) and math.isnan(b))
    return a == b


def assert_same(inc: Store, full: Store, when: str) -> None:
    queries = {
        "kpi_results": "select kpi, period, area, numerator, denominator, value, hidden from kpi_results "
                       "order by kpi, period, area nulls first",
        "kpi_team_results": "select kpi, period, area, team, numerator, denominator, value, hidden "
                            "from kpi_team_results order by kpi, period, area, team",
        "kpi_history": "select import_id, event, kpi, period, area, numerator, denominator, value from kpi_history "
                       "order by kpi, period, area nulls first, change_id",
    }
    for sheet in spec.SHEETS:
        queries[f"cur_{sheet}"] = f"select * from cur_{sheet} order by all"
    for name in ("inferred_involvements", "referral_counts_current"):  # from the Annex A imports
        queries[name] = f"select * from {name} order by all"
    for name, sql in queries.items():
        a, b = inc.cursor().execute(sql).fetchall(), full.cursor().execute(sql).fetchall()
        assert len(a) == len(b), f"{when}: {name} has {len(a)} rows, a full recompute {len(b)}"
        for x, y in zip(a, b):
            assert len(x) == len(y) and all(close(u, v) for u, v in zip(x, y)), f"{when}: {name}: {x} != {y}"


def both(pair, fn) -> list:
    return [fn(s) for s in pair]


# --- the demo council ------------------------------------------------------------------------------

def test_the_demo_councils_imports_rollbacks_and_corrections_give_what_a_full_recompute_gives(pair, tmp_path, starts):
    months = demo.generate("2010-04", "2010-11")
    files = {p: demo.write_workbook(sheets, tmp_path / f"{p}.xlsx") for p, sheets in months}
    ids = {}
    for period, _ in months:
        results = both(pair, lambda s, p=period: s.import_file(files[p], p, user="demo", imported_at=demo.import_datetime(p)))
        assert all(r.status == "loaded" for r in results), [r.message for r in results]
        ids[period] = results[0].import_id
        assert_same(*pair, f"after importing {period}")
    print("first month recomputed after each monthly import:", starts)

    # the latest month rolled back, then loaded again; an old month rolled back
    both(pair, lambda s: s.rollback(ids["2010-11"]))
    assert_same(*pair, "after rolling back the latest month")
    both(pair, lambda s: s.import_file(files["2010-11"], "2010-11", user="demo", imported_at=dt.datetime(2010, 12, 9, 9)))
    assert_same(*pair, "after loading the latest month again")
    both(pair, lambda s: s.rollback(ids["2010-06"]))
    assert_same(*pair, "after rolling back an old month")

    # corrections in the latest month's extract, each worked out by hand
    frames = {p: sheets for p, sheets in months}
    inv = frames["2010-05"]["involvements"]
    ended = inv[inv["end_date"].notna() & inv["start_date"].notna()].iloc[0].to_dict()
    open_ = inv[inv["end_date"].isna()].iloc[0].to_dict()
    corrected_end = ended["end_date"] + dt.timedelta(days=40)
    closed = dt.date(2010, 11, 15)

    def fix(row, **changes):
        return {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in {**row, **changes}.items()}

    cases = [
        # an end date moved later: the old end date's month
        ({"involvements": [fix(ended, end_date=corrected_end)]}, f"{ended['end_date']:%Y-%m}"),
        # a long-open case closed in the latest month: that month
        ({"involvements": [fix(open_, end_date=closed)]}, "2010-11"),
        # a team changed on an old record: the record's earliest date
        ({"involvements": [fix(ended, end_date=corrected_end, team="Fenland Team")]}, f"{ended['start_date']:%Y-%m}"),
    ]
    for tables, expected in cases:
        for s in pair:
            s.import_tables({k: table(k, v) for k, v in tables.items()}, "2010-11", user="analyst", name="fix",
                            imported_at=dt.datetime(2010, 12, 20, 9))
        assert starts[-1][0] == expected
        assert_same(*pair, f"after a correction dated {expected}")

    # a backfill of an old month (an extract for 2010-06 again, after its rollback)
    both(pair, lambda s: s.import_file(files["2010-06"], "2010-06", user="demo", imported_at=dt.datetime(2010, 12, 21, 9)))
    assert starts[-1][0] <= "2010-06"
    assert_same(*pair, "after a backfill of 2010-06")


# --- Annex A imports ------------------------------------------------------------------------------

def test_annex_a_imports_and_the_extracts_that_end_their_inference_give_what_a_full_recompute_gives(pair, tmp_path):
    """The Annex A tables (inferred involvements, List 3 counts) are rebuilt only by an Annex A
    import or rollback, or one that makes cur_involvements empty or not: every other import
    leaves them as they are."""
    from tests.conftest import write_xlsx
    from tests.unit.test_annexa import WORKER_MONTHS, annex, mapped, referral

    d = dt.date
    for s in pair:
        mapped(s)
    ids = []
    for period, lists in WORKER_MONTHS.items():
        lists = {**lists, "referrals": [referral("C4", d(2011, int(period[5:]), 3))]}
        path = annex(tmp_path, name=f"annex-{period}.xlsx", **lists)
        results = both(pair, lambda s, p=period, f=path: s.import_file(f, p, user="t"))
        assert all(r.status == "loaded" for r in results), [r.message for r in results]
        ids.append(results[0].import_id)
        assert_same(*pair, f"after the Annex A import of {period}")
    assert pair[0].cursor().execute("select count(*) from inferred_involvements").fetchall()[0][0] > 0
    both(pair, lambda s: s.rollback(ids[1]))
    assert_same(*pair, "after rolling back an Annex A month")
    plans = write_xlsx(tmp_path / "plans.xlsx", {"CP Plans": [
        ["cp_plan_id", "child_id", "start_date", "area_office", "worker_id"], ["P1", "C1", d(2011, 1, 1), "North", "W1"]]})
    both(pair, lambda s: s.import_file(plans, "2011-06", user="t"))
    assert_same(*pair, "after an extract with no involvements")
    extract = write_xlsx(tmp_path / "extract.xlsx", {"Involvements": [
        ["involvement_id", "child_id", "worker_id", "start_date", "end_date", "area_office"],
        ["I1", "C1", "W1", d(2011, 1, 10), None, "South"]]})
    results = both(pair, lambda s: s.import_file(extract, "2011-06", user="t"))
    assert pair[0].cursor().execute("select count(*) from inferred_involvements").fetchall()[0][0] == 0
    assert_same(*pair, "after the first involvements sheet")
    both(pair, lambda s: s.rollback(results[0].import_id))
    assert pair[0].cursor().execute("select count(*) from inferred_involvements").fetchall()[0][0] > 0
    assert_same(*pair, "after its rollback")


# --- worked by hand on a small council -----------------------------------------------------------

def _involvement(iid, child, worker, start, end=None, team="T1", area="North"):
    return {"involvement_id": iid, "child_id": child, "worker_id": worker, "start_date": start, "end_date": end,
            "area_office": area, "team": team}


def test_the_first_month_recomputed_is_worked_out_from_what_changed(pair, starts):
    d = dt.date
    base = {
        "referrals": table("referrals", [{"referral_id": "R1", "child_id": "C1", "referral_date": d(2011, 1, 5),
                                          "area_office": "North"}]),
        "involvements": table("involvements", [
            _involvement("I1", "C1", "W1", d(2011, 1, 10)),
            _involvement("I2", "C2", "W2", d(2011, 2, 1), d(2011, 9, 10)),
            _involvement("I3", "C3", "W1", d(2011, 3, 1), d(2011, 10, 1)),
        ]),
    }
    at = dt.datetime(2012, 1, 6, 9)

    def load(tables, period):
        for s in pair:
            s.import_tables(tables, period, user="analyst", name=f"{period}-{len(starts)}", imported_at=at)

    def december(*args, **kw):  # one involvement sent again in December's extract
        load({"involvements": table("involvements", [_involvement(*args, **kw)])}, "2011-12")

    load(base, "2011-06")
    load({"referrals": table("referrals", [{"referral_id": "R2", "child_id": "C4", "referral_date": d(2011, 12, 2),
                                            "area_office": "North"}])}, "2011-12")
    assert starts[-1] == ("2011-12", "2011-07")  # the spine grew by six months: from the first new one
    assert_same(*pair, "a new month")
    # I2's end moved from 10 September to 20 July: July is the first month it can move
    december("I2", "C2", "W2", d(2011, 2, 1), d(2011, 7, 20))
    assert starts[-1] == ("2011-07", "2011-07")
    assert_same(*pair, "I2's end date moved earlier")
    # I3 sent again unchanged (only its import and period move): its end's month is not recomputed;
    # the import's own period (December, for data timeliness) is
    december("I3", "C3", "W1", d(2011, 3, 1), d(2011, 10, 1))
    assert starts[-1] == ("2011-12", "2011-12")
    assert_same(*pair, "I3 sent again unchanged")
    # I1, open since January, closed on 5 December: December
    december("I1", "C1", "W1", d(2011, 1, 10), d(2011, 12, 5))
    assert starts[-1] == ("2011-12", "2011-12")
    assert_same(*pair, "I1 closed")
    # I3's worker changed (not a date): its earliest date, March
    december("I3", "C3", "W9", d(2011, 3, 1), d(2011, 10, 1))
    assert starts[-1] == ("2011-03", "2011-03")
    # only the KPIs that read the involvements from March; the others from the import's month
    # (data timeliness) or the months their own tables moved (none here)
    involvements = {"caseload_avg", "caseload_stability_pct", "cp_3plus_workers_pct"}
    assert starts.kpis == {k: "2011-03" if k in involvements else "2011-12" for k in kpis.registry()}
    assert_same(*pair, "I3's worker changed")
    # I1's team changed: its start, January, the spine's first month: everything
    december("I1", "C1", "W1", d(2011, 1, 10), d(2011, 12, 5), team="T2")
    assert starts[-1] == ("2011-01", None)
    assert_same(*pair, "I1's team changed")


def test_a_sheets_first_load_with_a_key_twice_keeps_one_current_row_as_a_full_recompute_does(pair, starts):
    """A sheet's first load (no key of it current yet) goes in straight from the import's rows; a
    key the import holds twice (`import_tables` checks nothing) still gives one current row."""
    d = dt.date
    r1 = {"referral_id": "R1", "child_id": "C1", "referral_date": d(2011, 1, 5), "area_office": "North"}
    r2 = {"referral_id": "R2", "child_id": "C2", "referral_date": d(2011, 2, 7), "area_office": "South"}
    at = dt.datetime(2011, 3, 6, 9)
    for s in pair:
        s.import_tables({"referrals": table("referrals", [r1, r2, r1])}, "2011-02", user="a", name="twice",
                        imported_at=at)
    assert_same(*pair, "R1 twice in the first load")
    assert pair[0].cursor().execute("select referral_id, count(*) from cur_referrals group by 1 order by 1"
                                    ).fetchall() == [("R1", 1), ("R2", 1)]
    r3 = {"referral_id": "R3", "child_id": "C3", "referral_date": d(2011, 3, 1), "area_office": "North"}
    for s in pair:  # only new keys, to a sheet with current rows: straight in as well
        s.import_tables({"referrals": table("referrals", [r3])}, "2011-03", user="a", name="new", imported_at=at)
    assert starts[-1][0] == "2011-03"
    assert_same(*pair, "R3, a new key")
    assert pair[0].cursor().execute("select count(*) from cur_referrals").fetchall() == [(3,)]


# --- randomized small councils ---------------------------------------------------------------------

AREAS = ("North", "South", "East")


def _random_council(rng: random.Random, n: int, first: dt.date, days: int, prefix: str) -> dict[str, list[dict]]:
    def day(lo=0):
        return first + dt.timedelta(days=rng.randint(lo, days))

    def later(start, chance=0.6):
        return start + dt.timedelta(days=rng.randint(0, 200)) if rng.random() < chance else None

    def area():
        a = rng.choice(AREAS)
        return a, f"{a} team {rng.randint(1, 2)}"

    workers = [f"W{i}" for i in range(8)]
    children = [f"C{i}" for i in range(n)]
    out: dict[str, list[dict]] = {s: [] for s in spec.SHEETS}
    for i in range(n):
        a, t = area()
        s = day()
        out["referrals"].append({"referral_id": f"{prefix}R{i}", "child_id": rng.choice(children), "referral_date": s,
                                 "area_office": a, "team": t})
        out["assessments"].append({"assessment_id": f"{prefix}A{i}", "child_id": rng.choice(children),
                                   "assessment_type": rng.choice(["Initial", "Core", "Single"]), "start_date": s,
                                   "completed_date": later(s, 0.8), "child_seen": rng.choice([True, False, None]),
                                   "area_office": a, "team": t, "worker_id": rng.choice(workers)})
        out["involvements"].append({"involvement_id": f"{prefix}I{i}", "child_id": rng.choice(children),
                                    "worker_id": rng.choice(workers), "start_date": s, "end_date": later(s),
                                    "area_office": a, "team": t})
        if rng.random() < 0.5:
            out["cp_plans"].append({"cp_plan_id": f"{prefix}P{i}", "child_id": rng.choice(children), "start_date": s,
                                    "end_date": later(s, 0.4), "previous_plans": rng.choice([0, 1, None]),
                                    "area_office": a, "team": t, "worker_id": rng.choice(workers)})
            out["transfers"].append({"transfer_id": f"{prefix}T{i}", "child_id": rng.choice(children), "from_team": "Intake",
                                     "to_team": t, "requested_date": s, "accepted_date": later(s, 0.8), "area_office": a})
            out["audits"].append({"audit_id": f"{prefix}U{i}", "child_id": rng.choice(children), "audit_date": s,
                                  "area_office": a, "subject": rng.choice(["assessment", "cp_plan"]),
                                  "grade": rng.choice(["Good", "Inadequate"]), "is_smart": rng.choice([True, False])})
        out["supervisions"].append({"supervision_id": f"{prefix}S{i}", "worker_id": rng.choice(workers),
                                    "supervision_date": s})
    for w in workers[: rng.randint(3, 8)]:
        a, t = area()
        s = day() - dt.timedelta(days=300)
        out["workforce"].append({"worker_id": w, "area_office": a, "team": t, "is_qualified": rng.random() < 0.8,
                                 "is_agency": rng.random() < 0.3, "fte": rng.choice([0.5, 1.0]), "start_date": s,
                                 "end_date": later(s, 0.3)})
    for a in AREAS:
        for k in (1, 2):
            if rng.random() < 0.7:
                out["establishment"].append({"team": f"{a} team {k}", "area_office": a, "funded_fte": rng.choice([2.0, 3.0])})
    return {k: v for k, v in out.items() if v}


def _changed(rng: random.Random, rows: list[dict], key: str) -> list[dict]:
    """Some of `rows` again, some with a date or a value changed."""
    out = []
    for row in rng.sample(rows, min(len(rows), rng.randint(1, 4))):
        row = dict(row)
        dates = [k for k, v in row.items() if isinstance(v, dt.date)]
        roll = rng.random()
        if roll < 0.4 and dates:
            col = rng.choice(dates)
            row[col] = row[col] + dt.timedelta(days=rng.randint(-60, 90))
        elif roll < 0.6 and "end_date" in row:
            row["end_date"] = None if row["end_date"] else dt.date(2012, 6, 20)
        elif roll < 0.8 and "area_office" in row and key != "team":
            row["area_office"] = rng.choice(AREAS)
        out.append(row)
    return out


@pytest.mark.parametrize("seed", range(10))
def test_random_small_councils_give_what_a_full_recompute_gives(pair, seed, starts, monkeypatch):
    # a fixed first month, so that loading an earlier period (2012-03) does not move the spine's
    # start (which recomputes everything) and the months after it are recomputed alone
    monkeypatch.setenv("CSC_SERIES_START", "2011-01")
    rng = random.Random(seed)
    base = _random_council(rng, 40, dt.date(2011, 1, 1), 480, "")
    loaded: list[int] = []
    periods = ["2012-04", "2012-05", "2012-06", "2012-03", "2012-07", "2012-07", "2012-08"]
    for step, period in enumerate(periods):
        if step == 0:
            tables = base
        else:
            extra = _random_council(rng, 6, dt.date(2012, 1, 1), 200, f"S{step}")
            if rng.random() < 0.6:  # new case records only (no worker or post changed): a recent month on
                extra = {s: rows for s, rows in extra.items() if s not in ("workforce", "establishment")}
            fixes = rng.random() < 0.5  # corrections of older records
            tables = {s: extra.get(s, []) + (_changed(rng, base[s], spec.SHEETS[s].key[0]) if s in base and fixes else [])
                      for s in sorted(set(base) | set(extra))}
            tables = {s: rows for s, rows in tables.items()
                      if rows and len({r[spec.SHEETS[s].key[0]] for r in rows}) == len(rows)}
        at = dt.datetime(2012, 9, 1, 9) + dt.timedelta(days=step)
        results = [s.import_tables({k: table(k, v) for k, v in tables.items()}, period, user="x",
                                   name=f"{seed}-{step}", imported_at=at) for s in pair]
        loaded.append(results[0].import_id)
        assert_same(*pair, f"seed {seed}, import {step} ({period})")
        if step >= 2 and rng.random() < 0.5:
            gone = loaded.pop(rng.randrange(1, len(loaded)))
            both(pair, lambda s, g=gone: s.rollback(g))
            assert_same(*pair, f"seed {seed}, rollback of import {gone}")
    assert starts, "every import and rollback went through the incremental path"

"""The loaded demo council, read back through the KPI SQL: its figures land in the ranges
English councils publish (the ranges the demo issue and docs/demo-data.md give, not this
code's output) and tell the report's story."""

from __future__ import annotations

import pytest

from csc import demo
from csc.store import Store

pytestmark = pytest.mark.slow

BEFORE = ("2010-04", "2011-04")  # before the action plan (agreed May 2011)
LATE = ("2012-01", "2012-03")  # the last quarter of the demo


@pytest.fixture(scope="module")
def cur(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "csc.duckdb"
    demo.run_demo(db)
    store = Store.open(db)
    yield store.cursor()
    store.close()


def mean(cur, kpi, months, area=None):
    rows = cur.execute(
        "select avg(value) from kpi_results where kpi = $kpi and period between $a and $b "
        "and area is not distinct from $area",
        {"kpi": kpi, "a": months[0], "b": months[1], "area": area},
    ).fetchall()
    return rows[0][0]


@pytest.mark.parametrize(
    "kpi, low, high",
    [
        ("re_referral_pct", 18, 26),  # about 22%
        ("assessments_timely_pct", 78, 87),  # 80-85% in time
        ("turnover_rate_pct", 12, 18),  # about 15%
        ("agency_rate_pct", 14, 19),  # 15-18%
        ("vacancy_rate_pct", 12, 18),  # about 15%
        ("caseload_avg", 15, 21),  # 16-20 per FTE
        ("cp_2years_pct", 2, 6),  # about 4%
        ("cp_3plus_workers_pct", 19, 27),  # 20-25%
    ],
)
def test_before_the_plan_the_figures_are_in_published_ranges(cur, kpi, low, high):
    assert low <= mean(cur, kpi, BEFORE) <= high


def test_qualified_staff_assessments_rise_from_below_90_to_about_100(cur):
    assert mean(cur, "assessments_qualified_pct", BEFORE) < 90
    assert mean(cur, "assessments_qualified_pct", LATE) >= 99


def test_transfers_get_timely_after_the_action(cur):
    assert mean(cur, "transfer_timely_pct", BEFORE) < 50
    assert mean(cur, "transfer_timely_pct", LATE) > 80


def test_performance_data_arrives_sooner(cur):
    assert mean(cur, "data_timeliness_days", BEFORE) > 10
    assert mean(cur, "data_timeliness_days", LATE) <= 5


def test_one_area_office_lags_on_changes_of_worker(cur):
    late = {a: mean(cur, "cp_3plus_workers_pct", LATE, a) for a in ("Fenland", "Cambridge City", "Huntingdon")}
    assert late["Fenland"] > max(late["Cambridge City"], late["Huntingdon"]) + 5
    assert mean(cur, "cp_3plus_workers_pct", LATE) < mean(cur, "cp_3plus_workers_pct", BEFORE)

"""Action 2 KPIs (quality of assessments and child protection plans), from case-file audits."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from csc import kpis

HEADER = ["audit_id", "child_id", "audit_date", "area_office", "subject", "grade", "is_smart"]
AFTER_APRIL = dt.datetime(2011, 5, 10, 9, 0)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def audit(aid, date, area, subject, grade, smart=None):
    return [aid, f"C-{aid}", day(date), area, subject, grade, smart]


def figures(store, kpi):
    """{(period, area or None for all areas): result row} as the dashboard reads them."""
    df = kpis.results(store.cursor(), kpi=kpi)
    return {(r.period, None if pd.isna(r.area) else r.area): r for r in df.itertuples(index=False)}


def load_assessment_audits(load):
    load(
        {
            "Audits": [
                HEADER,
                audit("A1", "2011-04-01", "North", "assessment", "Outstanding"),  # M0, good
                audit("A2", "2011-04-30", "North", "Assessment", "Requires improvement"),  # M1, not good
                audit("A3", "2011-04-15", "South", "assessment", "Good"),  # good
                audit("A4", "2011-05-01", "South", "assessment", "Adequate"),  # day after M1: May
                audit("A5", "2011-04-15", "North", "CP Plan", "Good", "Y"),  # not an assessment audit
                audit("A6", "2011-04-15", "North", "other", "Good"),  # not an assessment audit
                audit("A7", "2011-03-31", "South", "assessment", "Inadequate"),  # March
            ]
        },
        period="2011-04",
        imported_at=AFTER_APRIL,
    )


def test_audit_good_share_of_assessment_audits_in_the_month(store, load):
    load_assessment_audits(load)
    got = figures(store, "audit_good_pct")
    # April assessment audits: A1 good, A2 not, A3 good -> 2 of 3
    april = got[("2011-04", None)]
    assert (april.numerator, april.denominator) == (2, 3)
    assert april.value == pytest.approx(200 / 3)


def test_audit_good_by_area(store, load):
    load_assessment_audits(load)
    got = figures(store, "audit_good_pct")
    # North: A1 good, A2 not -> 50; South: A3 good -> 100
    assert got[("2011-04", "North")].value == 50
    assert got[("2011-04", "South")].value == 100


def test_audit_good_month_end_boundary_and_empty_area(store, load):
    load_assessment_audits(load)
    got = figures(store, "audit_good_pct")
    # March: A7 (31 Mar) inadequate -> 0 of 1, South only; North had no assessment audit in March
    assert (got[("2011-03", None)].numerator, got[("2011-03", None)].denominator) == (0, 1)
    assert got[("2011-03", "South")].value == 0
    assert ("2011-03", "North") not in got


def test_cp_plan_smart_ignores_audits_that_do_not_say(store, load):
    load(
        {
            "Audits": [
                HEADER,
                audit("P1", "2011-04-01", "North", "CP Plan", "Good", "Y"),  # smart
                audit("P2", "2011-04-20", "North", "Child Protection Plan", "Adequate", "N"),  # not smart
                audit("P3", "2011-04-21", "North", "cp_plan", "Good", None),  # blank: left out
                audit("P4", "2011-04-30", "South", "cp_plan", "Good", "Yes"),  # smart, on M1
                audit("P5", "2011-04-10", "South", "assessment", "Good", "Y"),  # not a plan audit
                audit("P6", "2011-03-15", "South", "cp_plan", "Good", None),  # March, blank
            ]
        },
        period="2011-04",
        imported_at=AFTER_APRIL,
    )
    got = figures(store, "cp_plan_smart_pct")
    # April: P1 smart, P2 not, P4 smart -> 2 of 3; North 1 of 2; South 1 of 1
    assert (got[("2011-04", None)].numerator, got[("2011-04", None)].denominator) == (2, 3)
    assert got[("2011-04", "North")].value == 50
    assert got[("2011-04", "South")].value == 100
    # March's only plan audit leaves is_smart blank: denominator 0 -> no March row
    assert not any(period == "2011-03" for period, _ in got)

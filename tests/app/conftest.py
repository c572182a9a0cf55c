"""A small council for the page tests, built from hand-made workbooks through the real import.

Two area offices, North and South; four monthly extracts, April to July 2011. Every figure the
page tests assert is worked out by hand in the comments below. Working days: requests are
made on a Monday and accepted the next day (1 working day: timely) or the Tuesday a week
later (6: late), in weeks with no bank holiday (2 May and 30 May 2011 are bank holidays).

Transfers accepted within 5 working days (transfer_timely_pct), target 90:
    April  South 2/2                          all 2/2  = 100%
    May    South 6/8 = 75%, North 1/2 = 50%   all 7/10 = 70%
    June   South 3/3 = 100%, North 0/3 = 0%   all 3/6  = 50%
    July   South 2/2 = 100%, North 1/2 = 50%  all 3/4  = 75%
  and one North transfer requested Mon 20 June, never accepted: waiting 29 working days at
  31 July (June 21-30: 8, July 1-29: 21).
Referrals: April N2 S3 (5), May N4 S6 (10), June N3 S7 (10), July N3 S7 (10); one July
  South referral is the child's second in 12 months (re-referral).
Assessments completed in July (Initial 7, Core 35, Single 45 working days):
    North  Initial 4→12 Jul (6, in time, W1, seen), Initial 4→14 Jul (8, late, W2, not seen),
           Core 6 Jun→5 Jul (21, in time, W4 unqualified, seen)
    South  3 × Initial 4→5 Jul (1, in time, W5, seen), Single 6 Jun→5 Jul (21, in time, W6,
           seen), Single 3 May→15 Jul (52, late, W99 unknown, child_seen blank)
  and a North Core assessment started 3 May, never completed: 62 working days open at 31 July.
Workforce (all from 2010-01-01): North A: W1 q 1.0, W2 q 0.5, W3 q agency 1.0, W4 unqualified;
  South A: W5-W10 q 1.0, W11 q agency 1.0; South B: W12 q 1.0, left 15 June 2011.
  Establishment: North A 3.0, South A 7.0, South B 2.0 funded FTE.
  Supervisions on 5 July for W1, W2, W5-W10.
Child protection: CN1 (North, previous plans 1) and CS1 (South), both from 1 April 2011, open.
  CN1 had workers W1, W2, W3 since the plan started; CS1 only W5.
Action plan: A1 has a commentary for July 2011 (COMMENTARY).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from csc import plan
from csc.store import Store
from tests.conftest import write_xlsx

D = dt.date

TRANSFER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
REFERRAL = ["referral_id", "child_id", "referral_date", "area_office", "team"]
ASSESSMENT = ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "child_seen",
              "area_office", "team", "worker_id"]
WORKFORCE = ["worker_id", "area_office", "team", "role", "is_qualified", "is_agency", "fte", "start_date", "end_date",
             "leave_reason"]
ESTABLISHMENT = ["team", "area_office", "funded_fte"]
CP_PLAN = ["cp_plan_id", "child_id", "start_date", "end_date", "category", "previous_plans", "area_office", "team",
           "worker_id"]
INVOLVEMENT = ["involvement_id", "child_id", "worker_id", "start_date", "end_date", "area_office", "team"]
SUPERVISION = ["supervision_id", "worker_id", "supervision_date"]

# (Monday of the request, Tuesday next day, Tuesday a week later) per month: no bank holidays.
WEEKS = {
    "2011-04": (D(2011, 4, 4), D(2011, 4, 5), D(2011, 4, 12)),
    "2011-05": (D(2011, 5, 9), D(2011, 5, 10), D(2011, 5, 17)),
    "2011-06": (D(2011, 6, 6), D(2011, 6, 7), D(2011, 6, 14)),
    "2011-07": (D(2011, 7, 4), D(2011, 7, 5), D(2011, 7, 12)),
}
# period -> area -> (timely, late)
TRANSFERS = {
    "2011-04": {"South": (2, 0)},
    "2011-05": {"South": (6, 2), "North": (1, 1)},
    "2011-06": {"South": (3, 0), "North": (0, 3)},
    "2011-07": {"South": (2, 0), "North": (1, 1)},
}
REFERRALS = {"2011-04": {"North": 2, "South": 3}, "2011-05": {"North": 4, "South": 6},
             "2011-06": {"North": 3, "South": 7}, "2011-07": {"North": 3, "South": 7}}
COMMENTARY = {"did": "Daily transfer huddle between intake and North", "changed": "South accepts next day",
              "next": "Extend the huddle to North's duty team"}
IMPORTED_AT = {"2011-04": dt.datetime(2011, 5, 6, 9), "2011-05": dt.datetime(2011, 6, 7, 9),
               "2011-06": dt.datetime(2011, 7, 7, 9), "2011-07": dt.datetime(2011, 8, 5, 9)}


def transfers(period: str) -> list[list]:
    monday, next_day, week_later = WEEKS[period]
    rows = [TRANSFER]
    for area, (timely, late) in TRANSFERS[period].items():
        for i in range(timely + late):
            accepted = next_day if i < timely else week_later
            rows.append([f"T-{period}-{area}-{i}", f"C-T-{period}-{area}-{i}", "Intake", f"{area} A", monday,
                         accepted, area])
    if period == "2011-06":
        rows.append(["T-WAIT", "C-WAIT", "Intake", "North A", D(2011, 6, 20), None, "North"])
    return rows


def referrals(period: str) -> list[list]:
    y, m = int(period[:4]), int(period[5:])
    rows = [REFERRAL]
    for area, n in REFERRALS[period].items():
        for i in range(n):
            child = f"C-R-{period}-{area}-{i}"
            if period == "2011-07" and area == "South" and i == 0:
                child = "C-R-2011-04-South-0"  # referred again within 12 months
            rows.append([f"R-{period}-{area}-{i}", child, D(y, m, 10 + i), area, f"{area} A"])
    return rows


def assessments(period: str) -> list[list]:
    rows = [ASSESSMENT]
    if period == "2011-05":
        rows.append(["A-N9", "C-A-N9", "Core", D(2011, 5, 3), None, None, "North", "North A", "W1"])
    if period == "2011-07":
        rows += [
            ["A-N1", "C-A-N1", "Initial", D(2011, 7, 4), D(2011, 7, 12), "Y", "North", "North A", "W1"],
            ["A-N2", "C-A-N2", "Initial", D(2011, 7, 4), D(2011, 7, 14), "N", "North", "North A", "W2"],
            ["A-N3", "C-A-N3", "Core", D(2011, 6, 6), D(2011, 7, 5), "Y", "North", "North A", "W4"],
            ["A-S1", "C-A-S1", "Initial", D(2011, 7, 4), D(2011, 7, 5), "Y", "South", "South A", "W5"],
            ["A-S2", "C-A-S2", "Initial", D(2011, 7, 4), D(2011, 7, 5), "Y", "South", "South A", "W5"],
            ["A-S3", "C-A-S3", "Initial", D(2011, 7, 4), D(2011, 7, 5), "Y", "South", "South A", "W5"],
            ["A-S4", "C-A-S4", "Single", D(2011, 6, 6), D(2011, 7, 5), "Y", "South", "South A", "W6"],
            ["A-S5", "C-A-S5", "Single", D(2011, 5, 3), D(2011, 7, 15), None, "South", "South A", "W99"],
        ]
    return rows


def workforce() -> list[list]:
    start = D(2010, 1, 1)
    rows = [WORKFORCE,
            ["W1", "North", "North A", "Social worker", "Y", "N", 1.0, start, None, None],
            ["W2", "North", "North A", "Social worker", "Y", "N", 0.5, start, None, None],
            ["W3", "North", "North A", "Social worker", "Y", "Y", 1.0, start, None, None],
            ["W4", "North", "North A", "Family support worker", "N", "N", 1.0, start, None, None]]
    rows += [[f"W{i}", "South", "South A", "Social worker", "Y", "N", 1.0, start, None, None] for i in range(5, 11)]
    rows += [["W11", "South", "South A", "Social worker", "Y", "Y", 1.0, start, None, None],
             ["W12", "South", "South B", "Social worker", "Y", "N", 1.0, start, D(2011, 6, 15), "Resigned"]]
    return rows


def static_sheets() -> dict[str, list[list]]:
    return {
        "Workforce": workforce(),
        "Establishment": [ESTABLISHMENT, ["North A", "North", 3.0], ["South A", "South", 7.0], ["South B", "South", 2.0]],
        "CP Plans": [CP_PLAN,
                     ["CP-N1", "CN1", D(2011, 4, 1), None, "Neglect", 1, "North", "North A", "W3"],
                     ["CP-S1", "CS1", D(2011, 4, 1), None, "Neglect", 0, "South", "South A", "W5"]],
        "Involvements": [INVOLVEMENT,
                         ["I1", "CN1", "W1", D(2011, 1, 10), D(2011, 4, 5), "North", "North A"],
                         ["I2", "CN1", "W2", D(2011, 4, 5), D(2011, 4, 20), "North", "North A"],
                         ["I3", "CN1", "W3", D(2011, 4, 20), None, "North", "North A"],
                         ["I4", "CS1", "W5", D(2011, 3, 1), None, "South", "South A"],
                         ["I5", "CN2", "W1", D(2011, 4, 5), None, "North", "North A"],
                         ["I6", "CS2", "W5", D(2011, 3, 1), None, "South", "South A"],
                         ["I7", "CS3", "W6", D(2011, 3, 1), None, "South", "South A"],
                         ["I8", "CS4", "W7", D(2011, 3, 1), None, "South", "South A"],
                         # open since January 2010 with nothing recorded for the child since
                         ["I9", "CS9", "W6", D(2010, 1, 4), None, "South", "South A"],
                         # a worker on no workforce sheet
                         ["I10", "CN3", "W98", D(2011, 6, 1), None, "North", "North A"]],
    }


def build_council(folder: Path) -> Path:
    db = folder / "csc.duckdb"
    with Store.open(db) as store:
        for period in ("2011-04", "2011-05", "2011-06", "2011-07"):
            sheets = {"Referrals": referrals(period), "Transfers": transfers(period)}
            if len(assessments(period)) > 1:
                sheets["Assessments"] = assessments(period)
            if period == "2011-04":
                sheets.update(static_sheets())
            if period == "2011-07":
                sheets["Supervisions"] = [SUPERVISION] + [
                    [f"S{w}", w, D(2011, 7, 5)] for w in ("W1", "W2", "W5", "W6", "W7", "W8", "W9", "W10")]
            path = write_xlsx(folder / f"extract-{period}.xlsx", sheets)
            result = store.import_file(path, period, user="setup", imported_at=IMPORTED_AT[period])
            assert result.status == "loaded", [p.message for p in result.problems]
        plan.record_change(store, "A1", "commentary:2011-07", json.dumps(COMMENTARY), "setup", "director")
    return db


@pytest.fixture(scope="module")
def council_db(tmp_path_factory) -> Path:
    return build_council(tmp_path_factory.mktemp("council"))


@pytest.fixture(scope="module")
def empty_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("empty") / "csc.duckdb"
    Store.open(db).close()
    return db

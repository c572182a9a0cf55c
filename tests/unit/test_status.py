"""The derived action status (csc/status.py, docs/action-status.md) on a hand-made plan.

Every action starts in May 2011 and is due in September 2011; both measures have a target of
90 and higher is better. Expected statuses are worked out by hand from the rule:

- steady rise 91, 92, 93, 94 (May–Aug): the line projects exactly 95 for September with no
  spread → trajectory on track;
- 88, 92, 88, 92: slope 0.8, projection 92 for September, residuals ±0.8/±2.4 → s = 2.53,
  t(0.90, 2 df) = 1.886, half-width 1.886 × 2.53 × √2.5 = 7.5 → range 84.5 to 99.5, which
  straddles 90 → at risk;
- flat 70: projection 70, no spread → off track;
- values through September: the due month is reached, so met (≥ 90) or missed.
"""

from __future__ import annotations

import pytest

from csc import status
from csc.plan import Action, Plan

MONTHS = ["2011-05", "2011-06", "2011-07", "2011-08"]
RISING = [91, 92, 93, 94]
WOBBLY = [88, 92, 88, 92]
FLAT_LOW = [70, 70, 70, 70]


def action(i: str, owner_status: str = "on track", due: str = "2011-09-30") -> Action:
    return Action(id=i, title=f"Action {i}", owner="Someone", start="2011-05", due=due, status=owner_status,
                  kpis=("m1", "m2"), targets={"m1": 90.0, "m2": 90.0})


PLAN = Plan("Hand-made plan", (action("A"), action("B"), action("C"), action("D"), action("E"), action("F", due="ongoing")))
SERIES = {
    "A": {"m1": (MONTHS, RISING), "m2": (MONTHS, RISING)},
    "B": {"m1": (MONTHS, RISING), "m2": (MONTHS, WOBBLY)},
    "C": {"m1": (MONTHS, FLAT_LOW), "m2": (MONTHS, FLAT_LOW)},
    "D": {"m1": (MONTHS + ["2011-09"], RISING + [95]), "m2": (MONTHS + ["2011-09"], RISING + [80])},
    "E": {"m1": (MONTHS + ["2011-09"], RISING + [95]), "m2": (MONTHS + ["2011-09"], RISING + [90])},
    # ongoing: no due date, so the latest month's RAG: 94 green, 85 amber (within 10% of 90)
    "F": {"m1": (MONTHS, RISING), "m2": (MONTHS, [85, 85, 85, 85])},
}


def derived(action_id: str) -> status.ActionStatus:
    a = PLAN.action(action_id)
    return status.derive(
        status.measure(k, *SERIES[a.id][k], a.target(k), "higher", a.start, a.due_period) for k in a.kpis
    )


def test_each_status_arises_from_the_rule():
    assert derived("A").status == "on track"
    assert derived("B").status == "at risk"
    assert derived("C").status == "off track"
    assert derived("D").status == "off track"
    assert derived("E").status == "complete"
    assert derived("F").status == "at risk"


def test_the_measures_verdicts():
    a = PLAN.action("B")
    rising, wobbly = (status.measure(k, *SERIES["B"][k], 90.0, "higher", a.start, a.due_period) for k in a.kpis)
    assert (rising.trajectory, rising.verdict, rising.rag) == ("on track", "on track", "green")
    assert (wobbly.trajectory, wobbly.verdict, wobbly.rag) == ("at risk", "at risk", "green")


def test_the_reasons_say_why():
    assert derived("C").reason == "2 of 2 measures are off track"
    assert derived("D").reason == "1 of 2 measures missed its target in its due month, September 2011"
    assert derived("B").reason == "1 of 2 measures is at risk"
    assert derived("E").reason == "2 of 2 measures met their target in their due month, September 2011"


def test_a_verdict_after_the_due_month_names_the_month_it_judged():
    # due September; November's value is the one judged. Saying "met at the due date" named
    # September, which missed (85): the month judged is named, and the due month beside it
    late = MONTHS + ["2011-09", "2011-10", "2011-11"]
    met = status.derive([status.measure("m1", late, RISING + [85, 88, 91], 90.0, "higher", "2011-05", "2011-09")])
    assert (met.status, met.reason) == ("complete",
                                        "1 of 1 measure met its target in November 2011, after its due month (September 2011)")
    missed = status.derive([
        status.measure("m1", late, RISING + [95, 95, 89], 90.0, "higher", "2011-05", "2011-09"),
        status.measure("m2", late, RISING + [95, 95, 80], 90.0, "higher", "2011-05", "2011-09"),
    ])
    assert missed.reason == "2 of 2 measures missed their target in November 2011, after their due month (September 2011)"
    # measures whose latest months differ: no one month to name, and never the due month as the judged one
    apart = status.derive([
        status.measure("m1", late, RISING + [95, 95, 95], 90.0, "higher", "2011-05", "2011-09"),
        status.measure("m2", late[:-1], RISING + [95, 95], 90.0, "higher", "2011-05", "2011-09"),
    ])
    assert apart.reason == "2 of 2 measures met their target in their latest month, after their due month (September 2011)"
    # the Overview's rows carry the month their ratings judged; the action its due month
    rows = [{"title": "m1", "rag": "green", "trajectory": "target met", "value": 91.0, "target": 90.0,
             "direction": "higher", "period": "2011-11"}]
    assert status.from_overview(rows, "2011-09").reason == (
        "1 of 1 measure met its target in November 2011, after its due month (September 2011)")


def test_owner_status_beside_the_derived_one():
    both_missed = status.derive([
        status.measure("m1", MONTHS + ["2011-09"], FLAT_LOW + [70], 90.0, "higher", "2011-05", "2011-09"),
        status.measure("m2", MONTHS + ["2011-09"], FLAT_LOW + [80], 90.0, "higher", "2011-05", "2011-09"),
    ])
    assert status.differs("on track", both_missed)
    assert status.comparison("on track", both_missed) == (
        "owner says on track; 2 of 2 measures missed their target in their due month, September 2011")
    assert not status.differs("on track", derived("A"))


def test_the_measure_most_off_target_and_rag_counts():
    # D: m1 95 meets 90; m2 80 misses by 10/90 = 11% → the worst, and red (beyond the 10% amber band)
    d = derived("D")
    assert d.worst == "m2"
    assert d.counts == {"green": 1, "amber": 0, "red": 1, "none": 0}
    assert derived("A").worst is None


@pytest.mark.parametrize("rag, trajectory, expected", [
    ("green", None, "on track"), ("amber", None, "at risk"), ("red", None, "off track"),
    ("red", "on track", "on track"), ("green", "target missed", "missed"), (None, None, None),
    ("green", "not enough data yet", "on track"),
])
def test_verdict(rag, trajectory, expected):
    assert status.verdict(rag, trajectory) == expected


def test_no_figures_is_not_rated():
    s = status.derive([status.measure("m1", [], [], 90.0, "higher", "2011-05", "2011-09")])
    assert s.status == "not rated"
    assert not status.differs("on track", s)
    # nothing to agree with: not "the figures agree" (a review, an office with no data of its own)
    said = status.comparison("on track", s)
    assert said.startswith("owner says on track; the figures cannot say yet (") and "agree" not in said


def test_unrated_says_why_measures_have_no_rating():
    # "Every measure meets its target" was said of the board's A2 with its other measure hidden (c)
    rows = [{"rag": "green", "value": 90.0, "target": 80.0, "suppressed": False},
            {"rag": None, "value": None, "target": 95.0, "suppressed": True},
            {"rag": None, "value": 3.0, "target": None, "suppressed": False},
            {"rag": None, "value": float("nan"), "target": 60.0, "suppressed": float("nan")}]
    assert status.unrated(rows) == "3 have no rating: 1 hidden as c, 1 with no target, 1 with no value"
    assert status.unrated(rows[:2]) == "1 has no rating: hidden as c"
    assert status.unrated([rows[0], rows[2], rows[2]]) == "2 have no rating: no target"
    assert status.unrated(rows[:1]) is None

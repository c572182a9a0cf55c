"""The Action plan page: directors and analysts change targets, owners, status and commentary;
every change is kept, and a changed target changes the ratings at once."""

from __future__ import annotations

import pytest

from tests.app.conftest import build_council
from tests.app.test_pages import overview_latest, overview_rows, page, texts

TIMELY = "Transfers accepted within 5 working days"


@pytest.fixture
def fresh_db(tmp_path):
    return build_council(tmp_path)  # a council of our own: these tests change its plan


def overview_rag(at, title):
    for row in overview_rows(at):
        if row["name"] == title:
            return row["rag"]
    raise AssertionError(f"{title} not on the overview")


def test_changing_a_target_is_kept_and_changes_the_rating(fresh_db):
    at = page(fresh_db, None, "director")
    # July: 3 of 4 transfers timely = 75.0% against 90: misses by 15 > 9 -> red
    assert overview_latest(at, TIMELY) == "75.0% (small base)"  # 3 of 4: fewer than 10 cases (issue 15)
    assert "Red" in overview_rag(at, TIMELY)
    at.switch_page("app_pages/plan.py").run()
    at.selectbox(key="plan_action").select("A1").run()
    at.text_input(key="target-A1-transfer_timely_pct").input("80")
    at.button[0].click()  # the form's "Save changes"
    at.run()
    assert "Saved 1 change(s). Ratings use the new targets at once." in [s.value for s in at.success]
    history = at.dataframe[-1].value  # the history of changes, newest first, in words
    assert history.iloc[0][["What", "Changed to", "Who"]].tolist() == [f"Target: {TIMELY}", "80", "local user"]
    assert history.iloc[0]["When"].count(":") <= 1  # a date and at most hours:minutes, never seconds
    at.switch_page("app_pages/overview.py").run()
    # 75 against 80: misses by 5 <= 8 -> amber
    assert "Amber" in overview_rag(at, TIMELY)


def test_a_red_measure_without_commentary_asks_for_one(fresh_db):
    at = page(fresh_db, "app_pages/action.py", "director", action="A1")
    warnings = [w.value for w in at.warning]
    # July has a commentary in the fixture; change the range to June, which has none
    at = page(fresh_db, "app_pages/action.py", "director", action="A1", to="2011-06")
    asked = [w.value for w in at.warning if "no commentary yet" in w.value]
    assert asked and asked[0].startswith("Red in June 2011")
    assert not [w for w in warnings if "no commentary yet" in w]  # July's commentary is there


def test_the_board_cannot_reach_the_plan_editor(fresh_db):
    at = page(fresh_db, None, "board")
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/plan.py")
    assert "The action plan" not in texts(at)

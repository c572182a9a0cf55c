"""Downloads made on the press (issue 17): the file is built from the page run's names when the
button is pressed, after the whole page script has run. A name the page binds again further down
must not change what an earlier button makes. Figures by hand from conftest.py: transfers accepted
within 5 working days, July 2011, all areas 3 of 4 = 75%."""

from __future__ import annotations

import io

import openpyxl
import pytest

from csc import ui, viewcache
from tests.app.conftest import build_council
from tests.app.test_pages import ACTION, page


@pytest.fixture()
def presses(monkeypatch):
    """The `make` of every download button drawn, by key (what a press would run)."""
    made = {}
    real = ui.download_file

    def spy(label, make, file_name, key, v, detail, mime, where=None):
        made[key] = make
        return real(label, make, file_name, key, v, detail, mime, **({} if where is None else {"where": where}))

    monkeypatch.setattr(ui, "download_file", spy)
    return made


@pytest.fixture()
def own_council(tmp_path):
    viewcache.clear()
    return build_council(tmp_path)


def test_the_action_workbook_is_made_when_the_records_are_shown_too(own_council, presses):
    at = page(own_council, ACTION, "director", action="A1")
    at.session_state["records-box"] = True  # "Records behind this figure" opened
    at.run()
    at.session_state["rec_show"] = True  # and "Show the records" on
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "dl-records" in presses  # the records are shown, with their own download
    workbook = openpyxl.load_workbook(io.BytesIO(presses["dl-action"]()))
    sheet = workbook["Monthly figures and SPC"]
    rows = [dict(zip([c.value for c in sheet[1]], [c.value for c in r])) for r in sheet.iter_rows(min_row=2)]
    july = [r for r in rows if r["kpi"] == "transfer_timely_pct" and r["period"] == "2011-07"]
    assert [r["value"] for r in july] == [75.0]


def test_the_board_pack_is_made_of_the_plan_and_the_figures_as_they_stand_at_the_press(own_council, presses):
    """The pack is made on the press; a target changed after the page was drawn is in it (and
    judged against), not the plan the page was drawn with beside the figures of the press."""
    from csc import plan

    page(own_council, None, "director")
    assert "dl-boardpack-html" in presses
    before = presses["dl-boardpack-html"]()
    assert "within 5 working days" in before and "Target" in before
    plan.record_change(ui.store(), "A1", "target:transfer_timely_pct", "93.7", user="lead", role="director")
    after = presses["dl-boardpack-html"]()  # the same button, pressed after the change
    assert "Target: 93.7%" in after and "93.7%" not in before


def test_the_overviews_csv_names_the_months_of_its_previous_and_starting_values(council_db, presses):
    # A review could not tell which months `previous` and `at_start` were. Transfers accepted in time,
    # all areas, July 2011: previous is June's; at_start is April's, the month before A1 started (May
    # 2011, data/action_plan.toml)
    import csv

    page(council_db, "app_pages/overview.py", "director")
    rows = list(csv.DictReader(io.StringIO(presses["dl-overview"]().decode("utf-8-sig"))))
    (timely,) = [r for r in rows if r["kpi"] == "transfer_timely_pct"]
    assert (timely["period"], timely["previous_period"], timely["at_start_period"]) == ("2011-07", "2011-06", "2011-04")
    header = list(rows[0])
    assert header.index("previous_period") == header.index("previous") + 1

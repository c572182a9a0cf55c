"""The analyst's month in Chromium: upload a file whose guardrail warnings show before loading,
load it, then roll it back, and see every table and control on the page change without a reload
(tables draw on a canvas: their rows are read from their accessible grid, and the history from
its CSV download)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from csc.store import Store
from tests.browser.conftest import Server, shot, wait_idle
from tests.conftest import write_xlsx

pytestmark = pytest.mark.browser

D = dt.date
TRANSFER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
ASSESSMENT = ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "area_office", "worker_id"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("guardrails")
    db = d / "csc.duckdb"
    with Store.open(db) as store:
        march = write_xlsx(d / "extract-2012-03.xlsx", {"Transfers": [
            TRANSFER, ["T1", "C1", "Intake", "North A", D(2012, 3, 5), D(2012, 3, 6), "North"]]})
        assert store.import_file(march, "2012-03", user="setup").status == "loaded"
    srv = Server(db).start()
    srv.dir = d
    yield srv
    srv.stop()


def period_input(page):
    return page.get_by_label("Reporting month (YYYY-MM)", exact=True).and_(page.locator("input"))


def grid_rows(page, has_text: str) -> list[list[str]]:
    """The rows of the first table whose header names `has_text`, from the grid's accessible cells."""
    grid = page.locator('[data-testid="stDataFrame"]', has_text=has_text).first
    grid.wait_for()
    return grid.evaluate("g => Array.from(g.querySelectorAll('tr')).map(tr => "
                         "Array.from(tr.querySelectorAll('td')).map(td => td.textContent)).filter(r => r.length)")


def history_csv(page) -> str:
    with page.expect_download() as download:
        page.locator('[data-testid="stDownloadButton"] button', has_text="Download (CSV)").first.click()
    return Path(download.value.path()).read_text(encoding="utf-8-sig")


def test_upload_warns_loads_and_rolls_back_with_every_table_updated(page, server):
    april = write_xlsx(server.dir / "extract-2012-04.xlsx", {
        "Transfers": [TRANSFER, ["T2", "C2", "Intake", "North A", D(2012, 4, 16), D(2012, 4, 17), "North"]],
        "Assessments": [ASSESSMENT, ["A1", "C3", "Initial", D(2012, 4, 2), D(2012, 4, 5), "North", "W1"]],
    })
    page.goto(f"{server.url}/upload")
    wait_idle(page)
    period_input(page).wait_for(timeout=60_000)
    expect(period_input(page)).to_have_value("2012-04", timeout=30_000)  # the month after March, not the clock's
    page.locator('input[type="file"]').set_input_files(str(april))
    page.get_by_text("passed every check").wait_for()
    # the warning names its consequence before anything is loaded
    warning = page.locator('[data-testid="stAlert"]', has_text='child_seen is missing from sheet "Assessments"')
    expect(warning).to_contain_text("Assessments where the child was seen will have no value for 2012-04 from this file")
    shot(page, "guardrails-warnings")
    page.get_by_role("button", name="Load it as the extract for 2012-04").click()
    page.get_by_text(re.compile(r"Loaded import 2 for 2012-04: 2 rows")).wait_for()
    wait_idle(page)
    # the same page, not reloaded: the uploader is empty, no load button, the next month is offered,
    # and the latest imports table lists import 2 as loaded
    assert page.get_by_role("button", name=re.compile("Load it as the extract")).count() == 0
    expect(period_input(page)).to_have_value("2012-05", timeout=30_000)
    rows = grid_rows(page, "Loaded by")
    assert [r[:3] for r in rows] == [["2", "2012-04", "Loaded"], ["1", "2012-03", "Loaded"]]  # in words (issue 18)
    shot(page, "guardrails-loaded")

    # roll import 2 back on the Imports page: the history, the choice, the checkbox and the button follow
    page.get_by_role("link", name=re.compile("Imports|Import history")).first.click()
    wait_idle(page)
    assert "2,2012-04,loaded" in history_csv(page).replace('"', "")
    assert [r[:3] for r in grid_rows(page, "Loaded by")][0] == ["2", "2012-04", "Loaded"]
    page.get_by_text("Yes, roll back import 2").click()
    wait_idle(page)
    page.get_by_role("button", name="Roll back").click()
    page.get_by_text("Import 2 (2012-04) was rolled back").wait_for()
    wait_idle(page)
    assert "2,2012-04,rolled_back" in history_csv(page).replace('"', "")
    assert [r[:3] for r in grid_rows(page, "Loaded by")] == [["2", "2012-04", "Rolled back"], ["1", "2012-03", "Loaded"]]
    # the choice moved on to what is still loaded, unticked, and shows it: the box once kept showing
    # the import just rolled back while the confirmation named import 1
    expect(page.get_by_role("combobox", name="Import")).to_have_value("1 · 2012-03 · extract-2012-03.xlsx")
    expect(page.get_by_text(re.compile(r"Yes, roll back import \d+"))).to_have_text("Yes, roll back import 1")
    expect(page.get_by_role("checkbox", name="Yes, roll back import 1")).not_to_be_checked()
    assert page.get_by_role("button", name="Roll back").is_disabled()
    shot(page, "guardrails-rolled-back")


def test_a_web_address_in_an_uploaded_file_is_shown_as_text_not_a_link(page, server):
    """A column heading from the file is quoted in a warning; a web address there was a live link
    (Streamlit's renderer makes links of addresses in text), one click from a phishing page."""
    path = write_xlsx(server.dir / "links.xlsx", {"Transfers": [
        [*TRANSFER, "https://evil.example/login", "write to me@evil.example"],
        ["T9", "C9", "Intake", "North A", D(2012, 4, 16), D(2012, 4, 17), "North", "x", "y"]]})
    page.goto(f"{server.url}/upload")
    wait_idle(page)
    period_input(page).wait_for(timeout=60_000)
    page.locator('input[type="file"]').set_input_files(str(path))
    warning = page.locator('[data-testid="stAlert"]', has_text="not part of the extract were ignored")
    expect(warning).to_contain_text("evil.example/login", timeout=60_000)
    expect(warning).to_contain_text("evil.example")
    links = page.eval_on_selector_all('[data-testid="stMain"] a', "els => els.map(e => e.href)")
    assert not [href for href in links if "evil" in href], links

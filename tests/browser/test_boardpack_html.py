"""The HTML board pack in real Chromium: it renders offline from a file, every charted KPI has its
plotly chart, nothing logs an error, and it prints to PDF without the interactive parts.

The council: North only, 6 transfers accepted the day they are requested in April and in May
2011 (100% timely, median 0 working days), and one more requested on Fri 27 May and never
accepted (waiting: 0 at the end of April, 1 at the end of May). Each extract is loaded on the
10th. So four KPIs have figures and are charted: transfer_timely_pct, transfer_median_days,
transfers_waiting_count and data_timeliness_days.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from csc import boardpack, plan

pytestmark = pytest.mark.browser

HEADER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
CHARTED = 4


def transfers(period: str, day: str) -> list[list[object]]:
    when = dt.date.fromisoformat(day)
    rows = [HEADER] + [[f"T{period}-{i}", f"C{period}-{i}", "Intake", "North Team", when, when, "North"] for i in range(6)]
    if period == "2011-05":
        rows.append(["W1", "CW1", "Intake", "North Team", dt.date(2011, 5, 27), None, "North"])
    return rows


@pytest.fixture
def pack_file(store, load, tmp_path):
    def _make(role: str) -> str:
        load({"Transfers": transfers("2011-04", "2011-04-12")}, period="2011-04", imported_at=dt.datetime(2011, 5, 10, 9))
        load({"Transfers": transfers("2011-05", "2011-05-10")}, period="2011-05", imported_at=dt.datetime(2011, 6, 10, 9))
        cur = store.cursor()
        path = boardpack.write(tmp_path / f"pack-{role}.html", cur, plan.current(cur), "2011-05", role=role)
        return path.as_uri()

    return _make


def open_pack(page, url: str) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.wait_for_selector(".js-plotly-plot .main-svg")
    page.wait_for_function(f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= {CHARTED}")
    return errors


def test_html_pack_renders_every_chart_offline_without_errors(page, pack_file):
    fetched: list[str] = []
    page.on("request", lambda request: fetched.append(request.url))
    page.route("http*://**", lambda route: route.abort())  # offline: nothing may be fetched
    errors = open_pack(page, pack_file("director"))
    assert page.title().startswith("Board pack: ")
    assert page.locator("table.summary tbody tr").count() == 19  # every KPI of the default plan
    assert page.locator(".js-plotly-plot").count() >= CHARTED
    assert page.locator(".js-plotly-plot").count() == page.locator("figure.chart").count()
    assert page.locator("section.action").count() == 7
    # each chart drew its data: the XmR values trace has a line path
    assert page.locator(".js-plotly-plot .scatterlayer .trace").count() >= CHARTED
    assert not errors
    assert not page.console_errors
    assert [u for u in fetched if not u.startswith(("file:", "data:", "blob:"))] == []


def test_html_board_pack_shows_c_for_the_small_count(page, pack_file):
    open_pack(page, pack_file("board"))
    row = page.locator("table.summary tbody tr", has_text="Transfers waiting to be accepted")
    assert row.locator("td").nth(2).inner_text() == "c"
    assert "small numbers suppressed" in page.locator("header .notice").inner_text()
    assert not page.console_errors


def test_html_pack_prints_without_interactive_chrome(page, pack_file, tmp_path):
    open_pack(page, pack_file("board"))
    assert page.locator(".modebar").count() == 0  # no plotly toolbar, on screen or on paper
    page.emulate_media(media="print")
    assert page.locator("nav.toc").is_hidden()
    breaks = page.eval_on_selector_all("section.action", "els => els.map(e => getComputedStyle(e).breakBefore)")
    assert breaks and set(breaks) == {"page"}
    pdf = tmp_path / "pack.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    data = pdf.read_bytes()
    assert data[:5] == b"%PDF-"
    pages = len(re.findall(rb"/Type\s*/Page(?!s)", data))
    assert pages >= 9  # the summary, then each of the 7 actions and the notes start a new page

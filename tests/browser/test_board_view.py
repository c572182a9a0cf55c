"""The board's view in Chromium (local preview as a board member): no chart label, title or card
shows a value of a month other than the one it names, and a sparkline with a hidden month draws
with a gap instead of raw text.

Transfers accepted (within 5 working days of the request, or late):
  June 2011   North 6 of 10, South 9 of 10, all areas 15 of 20 (75%): nothing small.
  July 2011   North 1 of 2, South 1 of 3, all areas 2 of 5: all hidden (1 to 5).
  August 2011 North 2 of 3 (hidden), South 10 of 12 (hidden with North, or all areas minus South would
              give North), all areas 12 of 15 = 80% shown.
So on the board's area chart North and South end in June and must say so; all areas ends in August."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from csc.store import Store
from tests.browser.conftest import Server, shot, wait_idle
from tests.conftest import write_xlsx

pytestmark = pytest.mark.browser

HEADER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
MONTHS = {  # accepted on: (North timely, late), (South timely, late)
    dt.date(2011, 6, 20): ((6, 4), (9, 1)),
    dt.date(2011, 7, 20): ((1, 1), (1, 2)),
    dt.date(2011, 8, 17): ((2, 1), (10, 2)),
}


def month_rows(accepted: dt.date, counts, prefix: str):
    rows, n = [HEADER], 0
    for area, (timely, late) in zip(("North", "South"), counts):
        for i in range(timely + late):
            n += 1
            wait = 1 if i < timely else 14  # 1 working day, or 10
            rows.append([f"{prefix}{n}", f"C{prefix}{n}", "IAT", f"{area} 1", accepted - dt.timedelta(days=wait),
                         accepted, area])
    return rows


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    d = tmp_path_factory.mktemp("board")
    db = d / "csc.duckdb"
    with Store.open(db) as store:
        for accepted, counts in MONTHS.items():
            period = f"{accepted:%Y-%m}"
            path = write_xlsx(d / f"{period}.xlsx", {"Transfers": month_rows(accepted, counts, f"T{period}-")})
            result = store.import_file(path, period, user="setup")
            assert result.status == "loaded", [p.message for p in result.problems]
        # the board's Overview sparkline for all areas, as the page makes it (read before the server
        # holds the database)
        from csc import plan, report

        cur = store.cursor()
        rows = report.overview(cur, plan.current(cur), report.Selection(None, "2011-06", "2011-08"), suppress=True)
        sparkline = rows.set_index("kpi").loc["transfer_timely_pct", "sparkline"]
    srv = Server(db).start()
    srv.sparkline = sparkline
    yield srv
    srv.stop()


def as_board(page, server, path: str) -> None:
    """Preview as a board member (the role is kept for the session), then open `path`'s page."""
    page.goto(f"{server.url}/action?action=A1")
    wait_idle(page)
    box = '[data-testid="stSidebar"] [data-testid="stSelectbox"]'
    page.wait_for_selector(box, timeout=120_000)
    page.locator(box).first.click(timeout=120_000)
    page.get_by_role("option", name="Board member").click()
    wait_idle(page, timeout=120_000)
    page.wait_for_function("() => document.body.innerText.includes('suppressed')", timeout=120_000)
    if path == "overview":
        page.locator('[data-testid="stSidebarNav"] a', has_text="Overview").first.click()
        wait_idle(page, timeout=120_000)
        page.wait_for_function("() => document.body.innerText.includes('Are we on track?')", timeout=120_000)


def chart_texts(page) -> list[tuple[str, list[str]]]:
    """Each plotly chart's title and the texts of its annotations (end labels, source, ...)."""
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map(el => [
        (el.layout && el.layout.title && el.layout.title.text) || '',
        ((el.layout && el.layout.annotations) || []).map(a => String(a.text || ''))])""")


MONTH = r"(January|February|March|April|May|June|July|August|September|October|November|December) \d{4}"


def test_board_labels_and_titles_name_the_month_of_their_value(page, server):
    as_board(page, server, "action?action=A1")
    body = page.locator("body").inner_text()
    assert "80.0% in August 2011" in body  # the one verdict (issue 15) names the month of its value
    page.get_by_role("radio", name="Area offices").click()  # the view under each SPC chart (the default)
    page.wait_for_timeout(1500)
    charts = chart_texts(page)
    labels = [t for _, texts in charts for t in texts]
    checked = 0
    for title, texts in charts:
        waiting = title.startswith("Transfers waiting")  # zeros every month: nothing hidden
        for text in (t for t in texts if re.match(r"^(North|South|All areas) ", t)):
            checked += 1
            if text.startswith(("North", "South")) and not waiting:
                # hidden in August and July: their last published month is June, and the label says so
                assert re.search(r"\(June 2011\)$", text), (title, text)
            else:  # a value of August, the last month: no month needed, and none other named
                assert not re.search(r"\(" + MONTH + r"\)", text), (title, text)
    assert checked >= 6, labels
    assert "All areas 80%" in labels
    for title, _ in charts:
        # a title with a value names the month it is about; none names July, when all was hidden
        if re.search(r"\d%", title):
            assert re.search(MONTH, title), title
        assert "July 2011" not in title or " c " in f" {title} ", title
    assert not any(re.search(r"(North|South) \S+ \((July|August) 2011\)", t) for t in labels)  # hidden months
    shot(page, "board-action-areas")


def test_board_cards_and_overview_never_show_an_older_value_as_latest(page, server):
    as_board(page, server, "overview")
    page.wait_for_function("() => document.body.innerText.includes('latest month August 2011')", timeout=120_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    shot(page, "board-overview")


def test_board_sparkline_with_a_hidden_month_draws_with_a_gap(page, server):
    # the Overview's table is drawn on a canvas, so the image in a cell cannot be read from the page:
    # take the board's sparkline for all areas (June 75%, July hidden, August 80%) as the page makes it,
    # check the page draws without an error, then draw that image in Chromium on its own
    import base64

    from csc import charts

    values = server.sparkline
    assert values == [75.0, None, 80.0]
    as_board(page, server, "overview")
    assert page.locator('[data-testid="stException"]').count() == 0
    assert ",," not in page.locator("body").inner_text()
    url = charts.sparkline_svg(values)
    page.set_content(base64.b64decode(url.split(",", 1)[1]).decode())
    box = page.locator("svg").bounding_box()
    assert box and box["width"] > 0
    assert page.locator("svg polyline").count() == 0  # no line drawn across the hidden July
    assert page.locator('svg circle[r="1.5"]').count() == 2  # June and August, apart (August also dotted as latest)


@pytest.mark.parametrize("path, whom", [("upload", "performance analysts"),
                                        ("data-quality", "directors and performance analysts")])
def test_a_page_not_for_the_board_says_whom_it_is_for(page, server, path, whom):
    """A link to a page the board may not use (shared by an analyst, say) says whom it is for and
    shows nothing of it; it said Streamlit's "Page not found"."""
    page.goto(f"{server.url}/{path}?preview=board")
    wait_idle(page, timeout=120_000)
    page.wait_for_function("() => document.body.innerText.includes('You are signed in as')", timeout=120_000)
    body = page.inner_text("body")
    assert f"page is for {whom}. You are signed in as board member" in body
    assert "Page not found" not in body
    for shown in ("stFileUploader", "stDataFrame", "stPlotlyChart", "stDownloadButton"):  # nothing of the page
        assert page.locator(f'[data-testid="stMain"] [data-testid="{shown}"]').count() == 0, shown
    nav = page.inner_text('[data-testid="stSidebarNav"]')
    assert "Upload" not in nav and "Data quality" not in nav  # still not in the board's menu
    page.get_by_text("Go to the Overview").click()
    page.wait_for_function("() => document.body.innerText.includes('Are we on track?')", timeout=120_000)

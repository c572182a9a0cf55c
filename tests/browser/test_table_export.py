"""Every export through one door (issue 14): Streamlit's table toolbar offers no "Download as
CSV" (client.disableDataExport in .streamlit/config.toml), so the only downloads are the
dashboard's own, neutralised and audit-logged. A server started with the option off shows the
button, so the test can fail."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Server, wait_idle
from tests.conftest import one_extract_db

pytestmark = pytest.mark.browser

REFERRALS = [["referral_id", "child_id", "referral_date", "area_office", "team"],
             ["R1", "C1", "2011-04-04", "North", "=HYPERLINK(\"http://evil.example\",\"x\")"]]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return one_extract_db(tmp_path_factory.mktemp("toolbar"), {"Referrals": REFERRALS}, "2011-04")


def toolbar_labels(page, server) -> list[str]:
    page.goto(f"{server.url}/imports")
    wait_idle(page)
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for()
    table.hover()
    page.wait_for_timeout(800)
    buttons = page.locator('[data-testid="stElementToolbar"] button')
    return [buttons.nth(i).get_attribute("aria-label") or buttons.nth(i).inner_text() for i in range(buttons.count())]


def test_the_table_toolbar_offers_no_download(page, db):
    server = Server(db).start()
    try:
        labels = toolbar_labels(page, server)
    finally:
        server.stop()
    assert labels, "the toolbar did not appear: the test would prove nothing"
    assert not [label for label in labels if "download" in label.lower()], labels


def test_with_the_option_off_the_toolbar_would_offer_one(page, db):
    server = Server(db, args=["--client.disableDataExport", "false"]).start()
    try:
        labels = toolbar_labels(page, server)
    finally:
        server.stop()
    assert [label for label in labels if "download" in label.lower()], labels

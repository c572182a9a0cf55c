"""Every press of a download button gives its file, and one audit entry says who took what.

A button whose file is made on the press (Streamlit's deferred download) used to rerun the page
as well, to write the audit entry. Streamlit 1.67 clears its outgoing queue when a run starts, and
the reply carrying the file's address could be in it: the button kept spinning and no file came,
about one press in ten on the import history (measured; CI failed on it). Eight presses of that
button made the old code fail here in 5 runs out of 6."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from csc.store import Store
from tests.browser.conftest import Server, wait_idle
from tests.conftest import write_xlsx

pytestmark = pytest.mark.browser

PRESSES = 8  # Chromium lets a page start about ten downloads of its own, then no more
PACKS = 2
TRANSFERS = [["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"],
             ["T1", "C1", "Intake", "North A", dt.date(2012, 3, 5), dt.date(2012, 3, 6), "North"]]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    d = tmp_path_factory.mktemp("downloads")
    db = d / "csc.duckdb"
    with Store.open(db) as store:
        path = write_xlsx(d / "march.xlsx", {"Transfers": TRANSFERS})
        assert store.import_file(path, "2012-03", user="setup").status == "loaded"
    return db


def press(page, name: str) -> bytes:
    with page.expect_download(timeout=20_000) as download:
        page.get_by_role("button", name=name, exact=True).click()
    data = Path(download.value.path()).read_bytes()
    # the button is ready again (not spinning) before the next press
    page.get_by_role("button", name=name, exact=True).and_(page.locator(":enabled")).wait_for()
    return data


def test_each_press_gives_the_file_and_one_audit_entry(page, db):
    server = Server(db).start()
    try:
        page.goto(f"{server.url}/imports")
        wait_idle(page)
        for _ in range(PRESSES):
            assert "2012-03" in press(page, "Download (CSV)").decode("utf-8-sig")
        page.goto(f"{server.url}/overview?preview=director")
        wait_idle(page)
        for _ in range(PACKS):
            assert press(page, "Board pack (Excel)")[:2] == b"PK"  # an .xlsx is a zip
        assert press(page, "Board pack (HTML, prints to PDF)").startswith(b"<!DOCTYPE html")
    finally:
        server.stop()
    with Store.open(db) as store:
        log = store.audit_log()
    exports = [(row.user_name, row.role, json.loads(row.detail)) for row in log.itertuples() if row.action == "export"]
    assert [(u, r, d["what"]) for u, r, d in exports].count(("local user", "analyst", "imports")) == PRESSES
    packs = [d for u, r, d in exports if d["what"] == "board pack"]
    assert [(d["format"], d["period"], d["suppressed"]) for d in packs] == [("xlsx", "2012-03", False)] * PACKS + [
        ("html", "2012-03", False)]
    assert {(u, r) for u, r, d in exports if d["what"] == "board pack"} == {("local user", "director")}

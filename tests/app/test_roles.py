"""What each role sees and cannot see, signed in (st.user) and in local mode (role preview)."""

from __future__ import annotations

import datetime as dt
import html
import re
import os
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from csc import text
from csc.store import Store
from tests.conftest import write_xlsx

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = str(ROOT / "dashboard.py")
AUTH = {
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "test-cookie-secret",
    "client_id": "csc",
    "client_secret": "secret",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
HEADER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    d = tmp_path_factory.mktemp("roles")
    rows = [HEADER]
    # June 2011. North: 3 transfers, 2 accepted within 5 working days (Mon 6 → Tue 7 Jun = 1 wd)
    # and 1 after 10 (Mon 6 → Mon 20 Jun = 10 wd): 66.7% from 2 of 3 — small numbers for the board.
    for i, accepted in enumerate([dt.date(2011, 6, 7), dt.date(2011, 6, 7), dt.date(2011, 6, 20)]):
        rows.append([f"N{i}", f"CN{i}", "IAT", "North 1", dt.date(2011, 6, 6), accepted, "North"])
    # South: 10 transfers, all accepted the next working day: 100.0% from 10 of 10.
    for i in range(10):
        rows.append([f"S{i}", f"CS{i}", "IAT", "South 1", dt.date(2011, 6, 6), dt.date(2011, 6, 7), "South"])
    path = write_xlsx(d / "june.xlsx", {"Transfers": rows})
    db = d / "csc.duckdb"
    with Store.open(db) as store:
        assert store.import_file(path, "2011-06", user="setup").status == "loaded"
    roles = d / "roles.toml"
    roles.write_text('[users]\n"dir@council.gov.uk" = "director"\n"ana@council.gov.uk" = "analyst"\n'
                     '[domains]\n"members.council.gov.uk" = "board"\n')
    return db, roles


def app(db, roles=None, address="127.0.0.1") -> AppTest:
    os.environ["CSC_DB"] = str(db)
    if roles:
        os.environ["CSC_ROLES"] = str(roles)
    st_config.set_option("server.address", address)
    return AppTest.from_file(DASHBOARD, default_timeout=60)


def signed_in(db, roles, email) -> AppTest:
    at = app(db, roles)
    at.secrets["auth"] = AUTH
    at.user["is_logged_in"] = True
    at.user["email"] = email
    return at


def texts(at) -> str:
    parts = [e.value for e in at.markdown] + [e.value for e in at.title] + [e.value for e in at.caption]
    parts += [e.value for e in at.info] + [e.value for e in at.error] + [e.value for e in at.subheader]
    return "\n".join(str(p) for p in parts)


def all_frames(at) -> str:
    """Every table shown: dataframes, and the Overview's HTML (its measures tables, summary rows
    and cards) as text."""
    shown = [df.value.to_string() for df in at.dataframe]
    shown += [html.unescape(re.sub(r"<[^>]+>", " ", e.proto.body)) for e in at.get("html")
              if "<style>" not in e.proto.body]
    return "\n".join(shown)


def test_signed_out_sees_only_the_sign_in_button(db):
    at = app(*db)
    at.secrets["auth"] = AUTH
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Please sign in" in texts(at)
    assert not at.dataframe and not at.metric


def test_unknown_account_sees_polite_no_access_and_nothing_more(db):
    at = signed_in(*db, "stranger@elsewhere.org")
    at.run()
    assert [t.value for t in at.title] == ["No access"]
    assert text.md("stranger@elsewhere.org") in texts(at)  # shown as text: escaped for Markdown
    assert not at.dataframe and not at.metric


def test_board_member_sees_suppressed_values_as_c(db):
    at = signed_in(*db, "cllr@members.council.gov.uk")
    at.query_params["area"] = "North"
    at.run()
    assert not at.exception
    assert "Are we on track?" in texts(at)
    # North's 2 of 3 (66.7%) has a numerator and denominator from 1 to 5: shown as c
    frames = all_frames(at)
    assert "66.7%" not in frames
    assert " c " in f" {frames} ".replace("\n", " ")


def test_a_preview_in_the_url_is_ignored_when_signed_in(db):
    # links between pages carry ?preview=<role> in local mode only; typed into a signed-in
    # board member's address bar it changes nothing
    at = signed_in(*db, "cllr@members.council.gov.uk")
    at.query_params["area"] = "North"
    at.query_params["preview"] = "director"
    at.run()
    assert not at.exception
    assert "preview_role" not in at.session_state
    assert "66.7%" not in all_frames(at)  # tables, summary rows and cards
    assert " c " in f" {all_frames(at)} ".replace("\n", " ")


def test_director_sees_the_small_number(db):
    at = signed_in(*db, "dir@council.gov.uk")
    at.query_params["area"] = "North"
    at.run()
    assert not at.exception
    assert "66.7%" in all_frames(at)


@pytest.mark.parametrize("page", ["app_pages/upload.py", "app_pages/imports.py", "app_pages/audit.py", "app_pages/data_quality.py",
                                  "app_pages/plan.py"])
def test_management_pages_are_not_registered_for_the_board(db, page):
    at = signed_in(*db, "cllr@members.council.gov.uk")
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page") as err:
        at.switch_page(page)
    known = str(err.value).split("Known pages:")[1]
    for allowed in ("overview.py", "action.py", "workforce.py", "practice.py"):
        assert allowed in known
    assert "upload.py" not in known and "imports.py" not in known and "audit.py" not in known


@pytest.mark.parametrize("page", ["upload.py", "imports.py", "audit.py"])
def test_a_page_run_directly_checks_the_role_again(db, page):
    from csc.ui import Viewer

    os.environ["CSC_DB"] = str(db[0])
    st_config.set_option("server.address", "127.0.0.1")
    at = AppTest.from_file(str(ROOT / "app_pages" / page), default_timeout=60)
    at.session_state["_viewer"] = Viewer("cllr@members.council.gov.uk", "board", False)
    at.run()
    assert [e.value for e in at.error] == ["You do not have access to this page."]
    assert not at.file_uploader and not at.dataframe


def test_director_cannot_upload_or_roll_back(db):
    at = signed_in(*db, "dir@council.gov.uk")
    at.run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/upload.py")
    at.switch_page("app_pages/imports.py").run()
    assert "Import history" in texts(at)
    assert "Roll back" not in [b.label for b in at.button]
    assert "Analysts can roll an import back." in texts(at)


def test_analyst_can_upload_and_roll_back(db):
    at = signed_in(*db, "ana@council.gov.uk")
    at.run()
    at.switch_page("app_pages/upload.py").run()
    assert len(at.file_uploader) == 1
    at.switch_page("app_pages/imports.py").run()
    assert "Roll back" in [b.label for b in at.button]


def test_local_mode_shows_banner_and_previews_board_role(db):
    at = app(db[0])
    at.query_params["area"] = "North"
    at.run()
    assert any("Local mode" in i.value for i in at.sidebar.info)
    assert "66.7%" in all_frames(at)  # previewing as analyst (the default): the figure is shown
    at.sidebar.selectbox(key="preview_role_select").set_value("board").run()
    assert "66.7%" not in all_frames(at)
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/upload.py")


def test_local_mode_refuses_to_serve_beyond_this_computer(db):
    at = app(db[0], address="0.0.0.0")
    at.run()
    assert any("not bound to this computer only" in e.value for e in at.error)
    assert not at.dataframe

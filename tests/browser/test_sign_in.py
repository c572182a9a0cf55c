"""Sign in for real: the server runs with an [auth] section pointing at a tiny OpenID Connect
provider on localhost, and Chromium goes through the whole redirect dance as an analyst, as a
board member and as an account nobody has given access to."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from csc.store import Store
from tests.browser.conftest import Server, free_port, shot, wait_idle
from tests.browser.oidc_provider import OIDCProvider
from tests.conftest import write_xlsx

pytestmark = pytest.mark.browser

TRANSFER_HEADER = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
ROLES = """
[users]
"ana@council.gov.uk" = "analyst"

[domains]
"members.council.gov.uk" = "board"
"""
BOARD_PAGES = ["Overview", "Action", "Workforce", "Practice"]
ANALYST_ONLY = ["Upload", "Imports", "Audit log"]


class AuthServer(Server):
    """The conftest Server, started with its secrets read from a file outside the repository
    (Streamlit's `secrets.files` option) so the working tree's .streamlit/ is never touched."""

    def __init__(self, db: Path, secrets: Path, env: dict | None = None, port: int | None = None):
        super().__init__(db, env=env, port=port, args=["--secrets.files", str(secrets)])
        self.secrets = secrets


def shown(text: str) -> str:
    """Text as read: without the invisible word joiner (U+2060) that keeps an e-mail address from
    becoming a link (`csc.text.md`)."""
    return text.replace("\u2060", "")


@pytest.fixture(scope="module")
def provider():
    with OIDCProvider() as p:
        yield p


@pytest.fixture(scope="module")
def server(tmp_path_factory, provider):
    d = tmp_path_factory.mktemp("sign-in")
    db = d / "csc.duckdb"
    accepted = dt.date(2011, 7, 20)
    rows = [TRANSFER_HEADER] + [
        [f"T{i}", f"C{i}", "IAT", "North 1", accepted - dt.timedelta(days=1 if i < 8 else 14), accepted, "North"]
        for i in range(10)
    ]
    with Store.open(db) as store:
        result = store.import_file(write_xlsx(d / "m7.xlsx", {"Transfers": rows}), "2011-07", user="setup")
        assert result.status == "loaded", [p.message for p in result.problems]
    roles = d / "roles.toml"
    roles.write_text(ROLES)
    port = free_port()
    secrets = d / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        'cookie_secret = "a-long-random-cookie-secret-for-the-browser-test-0123456789"\n'
        f'client_id = "{provider.client_id}"\n'
        f'client_secret = "{provider.client_secret}"\n'
        f'server_metadata_url = "{provider.metadata_url}"\n'
    )
    srv = AuthServer(db, secrets, env={"CSC_ROLES": str(roles)}, port=port).start()
    yield srv
    srv.stop()


@pytest.fixture
def fresh_page(browser):
    """A page in its own browser context, so no sign-in cookie is carried over."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    pg.set_default_timeout(30_000)
    yield pg
    context.close()


def sign_in(page, server, provider, email: str) -> None:
    provider.email = email
    page.goto(server.url)
    wait_idle(page)
    button = page.get_by_role("button", name="Sign in")
    button.wait_for()
    shot(page, "sign-in-button")
    button.click()
    # the provider answers at once; Streamlit's /oauth2callback sets the cookie and sends us home
    page.wait_for_url(f"{server.url}/**", timeout=30_000)
    page.wait_for_function("() => !document.body.innerText.includes('Please sign in')", timeout=30_000)
    wait_idle(page)


def nav_labels(page) -> list[str]:
    nav = page.locator('[data-testid="stSidebarNav"]')
    nav.wait_for()
    more = nav.get_by_text("View more")
    if more.count():
        more.first.click()
    # each link's text is its icon's ligature name, then the title: keep the last line
    return [t.strip().splitlines()[-1].strip() for t in page.locator('[data-testid="stSidebarNavLink"]').all_inner_texts()]


def test_analyst_signs_in_and_sees_the_manage_pages(fresh_page, server, provider):
    sign_in(fresh_page, server, provider, "ana@council.gov.uk")
    assert fresh_page.locator('[data-testid="stException"]').count() == 0
    labels = nav_labels(fresh_page)
    for name in BOARD_PAGES + ANALYST_ONLY:
        assert name in labels, labels
    assert "Signed in as ana@council.gov.uk" in shown(fresh_page.locator('[data-testid="stSidebar"]').inner_text())
    shot(fresh_page, "sign-in-analyst")


def test_board_member_sees_only_the_progress_pages(fresh_page, server, provider):
    sign_in(fresh_page, server, provider, "cllr@members.council.gov.uk")
    assert fresh_page.locator('[data-testid="stException"]').count() == 0
    labels = nav_labels(fresh_page)
    assert labels == BOARD_PAGES, labels
    for name in ANALYST_ONLY:
        assert name not in labels
    assert "Signed in as cllr@members.council.gov.uk" in shown(fresh_page.locator('[data-testid="stSidebar"]').inner_text())
    shot(fresh_page, "sign-in-board")


def test_an_unverified_email_gets_no_access_even_when_it_is_mapped(fresh_page, server, provider):
    provider.email_verified = False
    try:
        sign_in(fresh_page, server, provider, "ana@council.gov.uk")
    finally:
        provider.email_verified = True
    fresh_page.get_by_role("heading", name="No access").wait_for()
    assert "has not verified this e-mail address" in fresh_page.inner_text("body")
    assert fresh_page.locator('[data-testid="stSidebarNavLink"]').count() == 0


def test_unknown_account_has_no_access(fresh_page, server, provider):
    sign_in(fresh_page, server, provider, "someone@elsewhere.example")
    fresh_page.get_by_role("heading", name="No access").wait_for()
    assert "someone@elsewhere.example" in shown(fresh_page.inner_text("body"))
    assert fresh_page.locator('[data-testid="stSidebarNavLink"]').count() == 0
    shot(fresh_page, "sign-in-no-access")

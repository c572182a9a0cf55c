"""A freshly started server and 50 first visits at the same moment, each to a deep link: every one
must run the entry point (sign-in or the local-mode banner, the navigation of its role, the
filters) and then its own page, with no exception.

The visits speak Streamlit's websocket protocol, as the browser's front end does when a page is
opened (a new session, then one `rerun_script` with the page's url path and query string): fifty
Chromium tabs would need more memory than the test machines have, and it is the server's routing
of a session's first run that is under test, not the drawing."""

from __future__ import annotations

import asyncio
import concurrent.futures
from dataclasses import dataclass, field

import pytest

from tests.app.conftest import build_council
from tests.browser.conftest import Server, first_visit, wait_idle

pytestmark = pytest.mark.browser

VISITS = 50
TIMEOUT = 300.0  # seconds for one visit: 50 sessions share a server on a busy 2-core machine
TITLES = {  # url path → the page's title (the local analyst may use every page)
    "": "Are we on track?", "overview": "Are we on track?", "action?action=A1": "Action in depth",
    "action?action=A3": "Action in depth", "workforce": "Workforce", "practice": "Practice",
    "plan": "The action plan", "upload": "Upload the month's extract", "imports": "Import history",
    "teams": "Teams and area offices", "data-quality": "Data quality", "audit": "Audit log",
}
SECTIONS = ["Progress", "Manage"]


@dataclass
class Visit:
    path: str
    titles: list[str] = field(default_factory=list)  # the h1 headings of the last script run
    banner: bool = False  # the entry point's local-mode banner was drawn
    sections: list[str] = field(default_factory=list)  # the navigation's sections
    url_path: str | None = None  # the url path of the page the navigation says is running
    errors: list[str] = field(default_factory=list)

    def problems(self) -> list[str]:
        want = TITLES[self.path]
        page = self.path.partition("?")[0] or "overview"
        found = list(self.errors)
        if want not in self.titles:
            found.append(f"title {want!r} not drawn (headings: {self.titles})")
        if not self.banner:
            found.append("no local-mode banner: the entry point did not run")
        if self.sections != SECTIONS:
            found.append(f"navigation sections {self.sections}, not {SECTIONS}")
        if self.url_path not in (page, "") or (self.url_path == "" and page != "overview"):
            found.append(f"the navigation ran page {self.url_path!r}, not {page!r}")
        return found


async def visit(url: str, path: str) -> Visit:
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    seen = Visit(path)
    try:
        async with asyncio.timeout(TIMEOUT):
            async for fm in first_visit(url, path, TIMEOUT):
                kind = fm.WhichOneof("type")
                if kind == "new_session":  # every script run starts with one
                    seen.titles, seen.banner = [], False
                elif kind == "navigation":
                    nav = fm.navigation
                    seen.sections = list(nav.sections)
                    running = [p for p in nav.app_pages if p.page_script_hash == nav.page_script_hash]
                    seen.url_path = running[0].url_pathname if running else None
                elif kind == "page_not_found":
                    seen.errors.append(f"page not found: {fm.page_not_found.page_name!r}")
                elif kind == "delta" and fm.delta.WhichOneof("type") == "new_element":
                    element = fm.delta.new_element
                    which = element.WhichOneof("type")
                    if which == "exception":
                        seen.errors.append(f"exception: {element.exception.type}: {element.exception.message[:200]}")
                    elif which == "heading" and element.heading.tag == "h1":
                        seen.titles.append(element.heading.body)
                    elif which == "alert" and element.alert.body.startswith("Local mode"):
                        seen.banner = True
                elif kind == "script_finished" and \
                        fm.script_finished == ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR:
                    seen.errors.append("compile error")
    except Exception as exc:  # noqa: BLE001 - a timeout or a refused connection is a failed visit
        seen.errors.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    return seen


async def visit_all(url: str, paths: list[str]) -> list[Visit]:
    return await asyncio.gather(*(visit(url, p) for p in paths))


def test_fifty_simultaneous_first_visits_to_deep_links_on_a_fresh_server(tmp_path):
    db = build_council(tmp_path)
    paths = [list(TITLES)[i % len(TITLES)] for i in range(VISITS)]
    server = Server(db, env={"CSC_LOCAL_ROLE": "analyst"}).start()  # healthy, no page run yet
    try:
        # in a thread of its own: Playwright's sync API (the other tests of this session) keeps an
        # event loop running in this one
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            visits = pool.submit(lambda: asyncio.run(visit_all(server.url, paths))).result()
    finally:
        server.stop()
    failed = {f"{n} /{v.path}": v.problems() for n, v in enumerate(visits) if v.problems()}
    assert not failed, f"{len(failed)} of {VISITS} first visits failed: {failed}"
    log = server.log.read_text()
    assert "Traceback" not in log, log[-3000:]


@pytest.mark.parametrize("path", ["", "overview"])
def test_the_overview_opens_at_both_its_addresses_in_chromium(page, tmp_path, path):
    server = Server(build_council(tmp_path), env={"CSC_LOCAL_ROLE": "analyst"}).start()
    try:
        page.goto(f"{server.url}/{path}")
        wait_idle(page)
        assert page.locator("h1").first.inner_text() == "Are we on track?"
        assert page.get_by_text("Page not found").count() == 0
        assert page.locator('[data-testid="stException"]').count() == 0
        nav = page.locator('[data-testid="stSidebarNav"]')
        for title in ("Overview", "Action", "Data quality", "Audit log"):
            assert nav.get_by_text(title, exact=True).count() == 1, title  # the hidden address adds no item
    finally:
        server.stop()

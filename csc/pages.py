"""The dashboard's pages as data: for each, its script, title, icon, section of the navigation,
URL path and the roles that may use it. `dashboard.py` builds Streamlit's navigation from this
list, `ui.require` checks a page's roles again where it is drawn, and the tests walk it. No
Streamlit here.

To add a page: write `app_pages/<key>.py` (it starts with `ui.require("<key>")`, or
`ui.open_page("<key>", title)` for a page of figures) and add one `Page` below."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from csc import config
from csc.access import ANALYSTS, EVERYONE, MANAGERS, may

# Not `pages/`: Streamlit treats a folder of that name beside the entry point as an old-style
# multipage app until st.navigation has run once in the process (docs/decisions.md).
FOLDER = "app_pages"
SECTIONS = ("Progress", "Manage")


@dataclass(frozen=True)
class Page:
    key: str  # the script's name, app_pages/<key>.py; the name ui.require and the audit log use
    title: str  # in the navigation and the browser's tab
    section: str  # one of SECTIONS
    url_path: str  # /<url_path>; the default page is also served at /
    roles: tuple[str, ...]  # who may use it (csc.access)
    # An emoji, or None. Never ":material/…": Streamlit makes the running page's icon the tab's
    # favicon and fetches Material icons from fonts.gstatic.com (a council network may have no
    # internet, and it tells a third party who is looking).
    icon: str | None = None
    default: bool = False  # the page at /
    only_when: Callable[[], object] | None = None  # offered only when this gives something true

    @property
    def file(self) -> str:
        """The script, relative to the folder of dashboard.py (as st.Page and AppTest take it)."""
        return f"{FOLDER}/{self.key}.py"

    @property
    def path(self) -> Path:
        return config.ROOT / self.file


PAGES = (
    Page("overview", "Overview", "Progress", "overview", EVERYONE, default=True),
    Page("action", "Action", "Progress", "action", EVERYONE),
    Page("workforce", "Workforce", "Progress", "workforce", EVERYONE),
    Page("practice", "Practice", "Progress", "practice", EVERYONE),
    # pooled KPI results of several councils (python -m csc spark-kpis), named by $CSC_REGION_DIR
    Page("region", "Region", "Progress", "region", EVERYONE, only_when=config.region_dir),
    Page("plan", "Action plan", "Manage", "plan", MANAGERS),
    Page("upload", "Upload", "Manage", "upload", ANALYSTS),
    Page("imports", "Imports", "Manage", "imports", MANAGERS),
    Page("teams", "Teams", "Manage", "teams", ANALYSTS),
    Page("data_quality", "Data quality", "Manage", "data-quality", MANAGERS),
    Page("audit", "Audit log", "Manage", "audit", ANALYSTS),
)


def get(key: str) -> Page:
    for page in PAGES:
        if page.key == key:
            return page
    raise KeyError(f"No page {key!r} in csc/pages.py")


def offered() -> list[Page]:
    """The pages this server offers (the Region page only when pooled results are named)."""
    return [p for p in PAGES if p.only_when is None or p.only_when()]


def for_role(role: str | None) -> dict[str, list[Page]]:
    """The navigation of one role: section → the pages it may use, in order; no empty section."""
    nav = {section: [p for p in offered() if p.section == section and may(role, p)] for section in SECTIONS}
    return {section: shown for section, shown in nav.items() if shown}

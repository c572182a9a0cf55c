"""The dashboard's pages as data (csc/pages.py) and who may use them (csc/access.py): both import
without Streamlit, every script is registered and every registered page has its script, the
navigation each role gets, and where the scripts live."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from csc import access, pages

ROOT = Path(__file__).resolve().parents[2]


def test_the_registry_and_the_access_rules_import_without_streamlit():
    code = ("import sys\nsys.modules['streamlit'] = None  # any import of streamlit now fails\n"
            "from csc import access, pages\n"
            "print(len(pages.PAGES), access.ROLES)\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "11 ('director', 'board', 'analyst')"


def test_every_script_is_a_registered_page_and_every_page_has_its_script():
    scripts = {p.stem for p in (ROOT / pages.FOLDER).glob("*.py")}
    assert scripts == {p.key for p in pages.PAGES}
    assert all(p.path.is_file() for p in pages.PAGES)


def test_no_folder_named_pages_beside_the_entry_point():
    # Streamlit would route first visits in its legacy multipage mode (docs/decisions.md)
    assert not (ROOT / "pages").exists()


def test_url_paths_stay_as_they_were():
    assert [p.url_path for p in pages.PAGES] == [
        "overview", "action", "workforce", "practice", "region", "plan", "upload", "imports", "teams", "data-quality",
        "audit"]
    assert [p.key for p in pages.PAGES if p.default] == ["overview"]
    assert {p.section for p in pages.PAGES} == set(pages.SECTIONS)


def test_no_page_icon_is_fetched_from_the_internet():
    assert not [p.key for p in pages.PAGES if p.icon and p.icon.startswith(":material/")]


@pytest.mark.parametrize("page", [p.key for p in pages.PAGES])
def test_every_script_checks_its_own_role_where_it_is_drawn(page):
    source = pages.get(page).path.read_text()
    assert re.search(rf"^v(, sel)? = ui\.(require|open_page)\(\"{page}\"", source, re.M), page


def nav(role):
    return {section: [p.key for p in shown] for section, shown in pages.for_role(role).items()}


def test_each_role_gets_its_navigation(monkeypatch):
    monkeypatch.delenv("CSC_REGION_DIR", raising=False)
    progress = ["overview", "action", "workforce", "practice"]
    assert nav("board") == {"Progress": progress}
    assert nav("director") == {"Progress": progress, "Manage": ["plan", "imports", "data_quality"]}
    assert nav("analyst") == {"Progress": progress,
                              "Manage": ["plan", "upload", "imports", "teams", "data_quality", "audit"]}
    assert nav(None) == {} and nav("superuser") == {}


def test_the_region_page_only_with_pooled_results(monkeypatch, tmp_path):
    monkeypatch.delenv("CSC_REGION_DIR", raising=False)
    assert "region" not in [p.key for p in pages.offered()]
    monkeypatch.setenv("CSC_REGION_DIR", str(tmp_path))
    assert nav("board")["Progress"] == ["overview", "action", "workforce", "practice", "region"]


def test_a_viewer_may_use_the_pages_of_its_role():
    board = access.Viewer("cllr@members.council.gov.uk", "board", False)
    assert board.may(pages.get("overview")) and not board.may(pages.get("plan"))
    director = access.Viewer("dir@council.gov.uk", "director", False)
    assert director.may(pages.get("imports")) and not director.may(pages.get("upload"))
    assert not access.Viewer("x", None, False).may(pages.get("overview"))
    with pytest.raises(KeyError, match="No page 'uploads'"):
        pages.get("uploads")


@pytest.mark.parametrize(("address", "local"), [
    ("localhost", True), ("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
    ("", False), ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("dashboard.council.gov.uk", False),
])
def test_local_mode_only_on_a_loopback_address(address, local):
    assert access.is_local_address(address) is local


def test_the_local_role(monkeypatch):
    monkeypatch.delenv("CSC_LOCAL_ROLE", raising=False)
    assert access.local_role() == "analyst"
    monkeypatch.setenv("CSC_LOCAL_ROLE", "board")
    assert access.local_role() == "board"
    assert access.local_role("director") == "director"  # the role being previewed comes first
    monkeypatch.setenv("CSC_LOCAL_ROLE", "root")
    assert access.local_role() == "analyst"


def test_the_deployment_guide_names_each_roles_pages_as_the_registry_has_them():
    """docs/deployment.md's table of roles said a director may use "everything but Upload and
    rollback", while the registry gave directors no Teams or Audit log page: the table now names
    the pages, and this keeps it true."""
    from csc import config
    from csc.pages import PAGES, for_role

    guide = (config.ROOT / "docs" / "deployment.md").read_text()
    row = re.search(r"^\| `director` \| (.*) \|$", guide, re.M).group(1)
    allowed, _, refused = row.partition("; not ")
    titles = [p.title for p in PAGES if p.only_when is None]
    mine = {p.title for ps in for_role("director").values() for p in ps}
    named = {t for t in titles if re.search(rf"\b{re.escape(t)}\b", allowed)}
    assert named == mine & set(titles), (named, mine)
    assert {t for t in titles if re.search(rf"\b{re.escape(t)}\b", refused)} == set(titles) - mine
    assert re.search(r"^\| `analyst` \| everything \|$", guide, re.M)
    assert {p.title for ps in for_role("analyst").values() for p in ps} >= set(titles)

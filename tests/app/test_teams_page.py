"""The Teams page (analysts): the team -> area office mapping Annex A uploads use, the teams an
upload named that nobody has mapped, saving with who and when, and the inferred-worker note."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pandas as pd
import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from csc import annexa
from csc.store import Store
from tests.unit.test_annexa import annex, plan, referral

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = str(ROOT / "dashboard.py")
D = dt.date


def app(db: Path, role: str = "analyst") -> AppTest:
    os.environ["CSC_DB"] = str(db)
    st_config.set_option("server.address", "127.0.0.1")  # local mode: no sign-in, this computer only
    at = AppTest.from_file(DASHBOARD, default_timeout=60)
    at.session_state["preview_role"] = role
    return at


def teams_page(db: Path, role: str = "analyst") -> AppTest:
    at = app(db, role).run()
    at.switch_page("app_pages/teams.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(at: AppTest) -> str:
    return "\n".join(str(e.value) for kind in ("title", "markdown", "caption", "info", "warning", "success", "error",
                                               "subheader") for e in getattr(at, kind))


def mapping(db: Path) -> dict[str, tuple]:
    with Store.open(db) as store:
        return {r[0]: r[1:] for r in store.cursor().execute(
            "select team, area_office, changed_by from team_areas").fetchall()}


@pytest.fixture
def db(tmp_path) -> Path:
    """North Team is mapped; an April Annex A naming "Hub" was refused, so Hub waits for mapping;
    a contract extract with an involvements sheet is not loaded, so nothing is inferred yet."""
    db = tmp_path / "csc.duckdb"
    with Store.open(db) as store:
        annexa.save_team_areas(store, pd.DataFrame({"team": ["North Team"], "area_office": ["North"]}), "setup")
        path = annex(tmp_path, referrals=[referral("C1", D(2011, 4, 5), team="North Team"),
                                          referral("C2", D(2011, 4, 6), team="Hub")])
        assert store.import_file(path, "2011-04", user="setup").status == "refused"
    return db


def test_analyst_sees_the_mapping_and_the_teams_to_map(db):
    at = teams_page(db)
    assert "Teams and area offices" in texts(at)
    assert '1 team(s) seen in Annex A uploads have no area office yet: "Hub".' in texts(at)
    editor = at.data_editor[0]
    assert editor.editing_mode == "dynamic"
    table = editor.value
    assert table["team"].tolist() == ["Hub", "North Team"]  # teams not mapped yet first
    assert pd.isna(table["area_office"][0]) and table["area_office"][1] == "North"
    assert "Save the mapping" in [b.label for b in at.button]


def test_analyst_maps_a_team_and_the_upload_then_loads(db, tmp_path):
    at = teams_page(db)
    at.session_state["teams_editor_0"] = {
        "edited_rows": {0: {"area_office": "West"}},
        "added_rows": [{"team": "Edge of Care", "area_office": "South"}],
        "deleted_rows": [],
    }
    at.button(key="teams_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Saved: 2 team(s) mapped" in texts(at)
    assert "have no area office yet" not in texts(at)
    assert at.data_editor[0].value["team"].tolist() == ["Edge of Care", "Hub", "North Team"]
    assert mapping(db) == {"North Team": ("North", "setup"), "Hub": ("West", "local user"),
                           "Edge of Care": ("South", "local user")}
    with Store.open(db) as store:
        assert store.cursor().execute(
            "select count(*) from audit_log where action = 'team_areas' and user_name = 'local user'"
        ).fetchall() == [(1,)]
        path = annex(tmp_path, name="again.xlsx", referrals=[referral("C1", D(2011, 4, 5), team="North Team"),
                                                             referral("C2", D(2011, 4, 6), team="Hub")])
        assert store.import_file(path, "2011-04", user="setup").status == "loaded"


def test_a_team_listed_twice_is_not_saved(db):
    at = teams_page(db)
    at.session_state["teams_editor_0"] = {"edited_rows": {}, "added_rows": [{"team": "north  team", "area_office": "X"}],
                                          "deleted_rows": []}
    at.button(key="teams_save").click().run()
    assert any("listed twice" in e.value for e in at.error)
    assert mapping(db)["North Team"] == ("North", "setup") and "north  team" not in mapping(db)


def test_the_page_says_when_changes_of_worker_are_inferred(db, tmp_path):
    assert "changes-of-worker figures come from the involvements sheet" in texts(teams_page(db))
    with Store.open(db) as store:
        annexa.save_team_areas(store, pd.DataFrame({"team": ["North Team", "Hub"], "area_office": ["North", "West"]}),
                               "setup")
        for period, worker in (("2011-04", "W1"), ("2011-05", "W2")):
            path = annex(tmp_path, name=f"{period}.xlsx", plans=[plan("C1", D(2011, 1, 10), team="Hub", worker=worker)])
            assert store.import_file(path, period, user="setup").status == "loaded"
    at = teams_page(db)
    assert "inferred" in texts(at)
    assert "across 2 monthly Annex A import(s): 2 inferred involvement(s) for 1 child(ren)" in texts(at)


@pytest.mark.parametrize("role", ["director", "board"])
def test_only_analysts_have_the_teams_page(db, role):
    at = app(db, role).run()
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("app_pages/teams.py")


def test_the_page_run_directly_checks_the_role_again(db):
    from csc.ui import Viewer

    os.environ["CSC_DB"] = str(db)
    st_config.set_option("server.address", "127.0.0.1")
    at = AppTest.from_file(str(ROOT / "app_pages" / "teams.py"), default_timeout=60)
    at.session_state["_viewer"] = Viewer("dir@council.gov.uk", "director", False)
    at.run()
    assert [e.value for e in at.error] == ["You do not have access to this page."]
    assert not at.data_editor


def test_an_empty_database(tmp_path):
    db = tmp_path / "empty.duckdb"
    Store.open(db).close()
    at = teams_page(db)
    assert "No teams yet" in texts(at)
    assert at.data_editor[0].value.empty


def test_edits_overtaken_by_another_analysts_save_are_said_to_be_lost_not_nothing_to_save(db):
    """The editor starts again from the table as it now stands when another session saved the
    mapping meanwhile: the page said "Nothing to save", as if the analyst had changed nothing."""
    at = teams_page(db)
    at.session_state["teams_editor_0"] = {"edited_rows": {0: {"area_office": "West"}}, "added_rows": [],
                                          "deleted_rows": []}
    with Store.open(db) as store:  # another analyst maps South Team meanwhile
        annexa.save_team_areas(store, pd.DataFrame({"team": ["Hub", "North Team", "South Team"],
                                                    "area_office": [None, "North", "South"]}), "bob@council.gov.uk")
    at.button(key="teams_save").click().run()
    assert not at.exception, [e.value for e in at.exception]
    said = texts(at).replace("\\", "").replace("\u2060", "")  # as read: escapes and the joiner that stops autolinks
    assert "The mapping was changed by bob@council.gov.uk at" in said
    assert "your unsaved changes were not kept" in said and "Nothing to save" not in said
    assert mapping(db) == {"North Team": ("North", "setup"),
                           "South Team": ("South", "bob@council.gov.uk")}  # nothing of the overtaken edits
    assert at.data_editor[0].value["team"].tolist() == ["Hub", "North Team", "South Team"]  # as it now stands
    at.session_state["teams_editor_1"] = {"edited_rows": {0: {"area_office": "West"}}, "added_rows": [],
                                          "deleted_rows": []}
    at.button(key="teams_save").click().run()  # made again on the fresh editor: saved
    assert "Saved" in texts(at) and mapping(db)["Hub"] == ("West", "local user")


def test_a_save_by_another_analyst_with_no_edits_here_says_nothing(db):
    at = teams_page(db)
    with Store.open(db) as store:
        annexa.save_team_areas(store, pd.DataFrame({"team": ["Hub", "North Team", "South Team"],
                                                    "area_office": [None, "North", "South"]}), "bob@council.gov.uk")
    at.run()
    assert "while you were editing" not in texts(at)
    assert at.data_editor[0].value["team"].tolist() == ["Hub", "North Team", "South Team"]


def test_a_save_between_this_runs_read_and_its_save_is_not_undone(db, monkeypatch):
    """Another analyst's save can land after the page read the mapping and before its own save
    (the page's look for a changed table comes before): the mapping is saved whole from the
    editor's table, so that save would have been undone without a word. It is refused under the
    write lock, the page says why, and the other analyst's mapping stands."""
    at = teams_page(db)
    at.session_state["teams_editor_0"] = {"edited_rows": {0: {"area_office": "West"}}, "added_rows": [],
                                          "deleted_rows": []}
    real = annexa.save_team_areas

    def after_another_save(store, table, user, role=None, **kw):  # bob saves first, in that moment
        real(store, pd.DataFrame({"team": ["Hub", "North Team", "South Team"],
                                  "area_office": [None, "North", "South"]}), "bob@council.gov.uk")
        return real(store, table, user, role, **kw)

    monkeypatch.setattr(annexa, "save_team_areas", after_another_save)
    at.button(key="teams_save").click().run()
    monkeypatch.setattr(annexa, "save_team_areas", real)
    assert not at.exception, [e.value for e in at.exception]
    said = texts(at).replace("\\", "").replace("\u2060", "")
    assert "The mapping was changed by bob@council.gov.uk at" in said and "your changes were not saved" in said
    assert "Saved" not in said
    assert mapping(db) == {"North Team": ("North", "setup"), "South Team": ("South", "bob@council.gov.uk")}
    assert at.data_editor[0].value["team"].tolist() == ["Hub", "North Team", "South Team"]  # as it now stands
    at.session_state["teams_editor_1"] = {"edited_rows": {0: {"area_office": "West"}}, "added_rows": [],
                                          "deleted_rows": []}
    at.button(key="teams_save").click().run()  # made again on the fresh editor: saved, bob's kept
    assert "Saved" in texts(at)
    assert mapping(db) == {"North Team": ("North", "setup"), "South Team": ("South", "bob@council.gov.uk"),
                           "Hub": ("West", "local user")}

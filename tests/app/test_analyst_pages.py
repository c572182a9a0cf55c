"""The analyst's pages cost a view what a board member's do (issue 17: every page's warm view at
most 3x a one-line page): the Audit log draws the newest entries whatever the log's length, and
the Imports, Upload, Teams and Data quality pages build what they show once per data version.
Expected values are written out by hand from the entries and files made here."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from csc import annexa, kpis, ui, viewcache, wording
from csc import store as store_module
from csc.store import Store
from tests.app.conftest import build_council
from tests.app.test_pages import app, page

AUDIT = "app_pages/audit.py"
DT = dt.datetime


@pytest.fixture()
def logged(tmp_path):
    """An empty council whose audit log holds 203 views by alice, 09:00 to 12:22 on 1 December
    2026, then bob's import at midnight and his export at 14:05:30 on 2 December."""
    db = tmp_path / "csc.duckdb"
    rows = [(DT(2026, 12, 1, 9, 0) + dt.timedelta(minutes=i), "alice", "board", "view",
             json.dumps({"page": "overview"})) for i in range(203)]
    rows += [(DT(2026, 12, 2, 0, 0, 0), "bob", "analyst", "import", json.dumps({"import_id": 7, "period": "2026-11"})),
             (DT(2026, 12, 2, 14, 5, 30), "bob", "analyst", "export", json.dumps({"what": "imports"}))]
    with Store.open(db) as store, store.transaction("setup", None) as w:
        w.cur.executemany("insert into audit_log (logged_at, user_name, role, action, detail) values (?, ?, ?, ?, ?)",
                          rows)
    viewcache.clear()
    return db


def audit_table(at):
    return next(d.value for d in at.dataframe if "when_words" in d.value.columns)


def captions(at) -> list[str]:
    return [c.value for c in at.caption]


def written(db, at):
    """The page drawn again once the views waiting for the background writer are in the log."""
    ui.get_store(str(db)).flush_audit()
    return at.run()


def test_the_audit_log_draws_the_newest_200_entries_and_says_how_many_there_are(logged):
    at = written(logged, page(logged, AUDIT, "analyst"))
    table = audit_table(at)
    # 205 entries made above and this view of the page (the newest): the newest 200 are drawn
    assert len(table) == 200
    assert table.iloc[0].tolist()[1:] == ["local user", "Performance analyst", "Viewed", "page: audit"]
    assert table.iloc[1].tolist()[:4] == ["2 December 2026 14:05", "bob", "Performance analyst", "Exported"]
    assert table.iloc[2].tolist()[:4] == ["2 December 2026", "bob", "Performance analyst", "Imported"]  # midnight
    # then 197 of alice's views, from the newest (the 203rd, 12:22) back to the 7th (09:06)
    assert table.iloc[3].tolist() == ["1 December 2026 12:22", "alice", "Board member", "Viewed", "page: overview"]
    assert table.iloc[199]["when_words"] == "1 December 2026 09:06"
    assert "The newest 200 of the 206 entries chosen: choose actions or people to narrow them, or download them all." \
        in captions(at)


def test_the_audit_log_filters_by_action_and_person_in_the_database(logged):
    at = page(logged, AUDIT, "analyst")
    at.multiselect(key="audit_users").select("bob").run()
    table = audit_table(at)
    assert table["when_words"].tolist() == ["2 December 2026 14:05", "2 December 2026"]
    assert table["detail_label"].tolist() == ["what: imports", "import: 7 · month: November 2026"]
    assert not any(c.startswith("The newest") for c in captions(at))  # all of them are drawn
    at.multiselect(key="audit_actions").set_value(["Imported"]).run()
    assert audit_table(at)["what"].tolist() == ["Imported"]
    at.multiselect(key="audit_actions").set_value([]).run()  # none chosen: every action, bob's two
    assert audit_table(at)["what"].tolist() == ["Exported", "Imported"]
    at.multiselect(key="audit_actions").set_value(["Imported"]).run()
    at.multiselect(key="audit_users").set_value(["alice"]).run()  # alice imported nothing
    assert "No entry is of the actions and people chosen." in [i.value for i in at.info]


def test_the_audit_logs_download_has_every_entry_chosen(logged):
    store = Store.open(logged, read_only=True)
    try:
        every = store.audit_entries(["view", "import", "export"], [], None)
        alice = store.audit_entries(["view"], ["alice"], None)
    finally:
        store.close()
    assert every.num_rows == 205 and every["matching"][0].as_py() == 205
    assert alice.num_rows == 203 and alice["when_words"][202].as_py() == "1 December 2026 09:00"  # oldest last


def test_the_audit_logs_time_in_words_is_the_pages_own_everywhere_else():
    """The database spells the time as `wording.date_words` does (the rest of the dashboard)."""
    con = duckdb.connect()
    con.execute("create table audit_log (audit_id bigint, logged_at timestamp, user_name varchar, role varchar, "
                "action varchar, detail varchar)")
    times = [DT(2026, 1, 9), DT(2026, 1, 9, 0, 0, 1), DT(2026, 12, 31, 23, 59, 59), DT(2011, 7, 1, 7, 5)]
    con.executemany("insert into audit_log values (?, ?, 'u', null, 'view', '{}')", list(enumerate(times)))
    got = con.execute(kpis.app_sql("audit_entries"), {"actions": ["view"], "users": [], "shown": None}).fetchall()
    assert [r[-1] for r in reversed(got)] == [wording.date_words(t) for t in times] == [
        "9 January 2026", "9 January 2026 00:00", "31 December 2026 23:59", "1 July 2011 07:05"]


def test_the_analyst_pages_build_what_they_show_once_per_data_version(tmp_path):
    db = build_council(tmp_path)
    viewcache.clear()
    kinds = ["imports-history", "upload-latest-imports", "upload-next-month", "teams-mapping"]
    before = {k: viewcache.BUILDS[k] for k in kinds}  # the process's count: other tests build them too
    for path in ("app_pages/imports.py", "app_pages/upload.py", "app_pages/teams.py"):
        page(db, path, "analyst")
    built = {k: viewcache.BUILDS[k] for k in kinds}
    assert {k: built[k] - before[k] for k in kinds} == dict.fromkeys(kinds, 1)
    for path in ("app_pages/imports.py", "app_pages/upload.py", "app_pages/teams.py"):  # a second session
        page(db, path, "analyst")
    assert {k: viewcache.BUILDS[k] for k in kinds} == built
    # a mapping saved moves the data version: the Teams page shows it, built again
    store = ui.get_store(str(db))  # the app's own connection, as the Teams page saves through it
    annexa.save_team_areas(store, pd.DataFrame({"team": ["Hub"], "area_office": ["West"]}), "ann", "analyst")
    at = page(db, "app_pages/teams.py", "analyst")
    assert viewcache.BUILDS["teams-mapping"] == built["teams-mapping"] + 1
    assert at.data_editor[0].value[["team", "area_office"]].values.tolist() == [["Hub", "West"]]


def test_the_rollback_choice_names_each_loaded_import_newest_first(council_db):
    at = page(council_db, "app_pages/imports.py", "analyst")
    box = next(s for s in at.selectbox if s.label == "Import")
    # build_council loads April to July 2011 as imports 1 to 4
    assert box.options == ["4 · 2011-07 · extract-2011-07.xlsx", "3 · 2011-06 · extract-2011-06.xlsx",
                           "2 · 2011-05 · extract-2011-05.xlsx", "1 · 2011-04 · extract-2011-04.xlsx"]
    assert box.value == 4


def test_the_audit_log_of_a_new_council_says_only_this_view(tmp_path, monkeypatch):
    monkeypatch.setattr(store_module, "AUDIT_LINGER", 3600)  # views wait for `written`, not for the clock
    db = tmp_path / "csc.duckdb"
    Store.open(db).close()
    at = app(db, "analyst").run()
    at.switch_page(AUDIT).run()
    assert not at.exception
    assert not at.dataframe and "Nothing logged yet." in [i.value for i in at.info]  # the view is on its way
    at = written(db, at)
    assert audit_table(at)[["what", "detail_label"]].values.tolist() == [["Viewed", "page: audit"]]


def test_the_audit_logs_table_is_made_once_until_more_is_logged(logged, monkeypatch):
    monkeypatch.setattr(store_module, "AUDIT_LINGER", 3600)  # views wait for `written`, not for the clock
    made = []
    real = Store.audit_entries
    monkeypatch.setattr(Store, "audit_entries", lambda self, *a: made.append(a) or real(self, *a))
    at = written(logged, page(logged, AUDIT, "analyst"))
    assert len(made) == 2  # before and after this view reached the log
    page(logged, AUDIT, "analyst")  # another session: its view waits for the writer
    assert len(made) == 2 and audit_table(at).shape == (200, 5)
    store = ui.get_store(str(logged))
    store.audit("carol", "director", "export", {"what": "overview"})  # written at once
    at.run()
    assert len(made) == 3
    assert audit_table(at).iloc[0].tolist()[1:] == ["carol", "Director", "Exported", "what: overview"]


def test_an_entry_committed_after_a_newer_one_is_shown(logged, monkeypatch):
    """A write transaction takes its audit entry's id before it commits, and the background writer
    can commit a view with a newer id meanwhile: the page's key moves when the older one lands."""
    monkeypatch.setattr(store_module, "AUDIT_LINGER", 3600)  # views wait for `written`, not for the clock
    store = ui.get_store(str(logged))
    late = store.cursor().execute("select nextval('audit_seq')").fetchall()[0][0]  # a rollback's, not committed
    at = written(logged, page(logged, AUDIT, "analyst"))  # this view's entry, newer, is committed first
    assert "Rolled back" not in audit_table(at)["what"].tolist()
    with store.transaction("setup", None) as w:
        w.cur.execute("insert into audit_log values ($id, timestamp '2026-12-03 10:00', 'bob', 'analyst', 'rollback', "
                      "'{\"import_id\": 7}')", {"id": late})
    at.run()
    table = audit_table(at)
    assert table.loc[table["what"] == "Rolled back", ["when_words", "user_name", "detail_label"]].values.tolist() == [
        ["3 December 2026 10:00", "bob", "import: 7"]]

"""One way to write: `Store.transaction` (audit entry, data version, after-commit work, all or
nothing), and a column added to a sheet of the spec reaching a database made before it."""

from __future__ import annotations

import dataclasses
import json
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import corpus  # noqa: E402
from corpus import write_xlsx  # noqa: E402

from csc import annexa, plan, spec  # noqa: E402
from csc.store import Store, StoreError  # noqa: E402


def actions(store: Store) -> list[str]:
    return list(store.audit_log()["action"])


def test_every_write_moves_the_data_version_on_and_a_page_view_does_not(store, tmp_path):
    assert store.data_version() == 1  # the store's tables made on open: one write
    path = write_xlsx(tmp_path / "april.xlsx", {"referrals": corpus.referrals(3)})
    store.import_file(path, "2011-04", user="ana")
    assert store.data_version() == 2
    store.audit("dee", "director", "view", {"page": "overview"})  # a page view: no new data
    store.audit("dee", "director", "export", {"what": "csv"})
    assert store.data_version() == 2
    assert store.import_file(path, "2011-04", user="ana").status == "unchanged"  # nothing written
    assert store.data_version() == 2
    action_id = plan.current(store.cursor()).actions[0].id
    plan.record_change(store, action_id, "owner", "Sam", user="ana", role="analyst")
    assert store.data_version() == 3
    annexa.save_team_areas(store, _teams(("Hub", "North")), user="ana")
    assert store.data_version() == 4
    assert annexa.save_team_areas(store, _teams(("Hub", "North")), user="ana").startswith("Nothing to save")
    assert store.data_version() == 4  # an abandoned transaction: no version, no audit line
    store.rollback(1, user="ana")
    store.refresh(user="ana")
    assert store.data_version() == 6
    assert actions(store) == ["import", "view", "export", "plan_change", "team_areas", "rollback", "refresh"]


def _teams(*rows):
    import pandas as pd

    return pd.DataFrame(rows, columns=["team", "area_office"])


def test_the_data_version_survives_reopening(tmp_path):
    db = tmp_path / "csc.duckdb"
    with Store.open(db) as store:
        store.refresh()
        assert store.data_version() == 2
    with Store.open(db, read_only=True) as store:
        assert store.data_version() == 2
        with pytest.raises(StoreError, match="read-only"), store.transaction("ana", "refresh"):
            pass
    with Store.open(db) as store:
        assert store.data_version() == 2  # the tables were up to date: opening wrote nothing


def test_a_transaction_that_raises_leaves_nothing_behind(store, tmp_path):
    before = store.data_version()
    stray = tmp_path / "written-inside.txt"
    ran = []
    with pytest.raises(RuntimeError, match="stop"), store.transaction("ana", "plan_change", {"n": 1}) as w:
        w.cur.execute("insert into plan_changes (action_id, field, value, changed_by, changed_at) "
                      "values ('1', 'owner', 'Sam', 'ana', now())")
        stray.write_text("x")
        w.on_rollback(stray.unlink)
        w.after_commit(lambda: ran.append("after"))
        raise RuntimeError("stop")
    assert store.cursor().execute("select count(*) from plan_changes").fetchall() == [(0,)]
    assert actions(store) == [] and store.data_version() == before
    assert not stray.exists() and ran == []


def test_the_audit_line_carries_what_the_block_added_and_after_commit_work_runs_once(store):
    ran = []
    with store.transaction("ana", "plan_change", {"action": "1"}, role="analyst") as w:
        w.cur.execute("insert into plan_changes (action_id, field, value, changed_by, changed_at) "
                      "values ('1', 'owner', 'Sam', 'ana', now())")
        w.detail["field"] = "owner"
        w.after_commit(lambda: ran.append(store.cursor().execute("select count(*) from plan_changes").fetchall()))
    assert ran == [[(1,)]]  # after the commit: a new cursor sees the row
    log = store.audit_log()
    assert list(log["action"]) == ["plan_change"] and list(log["role"]) == ["analyst"]
    assert json.loads(log["detail"].iloc[0]) == {"action": "1", "field": "owner"}


# --- a new column in the spec ------------------------------------------------------------------


def _with_route(monkeypatch) -> None:
    """The referrals sheet gains an optional text column, `referral_route` (headed "Route")."""
    sheet = spec.SHEETS["referrals"]
    route = spec.Column("referral_route", spec.TEXT, False, ("Route",), description="How the referral came in")
    monkeypatch.setitem(spec.SHEETS, "referrals", dataclasses.replace(sheet, columns=(*sheet.columns, route)))


def test_a_column_added_to_a_sheet_of_the_spec_reaches_a_database_made_before(tmp_path, monkeypatch):
    db = tmp_path / "csc.duckdb"
    old = write_xlsx(tmp_path / "march.xlsx", {"referrals": corpus.referrals(2)})
    with Store.open(db) as store:
        assert store.import_file(old, "2011-03", user="ana").status == "loaded"

    _with_route(monkeypatch)
    rows = corpus.referrals(2, start=3)
    rows[0].append("Route")
    rows[1].append("Police phone line")
    rows[2].append(None)
    new = write_xlsx(tmp_path / "april.xlsx", {"referrals": rows})
    with Store.open(db) as store:
        log = store.audit_log()
        assert list(log["action"]) == ["import", "schema_migration"]
        assert json.loads(log["detail"].iloc[-1]) == {"added": {"referrals": ["referral_route"]}}
        result = store.import_file(new, "2011-04", user="ana")
        assert result.status == "loaded", [p.message for p in result.errors]
        got = store.cursor().execute("select referral_id, referral_route from cur_referrals order by 1").fetchall()
        # R1, R2 from before the column (empty); R3 with a route, R4 with none
        assert got == [("R1", None), ("R2", None), ("R3", "Police phone line"), ("R4", None)]
    with Store.open(db) as store:  # migrated once: nothing more to add
        assert actions(store).count("schema_migration") == 1


def _logged(store: Store) -> list[tuple]:
    """The audit log as it is on disk (a plain read: nothing waiting is written first)."""
    return store.cursor().execute("select action, user_name, detail from audit_log order by audit_id").fetchall()


def test_page_views_are_written_by_the_background_writer_in_order_and_none_is_lost(tmp_path):
    store = Store.open(tmp_path / "csc.duckdb")
    before = len(_logged(store))
    for n in range(5):  # a busy minute: five views
        store.audit_soon(f"viewer{n}", "board", "view", {"page": "overview"})
    deadline = time.monotonic() + 10
    while len(_logged(store)) < before + 5 and time.monotonic() < deadline:  # nobody asked: written anyway
        time.sleep(0.05)
    assert [row[1] for row in _logged(store)[before:]] == [f"viewer{n}" for n in range(5)]
    assert store.pending_audit() == 0
    # a view still waiting goes in before a write's own entry, an export's and a refusal's
    store.audit_soon("dee", "director", "view", {"page": "action"})
    plan.record_change(store, plan.current(store.cursor()).actions[0].id, "owner", "Sam", user="ana", role="analyst")
    store.audit_soon("dee", "director", "view", {"page": "plan"})
    store.audit("dee", "director", "export", {"what": "csv"})
    assert [(a, u) for a, u, _ in _logged(store)[before + 5:]] == [
        ("view", "dee"), ("plan_change", "ana"), ("view", "dee"), ("export", "dee")]
    # and whatever waits when the store closes is written as it closes
    store.audit_soon("last", "board", "view", {"page": "overview"})
    store.close()
    with Store.open(tmp_path / "csc.duckdb", read_only=True) as reader:
        assert reader.cursor().execute("select user_name from audit_log order by audit_id desc limit 1").fetchall() == [
            ("last",)]


def test_the_audit_logs_state_is_read_again_only_after_something_is_logged(tmp_path):
    # The Audit log page keys what it shows on `audit_state`; scanning the log for it on every view
    # cost 2 ms a view (issue 17). It is read again only once something is logged in this process.
    db = tmp_path / "csc.duckdb"
    store = Store.open(db)
    reads = []
    real = store.cursor

    def counting():
        reads.append(1)
        return real()

    store.cursor = counting
    store.audit("ana", "analyst", "view", {"page": "audit"})
    n, newest = store.audit_state()
    assert (n, newest) == store.cursor().execute("select count(*), max(audit_id) from audit_log").fetchall()[0]
    reads.clear()
    assert store.audit_state() == (n, newest) and reads == []  # nothing logged: no read
    store.audit_soon("dee", "director", "view", {"page": "overview"})
    store.flush_audit()  # the background writer's insert (if it has not run already)
    assert store.audit_state() == (n + 1, newest + 1)
    store.audit("dee", "director", "export", {"what": "csv"})
    assert store.audit_state() == (n + 2, newest + 2)
    plan.record_change(store, plan.current(store.cursor()).actions[0].id, "owner", "Sam", user="ana", role="analyst")
    assert store.audit_state() == (n + 3, newest + 3)  # a write transaction's own entry
    reads.clear()
    assert store.audit_state() == (n + 3, newest + 3) and reads == []
    store.close()


def test_results_made_by_other_code_are_made_again_on_opening_and_only_then(tmp_path):
    # An upgrade changes how figures or the board's suppression are made (`kpis.fingerprint`): a
    # database opened by the new code must not keep showing what the old code stored until the
    # next import. Stand-in for the old code's results: a value changed by hand, a hidden flag
    # cleared, and the record of what made them set to another fingerprint.
    db = tmp_path / "csc.duckdb"
    path = write_xlsx(tmp_path / "april.xlsx", {"referrals": corpus.referrals(3)})
    with Store.open(db) as store:
        assert store.import_file(path, "2011-04", user="ana").status == "loaded"
        cur = store.cursor()
        made = cur.execute("select kpi, period, area, value, hidden from kpi_results order by all").fetchall()
        assert any(h for *_, h in made), "the fixture should have a figure hidden from the board"
    with Store.open(db) as store:  # the same code: nothing made again, nothing written
        assert actions(store) == ["import"]
        store._con.execute("update kpi_results set value = -1, hidden = false")
        store._con.execute("update kpi_state set fingerprint = 'made by the code before the upgrade'")
    with Store.open(db) as store:
        assert store.cursor().execute(
            "select kpi, period, area, value, hidden from kpi_results order by all").fetchall() == made
        log = store.audit_log()
        assert list(log["action"]) == ["import", "refresh"]
        assert "code behind the figures changed" in json.loads(log["detail"].iloc[-1])["why"]
    with Store.open(db) as store:  # made again once
        assert actions(store) == ["import", "refresh"]


@pytest.mark.parametrize("changed", ["queries/app/referrals_by_month.sql", "queries/app/assessment_timeliness_by_type.sql",
                                     "queries/app/hidden_ever_add.sql",
                                     "queries/app/small_cell_trees.sql", "queries/kpis/re_referral_pct.sql"])
def test_the_code_behind_the_boards_hidden_cells_is_part_of_what_made_the_results(tmp_path, monkeypatch, changed):
    # the board's one-level tables (referrals by area office, timeliness by type) record their hidden
    # cells at each recompute: a change to how they are made must make them again on opening, as a
    # change to the KPIs' own suppression does
    import shutil

    from csc import config, kpis

    before = kpis.fingerprint()
    folder = tmp_path / "queries"
    shutil.copytree(config.QUERIES, folder)
    monkeypatch.setenv("CSC_QUERIES", str(folder))
    assert kpis.fingerprint() == before  # a copy is the same
    path = folder / changed.removeprefix("queries/")
    path.write_text(path.read_text() + "\n-- edited\n")
    assert kpis.fingerprint() != before


def test_the_breakdowns_code_is_part_of_what_made_the_results(tmp_path, monkeypatch):
    from pathlib import Path

    from csc import kpis

    before = kpis.fingerprint()
    copy = tmp_path / "csc"
    copy.mkdir()
    for name in ("kpis.py", "suppression.py", "privacy.py", "breakdowns.py"):
        (copy / name).write_bytes((Path(kpis.__file__).parent / name).read_bytes())
    monkeypatch.setattr(kpis, "__file__", str(copy / "kpis.py"))
    assert kpis.fingerprint() == before
    (copy / "breakdowns.py").write_text((copy / "breakdowns.py").read_text() + "\n# edited\n")
    assert kpis.fingerprint() != before

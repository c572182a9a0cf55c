"""Nothing lost: rebuild the database from the kept upload files and the history, back it up
while it is in use, and restore it; the KPIs and the action plan come back identical."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import pyarrow as pa

import csc.store as store_module
from csc import cli, config, crypto, manifest, plan, recovery, suppression
from csc.store import Store
from tests.reliability.support import state

ROOT = Path(__file__).resolve().parents[2]
HISTORY_COLUMNS = ("import_id, period, file_name, sha256, user_name, imported_at, status, stored_file, source_format, "
                   "rolled_back_at, rolled_back_by")


def snapshot(db: Path) -> dict:
    """Everything a rebuild must give back, read through a fresh read-only connection."""
    with Store.open(db, read_only=True) as store:
        cur = store.cursor()
        s = state(cur)
        s["history"] = cur.execute(f"select {HISTORY_COLUMNS} from imports order by import_id").fetchall()
        s["plan_changes"] = cur.execute("select * from plan_changes order by change_id").fetchall()
        s["plan"] = plan.current(cur)
        s["audit"] = cur.execute("select audit_id, logged_at, user_name, role, action, detail from audit_log "
                                 "order by audit_id").fetchall()
        # what the board is denied, now and ever (`csc.suppression`): a rebuild must not give any back
        s["hidden"] = cur.execute("select kpi, period, area, null from kpi_results where hidden union all "
                                  "select kpi, period, area, team from kpi_team_results where hidden "
                                  "order by all").fetchall()
        s["hidden_ever"] = cur.execute("select * from kpi_hidden_ever order by all").fetchall()
        # the secret the board's partners are chosen by: the same after a rebuild, so the same partners
        s["board_secret"] = suppression.stored_partner_secret(cur)
    return s


def same_data(a: dict, b: dict) -> None:
    for key in ("imports", "raw", "current", "kpis", "history", "plan_changes", "plan", "hidden", "hidden_ever",
                "board_secret"):
        assert a[key] == b[key], key


@pytest.fixture(scope="module")
def built(tmp_path_factory, workbooks) -> Path:
    """Three imports, one rolled back, and the plan changed: closed, as after a day's work."""
    d = tmp_path_factory.mktemp("council") / "data"
    with Store.open(d / "csc.duckdb") as store:
        at = dt.datetime(2022, 3, 7, 9, 30)
        for key, period, when in (("feb", "2022-02", at), ("mar", "2022-03", at + dt.timedelta(days=28)),
                                  ("small", "2022-04", at + dt.timedelta(days=60))):
            r = store.import_file(workbooks[key], period, user=f"analyst-{key}", imported_at=when)
            assert r.status == "loaded", r.message
        store.rollback(2, user="analyst-rollback", role="analyst")
        store.audit("director", "director", "view", {"page": "overview"})
        plan.record_change(store, "A1", "target:transfer_timely_pct", "85", user="director", role="director")
        plan.record_change(store, "A3", "status", "at risk", user="director", role="director")
    return d / "csc.duckdb"


@pytest.fixture
def council(built, tmp_path) -> Path:
    """A copy of the built council's data folder for one test to change."""
    shutil.copytree(built.parent, tmp_path / "data")
    return tmp_path / "data" / built.name


@pytest.mark.slow
@pytest.mark.parametrize("history", ["database", "manifest"])
def test_rebuild_into_a_new_file_gives_identical_kpis_and_plan(council, tmp_path, history):
    before = snapshot(council)
    assert before["kpis"] and before["history"][1][6] == "rolled_back" and len(before["board_secret"]) == 32
    assert before["plan"].target("transfer_timely_pct") == 85.0
    target = tmp_path / "elsewhere" / "csc.duckdb"
    report = recovery.rebuild(target, source=council.parent, history=history)
    assert report.problems == [] and report.history == history
    assert report.replayed == [1, 2, 3] and report.rolled_back == [2] and report.renumbered == {}
    after = snapshot(target)
    same_data(before, after)
    # the replay (the rollback at once, not after the next import) would give back some of the board's
    # hidden figures: the database's or the manifest's record of them hides them again, and says so
    assert before["hidden_ever"] and report.hidden == len(before["hidden_ever"])
    assert f"The {report.hidden:,} figure(s) the board was denied before stay hidden." in report.summary()
    assert after["plan"].action("A3").status == "at risk"
    if history == "database":  # the audit log comes back whole, plus a line saying what happened
        assert after["audit"][:-1] == before["audit"]
    else:  # only what the manifest vouches for: imports, the rollback, plan changes (not views)
        actions = [a[4] for a in after["audit"]]
        assert actions == ["import", "import", "import", "rollback", "plan_change", "plan_change", "rebuild"]
    assert after["audit"][-1][4] == "rebuild"
    # the kept files were copied beside the new database, under the same names
    assert sorted(p.name for p in (target.parent / "uploads").iterdir()) == \
        sorted(p.name for p in (council.parent / "uploads").iterdir())


@pytest.mark.slow
def test_rebuild_in_place_from_the_manifest_when_the_database_file_is_lost(council):
    before = snapshot(council)
    council.unlink()
    assert cli.main(["rebuild", "--db", str(council)]) == 0
    same_data(before, snapshot(council))
    with Store.open(council) as store:  # reopened by the dashboard: the manifest agrees
        assert manifest.check_manifest(store).in_step
    assert not list(council.parent.glob(".rebuild-*"))


@pytest.mark.slow
def test_rebuild_in_place_keeps_the_old_file_beside_the_new(council, capsys):
    before = snapshot(council)
    assert cli.main(["rebuild", "--db", str(council)]) == 0
    assert "from the database" in capsys.readouterr().out
    same_data(before, snapshot(council))
    kept = list(council.parent.glob("csc.duckdb.replaced-*"))
    assert len(kept) == 1
    same_data(before, snapshot(kept[0]))


def test_rebuild_stops_and_changes_nothing_when_a_kept_file_is_missing(council):
    before = council.read_bytes()
    uploads = council.parent / "uploads"
    victim = next(p for p in uploads.iterdir() if p.name.startswith("000003-"))
    victim.unlink()
    with pytest.raises(recovery.RecoveryError, match="000003-.* is missing"):
        recovery.rebuild(council)
    assert council.read_bytes() == before
    assert not list(council.parent.glob(".rebuild-*")) and not list(council.parent.glob("*.replaced-*"))


def test_rebuild_refuses_while_the_dashboard_holds_the_database(council):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with Store.open(council):  # as the running dashboard does
        out = subprocess.run([sys.executable, "-m", "csc", "rebuild", "--db", str(council)], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert out.returncode == 1
    assert "open in another process" in out.stderr


def test_rebuild_refuses_while_this_process_holds_the_database(council):
    """A store open in this process (the app's, beside a command run in it): DuckDB refuses the
    read-only open as "already attached", and the rebuild says the same as for another process."""
    before = council.read_bytes()
    with Store.open(council):
        with pytest.raises(recovery.RecoveryError, match="open in another process"):
            recovery.rebuild(council)
    assert council.read_bytes() == before


@pytest.mark.slow
def test_backup_while_in_use_restores_by_copying_the_folder(council, tmp_path, workbooks):
    before = snapshot(council)
    with Store.open(council) as store:  # the dashboard's store, still in use
        report = recovery.backup(store, tmp_path / "backup-1")
        reader = store.cursor()
        assert reader.execute("select count(*) from imports").fetchall()[0][0] == 3  # carries on reading
    assert report.imports == 3 and report.files == 3
    # restore: stop the app, put the backup folder's contents where the data folder was
    restored = tmp_path / "restored"
    shutil.copytree(tmp_path / "backup-1", restored)
    same_data(before, snapshot(restored / "csc.duckdb"))
    with Store.open(restored / "csc.duckdb") as store:
        assert manifest.check_manifest(store).in_step
        assert store.import_file(workbooks["mar-again"], "2022-03", user="after-restore").status == "loaded"
    # and a rebuild straight from the backup folder gives the same again
    target = tmp_path / "rebuilt" / "csc.duckdb"
    recovery.rebuild(target, source=tmp_path / "backup-1", history="manifest")
    same_data(before, snapshot(target))


def test_backup_refuses_to_overwrite_an_earlier_backup(council, tmp_path):
    with Store.open(council) as store:
        recovery.backup(store, tmp_path / "b")
        with pytest.raises(recovery.RecoveryError, match="already exists"):
            recovery.backup(store, tmp_path / "b")


def test_backup_command_works_when_the_app_is_stopped_and_says_why_not_when_it_runs(council, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "csc", "backup", str(tmp_path / "b1"), "--db", str(council)]
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "Backed up 3 import(s)" in out.stdout
    with Store.open(council):
        cmd[4] = str(tmp_path / "b2")
        out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert "open in another process (the dashboard)" in out.stderr


def test_a_fresh_database_beside_an_old_manifest_removes_nothing_and_says_so(council, caplog):
    files = sorted((council.parent / "uploads").iterdir())
    council.unlink()  # lost; the dashboard is started again before anyone runs a rebuild
    with Store.open(council) as store:
        check = manifest.check_manifest(store)
        assert not check.in_step and "the manifest records import 1 but the database does not" in check.problems
    assert sorted((council.parent / "uploads").iterdir()) == files  # every kept file is still there
    assert "python -m csc rebuild" in caplog.text


def test_the_key_lives_outside_the_data_folder_and_a_rebuild_uses_it(tmp_path, workbooks, monkeypatch):
    monkeypatch.delenv("CSC_ID_KEY")
    key_file = tmp_path / "secrets" / "id_key"
    monkeypatch.setenv("CSC_KEY_FILE", str(key_file))
    old = tmp_path / "old" / "csc.duckdb"
    with Store.open(old) as store:
        store.import_file(workbooks["small"], "2022-04", user="analyst")
        recovery.backup(store, tmp_path / "backup")
    assert key_file.stat().st_mode & 0o777 == 0o600 and key_file.parent.stat().st_mode & 0o777 == 0o700
    for folder in (old.parent, tmp_path / "backup"):  # neither the data folder nor its backup holds the key
        assert not [p for p in folder.rglob("*") if p.is_file() and key_file.read_bytes().strip() in p.read_bytes()]
    new = tmp_path / "new" / "csc.duckdb"
    report = recovery.rebuild(new, source=tmp_path / "backup")
    assert not report.new_key
    q = "select referral_id, child_id from raw_referrals order by all"
    with Store.open(old, read_only=True) as a, Store.open(new, read_only=True) as b:
        assert a.cursor().execute(q).fetchall() == b.cursor().execute(q).fetchall()


def test_a_key_file_inside_the_data_folder_is_refused(tmp_path, monkeypatch):
    monkeypatch.delenv("CSC_ID_KEY")
    monkeypatch.setenv("CSC_KEY_FILE", str(tmp_path / "data" / "keys" / "id_key"))
    with pytest.raises(crypto.KeyError_, match="inside the data folder"):
        config.id_key(tmp_path / "data" / "csc.duckdb")


def test_an_old_key_beside_the_database_is_moved_out_and_pseudonyms_still_match(tmp_path, workbooks, monkeypatch):
    monkeypatch.delenv("CSC_ID_KEY")
    key_file = tmp_path / "secrets" / "id_key"
    monkeypatch.setenv("CSC_KEY_FILE", str(key_file))
    db = tmp_path / "data" / "csc.duckdb"
    db.parent.mkdir()
    (db.parent / ".id_key").write_text("an-old-key\n")  # as an older version left it
    with Store.open(db) as store:
        store.import_file(workbooks["small"], "2022-04", user="analyst")
        first = store.cursor().execute("select child_id from raw_referrals order by excel_row limit 1").fetchall()
    assert not (db.parent / ".id_key").exists() and key_file.read_text().strip() == "an-old-key"
    raw = store_module.pseudonymise(pa.table({"child_id": [first_child(workbooks["small"])]}), b"an-old-key")
    assert first == [(raw.column("child_id")[0].as_py(),)]


def test_rotating_the_key_re_encrypts_and_re_pseudonymises(tmp_path, workbooks, monkeypatch):
    monkeypatch.setenv("CSC_ID_KEY", "key-before")
    db = tmp_path / "data" / "csc.duckdb"
    with Store.open(db) as store:
        store.import_file(workbooks["small"], "2022-04", user="analyst")
        before = store.cursor().execute("select child_id from raw_referrals order by excel_row").fetchall()
        secret = suppression.stored_partner_secret(store.cursor())
    monkeypatch.setenv("CSC_ID_KEY", "key-after")
    monkeypatch.setenv("CSC_OLD_ID_KEY", "key-before")
    report = recovery.rebuild(db)
    assert report.replayed == [1], report.summary()
    monkeypatch.delenv("CSC_OLD_ID_KEY")
    with Store.open(db, read_only=True) as store:
        after = store.cursor().execute("select child_id from raw_referrals order by excel_row").fetchall()
        kept = store.paths.uploads / Path(store.imports().iloc[0]["stored_file"]).name
        # the board's partners are chosen as before: the database's secret is kept, not made from the new key
        assert secret is not None and suppression.stored_partner_secret(store.cursor()) == secret
    assert len(after) == len(before) and set(after).isdisjoint(before)
    crypto.decrypt(kept.read_bytes(), b"key-after")  # the kept file opens with the new key alone
    with pytest.raises(crypto.KeyError_):
        crypto.decrypt(kept.read_bytes(), b"key-before")


def test_a_rebuild_with_another_key_changes_nothing_and_says_why(tmp_path, workbooks, monkeypatch):
    monkeypatch.setenv("CSC_ID_KEY", "the-key")
    db = tmp_path / "data" / "csc.duckdb"
    with Store.open(db) as store:
        store.import_file(workbooks["small"], "2022-04", user="analyst")
    before = db.read_bytes()
    monkeypatch.setenv("CSC_ID_KEY", "a-different-key")  # the key was lost or swapped, no old key given
    with pytest.raises(recovery.RecoveryError, match="cannot be decrypted with the key configured"):
        recovery.rebuild(db)
    assert db.read_bytes() == before and not list(db.parent.glob("*.replaced-*"))


def first_child(workbook: Path) -> str:
    import openpyxl

    ws = openpyxl.load_workbook(workbook, read_only=True)["referrals"]
    rows = ws.iter_rows(values_only=True)
    header = [str(h).lower() for h in next(rows)]
    return next(rows)[header.index("child_id")]


@pytest.mark.slow
def test_a_partial_rebuild_without_a_rolled_back_file_keeps_the_kpis_and_says_what_is_missing(council, capsys):
    before = snapshot(council)
    next(p for p in (council.parent / "uploads").iterdir() if p.name.startswith("000002-")).unlink()
    assert cli.main(["rebuild", "--db", str(council), "--partial"]) == 1  # done, but not complete
    assert "PROBLEM: import 2 (2022-03): the kept file" in capsys.readouterr().out
    after = snapshot(council)
    assert after["kpis"] == before["kpis"]  # import 2 was rolled back: it never counted
    assert [h[0] for h in after["history"]] == [1, 3]  # import 3 keeps its number
    assert after["plan"] == before["plan"]


# --- Annex A: the team -> area office mapping each import was read with ---------------------------

L3 = ["Child Unique ID", "Gender", "Ethnicity", "Date of Birth", "Age of Child (Years)", "Date of referral",
      "Referral Source", "Referral NFA?", "Number of Referrals in Last 12 Months", "Allocated Team",
      "Allocated Worker"]


def annex_a(path: Path, children: list[str], day: dt.date) -> Path:
    from tests.conftest import write_xlsx

    rows = [[c, "Female", "WBRI", dt.date(2008, 5, 1), 2, day, "Police", "No", 0, "Duty Team", "W1"] for c in children]
    return write_xlsx(path, {"List 3 - Referrals": [L3, *rows]})


@pytest.mark.parametrize("history", ["database", "manifest"])
def test_rebuild_reads_each_annex_a_file_with_the_team_mapping_of_its_day(tmp_path, history):
    import pandas as pd

    from csc import annexa, annexa_teams

    db = tmp_path / "data" / "csc.duckdb"
    with Store.open(db) as store:
        annexa.save_team_areas(store, pd.DataFrame({"team": ["Duty Team"], "area_office": ["North"]}), "analyst")
        april = annex_a(tmp_path / "annex-april.xlsx", ["C1", "C2"], dt.date(2011, 4, 5))
        assert store.import_file(april, "2011-04", user="analyst").status == "loaded"
        # the Duty Team moves to the South office; May's file is read with the new mapping
        annexa.save_team_areas(store, pd.DataFrame({"team": ["Duty Team"], "area_office": ["South"]}), "analyst")
        may = annex_a(tmp_path / "annex-may.xlsx", ["C3"], dt.date(2011, 5, 5))
        assert store.import_file(may, "2011-05", user="analyst").status == "loaded"
    before = snapshot(db)
    q = "select import_id, area_office from raw_referrals order by all"
    with Store.open(db, read_only=True) as s:
        areas = s.cursor().execute(q).fetchall()
    assert areas == [(1, "North"), (1, "North"), (2, "South")]
    target = tmp_path / "rebuilt" / "csc.duckdb"
    report = recovery.rebuild(target, source=db.parent, history=history)
    assert report.problems == []
    assert report.verified == (history == "database")  # value for value against the old file
    same_data(before, snapshot(target))
    with Store.open(target, read_only=True) as s:
        assert s.cursor().execute(q).fetchall() == areas
        assert annexa_teams.team_areas(s.cursor()) == {"Duty Team": "South"}

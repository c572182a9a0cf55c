"""What is cached under a data version is that version's data (csc/viewcache.py: "the key must
hold everything the result depends on"). A page run reads the data version once, at its start
(`ui.version`); an import that commits while the run is building its figures moves the data, and
a figure built after the commit must not be kept under the version from before it: every session
whose run began before the commit is served that entry, beside entries built before the commit
(the board's verdict from the true series of one version and the published series of another).
A run reads through one cursor in one read transaction (`ui.cursor`), so it builds the data of
its own version; a run whose data moved before its first read starts again.

By hand, from tests/app/conftest.py: July 2011's transfers accepted within 5 working days, all
areas, 3 of 4 = 75%. A second July extract sends North's late transfer (T-2011-07-North-1,
requested Monday 4 July) again, accepted the next day: 4 of 4 = 100%."""

from __future__ import annotations

import datetime as dt
import re
import threading
from pathlib import Path

import pytest

from csc import report, ui, viewcache
from tests.app.conftest import TRANSFER, build_council
from tests.conftest import write_xlsx

D = dt.date
NAME = "transfer_timely_pct"
SEL = report.Selection(None, "2011-04", "2011-07")


@pytest.fixture()
def own_council(tmp_path, monkeypatch):
    viewcache.clear()
    ui.clear_caches()
    db = build_council(tmp_path)
    monkeypatch.setenv("CSC_DB", str(db))
    return db


@pytest.fixture()
def a_run(monkeypatch):
    """A script run as dashboard.py begins and ends one (Streamlit's run context stood in for)."""
    run = object()
    monkeypatch.setattr(ui, "get_script_run_ctx", lambda suppress_warning=False: run)
    ui.begin_run()
    yield
    ui.end_run()


def import_north_again(db) -> None:
    """An analyst's import, from another session (its own thread), through the same store."""
    again = [TRANSFER, ["T-2011-07-North-1", "C-T-2011-07-North-1", "Intake", "North A", D(2011, 7, 4), D(2011, 7, 5),
                        "North"]]
    path = write_xlsx(db.parent / "extract-2011-07-again.xlsx", {"Transfers": again})
    results = []
    other = threading.Thread(target=lambda: results.append(
        ui.store().import_file(path, "2011-07", user="test", imported_at=dt.datetime(2011, 8, 8, 9))))
    other.start()
    other.join()
    assert results[0].status == "loaded", [p.message for p in results[0].problems]


def july(df) -> list[float]:
    return df.loc[df["period"] == "2011-07", "value"].tolist()


def test_a_figure_built_after_an_import_is_not_kept_under_the_version_before_it(own_council, a_run):
    before = ui.version()  # the run's data version
    assert july(ui.series(before, "analyst", NAME, SEL)) == [75.0]  # built before the commit
    import_north_again(own_council)  # an analyst's import commits while the run is still building
    assert ui.store().data_version() != int(before.rsplit("@", 1)[1].split("#")[0])
    # the run goes on with its version: the true series for the ratings, built now, is that version's
    assert july(ui.series(before, "director", NAME, SEL)) == [75.0]
    ui.end_run()
    ui.begin_run()  # the next run: the new version, and its data
    assert ui.version() != before
    assert july(ui.series(ui.version(), "director", NAME, SEL)) == [100.0]


def test_a_run_whose_data_moved_before_its_first_read_starts_again(own_council, a_run, monkeypatch):
    class Rerun(Exception):
        pass

    def rerun():
        raise Rerun

    monkeypatch.setattr(ui.st, "rerun", rerun)
    ui.version()  # the run's data version, then an import before it reads anything
    import_north_again(own_council)
    with pytest.raises(Rerun):
        ui.cursor()


def test_a_run_whose_plan_file_changed_before_its_first_read_starts_again(own_council, a_run, monkeypatch,
                                                                          tmp_path):
    """The plan file is part of the run's version (`plan.file_stamp`): edited after the run read
    its version and before its first read, the run starts again on the new plan."""
    from csc import config

    plan_file = tmp_path / "action_plan.toml"
    plan_file.write_text(config.ACTION_PLAN.read_text())
    monkeypatch.setattr(config, "ACTION_PLAN", plan_file)

    class Rerun(Exception):
        pass

    def rerun():
        raise Rerun

    monkeypatch.setattr(ui.st, "rerun", rerun)
    before = ui.version()
    plan_file.write_text(plan_file.read_text().replace("Head of Service, Integrated Access", "Director of Early Help"))
    assert ui.version() == before  # read once in the run: the run keeps its version
    with pytest.raises(Rerun):
        ui.cursor()
    ui.end_run()
    ui.begin_run()
    assert ui.version() != before
    ui.cursor()  # the new run's version is its snapshot's: no rerun


def test_the_import_history_and_the_latest_month_a_run_shares_are_its_versions(own_council, a_run):
    """The Imports page's history, the Data quality page's "latest month loaded" and whether there
    is any data are shared under the run's version too: read in its snapshot, not the latest."""
    store = ui.store()
    n = len(store.imports(ui.cursor()))  # the run's first read: its snapshot
    periods = store.loaded_periods(ui.cursor())
    assert n == 4 and periods[-1] == "2011-07"  # tests/app/conftest.py: April to July 2011, one import a month
    import_north_again(own_council)  # another session's import commits
    assert len(store.imports()) == n + 1  # the latest data has it
    assert len(store.imports(ui.cursor())) == n  # the run's version has not
    assert store.has_data(ui.cursor())


def test_what_pages_share_is_read_through_the_runs_cursor():
    """A shared build that reads through a fresh cursor reads the latest data, not its key's
    version: the store's readers are given `ui.cursor()` wherever a page shares what they read
    (the pages that read the latest on purpose, Upload and Audit log, hold the store as `store`
    or read other things)."""
    root = Path(__file__).resolve().parents[2]
    found = []
    for path in [*sorted((root / "app_pages").glob("*.py")), root / "csc" / "ui.py"]:
        for i, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"store\(\)\.(imports|loaded_periods|has_data)\(\)", line):
                found.append(f"{path.name}:{i}: {line.strip()}")
    assert not found, found

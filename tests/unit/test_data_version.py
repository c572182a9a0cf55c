"""`Store.data_version()`: the cache key of every page changes with each write that changes what a
page shows (import, rollback, refresh, plan change, team mapping), also when another process (a
second connection, as the CLI's) made it, and never with a page view or an export."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from csc import annexa, plan
from csc.store import Store
from tests.app.conftest import REFERRAL
from tests.conftest import write_xlsx

D = dt.date


def extract(folder, period: str, n: int):
    y, m = int(period[:4]), int(period[5:])
    rows = [REFERRAL] + [[f"R-{period}-{i}", f"C-{period}-{i}", D(y, m, 10 + i), "North", "North A"] for i in range(n)]
    return write_xlsx(folder / f"extract-{period}.xlsx", {"Referrals": rows})


def test_every_write_changes_the_version_and_reads_do_not(tmp_path):
    with Store.open(tmp_path / "csc.duckdb") as store:
        seen = [store.data_version()]

        def changed() -> bool:
            seen.append(store.data_version())
            return seen[-1] != seen[-2]

        result = store.import_file(extract(tmp_path, "2011-04", 2), "2011-04", user="t")
        assert result.status == "loaded" and changed()
        store.import_file(extract(tmp_path, "2011-05", 3), "2011-05", user="t")
        assert changed()
        store.audit("someone", "board", "view", {"page": "overview"})
        store.audit("someone", "director", "export", {"what": "overview"})
        assert not changed()
        store.rollback(2, user="t")
        assert changed()
        plan.record_change(store, "A1", "status", "on track", "t", "director")
        assert changed()
        annexa.save_team_areas(store, pd.DataFrame({"team": ["North A"], "area_office": ["North"]}), "t", "analyst")
        assert changed()
        store.refresh()
        assert changed()
        assert len(set(seen)) == len(seen) - 1  # never back to an earlier number


def test_another_connection_sees_the_version_a_write_made(tmp_path):
    db = tmp_path / "csc.duckdb"
    Store.open(db).close()
    with Store.open(db) as writer:  # as the CLI would, between two runs of the server
        before = writer.data_version()
        writer.import_file(extract(tmp_path, "2011-04", 2), "2011-04", user="cli")
    with Store.open(db, read_only=True) as reader:
        assert reader.data_version() > before


def test_a_store_reads_the_version_again_only_after_a_write_in_the_process(tmp_path, monkeypatch):
    """A page view costs no query (`Store.data_version` remembers it), yet a write through another
    store of this process on the same file (as the tests' own stores beside the dashboard's) is
    seen at once: no other process can write to a file this one has open."""
    db = tmp_path / "csc.duckdb"
    with Store.open(db) as dashboard, Store.open(db) as other:
        before = dashboard.data_version()
        real_cursor = dashboard.cursor
        monkeypatch.setattr(dashboard, "cursor", lambda: pytest.fail("the version was read from the database again"))
        assert dashboard.data_version() == before  # no query
        monkeypatch.setattr(dashboard, "cursor", real_cursor)
        other.import_file(extract(tmp_path, "2011-04", 2), "2011-04", user="t")
        in_the_file = other.cursor().execute("select n from data_version").fetchone()[0]
        assert in_the_file > before
        assert dashboard.data_version() == in_the_file

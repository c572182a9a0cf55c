"""Uploads in a private place (issue 14): the bytes checked are the bytes loaded, nothing goes
through a shared folder, a planted symlink redirects nothing, and nothing is left behind."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import stat
import tempfile
import threading
from pathlib import Path

import pytest

from csc import crypto, uploads
from csc.store import private_copy
from tests.conftest import write_xlsx
from tests.corpus import referrals


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """A temp folder for this test only, so what an upload leaves in it can be counted."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def workbook(tmp_path: Path, name: str, n: int) -> bytes:
    return write_xlsx(tmp_path / name, {"referrals": referrals(n)}).read_bytes()


def test_a_file_changed_between_check_and_load_is_refused(store, tmp_path, private_tmp):
    checked_bytes, other = workbook(tmp_path, "a.xlsx", 3), workbook(tmp_path, "b.xlsx", 5)
    checked = uploads.check(store, checked_bytes, "April.xlsx", "ana", "analyst")
    assert checked.ok and checked.sha256 == hashlib.sha256(checked_bytes).hexdigest()
    result = uploads.load(store, other, "April.xlsx", "2011-04", "ana", "analyst", checked.sha256)
    assert result.status == "refused" and "changed between the check and the load" in result.errors[0].message
    cur = store.cursor()
    assert cur.execute("select count(*) from imports").fetchall() == [(0,)]
    assert cur.execute("select count(*) from raw_referrals").fetchall() == [(0,)]
    assert cur.execute("select action, role from audit_log").fetchall() == [("import_refused", "analyst")]
    # the bytes that were checked load, with the role in the audit log
    result = uploads.load(store, checked_bytes, "April.xlsx", "2011-04", "ana", "analyst", checked.sha256)
    assert result.status == "loaded" and result.row_counts == {"referrals": 3}
    assert cur.execute("select user_name, role from audit_log where action = 'import'").fetchall() == [("ana", "analyst")]
    assert list(private_tmp.iterdir()) == []  # every private folder removed


def test_a_refused_upload_is_audited_and_leaves_nothing(store, tmp_path, private_tmp):
    bad = write_xlsx(tmp_path / "bad.xlsx", {"referrals": [["referral_id", "child_id"], ["R1", "C1"]]}).read_bytes()
    checked = uploads.check(store, bad, "bad.xlsx", "ana", "analyst")
    assert not checked.ok
    rows = store.cursor().execute("select action, user_name, role from audit_log").fetchall()
    assert rows == [("upload_refused", "ana", "analyst")]
    assert store.cursor().execute("select count(*) from imports").fetchall() == [(0,)]
    assert list(private_tmp.iterdir()) == []


def test_a_planted_symlink_in_the_temp_folder_redirects_nothing(store, tmp_path, private_tmp):
    attacker = tmp_path / "attacker"
    attacker.mkdir()
    os.symlink(attacker, private_tmp / "csc-uploads")  # where the old page wrote every upload
    data = workbook(tmp_path, "a.xlsx", 2)
    seen = {}
    real = crypto.write_private

    def spy(path, blob, **kw):
        seen["dir"] = Path(path).parent
        seen["mode"] = stat.S_IMODE(Path(path).parent.stat().st_mode)
        return real(path, blob, **kw)

    import csc.store

    csc.store.crypto.write_private = spy
    try:
        checked = uploads.check(store, data, "a.xlsx", "ana", "analyst")
    finally:
        csc.store.crypto.write_private = real
    assert checked.ok
    assert seen["mode"] == 0o700 and seen["dir"].parent == private_tmp and not seen["dir"].is_symlink()
    assert list(attacker.iterdir()) == []
    assert sorted(p.name for p in private_tmp.iterdir()) == ["csc-uploads"]  # only the planted link remains


def test_writing_a_private_file_never_follows_a_symlink(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    link = tmp_path / "upload.xlsx"
    os.symlink(victim, link)
    crypto.write_private(link, b"new bytes")
    assert victim.read_text() == "keep me"  # the link was replaced, its target untouched
    assert not link.is_symlink() and link.read_bytes() == b"new bytes"
    assert stat.S_IMODE(link.stat().st_mode) == 0o600


def test_the_private_copy_is_removed_even_when_reading_fails(private_tmp):
    with pytest.raises(RuntimeError):
        with private_copy(b"bytes", "x.xlsx") as path:
            assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
            raise RuntimeError
    assert list(private_tmp.iterdir()) == []


# --- one read per upload: what the check read, the load does not read again -------------------------

@pytest.fixture
def reads(monkeypatch):
    """The names of the files read (`Store._read`: every sheet read and checked), in order."""
    from csc.store import Store

    seen: list[str] = []
    real = Store._read

    def counting(self, path, original_name, today):
        seen.append(original_name or Path(path).name)
        return real(self, path, original_name, today)

    monkeypatch.setattr(Store, "_read", counting)
    return seen


def test_a_check_and_its_load_read_the_file_once(store, tmp_path, private_tmp, reads):
    data = workbook(tmp_path, "a.xlsx", 3)
    checked = uploads.check(store, data, "April.xlsx", "ana", "analyst")
    again = uploads.check(store, data, "April.xlsx", "ana", "analyst")  # the page, for a month's warnings
    assert checked.ok and again.ok and reads == ["April.xlsx"]
    result = uploads.load(store, data, "April.xlsx", "2011-04", "ana", "analyst", checked.sha256)
    assert result.status == "loaded" and result.row_counts == {"referrals": 3}
    assert reads == ["April.xlsx"]
    assert store.cursor().execute("select count(*) from raw_referrals").fetchall() == [(3,)]
    assert not store._reads  # nothing kept in memory once loaded (the child ids as read, not pseudonymised)
    # the load changed the data: the same bytes checked now are read again (a read can depend on
    # the data: Annex A's team areas, the SSD's and the census's known workers)
    assert uploads.check(store, data, "April.xlsx", "ana", "analyst").ok
    assert reads == ["April.xlsx", "April.xlsx"]


def test_a_read_is_kept_only_for_the_same_bytes_name_and_day(store, tmp_path, reads):
    a, b = write_xlsx(tmp_path / "a.xlsx", {"referrals": referrals(3)}), write_xlsx(tmp_path / "b.xlsx", {"referrals": referrals(4)})
    store.validate(a)
    store.validate(a)  # kept
    store.validate(b)  # other bytes
    store.validate(a, original_name="other-name.xlsx")  # the name is in the problems' words
    store.validate(a, today=dt.date.today() + dt.timedelta(days=1))  # a day later: dates are checked against it
    assert reads == ["a.xlsx", "b.xlsx", "other-name.xlsx", "a.xlsx"]


def test_each_caller_gets_its_own_problems(store, tmp_path, reads, load):
    assert load({"Referrals": referrals(2)}, period="2011-04").status == "loaded"
    b = write_xlsx(tmp_path / "b.xlsx", {"referrals": referrals(3, start=10)})
    with_month = store.validate(b, period="2011-04")
    assert "period_loaded" in [p.code for p in with_month.warnings]  # April is loaded already
    alone = store.validate(b)
    assert "period_loaded" not in [p.code for p in alone.warnings]  # not added to the kept read
    assert reads[-1:] == ["b.xlsx"] and len(reads) == 2 and alone.sheets.keys() == with_month.sheets.keys() == {"referrals"}


def test_reads_kept_are_few_and_not_for_long(store, tmp_path, reads, monkeypatch):
    from csc import store as store_module

    files = [write_xlsx(tmp_path / f"{n}.xlsx", {"referrals": referrals(n)}) for n in (1, 2, 3)]
    for f in files:
        store.validate(f)
    assert store_module.READ_KEPT == 2
    store.validate(files[2])  # kept
    store.validate(files[0])  # the oldest of three: not kept
    assert reads == ["1.xlsx", "2.xlsx", "3.xlsx", "1.xlsx"]
    now = store_module.time.monotonic()
    monkeypatch.setattr(store_module.time, "monotonic", lambda: now + store_module.READ_KEPT_FOR + 1)
    store.validate(files[0])  # checked half an hour ago and never loaded: read again
    assert reads[-1] == "1.xlsx" and len(reads) == 5


def test_two_analysts_loading_the_same_file_at_once_load_it_once(store, tmp_path, monkeypatch):
    """Both had passed the "already loaded" look before either load committed: two imports of the
    same bytes for one month (rolling one back then changed nothing the analyst could see)."""
    from csc.store import Store

    data = workbook(tmp_path, "a.xlsx", 20)
    both_checked = threading.Barrier(2)
    real = Store.validate

    def validate(self, *a, **k):  # each load past its look and its read before either loads
        extract = real(self, *a, **k)
        both_checked.wait(timeout=30)
        return extract

    monkeypatch.setattr(Store, "validate", validate)
    results = []
    digest = hashlib.sha256(data).hexdigest()

    def press_load(user: str) -> None:
        results.append(uploads.load(store, data, "April.xlsx", "2011-04", user, "analyst", digest))

    threads = [threading.Thread(target=press_load, args=(u,)) for u in ("ana", "bob")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r.status for r in results) == ["loaded", "unchanged"]
    loaded = next(r for r in results if r.status == "loaded")
    assert next(r for r in results if r.status == "unchanged").import_id == loaded.import_id
    cur = store.cursor()
    assert cur.execute("select count(*) from imports").fetchall() == [(1,)]
    assert cur.execute("select count(*) from raw_referrals").fetchall() == [(20,)]
    assert cur.execute("select count(*) from audit_log where action = 'import'").fetchall() == [(1,)]


def test_a_reader_that_fails_keeps_nothing_of_the_file(store, tmp_path, monkeypatch):
    """A reader never raises for a bad file, but if one did (a bug), the workbook it had opened and
    the sheets' XML (up to 256 MB) were kept on the thread until the next read."""
    from csc import extract
    from csc import store as store_module

    path = write_xlsx(tmp_path / "a.xlsx", {"referrals": referrals(3)})

    def failing(p, **k):
        extract.open_reader(p)
        raise RuntimeError("a bug")

    monkeypatch.setattr(store_module, "read_workbook", failing)
    with pytest.raises(RuntimeError):
        store.validate(path)
    assert extract._LOCAL.reads == {}

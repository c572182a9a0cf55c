"""Nothing identifiable at rest in clear (issue 14): every file under the data folder (the
database, kept uploads, backups, Parquet exports, downloads saved there) is searched for the raw
child ids of an imported workbook; and someone holding the data folder but not the key cannot
map a single pseudonym back, even trying every id of the enumerable shape."""

from __future__ import annotations

import hmac
import re
import stat
from pathlib import Path

import openpyxl
import pytest

from csc import crypto, exports, kpis, parquet, recovery
from csc.store import Store
from tests.reliability.support import write_council


def ids_in(workbook: Path, column: str) -> set[str]:
    wb = openpyxl.load_workbook(workbook, read_only=True)
    found = set()
    for ws in wb.worksheets:
        rows = ws.iter_rows(values_only=True)
        header = [str(h) for h in next(rows)]
        if column in header:
            i = header.index(column)
            found |= {str(r[i]) for r in rows if r[i] is not None}
    return found


@pytest.fixture(scope="module")
def data_folder(tmp_path_factory):
    """A data folder after an import, a rollback, a backup, a Parquet export and a saved download,
    with the key in its own folder elsewhere (as a deployment keeps it)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        yield _data_folder(tmp_path_factory.mktemp("at-rest"), monkeypatch)


def _data_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CSC_ID_KEY")
    monkeypatch.setenv("CSC_KEY_FILE", str(tmp_path / "secrets" / "id_key"))
    workbook = write_council(tmp_path / "incoming" / "extract.xlsx", seed=5, scale=0.0015)
    again = write_council(tmp_path / "incoming" / "extract-again.xlsx", seed=6, scale=0.0015)
    db = tmp_path / "data" / "csc.duckdb"
    with Store.open(db) as store:
        assert store.import_file(workbook, "2022-03", user="analyst", role="analyst").status == "loaded"
        second = store.import_file(again, "2022-03", user="analyst", role="analyst")
        store.rollback(second.import_id, user="analyst", role="analyst")
        recovery.backup(store, db.parent / "backups" / "nightly")
        parquet.export_parquet(store, db.parent / "exports" / "parquet")
        records = kpis.records(store.cursor(), kpis.get("re_referral_pct"), "2022-03", None)
        (db.parent / "exports" / "records.csv").write_bytes(exports.to_csv_bytes(records))
        store.checkpoint()
    children = ids_in(workbook, "child_id") | ids_in(again, "child_id")
    assert len(children) > 100 and all(re.fullmatch(r"CH\d{7}", c) for c in children)
    return db, children, [workbook, again]


def test_no_raw_child_id_in_any_file_of_the_data_folder(data_folder):
    db, children, _ = data_folder
    files = [p for p in db.parent.rglob("*") if p.is_file()]
    names = {p.relative_to(db.parent).as_posix() for p in files}
    assert "csc.duckdb" in names and "backups/nightly/csc.duckdb" in names  # the search covers them all
    assert any(n.startswith("uploads/") and n.endswith(".enc") for n in names)
    assert any(n.startswith("backups/nightly/uploads/") and n.endswith(".enc") for n in names)
    assert any(re.match(r"exports/parquet/[^/]+/referrals/", n) for n in names)  # <council>/<sheet>/ (issue 21)
    leaks = {}
    for p in files:
        blob = p.read_bytes()
        hits = [c for c in children if c.encode() in blob or c.encode("utf-16-le") in blob]
        if hits:
            leaks[p.relative_to(db.parent).as_posix()] = hits[:3]
    assert leaks == {}


def test_the_data_folder_is_private(data_folder):
    db, _, _ = data_folder
    assert stat.S_IMODE(db.parent.stat().st_mode) == 0o700
    for p in [db, *(db.parent / "uploads").iterdir()]:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert stat.S_IMODE((db.parent / "uploads").stat().st_mode) == 0o700


def test_with_the_data_folder_alone_no_pseudonym_maps_back(data_folder):
    """The attack of issue 14: try every id of the enumerable shape with every secret the data
    folder could hold. With the key elsewhere, nothing matches; with the key, everything would."""
    db, children, _ = data_folder
    with Store.open(db, read_only=True) as store:
        stored = {r[0] for r in store.cursor().execute("select child_id from raw_referrals").fetchall()}
    assert len(stored) > 100
    candidates = {b"", crypto.LEGACY_KEY_NAME.encode()}
    for p in db.parent.rglob("*"):
        if p.is_file():
            blob = p.read_bytes()
            if len(blob) < 4096:
                candidates.add(blob.strip())
            candidates |= set(re.findall(rb"[0-9a-f]{64}", blob))  # a token_hex(32) key, wherever it sits
    enumerable = [f"CH{n:07d}".encode() for n in range(200_000)] + [c.encode() for c in children]
    for key in candidates:
        mapped = {hmac.digest(key, i, "sha256").hex()[:32] for i in enumerate_sample(enumerable, key)}
        assert not (mapped & stored)
        kept = next((db.parent / "uploads").glob("*.enc")).read_bytes()
        with pytest.raises(crypto.KeyError_):
            crypto.decrypt(kept, key)
    # the check can fail: with the key from outside the folder, the pseudonyms do map back
    key = crypto.secret(db)
    assert {hmac.digest(key, c.encode(), "sha256").hex()[:32] for c in children} >= stored
    assert crypto.decrypt(next((db.parent / "uploads").glob("*.enc")).read_bytes(), key).startswith(b"PK")


def enumerate_sample(ids: list[bytes], key: bytes) -> list[bytes]:
    """Every id for the few short candidates; for the many (hex tokens found in the database) the
    ids actually in the workbooks, which is what a full enumeration would find anyway."""
    return ids if len(key) < 64 else ids[200_000:]

"""Shared test helpers: real .xlsx files written by the tests, real DuckDB files."""

from __future__ import annotations

import datetime as dt
import os
import tempfile
import zipfile
from pathlib import Path

import openpyxl
import pytest

os.environ.setdefault("CSC_ID_KEY", "test-key-not-secret")
# A test that removes CSC_ID_KEY gets a key file of its own, outside every data folder (never ~/.config)
os.environ.setdefault("CSC_KEY_FILE", os.path.join(tempfile.mkdtemp(prefix="csc-test-key-"), "id_key"))

from csc.store import Store  # noqa: E402


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """Write a workbook: sheet title -> rows (the first row is usually the header)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
    wb.save(path)
    return path


def edit_parts(path: Path, **edits) -> Path:
    """Rewrite the workbook at `path` with parts changed: `edits` maps a part's name, its "/" and
    "." spelt "__" and "_" ("xl__styles_xml"), to a function of its bytes giving the new bytes."""
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    for key, edit in edits.items():
        name = next(n for n in parts if n.replace("/", "__").replace(".", "_") == key)
        parts[name] = edit(parts[name])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    return path


def retitle(path: Path, title: str) -> None:
    """Give the query file at `path` (a KPI's or a check's) the header `-- title: <title>`, with a
    modification time of its own even on a coarse clock: the registries tell files apart by it."""
    lines = [f"-- title: {title}" if line.startswith("-- title:") else line for line in path.read_text().splitlines()]
    path.write_text("\n".join(lines) + "\n")
    seen = path.stat().st_mtime_ns
    os.utime(path, ns=(seen, seen + 1_000_000_000 * (1 + len(title))))


def cut_short(data: bytes) -> bytes:
    """The first half of a part: XML ending mid-way, as a damaged file's."""
    return data[: len(data) // 2]


def external(relative: str) -> Path:
    """A public file of ../shared/external-data (beside this checkout); the test is skipped when
    the folder is not there."""
    for parent in Path(__file__).resolve().parents:
        candidate = parent.parent / "shared" / "external-data" / relative
        if candidate.exists():
            return candidate
    pytest.skip("../shared/external-data is not beside this checkout")


def one_extract_db(folder: Path, sheets: dict[str, list[list[object]]], period: str) -> Path:
    """A database in `folder` with one extract (these sheets) loaded for `period`."""
    db = folder / "csc.duckdb"
    with Store.open(db) as store:
        path = write_xlsx(folder / f"extract-{period}.xlsx", sheets)
        assert store.import_file(path, period, user="setup").status == "loaded"
    return db


@pytest.fixture
def store(tmp_path):
    s = Store.open(tmp_path / "csc.duckdb")
    yield s
    s.close()


@pytest.fixture
def load(store, tmp_path):
    """load({"Referrals": [[header...], [row...]]}, period="2011-04") -> ImportResult (must load)."""
    counter = {"n": 0}

    def _load(sheets, period="2011-04", imported_at=None, expect="loaded"):
        counter["n"] += 1
        path = write_xlsx(tmp_path / f"extract-{counter['n']}.xlsx", sheets)
        result = store.import_file(path, period, user="tester", imported_at=imported_at)
        assert result.status == expect, [p.message for p in result.problems]
        return result

    return _load


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)

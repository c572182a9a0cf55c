"""Writing the board pack to a file, and the file's name."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import duckdb

from csc.plan import Plan
from csc.boardpack.excel import build_excel
from csc.boardpack.html import build_html


# --- files ------------------------------------------------------------------------------------


def file_name(period: str, areas=None, role: str = "board", suffix: str = ".xlsx") -> str:
    """A file name saying what the pack is, e.g. board-pack-2011-06-north-board.xlsx."""
    parts = ["board-pack", period]
    if areas:
        parts.append("-".join(re.sub(r"[^a-z0-9]+", "-", a.lower()).strip("-") for a in areas)[:60])
    parts.append(role)
    return "-".join(p for p in parts if p) + suffix


def write(path, cur: duckdb.DuckDBPyConnection, plan: Plan, period: str, areas=None, role: str = "director",
          produced: dt.datetime | None = None, period_from: str | None = None) -> Path:
    """Write the pack to `path`: an Excel workbook for .xlsx, an HTML report for .html/.htm."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        data: bytes = build_excel(cur, plan, period, areas, role, produced, period_from)
    elif suffix in (".html", ".htm"):
        data = build_html(cur, plan, period, areas, role, produced, period_from).encode("utf-8")
    else:
        raise ValueError(f"The board pack is written as .xlsx or .html, not {suffix or 'a file without a suffix'}.")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path

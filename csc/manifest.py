"""The manifest of history kept beside the uploads, and crash clean-up (moved from `csc.recovery`).

**The manifest.** `uploads/manifest.jsonl` holds, one JSON object a line, every import (period,
file, user, time, ...), every rollback, every change to the action plan and each new state of the
Annex A team -> area office mapping (recorded before the next import it applied to), and the figures
the board was denied (`hidden`: each event the cells newly denied; `csc.suppression`). The store appends
to it after each commit (`after_commit`) and, when it opens the database, appends whatever the
database holds that the manifest lacks (a crash between the commit and the append). So the
manifest is never ahead of the database, and the kept files plus the manifest are enough to
rebuild the database if the file is lost. Page views and exports are in the audit log only:
backups keep them, a rebuild from the manifest alone cannot.

**Crash clean-up.** An import copies the upload into `uploads/` inside its transaction, so a
process killed before the commit can leave a kept file that no import refers to. `on_open`
removes such files (named like kept files, referred to by neither the database nor any manifest
in the folder). One database per folder: the uploads, the manifest and the key file beside a
database belong to it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from csc import config
from csc.schema import has_table

log = logging.getLogger("csc.recovery")

MANIFEST = "manifest.jsonl"
KEPT_FILE = re.compile(r"^\d{6,}-[0-9a-f]{12}-")  # how Store._keep_file names a kept upload


# --- the manifest ------------------------------------------------------------------------


def manifest_path(db: Path) -> Path:
    return config.Paths(Path(db)).uploads / MANIFEST


def read_manifest(path: Path) -> list[dict]:
    """The events of a manifest file, oldest first. A line torn by a crash is skipped."""
    if not path.exists():
        return []
    events = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            events.append(json.loads(line))
        except ValueError:
            log.warning("%s line %d is not complete JSON (a write cut short by a crash); skipped", path, n)
    return events


def _append(path: Path, events: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with os.fdopen(os.open(path, os.O_RDWR | os.O_CREAT, 0o600), "r+b") as fh:
        fh.seek(0, os.SEEK_END)
        if fh.tell() > 0:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":  # a torn last line: start on a fresh one
                fh.write(b"\n")
        fh.write("".join(json.dumps(e, sort_keys=True, default=str) + "\n" for e in events).encode("utf-8"))
        fh.flush()
        os.fsync(fh.fileno())


def _iso(value) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime | dt.date) else value


def parse_time(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(value)


def _key(event: dict) -> tuple:
    if event["event"] == "plan_change":
        return ("plan_change", int(event["change_id"]))
    if event["event"] in ("team_areas", "hidden"):
        return (event["event"], int(event["seq"]))
    return (event["event"], int(event["import_id"]))


def db_team_areas(cur: duckdb.DuckDBPyConnection) -> list[list]:
    """The Annex A team -> area office mapping (a state, not a history: the manifest keeps its history)."""
    rows = cur.execute("select team, area_office, changed_by, changed_at from team_areas order by team").fetchall()
    return [[team, area, by, _iso(at)] for team, area, by, at in rows]


def team_area_snapshots(events: list[dict]) -> list[tuple[int, list[list]]]:
    """Each recorded mapping, with the number of imports the manifest records before it."""
    snapshots, imports = [], 0
    for e in events:
        if e["event"] == "import":
            imports += 1
        elif e["event"] == "team_areas":
            snapshots.append((imports, e["rows"]))
    return snapshots


def hidden_cells(events: list[dict]) -> set[tuple]:
    """The cells the board was ever denied that the manifest records (`hidden` events: each adds
    the cells newly denied since the one before; `csc.suppression`)."""
    return {tuple(c) for e in events if e["event"] == "hidden" for c in e["cells"]}


def db_hidden(cur: duckdb.DuckDBPyConnection) -> list[tuple]:
    if not has_table(cur, "kpi_hidden_ever"):
        return []
    return cur.execute("select kpi, period, area, team from kpi_hidden_ever order by all").fetchall()


def _signature(event: dict) -> tuple:
    if event["event"] == "import":
        return (event["sha256"], event["period"])
    if event["event"] == "plan_change":
        return (event["action_id"], event["field"], event["value"])
    return ()


def _db_events(cur: duckdb.DuckDBPyConnection) -> list[dict]:
    """The history the database holds, as manifest events."""
    events: list[dict] = []
    rows = cur.execute(
        "select import_id, period, file_name, sha256, user_name, imported_at, status, row_counts, warnings, "
        "stored_file, source_format, rolled_back_at, rolled_back_by from imports order by import_id"
    ).fetchall()
    for (iid, period, name, sha, user, at, status, counts, warnings, stored, fmt, rb_at, rb_by) in rows:
        events.append({
            "event": "import", "import_id": iid, "period": period, "file_name": name, "sha256": sha,
            "user_name": user, "imported_at": _iso(at), "row_counts": json.loads(counts),
            "warnings": json.loads(warnings), "stored_file": stored, "source_format": fmt,
        })
        if status == "rolled_back":
            events.append({"event": "rollback", "import_id": iid, "rolled_back_at": _iso(rb_at),
                           "rolled_back_by": rb_by})
    rows = cur.execute(
        "select change_id, action_id, field, value, changed_by, role, changed_at from plan_changes order by change_id"
    ).fetchall()
    for change_id, action_id, fld, value, by, role, at in rows:
        events.append({"event": "plan_change", "change_id": change_id, "action_id": action_id, "field": fld,
                       "value": value, "changed_by": by, "role": role, "changed_at": _iso(at)})
    return events


@dataclass
class ManifestCheck:
    appended: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def in_step(self) -> bool:
        return not self.problems


def check_manifest(store, write: bool = False) -> ManifestCheck:
    """Compare the manifest with the database; with `write`, append what the manifest lacks.

    The manifest may lag the database (it is written after each commit) but never lead it. An
    event the database does not hold means the database is not the one the manifest was kept
    for (restored from an older copy, or recreated empty): then nothing is written, and the
    operator should run `python -m csc rebuild`."""
    path = manifest_path(store.path)
    existing = read_manifest(path)
    db = _db_events(store.cursor())
    by_key = {_key(e): e for e in db}
    result = ManifestCheck()
    for event in existing:
        if event["event"] in ("team_areas", "hidden"):
            continue  # states: compared below
        mine = by_key.get(_key(event))
        if mine is None:
            result.problems.append(f"the manifest records {event['event']} {_key(event)[1]} but the database does not")
        elif _signature(mine) != _signature(event):
            result.problems.append(f"the manifest's {event['event']} {_key(event)[1]} differs from the database's")
    if result.problems:
        return result
    have = {_key(e) for e in existing}
    missing = [e for e in db if _key(e) not in have]
    snapshots = team_area_snapshots(existing)
    mapping = db_team_areas(store.cursor())
    if mapping != (snapshots[-1][1] if snapshots else []):
        # changed before anything else not yet recorded: mapping changes and imports take turns
        # under the store's write lock, so it is the mapping those imports were read with
        missing.insert(0, {"event": "team_areas", "seq": len(snapshots) + 1, "rows": mapping})
    # the figures the board was denied: a rebuild from the manifest hides them again, whatever order
    # its replay takes (a rollback replayed at once, not weeks later)
    recorded = hidden_cells(existing)
    denied = [list(c) for c in db_hidden(store.cursor()) if c not in recorded]
    if denied:
        seq = sum(e["event"] == "hidden" for e in existing) + 1
        missing.append({"event": "hidden", "seq": seq, "cells": denied})
    if missing and write:
        _append(path, missing)
    result.appended = len(missing)
    return result


def after_commit(store) -> None:
    """Bring the manifest up to date after an import, rollback or plan change (called by the
    store, holding its write lock). Never raises: the change is committed whatever happens here,
    and the next open repairs a manifest left behind."""
    try:
        result = check_manifest(store, write=True)
        if result.problems:
            log.warning("%s is out of step with %s: %s. Run `python -m csc rebuild` (see docs/reliability.md).",
                        manifest_path(store.path), store.path, "; ".join(result.problems[:5]))
    except Exception:  # noqa: BLE001 - a manifest problem must never undo or block a committed change
        log.exception("could not update the manifest beside %s", store.path)


def sweep_orphans(store) -> list[Path]:
    """Remove kept upload files that no import refers to: left by a process killed between
    copying the file and committing its import. Files any manifest in the folder names are kept."""
    uploads = store.paths.uploads
    if not uploads.is_dir():
        return []
    rows = store.cursor().execute("select stored_file from imports where stored_file is not null").fetchall()
    referenced = {Path(r[0]).name for r in rows}
    for manifest in uploads.glob(MANIFEST + "*"):
        referenced |= {Path(e["stored_file"]).name for e in read_manifest(manifest) if e.get("stored_file")}
    removed = []
    for f in sorted(uploads.iterdir()):
        if f.is_file() and KEPT_FILE.match(f.name) and f.name not in referenced:
            f.unlink()
            removed.append(f)
    if removed:
        log.warning("removed %d upload file(s) no import refers to (an import cut short): %s",
                    len(removed), ", ".join(f.name for f in removed))
    return removed


def on_open(store) -> None:
    """When the writer opens the database: repair the manifest, then remove crash leftovers.
    Never raises: the dashboard must open even if the uploads folder is unwritable."""
    try:
        result = check_manifest(store, write=True)
        if result.problems:
            log.warning("%s is out of step with %s: %s. Nothing was removed. Run `python -m csc rebuild` "
                        "(see docs/reliability.md).", manifest_path(store.path), store.path,
                        "; ".join(result.problems[:5]))
            return
        sweep_orphans(store)
    except Exception:  # noqa: BLE001
        log.exception("could not check the uploads beside %s", store.path)

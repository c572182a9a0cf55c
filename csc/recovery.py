"""Nothing lost: rebuild, backup and the Parquet export, from the manifest of history kept
beside the uploads (`csc.manifest`, which also does the crash clean-up).

**Rebuild** (`rebuild`): replays the kept files in import order, with their periods, users,
times, rolled-back status and the team mapping of their day, restores the plan changes (and the
audit log when the old database is readable, whose records it then checks value for value), in a
staging folder; only a complete rebuild replaces the database, and the old file is kept beside
it as `<name>.replaced-<time>`.

**Backup** (`backup`): a consistent copy through the running connection (`COPY FROM DATABASE`
in one transaction, so readers and imports carry on), plus the manifest, the kept files and the
key file.

**Parquet** (`export_parquet`, `parquet_views`): the records as one Parquet file set per import,
under the council's own folder and hive-partitioned by `import_id`, and views that let the same
KPI SQL run over them (in DuckDB here, on Spark in `csc.spark`).
"""

from __future__ import annotations

import datetime as dt
import filecmp
import hashlib
import json
import logging
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from csc import config, spec, suppression
from csc.schema import sql_name, sql_str
from csc.manifest import (
    MANIFEST,
    db_team_areas,
    db_hidden,
    hidden_cells,
    team_area_snapshots,
    parse_time,
    check_manifest,
    manifest_path,
    read_manifest,
)

log = logging.getLogger("csc.recovery")


Progress = Callable[[int, int, str], None]


class RecoveryError(Exception):
    """A recovery step that cannot go ahead, with a message fit for the operator."""


# --- history: from an old database or from the manifest --------------------------------


@dataclass
class History:
    source: str  # "database" | "manifest"
    imports: list[dict]  # one per import, with its final status
    plan_changes: list[dict]
    audit: list[dict] | None  # the whole audit log, when read from a database
    team_areas: list[tuple[int, list[list]]] = field(default_factory=list)  # (imports before it, mapping)
    final_team_areas: list[list] | None = None
    checksums: dict | None = None  # sheet -> import_id -> (rows, checksum), when read from a database
    #: the cells the board was ever denied (`csc.suppression`; the database's and the manifest's): a
    #: replay cannot make them all again (a rollback replayed at once, not weeks later)
    hidden_ever: list[tuple] | None = None
    #: the secret the board's partners were chosen with (`csc.suppression.partner_secret`), when read
    #: from a database: kept, so that the rebuild chooses the same ones
    board_secret: bytes | None = None


def _checksums(cur: duckdb.DuckDBPyConnection) -> dict[str, dict[int, tuple[int, int]]]:
    """Per sheet and import: the row count and a checksum of every value, to prove a replay exact."""
    out = {}
    for sheet in spec.SHEETS.values():
        cols = ", ".join(("excel_row", *sheet.column_names))
        rows = cur.execute(f"select import_id, count(*), sum(hash({cols})::hugeint) from raw_{sheet.name} "
                           "group by import_id").fetchall()
        out[sheet.name] = {int(i): (int(n), int(h)) for i, n, h in rows}
    return out


def _rows(cur, sql: str) -> list[dict]:
    res = cur.execute(sql)
    names = [d[0] for d in res.description]
    return [dict(zip(names, row)) for row in res.fetchall()]


def _connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection; RecoveryError if a running dashboard (or this process) holds the file."""
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        text = str(exc).lower()
        if "lock" in text or "different configuration" in text or "already attached" in text:  # (this process: `Store`)
            raise RecoveryError(f"{path} is open in another process (the dashboard?). Stop it first: "
                                "a rebuild replaces the database file.") from exc
        raise


def history_from_db(path: Path) -> History:
    con = _connect_read_only(path)
    try:
        cur = con.cursor()
        imports = _rows(cur, "select * from imports order by import_id")
        for imp in imports:
            imp["row_counts"] = json.loads(imp["row_counts"])
            imp["warnings"] = json.loads(imp["warnings"])
        plan_changes = _rows(cur, "select * from plan_changes order by change_id")
        audit = _rows(cur, "select * from audit_log order by audit_id")
        final_mapping = db_team_areas(cur)
        checksums = _checksums(cur)
        hidden_ever = set(db_hidden(cur))
        secret = suppression.stored_partner_secret(cur)
    finally:
        con.close()
    # the mapping's history is in the manifest only; the database holds its final state
    events = read_manifest(manifest_path(path))
    snapshots = team_area_snapshots(events)
    return History("database", imports, plan_changes, audit, snapshots, final_mapping, checksums,
                   sorted(hidden_ever | hidden_cells(events), key=repr), secret)


def history_from_manifest(path: Path) -> History:
    imports: dict[int, dict] = {}
    plan_changes: dict[int, dict] = {}
    for e in read_manifest(path):
        kind = e.get("event")
        if kind == "import":
            imports[int(e["import_id"])] = {**e, "status": "loaded", "imported_at": parse_time(e["imported_at"]),
                                            "rolled_back_at": None, "rolled_back_by": None}
        elif kind == "rollback" and int(e["import_id"]) in imports:
            imports[int(e["import_id"])].update(status="rolled_back", rolled_back_at=parse_time(e["rolled_back_at"]),
                                                rolled_back_by=e.get("rolled_back_by"))
        elif kind == "plan_change":
            plan_changes[int(e["change_id"])] = {**e, "changed_at": parse_time(e["changed_at"])}
    if not imports and not plan_changes:
        raise RecoveryError(f"{path} holds no history to rebuild from.")
    events = read_manifest(path)
    snapshots = team_area_snapshots(events)
    return History("manifest", [imports[k] for k in sorted(imports)],
                   [plan_changes[k] for k in sorted(plan_changes)], None, snapshots,
                   snapshots[-1][1] if snapshots else None, hidden_ever=sorted(hidden_cells(events), key=repr))


# --- rebuild -------------------------------------------------------------------------------


@dataclass
class RebuildReport:
    target: Path
    history: str
    replayed: list[int] = field(default_factory=list)
    rolled_back: list[int] = field(default_factory=list)
    renumbered: dict[int, int] = field(default_factory=dict)
    plan_changes: int = 0
    problems: list[str] = field(default_factory=list)
    replaced: Path | None = None
    new_key: bool = False
    verified: bool = False  # every record compared with the old database's
    hidden: int = 0  # figures the board was denied before the rebuild, denied after it

    def summary(self) -> str:
        lines = [f"Rebuilt {self.target} from the {self.history}: {len(self.replayed)} import(s) replayed "
                 f"({len(self.rolled_back)} rolled back again), {self.plan_changes} plan change(s) restored."]
        if self.verified:
            lines.append("Every replayed record was checked against the old database: identical.")
        if self.hidden:
            lines.append(f"The {self.hidden:,} figure(s) the board was denied before stay hidden.")
        if self.replaced:
            lines.append(f"The previous database file was kept as {self.replaced}.")
        if self.renumbered:
            lines.append("Imports renumbered: " + ", ".join(f"{a}→{b}" for a, b in self.renumbered.items()))
        if self.new_key:
            lines.append("No key file was found, so a new one was made: child ids are pseudonymised consistently "
                         "within the rebuilt database, but differ from any pseudonyms held elsewhere.")
        lines += [f"  PROBLEM: {p}" for p in self.problems]
        return "\n".join(lines)


def _uploads_in(folder: Path) -> Path:
    return folder / "uploads" if (folder / "uploads").is_dir() else folder


def _advance(cur, sequence: str, past: int) -> int:
    """Move a sequence on so that its next value is more than `past`; returns that next value."""
    value = cur.execute(f"select nextval('{sequence}')").fetchall()[0][0]
    if value < past:
        value = cur.execute(f"select max(nextval('{sequence}')) from range($n)", {"n": past - value}).fetchall()[0][0]
    return value + 1


def _sha256(path: Path, db: Path) -> str:
    """The digest of a kept file's contents (decrypted: the digest recorded at import)."""
    from csc import crypto

    data = path.read_bytes()
    if crypto.is_encrypted(data):
        data = crypto.decrypt(data, [config.id_key(db), *crypto.old_secrets()])
    return hashlib.sha256(data).hexdigest()


def choose_history(target: Path, source: Path, history: str = "auto") -> History:
    """The old database's tables if it can be read, else the manifest in the uploads folder."""
    uploads = _uploads_in(source)
    manifest = uploads / MANIFEST
    if history in ("auto", "database"):
        candidates = [p for p in dict.fromkeys([target, source / target.name]) if p.is_file()]
        for db in candidates:
            try:
                return history_from_db(db)
            except RecoveryError:
                raise
            except Exception as exc:  # noqa: BLE001 - a damaged file: fall back to the manifest
                log.warning("cannot read the history from %s (%s)", db, exc)
                if history == "database":
                    raise RecoveryError(f"cannot read the history from {db}: {exc}") from exc
        if history == "database":
            raise RecoveryError(f"there is no database file at {target} or {source / target.name} to read.")
    if not manifest.exists():
        raise RecoveryError(f"there is no readable database and no manifest at {manifest}: nothing to rebuild from.")
    return history_from_manifest(manifest)


def rebuild(target: str | Path | None = None, source: str | Path | None = None, history: str = "auto",
            partial: bool = False, progress: Progress | None = None) -> RebuildReport:
    """Recreate the database at `target` from the kept upload files in `source` (a data folder
    holding `uploads/`, or an uploads folder; default: the target's folder).

    Built in a staging folder beside the target; if any import cannot be replayed nothing is
    changed (unless `partial`). The old database file, if any, is kept as `<name>.replaced-<time>`."""
    from csc.store import Store  # late import: the store imports this module

    step = progress or (lambda done, total, message: None)
    target = config.db_path(target)
    source = Path(source) if source else target.parent
    uploads = _uploads_in(source)
    if target.exists():  # never replace a file the dashboard is using
        try:
            _connect_read_only(target).close()
        except RecoveryError:
            raise
        except duckdb.Error:
            pass  # damaged: it will be kept aside and replaced
    hist = choose_history(target, source, history)
    report = RebuildReport(target, hist.source)
    from csc import crypto

    if not os.environ.get("CSC_ID_KEY"):
        legacy = next((k for k in (target.parent / crypto.LEGACY_KEY_NAME, uploads.parent / crypto.LEGACY_KEY_NAME)
                       if k.is_file()), None)
        if legacy is not None and not crypto.key_file().exists():  # a backup made by an older version
            crypto.private_dir(crypto.key_file().parent)
            crypto.write_private(crypto.key_file(), legacy.read_bytes())
        report.new_key = not crypto.key_file().exists()
    if crypto.old_secrets():  # a key rotation: every pseudonym changes, so no record can match the old ones
        hist.checksums = None
    report.problems = _check_files(hist, uploads, target)
    if report.problems and not partial:
        raise RecoveryError("nothing was changed: " + "; ".join(report.problems)
                            + ". Restore the missing files from a backup, or use --partial.")

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".rebuild-{stamp}-{os.getpid()}"
    staging.mkdir()
    try:
        store = Store.open(staging / target.name)
        try:
            # first, so that the replay's recomputes hide what the database did: the partners' secret,
            # and every cell the board was denied (else a month decided under another secret, or
            # before there was one, gets a partner of this secret's as well: one figure more hidden)
            with store.transaction("rebuild", None) as w:
                if hist.board_secret is not None:
                    suppression.keep_partner_secret(w.cur, hist.board_secret, replace=True)
                if hist.hidden_ever:
                    suppression.add_hidden(w.cur, hist.hidden_ever)
            _replay(store, hist, uploads, report, step)
            if hist.final_team_areas is not None:
                _set_team_areas(store, hist.final_team_areas)
            if hist.checksums is not None:
                report.problems += _verify(store, hist, report)
                report.verified = not report.problems
            if report.problems and not partial:
                raise RecoveryError("the rebuild stopped; nothing was changed:\n  " + "\n  ".join(report.problems))
            # one transaction: the history put back, the KPIs recomputed, and the audit log's one new
            # line, saying what happened
            with store.transaction("rebuild", "rebuild", {"history": hist.source, "imports": len(report.replayed),
                                                          "problems": report.problems}) as w:
                _restore_history(w.cur, hist, report)
                w.recompute()
            manifest_path(store.path).unlink(missing_ok=True)  # written again from the final state
            check_manifest(store, write=True)
        finally:
            store.close()
        step(len(hist.imports) + 1, len(hist.imports) + 2, "Putting the rebuilt database in place")
        _install(staging, target, stamp, report)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    step(len(hist.imports) + 2, len(hist.imports) + 2, "Done")
    return report


def _check_files(hist: History, uploads: Path, target: Path) -> list[str]:
    """Before anything is built: is every import's kept file there, unchanged?"""
    problems = []
    for imp in hist.imports:
        iid, period = int(imp["import_id"]), imp["period"]
        if not imp.get("stored_file"):
            problems.append(f"import {iid} ({period}, {imp['source_format']}) has no kept file")
            imp["_skip"] = True
            continue
        path = uploads / Path(imp["stored_file"]).name
        if not path.exists():
            problems.append(f"import {iid} ({period}): the kept file {path.name} is missing")
            imp["_skip"] = True
        else:
            from csc import crypto

            try:
                changed = _sha256(path, target) != imp["sha256"]
            except crypto.KeyError_:
                problems.append(f"import {iid} ({period}): {path.name} cannot be decrypted with the key configured "
                                "(during a key rotation give the old key as CSC_OLD_KEY_FILE or CSC_OLD_ID_KEY)")
                imp["_skip"] = True
                continue
            if changed:
                problems.append(f"import {iid} ({period}): {path.name} has changed since it was imported")
                imp["_skip"] = True
    return problems


def _set_team_areas(store, rows: list[list]) -> None:
    with store.transaction("rebuild", "team_areas", {"restored": len(rows)}) as w:
        w.cur.execute("delete from team_areas")
        for team, area, by, at in rows:
            w.cur.execute("insert into team_areas (team, area_office, changed_by, changed_at) values (?, ?, ?, ?)",
                          [team, area, by, parse_time(at)])


def _replay(store, hist: History, uploads: Path, report: RebuildReport, step: Progress) -> None:
    total = len(hist.imports) + 2
    next_id = 1
    mapping = None
    for n, imp in enumerate(hist.imports, 1):
        iid = int(imp["import_id"])
        step(n, total, f"Replaying import {iid} ({imp['period']})")
        # the team -> area office mapping as it stood when this import was read (Annex A files)
        wanted = next((rows for before, rows in reversed(hist.team_areas) if before < n), None)
        if wanted is not None and wanted != mapping:
            _set_team_areas(store, wanted)
            mapping = wanted
        if imp.get("_skip"):
            continue
        path = uploads / Path(imp["stored_file"]).name
        if iid > next_id:  # keep the original import numbers (and so the kept files' names)
            with store.transaction("rebuild", "rebuild_renumber", {"next_import_id": iid}) as w:
                _advance(w.cur, "import_seq", iid - 1)
        result = store.import_file(path, imp["period"], user=imp["user_name"], original_name=imp["file_name"],
                                   imported_at=parse_time(imp["imported_at"]), source_format=imp["source_format"])
        if result.status != "loaded":
            detail = "; ".join(p.message for p in result.errors[:3]) or result.message
            report.problems.append(f"import {iid} ({imp['period']}) was not loaded again: {detail}")
            continue
        next_id = result.import_id + 1
        if result.row_counts != imp["row_counts"]:
            report.problems.append(f"import {iid} ({imp['period']}) gave {result.row_counts} rows, "
                                   f"not {imp['row_counts']} as when it was imported")
        if result.import_id != iid:
            report.renumbered[iid] = result.import_id
        report.replayed.append(iid)
        imp["_new_id"] = result.import_id
        if imp["status"] == "rolled_back":
            store.rollback(result.import_id, user=imp.get("rolled_back_by") or "rebuild")
            report.rolled_back.append(iid)


def _verify(store, hist: History, report: RebuildReport) -> list[str]:
    """Every replayed import's records, value for value, against the old database's."""
    new = _checksums(store.cursor())
    problems = []
    for imp in hist.imports:
        if "_new_id" not in imp:
            continue
        old_id, new_id = int(imp["import_id"]), imp["_new_id"]
        for sheet, by_import in hist.checksums.items():
            if by_import.get(old_id) != new[sheet].get(new_id):
                problems.append(f"import {old_id} ({imp['period']}): the {sheet} records differ from the old "
                                "database's (the reader or the team mapping has changed since)")
    return problems


def _restore_history(cur, hist: History, report: RebuildReport) -> None:
    """Put back what the replay cannot: the original metadata, the plan changes, the audit log."""
    for imp in hist.imports:
        if "_new_id" not in imp:
            continue
        cur.execute(
            "update imports set user_name = $user, imported_at = $at, row_counts = $rows, warnings = $warn, "
            "rolled_back_at = $rb_at, rolled_back_by = $rb_by where import_id = $id",
            {"user": imp["user_name"], "at": parse_time(imp["imported_at"]), "rows": json.dumps(imp["row_counts"]),
             "warn": json.dumps(imp["warnings"]), "rb_at": parse_time(imp.get("rolled_back_at")),
             "rb_by": imp.get("rolled_back_by"), "id": imp["_new_id"]},
        )
    cur.execute("delete from plan_changes")
    for ch in hist.plan_changes:
        cur.execute(
            "insert into plan_changes (change_id, action_id, field, value, changed_by, role, changed_at) "
            "values ($id, $a, $f, $v, $by, $role, $at)",
            {"id": ch["change_id"], "a": ch["action_id"], "f": ch["field"], "v": ch["value"],
             "by": ch["changed_by"], "role": ch.get("role"), "at": parse_time(ch["changed_at"])},
        )
    _advance(cur, "plan_seq", max((int(c["change_id"]) for c in hist.plan_changes), default=0))
    report.plan_changes = len(hist.plan_changes)
    audit = hist.audit if hist.audit is not None else _audit_entries_from(hist)
    cur.execute("delete from audit_log")
    for a in audit:
        cur.execute(
            "insert into audit_log (audit_id, logged_at, user_name, role, action, detail) "
            "values ($id, $at, $user, $role, $action, $detail)",
            {"id": a["audit_id"], "at": a["logged_at"], "user": a["user_name"], "role": a["role"],
             "action": a["action"], "detail": a["detail"]},
        )
    _advance(cur, "audit_seq", max((int(a["audit_id"]) for a in audit), default=0))
    if hist.hidden_ever:  # denied before the rebuild, denied after it (added before the replay, `rebuild`)
        report.hidden = len(hist.hidden_ever)


def _audit_entries_from(hist: History) -> list[dict]:
    """The audit entries the manifest can vouch for: imports, rollbacks and plan changes."""
    entries = []
    for imp in hist.imports:
        if "_new_id" not in imp:
            continue
        entries.append((parse_time(imp["imported_at"]), imp["user_name"], None, "import",
                        {"import_id": imp["_new_id"], "period": imp["period"], "file": imp["file_name"]}))
        if imp["status"] == "rolled_back" and imp.get("rolled_back_at"):
            entries.append((parse_time(imp["rolled_back_at"]), imp.get("rolled_back_by") or "unknown", None, "rollback",
                            {"import_id": imp["_new_id"], "period": imp["period"]}))
    for ch in hist.plan_changes:
        entries.append((parse_time(ch["changed_at"]), ch["changed_by"], ch.get("role"), "plan_change",
                        {"action": ch["action_id"], "field": ch["field"], "value": ch["value"]}))
    entries.sort(key=lambda e: e[0])
    return [{"audit_id": n, "logged_at": at, "user_name": user, "role": role, "action": action,
             "detail": json.dumps(detail, default=str)}
            for n, (at, user, role, action, detail) in enumerate(entries, 1)]


def _install(staging: Path, target: Path, stamp: str, report: RebuildReport) -> None:
    """Move the rebuilt database into place, keeping the old one beside it."""
    staged = staging / target.name
    if target.exists():
        report.replaced = target.with_name(f"{target.name}.replaced-{stamp}")
        os.replace(target, report.replaced)
        wal = target.with_name(target.name + ".wal")
        if wal.exists():
            os.replace(wal, report.replaced.with_name(report.replaced.name + ".wal"))
    os.replace(staged, target)
    if staged.with_name(staged.name + ".wal").exists():
        os.replace(staged.with_name(staged.name + ".wal"), target.with_name(target.name + ".wal"))
    src_uploads, dst_uploads = config.Paths(staged).uploads, config.Paths(target).uploads
    dst_uploads.mkdir(parents=True, exist_ok=True)
    if src_uploads.is_dir():
        for f in src_uploads.iterdir():
            if f.name == MANIFEST:
                continue
            dest = dst_uploads / f.name
            if dest.exists() and filecmp.cmp(f, dest, shallow=False):
                continue
            os.replace(f, dest)
        old, new = dst_uploads / MANIFEST, src_uploads / MANIFEST
        if old.exists() and new.exists() and read_manifest(old) != read_manifest(new):
            os.replace(old, dst_uploads / f"{MANIFEST}.before-rebuild-{stamp}")  # kept: it names files too
        if new.exists():
            os.replace(new, old)
    from csc import crypto

    crypto.tighten(target)


# --- backup --------------------------------------------------------------------------------


@dataclass
class BackupReport:
    folder: Path
    database: Path
    files: int
    imports: int
    key_file: bool = False  # never: the key is kept apart from the data and its backups

    def summary(self) -> str:
        return (f"Backed up {self.imports} import(s) to {self.folder}: the database ({self.database.name}), "
                f"{self.files} kept upload file(s) (encrypted) and the manifest. The key is not in the backup: "
                "back it up separately (see docs/deployment.md).")


def backup(store, folder: str | Path) -> BackupReport:
    """A consistent copy of the running database, its kept uploads, manifest and key file, in
    `folder` laid out like the data folder (so `rebuild --from folder` or a plain copy restores
    it). Uses the store's own connection: safe while the dashboard serves and imports."""
    folder = Path(folder)
    db_copy = folder / store.path.name
    if db_copy.exists():
        raise RecoveryError(f"{db_copy} already exists: back up into a new folder (e.g. one named by the date).")
    from csc import crypto

    crypto.private_dir(folder)
    uploads = crypto.private_dir(folder / "uploads")
    # 1. the manifest first, under the write lock: everything it records is in the snapshot below
    with store.writes_paused():
        src_manifest = manifest_path(store.path)
        if src_manifest.exists():
            crypto.write_private(uploads / MANIFEST, src_manifest.read_bytes())
    # 2. the database: one transaction, so a consistent snapshot; imports may commit meanwhile
    partial = folder / (store.path.name + ".partial")
    partial.unlink(missing_ok=True)
    alias = f"csc_backup_{uuid.uuid4().hex[:12]}"
    cur = store.cursor()
    source = cur.execute("select current_database()").fetchall()[0][0]
    cur.execute(f"attach {sql_str(partial)} as {alias}")
    try:
        cur.execute(f"copy from database {sql_name(source)} to {alias}")
        rows = cur.execute(f"select stored_file from {alias}.imports").fetchall()
    finally:
        cur.execute(f"detach {alias}")
    os.replace(partial, db_copy)
    # 3. the kept files the snapshot refers to (encrypted); never the key
    files = 0
    for (stored,) in rows:
        if not stored:
            continue
        src = store.paths.uploads / Path(stored).name
        if src.exists():
            shutil.copy2(src, uploads / src.name)
            files += 1
        else:
            log.warning("backup: the kept file %s is missing", src)
    crypto.tighten(db_copy)
    return BackupReport(folder, db_copy, files, len(rows))

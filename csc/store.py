"""The DuckDB store: schema, imports (all or nothing), versioned records, rollback, audit log.

Every import keeps its rows in `raw_<sheet>` tagged with its `import_id`; the current version of
a record is the one from the latest loaded import that contains its key (latest period first,
then the latest import). `cur_<sheet>` tables hold those current versions and `kpi_results`
the KPIs; both are rebuilt inside the same transaction as each import or rollback, so a reader
sees either the state before or the state after, never a mix.
"""

from __future__ import annotations

import atexit
import copy
import datetime as dt
import hashlib
import json
import logging
import re
import secrets
import shutil
import tempfile
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from csc import annexa, annexa_tables, annexa_teams, census, config, crypto, guardrails, manifest, revisions, scratch, spec, ssd, suppression
from csc.pseudonyms import pseudonymise
from csc.schema import SCHEMA, add_missing_columns, current_table_sql, has_table, raw_table_sql, sql_str
from csc.extract import Extract, Problem, forget_reads, read_workbook

PERIOD = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
EARLIEST_PERIOD = "1990-01"  # no date before 1990 is kept (`csc.extract.EARLIEST`)

log = logging.getLogger(__name__)

#: Page views are audited by a background writer (`Store.audit_soon`): it waits this long after
#: the first entry for more, so that the views of a busy minute share one insert and one commit
#: (~6 ms of server CPU each, with the primary key: at 0.25 s, back-to-back views shared one
#: about five at a time, 1.2 ms a view, a fifth of a one-line page's cost; at 1 s, a fifth of
#: that). Anything that reads the log, writes, backs up or closes writes what waits first, and the
#: process's exit does too; only a crash that kills the process outright loses the last second.
AUDIT_LINGER = 1.0

#: A write transaction's commit makes it durable in DuckDB's write-ahead log (`<db>.wal`); moving
#: the log into the database file (a checkpoint) is left to a background thread once the log holds
#: more than this (DuckDB's own default threshold), instead of DuckDB doing it inside the commit:
#: an import of 100,000 rows returns 0.1 s sooner. Nothing a reader sees depends on it.
CHECKPOINT_AFTER = 16 * 2**20

#: Rows per row group of the database's tables (DuckDB's default: 122,880). A row group is also
#: DuckDB's unit of parallel work and of its bulk-load path: a transaction that fills one writes
#: it, compressed, straight into the database file while it runs, and its commit then logs only
#: where it went. At the default, the 100,000 rows of a large extract and their current versions
#: filled none, so the commit copied 200,000 rows into the write-ahead log (0.09 s) and the
#: checkpoint after it copied them again (0.18 s); at this size they go straight to the file, the
#: commit takes 0.01 s, the checkpoint 0.02 s, and the import's load 0.08 s less in all (issue 17,
#: docs/performance.md). Not kept in the file: given each time it is opened read-write (`_attach`).
ROW_GROUP_SIZE = 16_384
#: The name the database file is attached under (`_attach`): what `current_database()` says.
CATALOG = "csc"

#: A file's read (`Store.validate`: every sheet read and checked, the costly part of a check) is
#: kept for the next look at the same bytes, so an upload is read once, not three times (checked,
#: compared with the month chosen, loaded): at most this many reads, none older than `READ_KEPT_FOR`
#: seconds, and none past the next write transaction (a read may depend on the data: Annex A's team
#: areas, the SSD's and the census's known workers).
READ_KEPT = 2
READ_KEPT_FOR = 30 * 60


class StoreError(Exception):
    """An operation the store refuses, with a message fit for the person who asked."""


@dataclass
class ImportResult:
    status: str  # loaded | unchanged | refused
    period: str
    problems: list[Problem] = field(default_factory=list)
    import_id: int | None = None
    row_counts: dict[str, int] = field(default_factory=dict)
    message: str = ""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "period": self.period,
            "import_id": self.import_id,
            "row_counts": self.row_counts,
            "message": self.message,
            "errors": [p.as_dict() for p in self.errors],
            "warnings": [p.as_dict() for p in self.warnings],
        }


def check_period(period: str) -> str:
    if not isinstance(period, str) or not PERIOD.match(period):
        raise StoreError(f'The period "{period}" is not a month written as YYYY-MM (for example 2011-04).')
    return period


def load_refusals(row_counts: dict[str, int], period: str, today: dt.date) -> list[Problem]:
    """Why a file that passed its checks cannot be loaded as `period` on `today` (`Store.validate`
    with a month; the Upload page says so before its Load button): it holds no records (an extract
    of empty sheets loaded as a month of nothing, whose timeliness then looked on target: a review;
    the blank template still checks without a month), or the month has not begun (a typing slip,
    2027-01 for 2026-11, became the latest month everywhere, with a timeliness of minus weeks) or is
    before 1990 (no date before it is kept)."""
    out = []
    if not sum(row_counts.values()):
        out.append(Problem("error", "The file holds no records: every sheet read is empty or has only its header row, "
                                    f"so there is nothing to load for {period}. Check that this is the file you meant."))
    this = f"{today:%Y-%m}"
    if not EARLIEST_PERIOD <= period <= this:
        when = "has not begun yet" if period > this else "is before 1990"
        out.append(Problem("error", f"The month {period} {when}: an extract is loaded for a month from 1990 up to "
                                    f"this one ({this}). Check the reporting month.",
                           expected=f"a month from {EARLIEST_PERIOD} to {this}"))
    return out


class Write:
    """One write transaction (`Store.transaction`): its cursor, the audit entry's detail (add to
    it inside the block), and work to do once it is committed or if it is undone."""

    def __init__(self, store: Store, cur: duckdb.DuckDBPyConnection, detail: dict):
        self.store, self.cur, self.detail = store, cur, detail
        self.action: str | None = None  # set by `Store.transaction`; the block may name what it did
        self.abandoned = False
        self._after: list[Callable[[], None]] = []
        self._undo: list[Callable[[], None]] = []

    def recompute(self, change: tuple | None = None, sheets: Iterable[str] | None = None) -> None:
        """Bring the current tables and the KPIs up to date inside this transaction; `change`
        (import_id, "import" | "rollback", when) is kept with each KPI value it changed.
        `sheets`: only these sheets' rows of import `change[0]` changed (an import or rollback), so
        only the current rows of the records it holds are replaced (a `cur_` table is its `raw_`
        table's latest loaded rows), and only the months they can move are recomputed
        (`csc.incremental`); None: everything."""
        self.store._rebuild(self.cur, change, sheets)

    def after_commit(self, work: Callable[[], None]) -> None:
        self._after.append(work)

    def on_rollback(self, work: Callable[[], None]) -> None:
        """Clean-up if the transaction is undone (e.g. remove a file written inside it)."""
        self._undo.append(work)

    def abandon(self) -> None:
        """Nothing to write after all: undo the transaction, with no audit entry and no new data version."""
        self.abandoned = True


#: Write transactions committed in this process, by database file (resolved path): a store reads
#: the data version again only when this moves (`Store.data_version`).
_COMMITS: defaultdict[str, int] = defaultdict(int)
#: Audit entries' inserts committed in this process outside a write transaction (the views'
#: background writer, `Store.flush_audit`), by database file: with `_COMMITS`, the key of
#: `Store.audit_state`'s memo.
_AUDITS: defaultdict[str, int] = defaultdict(int)


class Store:
    """One DuckDB database file. The process that opens it read-write is its only writer, and it
    writes through `transaction` only."""

    def __init__(self, con: duckdb.DuckDBPyConnection, path: Path, read_only: bool = False):
        self._con = con
        self.path = path
        self.read_only = read_only
        self._write_lock = threading.Lock()
        # write transactions committed through this object, per thread (`writes_here`: `ui.version`
        # reads the data version again when a page run's own count moves, so it sees its own change)
        self._mine = threading.local()
        self._version: tuple[int, int] | None = None  # (commits seen, data version): `data_version`
        self._audited: tuple | None = None  # (commits and audit inserts seen, the state): `audit_state`
        self._file = str(Path(path).resolve())  # its key in `_COMMITS`
        # audit entries waiting for the background writer (`audit_soon`), in the order given
        self._pending: list[tuple] = []
        self._pending_lock = threading.Lock()
        self._flush_lock = threading.Lock()  # one flush at a time, so entries go in in order
        self._wake = threading.Event()
        self._writer: threading.Thread | None = None
        self._checkpointer: threading.Thread | None = None
        self._closed = False
        # the latest reads of files (`validate`): (digest, name, day, key's digest, data version) -> (when, read)
        self._reads: dict[tuple, tuple[float, Extract]] = {}
        self._reads_lock = threading.Lock()
        self._release: weakref.finalize | None = None  # a read-write store's attachment (`open`, `_detach`)

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path | None = None, read_only: bool = False) -> Store:
        path = config.db_path(path)
        if read_only:
            return cls(duckdb.connect(str(path), read_only=True), path, True)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        con, key, first = _attach(path)
        store = cls(con, path)
        # the attachment let go when the store is closed, or dropped without being closed (as the
        # database of `duckdb.connect` was): once, whichever comes first
        store._release = weakref.finalize(store, _detach, key)
        try:
            store._ensure_schema()
        except BaseException:
            store.close()
            raise
        crypto.tighten(path)  # the data folder 0700, its files 0600
        if first:  # not again for a second store on a file this process has open: its sweep would
            # remove the file another store's import has kept and not yet committed
            manifest.on_open(store)  # bring uploads/manifest.jsonl up to date; remove files a crash left
        return store

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._wake.set()
        try:
            self.flush_audit()
            if self._checkpointer is not None:
                self._checkpointer.join()
        finally:  # whatever failed above, the file is let go
            try:
                self._con.close()
            finally:
                if self._release is not None:
                    self._release()  # the last store on the file: DuckDB checkpoints what the log still holds

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for one reader (one script run); it sees committed data only."""
        return self._cursor()

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self._con.cursor()
        if not self.read_only:
            cur.execute(f"use {CATALOG}")  # a new cursor starts in the in-memory database (`_attach`)
        return cur

    def checkpoint(self) -> None:
        """Write the write-ahead log into the database file."""
        with self._write_lock:
            self._cursor().execute("checkpoint")

    def _checkpoint_soon(self) -> None:
        """After a commit: a checkpoint in a thread of its own when the write-ahead log holds more
        than `CHECKPOINT_AFTER`. It holds the write lock, so the next write transaction (or backup)
        starts after it; readers carry on meanwhile, and `close` (or the process's end) waits for it."""
        try:
            if self.path.with_name(self.path.name + ".wal").stat().st_size < CHECKPOINT_AFTER:
                return
        except OSError:  # no log: nothing to move
            return
        with self._pending_lock:
            if self._closed or (self._checkpointer is not None and self._checkpointer.is_alive()):
                return
            # not a daemon: a process that ends meanwhile (a script or server that never calls
            # `close`) waits for it, rather than aborting with the thread stopped inside DuckDB
            self._checkpointer = threading.Thread(target=self._checkpoint_now, name="csc-checkpoint")
            self._checkpointer.start()

    def _checkpoint_now(self) -> None:
        with self._write_lock:
            if self._closed:
                return  # closing checkpoints
            try:
                self._cursor().execute("checkpoint")
            except Exception:  # noqa: BLE001 - the log stays and is checkpointed later (or on close, or replayed on open)
                log.exception("checkpoint after a write failed; the write-ahead log keeps the changes")

    # -- writing -------------------------------------------------------------------------
    @contextmanager
    def transaction(self, user: str, action: str | None, detail: dict | None = None,
                    role: str | None = None) -> Iterator[Write]:
        """`with store.transaction(user, action, detail) as w:` the only way anything writes.

        Holds the write lock and one DuckDB transaction; on leaving the block it adds the audit
        entry (`action`, with `w.detail`), moves the data version on (`data_version`) and commits,
        then does the after-commit work: the work the block asked for (`w.after_commit`) and the
        recovery manifest (`csc.manifest.after_commit`), still under the lock, so the manifest
        records changes in the order they were committed. If the block raises, everything is
        undone and the `w.on_rollback` clean-up runs. `action` None: the store's own upkeep of its
        tables on open, which no one asked for (not audited unless the block names it, `w.action`)."""
        from csc import kpis  # late import: kpis depends on the store's tables, not the reverse

        if self.read_only:
            raise StoreError("This database was opened read-only: nothing can be changed through it.")
        with self._write_lock, kpis.files_as_they_are():  # a write computes with the KPI files on disk
            self.flush_audit()  # views and exports before this change come before it in the log
            w = Write(self, self._cursor(), dict(detail or {}))
            w.action = action
            w.cur.execute("begin")
            try:
                yield w
                if w.abandoned:
                    w.cur.execute("rollback")
                    return
                if w.action is not None:
                    self._audit(w.cur, user, role, w.action, w.detail)
                w.cur.execute("update data_version set n = n + 1")
                w.cur.execute("commit")
                self._mine.n = self.writes_here() + 1
                _COMMITS[self._file] += 1  # after the commit: a reader that saw the old count reads again
                self._forget_reads()  # a file's read may depend on the data that just changed
            except BaseException:
                w.cur.execute("rollback")
                for work in w._undo:
                    work()
                raise
            for work in w._after:
                work()
            if w.action is not None:  # the store's upkeep of its tables changes nothing the manifest records
                manifest.after_commit(self)  # record the change in uploads/manifest.jsonl; never raises
        self._checkpoint_soon()  # after the lock is let go: the checkpoint takes it in its own thread

    @contextmanager
    def writes_paused(self) -> Iterator[None]:
        """No write transaction starts or commits inside this block (a backup copies the manifest)."""
        with self._write_lock:
            self.flush_audit()
            yield

    def data_version(self) -> int:
        """A number every write transaction moves on (imports, rollbacks, plan and team changes,
        refreshes, rebuilds) and nothing else does (page views, exports): a key for anything
        computed from the data.

        Read from the database again only after a write transaction through any store of this
        process on the same file (`_COMMITS`): no other process can write to a database this one
        has open (DuckDB locks the file), so a page view costs no query."""
        seen = _COMMITS[self._file]
        memo = self._version
        if memo is not None and memo[0] == seen:
            return memo[1]
        n = self.version_seen_by(self.cursor())
        self._version = (seen, n)
        return n

    def writes_here(self) -> int:
        """Write transactions committed through this store by the calling thread (a page run's
        own: an import from the Upload page), not by other sessions' threads."""
        return getattr(self._mine, "n", 0)

    @staticmethod
    def version_seen_by(cur: duckdb.DuckDBPyConnection) -> int:
        """The data version as `cur` sees it (inside a read transaction: the one it began on)."""
        try:
            return cur.execute("select n from data_version").fetchall()[0][0]
        except duckdb.CatalogException:  # a database from before the data version, opened read-only
            return 0

    def _ensure_schema(self) -> None:
        from csc import kpis  # late import: kpis depends on the store's tables, not the reverse

        with self.transaction("system", None) as w:
            cur = w.cur
            # a table or a column added below (`kpi_history.hidden`) is a change to commit
            columns = "select count(*) from duckdb_columns() where database_name = current_database()"
            before = cur.execute(columns).fetchall()[0][0]
            cur.execute(SCHEMA)
            cur.execute(annexa_tables.SCHEMA)  # team_areas, inferred_involvements
            cur.execute(ssd.SCHEMA)  # raw_worker_registrations
            cur.execute(revisions.SCHEMA)  # kpi_history: every KPI value's changes, by import
            for sheet in spec.SHEETS.values():
                cur.execute(raw_table_sql(sheet))
            added = add_missing_columns(cur)  # columns added to a sheet of the spec since the database was made
            if added:
                w.action, w.detail["added"] = "schema_migration", added
            if cur.execute("select count(*) from imports").fetchall()[0][0]:
                # a database made before the board's partners' secret was kept: one of its own now
                # (an import derives it from the key; this one needs no key), the same for every process
                suppression.keep_partner_secret(cur, secrets.token_bytes(32))
            exists = has_table(cur, "cur_referrals")
            # a store made before the board's suppression was stored with the results: work it out now
            board_stored = has_table(cur, "kpi_team_results")
            if not exists or not board_stored or added:
                w.recompute()
            elif kpis.made_by_other_code(cur):
                # results (and the board's suppression decided with them) made by other KPI
                # definitions or code, e.g. before an upgrade: made again now, not left on screen
                # until the next import
                w.action, w.detail["why"] = "refresh", "the KPI definitions or the code behind the figures changed"
                w.recompute()
            elif not cur.execute("select count(*) from kpi_history").fetchall()[0][0] and \
                    cur.execute("select count(*) from kpi_results").fetchall()[0][0]:
                # a database from before kpi_history: today's values are the baseline
                revisions.record(cur, None, "baseline", dt.datetime.now())
            elif cur.execute(columns).fetchall()[0][0] == before:
                w.abandon()  # up to date already: nothing written, the data version stays

    @property
    def paths(self) -> config.Paths:
        return config.Paths(self.path)

    # -- reading -------------------------------------------------------------------------
    # `cur`: a page run's cursor (`ui.cursor`), so that what it builds and shares under its data
    # version is read in that version's snapshot; a fresh cursor (the latest data) otherwise
    def imports(self, cur: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
        return (cur or self.cursor()).execute(
            "select import_id, period, file_name, user_name, imported_at, status, row_counts, warnings, sha256, "
            "stored_file, source_format, rolled_back_at, rolled_back_by from imports order by import_id"
        ).df()

    def loaded_periods(self, cur: duckdb.DuckDBPyConnection | None = None) -> list[str]:
        rows = (cur or self.cursor()).execute(
            "select distinct period from imports where status = 'loaded' order by period"
        ).fetchall()
        return [r[0] for r in rows]

    def has_data(self, cur: duckdb.DuckDBPyConnection | None = None) -> bool:
        return bool((cur or self.cursor()).execute("select count(*) from imports where status = 'loaded'").fetchall()[0][0])

    # -- importing -----------------------------------------------------------------------
    def validate(self, path: str | Path, original_name: str | None = None, today: dt.date | None = None,
                 period: str | None = None, as_of: dt.date | None = None, sha256: str | None = None,
                 load_warnings: bool = True) -> Extract:
        """Read and check a workbook, storing nothing; adds the warnings that need the database
        (with `period`, the month it would load as: the guardrails of `csc.guardrails`, as of the
        day `as_of`). An Ofsted Annex A workbook is read by `csc.annexa`. Nothing is written here: the
        teams a refused Annex A or SSD file names are recorded apart from the data by the caller
        (`import_file`, `csc.uploads.check`: `annexa_teams.record_unmapped`). `load_warnings` False:
        without the guardrails' warnings, which warn and never refuse (`import_file` works them out
        beside the load).

        The read is kept (`READ_KEPT`) and given again for the same bytes (`sha256`, their digest
        if known), name and day at the same data version: what an upload's check read, its load
        does not read again. Each caller gets its own list of problems."""
        today = today or dt.date.today()
        if sha256 is None:
            try:
                with open(path, "rb") as fh:  # streamed: a file too large to read is refused by the checks
                    sha256 = hashlib.file_digest(fh, "sha256").hexdigest()
            except OSError:  # no such file, a folder, ...: the reader says what is wrong, nothing is kept
                sha256 = None
        try:  # Annex A's child ids are pseudonymised as they are read: with this key
            secret = hashlib.sha256(config.id_key(self.path)).digest()
        except crypto.KeyError_:  # a key kept wrongly: a file can still be checked (not Annex A), not kept
            secret = None
        version = self.data_version()
        key = (sha256, original_name or Path(path).name, today, secret, version)
        keep = sha256 is not None and secret is not None
        kept = self._kept_read(key) if keep else None
        if kept is None:
            kept = self._read(path, original_name, today)
            if keep and self.data_version() == version:  # not kept if the data changed while it was read
                self._keep_read(key, kept)
        extract = copy.copy(kept)  # the kept read's problems and sheets stay as they were read
        extract.problems, extract.sheets = list(kept.problems), dict(kept.sheets)
        if extract.ok and period is not None:
            # a census loads as its census date's month, whatever month was named (`import_file`)
            extract.problems.extend(load_refusals(extract.row_counts, getattr(extract, "period", None) or period,
                                                  as_of or today))
        if extract.ok:
            extract.problems.extend(self._unknown_worker_warnings(extract))
            if period is not None and load_warnings:
                extract.problems.extend(self.guardrail_warnings(extract, period, original_name or Path(path).name,
                                                                as_of or today))
        return extract

    def _kept_read(self, key: tuple) -> Extract | None:
        with self._reads_lock:
            now = time.monotonic()
            for k in [k for k, (when, _) in self._reads.items() if now - when > READ_KEPT_FOR]:
                del self._reads[k]  # a file checked and never loaded is not kept in memory for ever
            kept = self._reads.get(key)
            return kept[1] if kept else None

    def _keep_read(self, key: tuple, extract: Extract) -> None:
        with self._reads_lock:
            self._reads.pop(key, None)
            self._reads[key] = (time.monotonic(), extract)
            while len(self._reads) > READ_KEPT:
                del self._reads[next(iter(self._reads))]  # the oldest

    def _forget_reads(self) -> None:
        with self._reads_lock:
            self._reads.clear()

    def _read(self, path: str | Path, original_name: str | None, today: dt.date) -> Extract:
        """The file read and checked by the reader of its kind (`validate`, before the warnings
        that need the database)."""
        scratch.warm()  # every reader checks the values in it
        try:
            if annexa.is_annex_a(path, original_name):
                extract = annexa.read(path, annexa_teams.team_areas(self.cursor()), id_key=config.id_key(self.path),
                                      original_name=original_name, today=today)
            elif ssd.is_ssd(path, original_name):  # Standard Safeguarding Dataset tables (csc.ssd)
                known = self.cursor().sql("select * from cur_workforce").to_arrow_table()
                extract = ssd.read(path, annexa_teams.team_areas(self.cursor()), original_name=original_name, today=today,
                                   known_workers=known)
            elif census.is_census(path, original_name):  # the DfE workforce census XML (csc.census)
                cur = self.cursor()
                teams = {w: (t, a) for w, t, a in cur.execute("select worker_id, team, area_office from cur_workforce").fetchall()}
                extract = census.read(path, original_name=original_name, registrations=ssd.registrations(cur),
                                      worker_teams=teams, today=today)
            else:
                try:
                    key = config.id_key(self.path)
                except crypto.KeyError_:  # a key kept wrongly: the file can still be checked
                    key = None
                extract = read_workbook(path, original_name=original_name, today=today, id_key=key)
        finally:
            forget_reads()  # the workbook's text, kept by the Annex A check for the read (`csc.extract.sheet_text`)
        return extract

    def guardrail_warnings(self, extract: Extract, period: str | None, file_name: str | None = None,
                           as_of: dt.date | None = None) -> list[Problem]:
        """The warnings on loading `extract` as `period` that name their consequence (`csc.guardrails`)."""
        return guardrails.warnings(self.cursor(), extract, period, file_name, today=as_of,
                                   key=config.id_key(self.path))

    def _unknown_worker_warnings(self, extract: Extract) -> list[Problem]:
        known: set[str] = set()
        if "workforce" in extract.sheets:
            known.update(extract.sheets["workforce"].table.column("worker_id").to_pylist())
        known.update(r[0] for r in self.cursor().execute("select worker_id from cur_workforce").fetchall())
        warnings = []
        for name in ("assessments", "involvements"):
            data = extract.sheets.get(name)
            if data is None or "worker_id" not in data.table.column_names:
                continue
            col = data.table.column("worker_id")
            unknown = pc.and_(pc.is_valid(col), pc.invert(pc.is_in(col, value_set=pa.array(list(known), pa.string()))))
            rows = pc.sum(unknown).as_py() or 0
            if rows:
                distinct = sorted(pc.unique(col.filter(unknown)).to_pylist())
                shown = ", ".join(distinct[:10]) + (f" and {len(distinct) - 10} more" if len(distinct) > 10 else "")
                warnings.append(
                    Problem(
                        "warning",
                        f'Sheet "{data.title}": {rows:,} row(s) name a worker that no loaded workforce row knows '
                        f"({shown}). They count as unknown workers in the KPIs until a workforce sheet lists them.",
                        sheet=data.title,
                        column=data.headers.get("worker_id", "worker_id"),
                        code="worker_unknown",
                    )
                )
        return warnings

    def import_file(
        self,
        path: str | Path,
        period: str,
        user: str = "local",
        original_name: str | None = None,
        imported_at: dt.datetime | None = None,
        progress=None,
        source_format: str = "extract",
        role: str | None = None,
        expected_sha256: str | None = None,
    ) -> ImportResult:
        """Validate then load one workbook as a new import, in one transaction: all or nothing.

        The file is read once: those bytes (decrypted, for a kept file) are checked, loaded and
        kept, from a private folder of this call's own. `expected_sha256`: the digest shown when
        the file was checked; a file whose bytes differ now is refused. A refused file changes
        nothing but the audit log (and, for Annex A, the separate list of teams waiting for an
        area office)."""
        step = progress or (lambda done, total, message: None)
        period = check_period(period)
        path = Path(path)
        name = original_name or path.name
        step(0, 4, "Checking the file")
        raw = path.read_bytes()
        if crypto.is_encrypted(raw):  # a kept file, replayed by a rebuild
            raw = crypto.decrypt(raw, [config.id_key(self.path), *crypto.old_secrets()])
        digest = hashlib.sha256(raw).hexdigest()
        if expected_sha256 is not None and digest != expected_sha256:
            self._audit_refusal(user, role, name, period, "changed since it was checked")
            return ImportResult(
                "refused", period,
                [Problem("error", "The file changed between the check and the load (its SHA-256 digest differs "
                                  "from the one shown when it was checked). Nothing was stored: check it again.")],
                message="The file was not loaded: it is not the file that was checked. Nothing was stored.",
            )
        same = self._already_loaded(self.cursor(), digest, period)
        if same is not None:
            return same
        today = (imported_at or dt.datetime.now()).date()
        checked_on = max(today, dt.date.today())  # dates are checked against it; one day for both reads below
        step(1, 4, "Validating every sheet")
        with private_copy(raw, name) as work:
            extract = self.validate(work, original_name=name, today=checked_on, period=period, as_of=today,
                                    sha256=digest, load_warnings=False)
            if not extract.ok:
                self._audit_refusal(user, role, name, period, f"{len(extract.errors)} problem(s)")
                annexa_teams.record_unmapped(self, extract, user=user, role=role, name=name)  # team names only, kept apart
                return ImportResult(
                    "refused",
                    period,
                    extract.problems,
                    message=f"The file was not loaded: {len(extract.errors):,} problem(s) to fix. Nothing was stored.",
                )
            at = len(extract.problems)  # where the guardrails' warnings go: after the read's (`_load`)
            source_format = getattr(extract, "source_format", source_format)  # "annex_a" for an Annex A workbook
            census_period = getattr(extract, "period", None)  # a workforce census is its census date's month
            if census_period and census_period != period:
                same = self._already_loaded(self.cursor(), digest, census_period)
                if same is not None:
                    return same
                # the month's warnings for the census month, from the read just made (kept: not read again)
                extract = self.validate(work, original_name=name, today=checked_on, period=census_period,
                                        as_of=today, sha256=digest, load_warnings=False)
                at = len(extract.problems)
                extract.problems.append(Problem("warning", f"Loaded for {census_period}, the month of the census "
                                                           f"date, not {period}.", code="census_period"))
                period = census_period
            step(2, 4, "Loading the records")
            # the guardrails' warnings (they read the data as it was before this import, and never
            # refuse) and the kept copy's encryption are worked out in threads while the rows load
            # (`_load`: the 100,000-row extract loads about 0.03 s sooner on two cores, issue 17)
            with ThreadPoolExecutor(2, thread_name_prefix="csc-import") as pool:
                warned = pool.submit(self.guardrail_warnings, extract, period, name, today)
                try:
                    result = self._load(extract, raw, name, digest, period, user, imported_at or dt.datetime.now(),
                                        source_format, step, role, pool=pool, warnings_ahead=(warned, at))
                except BaseException as exc:
                    _log_unseen(warned, exc)
                    raise
                if result.status != "loaded":  # loaded meanwhile: the warnings were not waited for
                    _log_unseen(warned)
        step(4, 4, "Done")
        return result

    @staticmethod
    def _already_loaded(cur: duckdb.DuckDBPyConnection, digest: str, period: str) -> ImportResult | None:
        """"Unchanged" when a file of these bytes is loaded for `period` (checked before the read, for
        a census again for its census date's month, and inside the load's transaction: two analysts
        pressing Load on the same file at once load it once)."""
        same = cur.execute(
            "select import_id from imports where sha256 = $sha and period = $period and status = 'loaded'",
            {"sha": digest, "period": period},
        ).fetchall()
        if not same:
            return None
        return ImportResult("unchanged", period, import_id=same[0][0],
                            message=f"This file is already loaded for {period} (import {same[0][0]}); nothing was changed.")

    def _audit_refusal(self, user, role, name, period, why) -> None:
        if not self.read_only:
            self.audit(user, role, "import_refused", {"file": name, "period": period, "why": why})

    def import_tables(
        self,
        tables: dict[str, pa.Table],
        period: str,
        user: str,
        name: str,
        imported_at: dt.datetime | None = None,
        source_format: str = "tables",
    ) -> ImportResult:
        """Load already-typed tables (sheet name -> Arrow table with the spec's columns) as one
        import, through the same transaction as a file. For bulk loads such as the benchmarks;
        nothing is validated here, so callers must pass clean, typed data."""
        from csc.extract import SheetData

        period = check_period(period)
        extract = Extract(Path(name))
        for sheet_name, table in tables.items():
            sheet = spec.SHEETS[sheet_name]
            if "excel_row" not in table.column_names:
                table = table.append_column("excel_row", pa.array(range(2, table.num_rows + 2), pa.int64()))
            extract.sheets[sheet_name] = SheetData(sheet, sheet_name, 1, {}, table, table.num_rows)
        digest = hashlib.sha256(repr(sorted(extract.row_counts.items())).encode() + name.encode()).hexdigest()
        return self._load(extract, None, name, digest, period, user, imported_at or dt.datetime.now(),
                          source_format, lambda *a: None)

    def _load(self, extract, raw, name, digest, period, user, imported_at, source_format, step,
              role=None, pool: ThreadPoolExecutor | None = None,
              warnings_ahead: tuple[Future, int] | None = None) -> ImportResult:
        """Load a checked extract as a new import, in one transaction. `pool`: threads to keep the
        file in (encrypted) while the rows load; `warnings_ahead`: (the guardrails' warnings being
        worked out, where they go in `extract.problems`), waited for before the import's row,
        which keeps them."""
        key = config.id_key(self.path)
        with self.transaction(user, "import", {"period": period, "file": name}, role=role) as w:
            cur = w.cur
            # again, under the write lock: loaded meanwhile? (a file's bytes; not tables, whose digest is their counts)
            same = self._already_loaded(cur, digest, period) if raw is not None else None
            if same is not None:
                w.abandon()
                return same
            import_id = cur.execute("select nextval('import_seq')").fetchall()[0][0]
            w.detail = {"import_id": import_id, **w.detail}
            suppression.keep_partner_secret(cur, suppression.derived_secret(key))  # the first import's
            keeping: Future | None = None
            if raw is not None:
                if pool is not None:
                    keeping = pool.submit(self._keep_file, raw, import_id, digest, name, key)
                else:
                    keeping = Future()
                    keeping.set_result(self._keep_file(raw, import_id, digest, name, key))
                w.on_rollback(lambda: _forget_kept(keeping))
            for sheet_name, data in extract.sheets.items():
                table = _in_row_groups(pseudonymise(data.table, key, data.pseudonyms))
                cur.register("incoming", table)
                cols = ", ".join(table.column_names)
                cur.execute(
                    f"insert into raw_{sheet_name} (import_id, {cols}) select $import_id, {cols} from incoming",
                    {"import_id": import_id},
                )
                cur.unregister("incoming")
            if warnings_ahead is not None:
                warned, at = warnings_ahead
                extract.problems[at:at] = warned.result()
            stored = keeping.result() if keeping is not None else None
            cur.execute(
                "insert into imports (import_id, period, file_name, sha256, user_name, imported_at, status, row_counts, "
                "warnings, stored_file, source_format) values ($id, $period, $name, $sha, $user, $at, 'loaded', $rows, "
                "$warnings, $stored, $fmt)",
                {
                    "id": import_id,
                    "period": period,
                    "name": name,
                    "sha": digest,
                    "user": user,
                    "at": imported_at,
                    "rows": json.dumps(extract.row_counts),
                    "warnings": json.dumps([p.message for p in extract.warnings]),
                    "stored": str(stored.relative_to(self.path.parent)) if stored else None,
                    "fmt": source_format,
                },
            )
            step(3, 4, "Recomputing the KPIs")
            w.recompute((import_id, "import", imported_at), sheets=extract.sheets)
        total = sum(extract.row_counts.values())
        return ImportResult(
            "loaded",
            period,
            extract.problems,
            import_id,
            extract.row_counts,
            message=f"Loaded import {import_id} for {period}: {total:,} rows in {len(extract.sheets)} sheet(s).",
        )

    def _keep_file(self, raw: bytes, import_id: int, digest: str, name: str, key: bytes) -> Path:
        """Keep the uploaded bytes, encrypted (`csc.crypto`, key outside the data folder), so the
        database can be rebuilt from the files and nobody reads them from the data folder alone."""
        uploads = crypto.private_dir(self.paths.uploads)
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name).name)[-80:] or "upload.xlsx"
        target = uploads / f"{import_id:06d}-{digest[:12]}-{safe}.enc"
        crypto.write_private(target, crypto.encrypt(raw, key))
        return target

    def rollback(self, import_id: int, user: str = "local", role: str | None = None) -> str:
        """Mark an import rolled back: its rows stop counting, earlier versions become current again."""
        with self.transaction(user, "rollback", {"import_id": import_id}, role=role) as w:
            row = w.cur.execute(
                "select status, period from imports where import_id = $id", {"id": import_id}
            ).fetchall()
            row = row[0] if row else None
            if row is None:
                raise StoreError(f"There is no import {import_id}.")
            if row[0] != "loaded":
                raise StoreError(f"Import {import_id} is already rolled back.")
            w.detail["period"] = row[1]
            now = dt.datetime.now()
            w.cur.execute(
                "update imports set status = 'rolled_back', rolled_back_at = $at, rolled_back_by = $user "
                "where import_id = $id",
                {"at": now, "user": user, "id": import_id},
            )
            counts = w.cur.execute("select row_counts from imports where import_id = $id", {"id": import_id}).fetchall()
            w.recompute((import_id, "rollback", now), sheets=json.loads(counts[0][0]))
        return f"Import {import_id} ({row[1]}) was rolled back; earlier versions of its records are current again."

    def refresh(self, user: str = "system", role: str | None = None,
                summary: Callable[[duckdb.DuckDBPyConnection], dict] | None = None) -> dict:
        """Rebuild current tables and KPI results (e.g. after the KPI definitions change).
        `summary(cur)`: what to say of the result, read inside the transaction, kept in its audit
        entry and returned."""
        with self.transaction(user, "refresh", role=role) as w:
            w.recompute()
            result = summary(w.cur) if summary else {}
            w.detail.update(result)
        return result

    def _rebuild(self, cur: duckdb.DuckDBPyConnection, change: tuple | None = None,
                 sheets: Iterable[str] | None = None) -> None:
        """Recompute the current tables (of the records import `change[0]` holds in `sheets`, or
        all) and the KPIs (of the months those records can move, or all: `csc.incremental`,
        docs/kpis.md); `change` (import_id, "import" | "rollback", when) is what caused it, kept
        with every KPI value it changed (`csc.revisions`)."""
        from csc import breakdowns, incremental, kpis  # late import: kpis depends on the store's tables, not the reverse

        import_id, event, at = change or (None, "refresh", dt.datetime.now())
        if sheets is not None and import_id is not None:
            # an import or rollback: the current rows of its records, and the first month they can move
            since = incremental.update(cur, sheets, import_id)
        else:
            for sheet in spec.SHEETS.values():
                cur.execute(current_table_sql(sheet))
            annexa_tables.rebuild_inferred(cur)  # changes of worker inferred from Annex A, when no involvements are loaded
            since = None
        # the board's one-level tables (hidden once, hidden after), decided before the KPIs' own
        start = kpis.materialise(cur, since=since, margins=lambda s: breakdowns.record_board_margins(cur, since=s))
        revisions.record(cur, import_id, event, at, since=start)

    # -- audit ---------------------------------------------------------------------------
    def audit(self, user: str, role: str | None, action: str, detail: dict | None = None) -> None:
        """A line in the audit log for something that changes no data (an export, a refused file),
        written before this returns (with any page views still waiting, first): not a write
        transaction, so the data version stays as it is."""
        self._queue_audit(user, role, action, detail)
        self.flush_audit()

    def audit_soon(self, user: str, role: str | None, action: str, detail: dict | None = None) -> None:
        """A line in the audit log for a page view, written by a background thread within about
        `AUDIT_LINGER` seconds, so that a view neither pays for nor waits on a DuckDB insert and
        commit: the views that come together share one. Never lost on the way: entries go in in
        the order given, and everything waiting is written first by `audit`, by each write
        transaction, by `audit_log`, by a backup (`writes_paused`), by `close` and when the
        process exits. Its time is the view's, not the write's."""
        self._queue_audit(user, role, action, detail)
        if self._writer is None:
            with self._pending_lock:
                if self._writer is None:
                    self._writer = threading.Thread(target=self._write_audit, name="csc-audit-writer", daemon=True)
                    self._writer.start()
                    atexit.register(self._flush_at_exit)
        self._wake.set()

    def _queue_audit(self, user, role, action, detail) -> None:
        entry = (dt.datetime.now(), user, role, action, json.dumps(detail or {}, default=str))
        with self._pending_lock:
            self._pending.append(entry)

    def pending_audit(self) -> int:
        """How many audit entries are waiting for the background writer."""
        with self._pending_lock:
            return len(self._pending)

    def flush_audit(self) -> None:
        """Write every audit entry still waiting, in one insert, before returning."""
        with self._flush_lock:
            with self._pending_lock:
                batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                self._insert_audit(self._cursor(), batch)
            except BaseException:
                with self._pending_lock:  # kept, in order, for the next flush
                    self._pending[:0] = batch
                raise
            _AUDITS[self._file] += 1  # after the commit: a reader that saw the old count reads again

    def _flush_at_exit(self) -> None:
        try:
            self.flush_audit()
        except Exception:  # noqa: BLE001 - said, not raised, as the process ends
            log.exception("audit log: %d entries could not be written as the process ended", self.pending_audit())

    def _write_audit(self) -> None:
        while not self._closed:
            self._wake.wait()
            if self._closed:
                return
            time.sleep(AUDIT_LINGER)  # the views that come together share one insert
            self._wake.clear()
            try:
                self.flush_audit()
            except Exception:  # noqa: BLE001 - kept for the next flush; the writer carries on
                if self._closed:
                    return
                log.exception("audit log: %d entries not written yet; trying again", self.pending_audit())
                time.sleep(1.0)
                self._wake.set()

    @staticmethod
    def _insert_audit(cur, entries: list[tuple]) -> None:
        rows = ", ".join(["(?, ?, ?, ?, ?)"] * len(entries))
        cur.execute(f"insert into audit_log (logged_at, user_name, role, action, detail) values {rows}",
                    [value for entry in entries for value in entry])

    @staticmethod
    def _audit(cur, user, role, action, detail) -> None:
        cur.execute(
            "insert into audit_log (logged_at, user_name, role, action, detail) values ($at, $user, $role, $action, $detail)",
            {"at": dt.datetime.now(), "user": user, "role": role, "action": action, "detail": json.dumps(detail, default=str)},
        )

    def audit_log(self) -> pd.DataFrame:
        self.flush_audit()
        return self.cursor().execute("select * from audit_log order by audit_id").df()

    def audit_state(self) -> tuple[int, int | None]:
        """(how many entries the audit log holds, the newest one's id; None: none yet), as
        committed: views waiting for the background writer (`audit_soon`) are not in it yet. Both,
        as an entry can commit after a newer one (a write transaction takes its entry's id before
        its commit, while the writer commits views): the count moves then, the newest id does not.

        Read from the database again only after an insert into the log through any store of this
        process on the same file (`_AUDITS`, `_COMMITS`), as `data_version` is: a view of the Audit
        log page costs no scan of the log while nothing new is logged."""
        seen = (_COMMITS[self._file], _AUDITS[self._file])  # before the read: a later insert moves it
        memo = self._audited
        if memo is not None and memo[0] == seen:
            return memo[1]
        state = tuple(self.cursor().execute("select count(*), max(audit_id) from audit_log").fetchall()[0])
        self._audited = (seen, state)
        return state

    def audit_choices(self) -> tuple[list[str], list[str]]:
        """The actions and the people in the audit log (the Audit log page's choices), each sorted."""
        rows = self.cursor().execute("select distinct action, user_name from audit_log").fetchall()
        return sorted({a for a, _ in rows}), sorted({u for _, u in rows})

    def audit_entries(self, actions: list[str], users: list[str], shown: int | None) -> pa.Table:
        """The newest `shown` (None: all) entries of `actions` (of `users` only, unless empty),
        newest first, with how many match in all (`matching`) and the time in words
        (`when_words`): what the Audit log page draws, whatever the log's length."""
        from csc import kpis  # late import: kpis depends on the store's tables, not the reverse

        return self.cursor().sql(kpis.app_sql("audit_entries"), params={
            "actions": list(actions), "users": list(users), "shown": shown}).to_arrow_table()


#: The database files open read-write in this process, by file (resolved): [the connection that
#: attached it, how many stores are open on it]. DuckDB attaches a file once per process; stores
#: opened on one file share it (as `duckdb.connect(path)` shared its database before).
_ATTACHED: dict[str, list] = {}
_ATTACHED_LOCK = threading.Lock()


def _attach(path: Path) -> tuple[duckdb.DuckDBPyConnection, str, bool]:
    """A connection of a store's own to the database file `path`, open read-write with
    `ROW_GROUP_SIZE` rows to a row group (an option of ATTACH, which `duckdb.connect` has no way
    to give): the file attached as `CATALOG` to an in-memory database of this process's, and the
    connection's default database; with the attachment's key (for `_detach`, when the store
    closes) and whether this call attached it (False: another store in this process had)."""
    key = str(path.resolve())
    with _ATTACHED_LOCK:
        held = _ATTACHED.get(key)
        first = held is None
        if held is None:
            # DuckDB writes what a large sort or join spills beside the file, as `duckdb.connect(path)`
            # does (inside the private data folder), not in the working directory's `.tmp`
            base = duckdb.connect(config={"temp_directory": key + ".tmp"})
            try:
                base.execute(f"attach {sql_str(str(path))} as {CATALOG} (row_group_size {ROW_GROUP_SIZE})")
                base.execute("set checkpoint_threshold = '1TB'")  # checkpoints: `Store._checkpoint_soon`
            except BaseException:
                base.close()
                raise
            held = _ATTACHED[key] = [base, 0]
        con = held[0].cursor()
        con.execute(f"use {CATALOG}")
        held[1] += 1
        return con, key, first


def _detach(key: str) -> None:
    """A store on the file `key` closed (or dropped): the last one closes the database (DuckDB
    checkpoints what its log still holds, and lets go of the file)."""
    with _ATTACHED_LOCK:
        held = _ATTACHED.get(key)
        if held is None:
            return
        held[1] -= 1
        if held[1] <= 0:
            del _ATTACHED[key]
            held[0].close()


def _in_row_groups(table: pa.Table) -> pa.Table:
    """`table` as record batches of `ROW_GROUP_SIZE` rows (the last one fewer): DuckDB appends
    the batches on both cores, each filling its own row groups, and keeps their order. From one
    batch it appended on one core: the benchmark extract's 100,000 rows 0.044 s against 0.079
    (batches not a multiple of a row group, such as seven of 14,286 rows, were as slow as one)."""
    if table.num_rows <= ROW_GROUP_SIZE:
        return table
    return pa.Table.from_batches(table.combine_chunks().to_batches(max_chunksize=ROW_GROUP_SIZE), schema=table.schema)


def _log_unseen(warned: Future, raised: BaseException | None = None) -> None:
    """The guardrails' failure, when the import did not wait for their warnings (it was loaded
    meanwhile, or failed first with `raised`): logged, not lost."""
    failure = warned.exception()
    if failure is not None and failure is not raised:
        log.error("the guardrails' warnings for an import failed", exc_info=failure)


def _forget_kept(keeping: Future) -> None:
    """An import undone: the copy of its file kept (`Store._keep_file`), once written, removed."""
    try:
        stored = keeping.result()
    except Exception:  # noqa: BLE001 - nothing was kept (its error is the one undoing the import)
        return
    stored.unlink(missing_ok=True)


class private_copy:
    """`with private_copy(data, name) as path`: the bytes in a new folder only this user may open
    (`tempfile.mkdtemp`, 0700), removed with everything in it afterwards."""

    def __init__(self, data: bytes, name: str):
        self.data, self.name = data, name

    def __enter__(self) -> Path:
        self.dir = Path(tempfile.mkdtemp(prefix="csc-upload-"))
        suffix = Path(self.name).suffix.lower()
        suffix = suffix if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix) else ".xlsx"
        path = self.dir / f"upload{suffix}"
        crypto.write_private(path, self.data, durable=False)  # scratch: removed on leaving the block
        return path

    def __exit__(self, *exc) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)

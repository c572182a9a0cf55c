"""One in-memory DuckDB database for the whole process, for working on Arrow data outside the
store (checking a sheet's values, deriving Annex A's, the SSD's and the census's columns): each
use takes a cursor of its own and closes it.

Opening an in-memory database costs 13–19 ms and closing it 3–5 ms (DuckDB 2.0 starts a database
instance each time: its buffer pool, catalog and worker threads); a cursor on an open one costs a
fraction of a millisecond. An extract of nine sheets opened and closed nine, about 0.2 s of every
check and every import. What one use registers (`register`) and the temporary tables it makes are
its cursor's own (DuckDB keeps them per connection) and go when it is closed, so uses in other
threads at the same moment never see each other's. Nothing here changes a setting of the database:
what every use shares."""

from __future__ import annotations

import threading

import duckdb

_db: duckdb.DuckDBPyConnection | None = None
_lock = threading.Lock()


def cursor() -> duckdb.DuckDBPyConnection:
    """A new connection to the process's in-memory database; close it when done."""
    global _db
    with _lock:
        if _db is None:
            _db = duckdb.connect()  # in memory
        return _db.cursor()


def warm() -> None:
    """Open the database in a thread of its own, if it is not open yet: a read of a file, which
    checks its values here, starts this first and does not wait for the opening at its end (it
    lets go of the interpreter while the file checks inflate and scan the sheets: 0.02 s of
    `python -m csc import`, issue 17)."""
    if _db is None:
        # not a daemon: a process that ends meanwhile (a file refused at once, `python -m csc
        # validate`) waits the few ms for it, rather than killing it inside DuckDB (an abort, exit 134)
        threading.Thread(target=lambda: cursor().close(), name="csc-scratch-open").start()

"""The Excel reader in a box: every sheet of an uploaded workbook is read in a child process with
a memory limit, so a file that makes the reader fail ends that child, not the server.

The reader (calamine, through fastexcel) places a sheet's cells in a dense grid as wide and deep
as its farthest cell, and a Rust allocation that fails ends the whole process: on a server, the
dashboard of every user. `csc.filesafety` measures every part before the reader opens anything
and refuses a file past the limits, with a message saying what to fix; but it is a second reading
of the XML beside the reader's own, and reviews found some twenty files it read one way and the
reader another (docs/decisions.md). This box is the guarantee behind it: the reads run in worker
processes whose address space is capped (`RLIMIT_AS`, `CSC_READER_MEMORY_MB` beyond what a
worker holds when it starts, 6 GB unless set), and a read that takes longer than
`CSC_READER_TIMEOUT_S` (300 s unless set) is stopped. A worker that dies or is stopped is
replaced; the caller gets `ReaderStopped`, which the extract reader turns into a refusal in plain
English. Nothing is stored from a file whose read stopped.

Each worker is a fresh interpreter (not a fork of the server: its threads and locks are not
copied), started once with the reader and Arrow loaded (~0.15 s, in the background: `start()`)
and kept for later reads (`WORKERS`, one a core): a large sheet is read in halves by two at once
(`csc.splitread`). A worker keeps the workbook it opened until that file's read is over
(`forget`), so the sheets of one file read one after another parse its shared strings once; it
opens a file only if it is still the one checked. A sheet comes back as an Arrow IPC stream over a
socket (a 100,000-row sheet: ~17 MB, ~0.01 s), read without a copy.

`start()` starts the workers in the background (the Upload page and the commands that read
workbooks call it as they start); a read starts them itself if need be.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

import pyarrow as pa

log = logging.getLogger(__name__)

WORKERS = 2
MEMORY_MB = 6 * 1024  # address space a worker may take beyond its own at start
TIMEOUT_S = 300.0
ROOT = Path(__file__).resolve().parent.parent  # where `csc` is imported from, in a worker


class ReaderStopped(Exception):
    """The reader's process ended (its memory limit reached, or killed) or took too long."""


class ReaderChanged(ReaderStopped):
    """The file is not the one that was checked (rewritten at its path since)."""


class ReaderUnavailable(ReaderStopped):
    """No reader process could be started."""


class ReaderError(Exception):
    """The reader raised an error (a sheet it cannot parse; `opening`: the workbook itself, which it
    cannot open at all): its words."""

    def __init__(self, message: str, opening: bool = False):
        super().__init__(message)
        self.opening = opening


def memory_limit() -> int:
    """Bytes of address space a worker may take beyond its own at start."""
    return int(float(os.environ.get("CSC_READER_MEMORY_MB", MEMORY_MB)) * 1024 * 1024)


def timeout() -> float:
    return float(os.environ.get("CSC_READER_TIMEOUT_S", TIMEOUT_S))


# --- in the worker ---------------------------------------------------------------------------


def _address_space() -> int:
    with open("/proc/self/status", "rb") as fh:
        for line in fh:
            if line.startswith(b"VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _limit_memory(extra: int) -> int | None:
    """Cap this process's address space at its size now plus `extra` (or lower, if it inherited a
    lower cap: never raised); the cap, or None if none could be set."""
    try:
        import resource
    except ImportError:  # pragma: no cover - not a POSIX system: no limit (the file checks remain)
        return None
    # Arrow's allocator reserves its arena (~1 GB of address space) at its first allocation: made
    # now, so that the headroom a sheet gets is `extra`, not `extra` less that (a review)
    pa.array(["x" * 64] * 1024).to_pylist()
    cap = _address_space() + extra
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    for inherited in (soft, hard):
        if inherited != resource.RLIM_INFINITY:
            cap = min(cap, inherited)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (OSError, ValueError):  # pragma: no cover - a platform without /proc or RLIMIT_AS
        return None
    return cap


def _limit_time(seconds: float) -> None:
    """Let this read use at most `seconds` more of CPU (`RLIMIT_CPU`): a worker whose parent has
    gone, and so cannot stop it, stops itself."""
    try:
        import resource

        used = resource.getrusage(resource.RUSAGE_SELF)
        soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
        cap = int(used.ru_utime + used.ru_stime + seconds) + 5
        if hard != resource.RLIM_INFINITY:
            cap = min(cap, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (cap, hard))
    except (ImportError, OSError, ValueError):  # pragma: no cover - not a POSIX system
        pass


def _same_file(path: str, identity: tuple | None) -> bool:
    """Whether the file at `path` is still the one the parent checked: (size, modification time,
    inode), as `csc.extract._file_key` took them (None: a file of the parent's own making)."""
    if identity is None:
        return True
    try:
        st = os.stat(path)
    except OSError:
        return False
    return (st.st_size, st.st_mtime_ns, st.st_ino) == tuple(identity)


def _serve(conn, extra: int, seconds: float) -> None:
    """A worker: read what the parent asks, one request at a time, until the socket closes."""
    import fastexcel

    try:  # the kernel's choice when the machine runs out of memory: a worker before the server
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write("1000")
    except OSError:  # pragma: no cover - not Linux
        pass
    conn.send(("ready", _limit_memory(extra)))
    opened: tuple | None = None  # (key, reader): the last workbook opened
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        op, path, key, title, identity = request
        reader = None  # (the last request's: a workbook let go is let go by every name)
        if op == "forget" or op == "sheet-once":  # (a half: a workbook read for one sheet, not kept after)
            opened = None
            if op == "forget":
                continue
        _limit_time(seconds)
        try:
            if opened is None or opened[0] != key:
                opened = None  # the previous workbook's reader let go before the next opens
                if not _same_file(path, identity):
                    conn.send(("changed", "", ""))
                    continue
                try:
                    opened = (key, fastexcel.read_excel(path))
                except MemoryError:
                    raise
                except Exception as exc:  # noqa: BLE001 - a workbook the reader cannot open at all
                    conn.send(("damaged", type(exc).__name__, str(exc)))
                    continue
            reader = opened[1]
            if op == "names":
                conn.send(("names", list(reader.sheet_names)))
                continue
            batch = reader.load_sheet(title, header_row=None, skip_rows=0, dtypes="string", eager=True)
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, batch.schema) as writer:
                writer.write_batch(batch)
            del batch
            if op == "sheet-once":  # its file closed before the parent removes it
                opened = reader = None
            data = sink.getvalue()
            conn.send(("sheet", data.size))
            conn.send_bytes(data)
        except MemoryError:
            conn.send(("memory", "", ""))
            return  # a worker that ran out of memory is not trusted with another read
        except Exception as exc:  # noqa: BLE001 - the reader's own errors go back in its words
            conn.send(("error", type(exc).__name__, str(exc)))


# --- in the parent ---------------------------------------------------------------------------


class _Worker:
    """A reader process: a fresh interpreter (`python -c`, this module's `main`), not a fork of this
    one (a server's threads and locks are not copied into it), talking over a socket pair. It
    gets none of the deployment's `CSC_` settings (keys among them): it needs none."""

    def __init__(self):
        ours, theirs = socket.socketpair()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CSC_")}
        env["RUST_BACKTRACE"] = "0"  # a failed allocation's one line in the log, not a hundred
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); from csc.readbox import main; "
                                       f"main({theirs.fileno()}, {memory_limit()}, {timeout()})"],
                pass_fds=(theirs.fileno(),), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, cwd=ROOT, env=env)
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.conn = Connection(ours.detach())
        self.key: tuple | None = None  # the workbook it has open
        self.cap: int | None = None  # its address space's cap, once ready

    def ready(self, wait: float = 60.0) -> _Worker:
        """Wait for the worker to say it is ready (its limits set); `ReaderUnavailable` if it does not."""
        try:
            if not self.conn.poll(wait):
                raise EOFError("no answer")
            kind, self.cap = self.conn.recv()
            if kind != "ready":
                raise EOFError(kind)
        except Exception as exc:  # noqa: BLE001 - ended, silent, or not a worker's answer
            self.stop()
            raise ReaderUnavailable(
                f"The Excel reader could not be started (exit code {self.proc.returncode}), so no file can be read "
                "now; nothing was stored. Tell whoever runs the dashboard: its log says why.") from exc
        if self.cap is None:
            log.warning("a reader process runs without a memory limit (RLIMIT_AS could not be set)")
        return self

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self) -> None:
        try:
            self.conn.close()
        finally:
            if self.alive():
                self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:  # pragma: no cover - a killed process that will not go
                log.warning("a reader process did not end when killed")


def main(fd: int, extra: int, seconds: float = TIMEOUT_S) -> None:
    """A worker's life: `_serve` on the socket the parent passed. A parent that has gone (a command
    that ended before its reader was ready: the database was in use) is no error of the worker's:
    it ends without a word, rather than printing a traceback after the command's own message."""
    try:
        _serve(Connection(fd), extra, seconds)
    except (BrokenPipeError, ConnectionResetError):
        pass


_lock = threading.Condition()
_idle: list[_Worker] = []
_busy = 0  # workers out: reading, or being started


def start() -> None:
    """Start the workers in the background (nothing to wait for: a read waits for one if it must)."""
    global _busy
    with _lock:
        missing = WORKERS - len(_idle) - _busy
        if missing <= 0:
            return
        _busy += missing  # counted as out until they come in, so a read meanwhile waits for them

    def work() -> None:
        workers: list[_Worker | None] = []
        for _ in range(missing):
            try:
                workers.append(_Worker())
            except Exception:  # noqa: BLE001 - a read starts one itself, and says so if it cannot
                log.exception("a reader process could not be started")
                workers.append(None)
        for worker in workers:  # started together, then waited for
            try:
                _give(worker.ready() if worker is not None else None)
            except ReaderUnavailable:
                log.exception("a reader process did not start")
                _give(None)

    try:
        threading.Thread(target=work, name="csc-reader-start", daemon=True).start()
    except BaseException:
        for _ in range(missing):
            _give(None)
        raise


def _take(key: tuple | None) -> _Worker:
    """A worker for one read: the idle one with this workbook open if any; a new one if fewer than
    `WORKERS` are out; else wait for one to come back."""
    global _busy
    with _lock:
        while True:
            live = [w for w in _idle if w.alive()]
            for w in _idle:
                if w not in live:
                    w.stop()
            _idle[:] = live
            if _idle:
                mine = next((w for w in _idle if w.key == key), _idle[-1])
                _idle.remove(mine)
                _busy += 1
                return mine
            if _busy < WORKERS:
                _busy += 1
                break
            _lock.wait()
    try:
        return _Worker().ready()
    except BaseException:
        _give(None)
        raise


def _give(worker: _Worker | None) -> None:
    global _busy
    with _lock:
        _busy -= 1
        if worker is not None:
            _idle.append(worker)
        _lock.notify_all()


def _ask(path: str | Path, key: tuple, op: str, title: str | None, name: str, identity: tuple | None = None,
         again: bool = True):
    """One request to a worker and its answer. A worker killed from outside (`SIGKILL`: an
    operator, or the kernel short of memory) is replaced and the request made once more."""
    request = (op, str(path), key, title, identity)
    worker: _Worker | None = _take(key)
    kept, code = False, None
    try:
        try:
            worker.conn.send(request)
            if not worker.conn.poll(timeout()):
                raise ReaderStopped(
                    f'Reading "{name}" took longer than {timeout():,.6g} seconds, so it was stopped. A workbook this '
                    "dashboard reads takes seconds; this one may be damaged or written by another program.")
            kind, *rest = worker.conn.recv()
            data = worker.conn.recv_bytes() if kind == "sheet" else None
        except (EOFError, OSError) as exc:  # the worker ended: a failed allocation (its memory limit), or killed
            try:
                code = worker.proc.wait(5)
            except subprocess.TimeoutExpired:
                code = None
            log.warning("the reader's process ended while reading a file (exit code %s)", code)
            if code == -signal.SIGKILL and again:
                kind = "again"
            elif code in (-signal.SIGABRT, -signal.SIGSEGV, -signal.SIGBUS):
                raise ReaderStopped(_too_much(name)) from exc
            else:
                raise ReaderStopped(
                    f'The Excel reader stopped while reading "{name}" (exit code {code}), so nothing was read. Try '
                    "again; if it happens again, the file may be damaged: open it in Excel, save it as a new .xlsx "
                    "workbook and upload that.") from exc
        if kind == "memory":
            raise ReaderStopped(_too_much(name))
        if kind == "again":
            worker.stop()
            worker = None
            _give(None)
            return _ask(path, key, op, title, name, identity, again=False)
        kept = True  # the worker answered: it reads again
        if kind == "changed":
            raise ReaderChanged(changed(name))
        if kind in ("error", "damaged"):
            raise ReaderError(rest[1] or rest[0], opening=kind == "damaged")
        if kind == "names":
            return rest[0]
        with pa.ipc.open_stream(pa.py_buffer(data)) as stream:
            return stream.read_next_batch()
    finally:
        if worker is not None:
            if kept:
                worker.key = key if op != "sheet-once" and kind != "changed" else None
                _give(worker)
            else:
                worker.stop()
                _give(None)


def changed(name: str) -> str:
    """What is said of a file rewritten at its path after its checks (here, and by `csc.extract`)."""
    return f'"{name}" changed while it was being read. Nothing was read from it: check it again once it is saved.'


def _too_much(name: str) -> str:
    limit = memory_limit()
    size = f"{limit / 2**30:,.1f} GB" if limit >= 2**30 else f"{limit / 2**20:,.0f} MB"
    return (f'Reading "{name}" needed more memory than a workbook may use here ({size}), '
            "so it was stopped and nothing was read. Excel does not write such files: it may be damaged, or "
            "written by another program. Open it in Excel, save it as a new .xlsx workbook and upload that.")


def read_sheet(path: str | Path, key: tuple, title: str, name: str, keep: bool = True,
               identity: tuple | None = None) -> pa.RecordBatch:
    """Every cell of sheet `title` as text, as `fastexcel` reads it (`header_row=None`,
    `skip_rows=0`, `dtypes="string"`), read in a worker. `key`: what the worker keeps the open
    workbook under; `identity`: (size, modification time in ns, inode) of the file as it was
    checked (`extract._file_key`), which the worker compares before it opens it (`ReaderChanged`
    if it differs). `name`: the file's name, for the messages; `keep`: the workbook stays open in
    the worker for another sheet of it (until `forget`). Raises `ReaderStopped` (`ReaderChanged`,
    `ReaderUnavailable`) or `ReaderError`."""
    return _ask(path, key, "sheet" if keep else "sheet-once", title, name, identity)


def sheet_names(path: str | Path, key: tuple, name: str, identity: tuple | None = None) -> list[str]:
    """The workbook's sheet names, as the reader lists them."""
    return _ask(path, key, "names", None, name, identity)


def forget(key: tuple) -> None:
    """The idle workers with the workbook `key` open let it go (its file closed: an upload's
    private copy is removed after its check, and its bytes would stay on disk while it is open)."""
    with _lock:
        holding = [w for w in _idle if w.key == key]
        for w in holding:
            try:
                w.conn.send(("forget", None, None, None, None))
                w.key = None
            except OSError:  # an ended worker: `_take` drops it
                pass


def stop() -> None:
    """Stop the idle workers (tests, and this process's exit: they would end on their own, as their
    socket closes)."""
    with _lock:
        workers, _idle[:] = list(_idle), []
    for w in workers:
        w.stop()


atexit.register(stop)


def peak_memory_kb() -> int:
    """The idle workers' peak resident memory, added (KB; benchmarks)."""
    total = 0
    with _lock:
        pids = [w.proc.pid for w in _idle if w.alive()]
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status", "rb") as fh:
                total += next((int(x.split()[1]) for x in fh if x.startswith(b"VmHWM:")), 0)
        except OSError:
            pass
    return total


def workers_alive() -> int:
    with _lock:
        return sum(1 for w in _idle if w.alive())


def with_limits(memory_mb: float | None = None, timeout_s: float | None = None) -> Callable[[], None]:
    """Set the limits for workers started from now on (and stop the idle ones, so the next read
    starts a worker under them); returns a function that puts the old limits back (tests)."""
    old = {k: os.environ.get(k) for k in ("CSC_READER_MEMORY_MB", "CSC_READER_TIMEOUT_S")}
    if memory_mb is not None:
        os.environ["CSC_READER_MEMORY_MB"] = str(memory_mb)
    if timeout_s is not None:
        os.environ["CSC_READER_TIMEOUT_S"] = str(timeout_s)
    stop()

    def undo() -> None:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        stop()

    return undo

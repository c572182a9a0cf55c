"""The Excel reader in a box (`csc.readbox`): a file that makes the reader ask for too much memory,
or take too long, ends a worker process, not this one; it is refused in plain English, nothing is
stored, and the next file reads as before."""

from __future__ import annotations

import os
import re

import fastexcel
import pytest

from csc import annexa, extract, filesafety, readbox
from tests import corpus
from tests.unit.test_store import kept_files
from tests.conftest import edit_parts, write_xlsx


@pytest.fixture(autouse=True)
def fresh_workers():
    readbox.stop()
    yield
    readbox.stop()
    extract.forget_reads()


def _in_process(path, title):
    return fastexcel.read_excel(str(path)).load_sheet(title, header_row=None, skip_rows=0, dtypes="string", eager=True)


def test_a_sheet_read_in_the_box_is_the_sheet_read_here(tmp_path):
    rows = corpus.referrals(300)
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": rows, "Notes": [["a", 1.5, None, "b"]]})
    key = ("x", 1)
    for title in ("referrals", "Notes"):
        boxed = readbox.read_sheet(path, key, title, "x.xlsx")
        assert boxed.equals(_in_process(path, title))
    assert readbox.sheet_names(path, key, "x.xlsx") == ["referrals", "Notes"]
    assert readbox.workers_alive() >= 1  # kept for the next read


def test_the_readers_own_error_comes_back_in_its_words(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(2)})
    with pytest.raises(readbox.ReaderError, match='Sheet "Nope" not found') as caught:
        readbox.read_sheet(path, ("x",), "Nope", "x.xlsx")
    assert not caught.value.opening
    edit_parts(path, xl__styles_xml=lambda b: b[: len(b) // 2])
    with pytest.raises(readbox.ReaderError) as caught:
        readbox.read_sheet(path, ("y",), "referrals", "x.xlsx")
    assert caught.value.opening  # the workbook itself cannot be opened: damaged
    assert readbox.read_sheet(write_xlsx(tmp_path / "z.xlsx", {"S": [["ok"]]}), ("z",), "S", "z.xlsx").num_rows == 1


def _far_cell(xml: bytes) -> bytes:
    """One cell at XFD999999: the reader's dense grid would be 16,384 x 999,999 cells (~0.5 TB)."""
    return xml.replace(b"</sheetData>", b'<row r="999999"><c r="XFD999999" t="inlineStr"><is><t>x</t></is></c>'
                                        b"</row></sheetData>")


def test_a_file_the_checks_let_through_that_asks_for_half_a_terabyte_is_refused_and_this_process_lives(
        store, tmp_path, monkeypatch):
    """The file checks refuse this file (its cells span 16 billion cells); here they are told to
    let it through, as a way round them not yet found would: the reader asks for ~0.5 TB, its
    process ends, and the import is refused with what happened. (Read in this process, the same
    file ends it: a failed Rust allocation aborts.)"""
    monkeypatch.setattr(extract, "sheet_too_big", lambda *a: None)
    monkeypatch.setattr(filesafety, "sheet_too_big", lambda *a: None)
    path = write_xlsx(tmp_path / "hostile.xlsx", {"referrals": corpus.referrals(3)})
    edit_parts(path, xl__worksheets__sheet1_xml=_far_cell)
    before = store.cursor().execute("select count(*) from raw_referrals").fetchall()
    result = store.import_file(path, "2011-04")
    assert result.status == "refused" and result.import_id is None
    assert [p.severity for p in result.problems] == ["error"]
    assert re.match(r'Reading "hostile.xlsx" needed more memory than a workbook may use here \(6\.0 GB\), so it was '
                    r"stopped and nothing was read\.", result.problems[0].message)
    assert result.message.endswith("Nothing was stored.")
    assert store.imports().empty and kept_files(store) == []
    assert store.cursor().execute("select count(*) from raw_referrals").fetchall() == before
    # the next file reads as before, in a worker started afresh
    good = write_xlsx(tmp_path / "good.xlsx", {"referrals": corpus.referrals(3)})
    assert store.import_file(good, "2011-04").status == "loaded"


def test_the_memory_limit_is_the_workers_own(tmp_path):
    """A sheet that reads in the usual limit is stopped under a small one: the limit is set in
    the worker (`RLIMIT_AS`), and the message gives it."""
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(20_000)})
    undo = readbox.with_limits(memory_mb=1)
    try:
        with pytest.raises(readbox.ReaderStopped, match=r"needed more memory than a workbook may use here \(1 MB\)"):
            readbox.read_sheet(path, ("x",), "referrals", "x.xlsx")
        assert readbox.workers_alive() == 0  # the worker that failed is not kept
    finally:
        undo()
    assert readbox.read_sheet(path, ("x",), "referrals", "x.xlsx").num_rows == 20_001


def test_a_read_that_takes_too_long_is_stopped_and_the_extract_refused(tmp_path):
    path = write_xlsx(tmp_path / "slow.xlsx", {"referrals": corpus.referrals(20_000)})
    undo = readbox.with_limits(timeout_s=0.001)
    try:
        result = extract.read_workbook(path)
    finally:
        undo()
    assert [p.message for p in result.problems] == [
        'Reading "slow.xlsx" took longer than 0.001 seconds, so it was stopped. A workbook this dashboard reads '
        "takes seconds; this one may be damaged or written by another program."]
    assert not result.sheets
    assert extract.read_workbook(path).ok


def test_a_stopped_read_is_not_tried_again_for_the_same_file(tmp_path, monkeypatch):
    """The Annex A check reads an "Assessments" sheet's headings first: a read stopped there is not
    made again by the extract's read (twice the time limit for one file)."""
    header = ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "child_seen",
              "area_office", "team", "worker_id"]
    path = write_xlsx(tmp_path / "x.xlsx", {"Assessments": [header, ["A1", "C1", "Single", "2012-01-01", None, "Y",
                                                                    "North", "N1", "W1"]]})
    asked = []

    def stopping(*a, **k):
        asked.append(a[2])
        raise readbox.ReaderStopped("stopped")

    monkeypatch.setattr(readbox, "read_sheet", stopping)
    assert not annexa.is_annex_a(path)
    result = extract.read_workbook(path)
    assert [p.message for p in result.problems] == ["stopped"]
    assert asked == ["Assessments"]  # asked once, by the Annex A check


def test_workers_are_other_processes_with_the_limit_set(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"S": [["ok"]]})
    readbox.read_sheet(path, ("x",), "S", "x.xlsx")
    worker = readbox._idle[0]
    assert worker.proc.pid != os.getpid()
    limits = open(f"/proc/{worker.proc.pid}/limits").read()
    line = next(x for x in limits.splitlines() if x.startswith("Max address space"))
    soft = int(line.split()[3])
    assert 6 * 2**30 < soft < 6 * 2**30 + 4 * 2**30  # its own size at start, plus 6 GB


def test_a_worker_killed_while_idle_is_replaced(tmp_path):
    path = write_xlsx(tmp_path / "x.xlsx", {"S": [["ok"]]})
    readbox.read_sheet(path, ("x",), "S", "x.xlsx")
    for worker in list(readbox._idle):
        worker.proc.kill()
        worker.proc.wait()
    assert readbox.read_sheet(path, ("x",), "S", "x.xlsx").num_rows == 1


def test_a_file_replaced_after_a_first_read_is_not_opened_by_another_worker(tmp_path):
    """A worker opens the workbook only if it is still the file checked (a review: the halves'
    workers, or a worker freed by another session, opened the path afresh, unchecked)."""
    path = write_xlsx(tmp_path / "x.xlsx", {"A": [["checked A"]], "B": [["checked B"]]})
    reader = extract.open_reader(path, "x.xlsx")
    assert extract.sheet_text(reader, "A").column(0).to_pylist() == ["checked A"]
    readbox.stop()  # the worker that had it open is gone: the next opens the path again
    os.replace(write_xlsx(tmp_path / "other.xlsx", {"A": [["x"]], "B": [["NEVER CHECKED B"]]}), path)
    with pytest.raises(filesafety.FileRefused, match='"x.xlsx" changed while it was being read'):
        extract.sheet_text(reader, "B")


def _open_files(pid: int) -> list[str]:
    out = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            out.append(os.readlink(f"/proc/{pid}/fd/{fd}"))
        except OSError:
            pass
    return out


def test_the_workers_let_go_of_a_workbook_once_its_read_is_over(tmp_path):
    """An upload's private copy is removed after its check; a worker holding it open would keep
    its bytes on disk (a review)."""
    import time

    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(3)})
    reader = extract.open_reader(path, "x.xlsx")
    extract.sheet_text(reader, "referrals")
    pids = [w.proc.pid for w in readbox._idle]
    assert any(str(path) in f for pid in pids for f in _open_files(pid))  # open while the read goes on
    extract.forget_reads()
    for _ in range(100):
        if not any(str(path) in f for pid in pids for f in _open_files(pid)):
            break
        time.sleep(0.02)
    assert not any(str(path) in f for pid in pids for f in _open_files(pid))


def test_the_halves_of_a_sheet_are_let_go_as_soon_as_read(tmp_path, monkeypatch):
    """Their files are removed straight after the read: a worker holding one open would keep its
    bytes on disk until its next read."""
    from csc import splitread

    monkeypatch.setattr(splitread, "SPLIT_MIN", 1)
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(500)})
    assert extract.read_workbook(path).ok
    assert readbox._idle and not any("csc-halves-" in f for w in readbox._idle for f in _open_files(w.proc.pid))


def test_a_reader_that_cannot_start_says_so_and_leaves_the_pool_as_it_was(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(3)})
    monkeypatch.setattr(readbox.sys, "executable", "/bin/false")
    result = extract.read_workbook(path)
    assert [p.message for p in result.problems] == [
        "The Excel reader could not be started (exit code 1), so no file can be read now; nothing was stored. "
        "Tell whoever runs the dashboard: its log says why."]
    assert readbox._busy == 0
    monkeypatch.undo()
    assert extract.read_workbook(path).ok and readbox._busy == 0


def test_a_worker_killed_mid_read_is_replaced_and_the_read_made_again(tmp_path):
    """SIGKILL (an operator, or the kernel short of memory) is not the file's doing: once more."""
    import signal
    import threading
    import time

    path = write_xlsx(tmp_path / "x.xlsx", {"referrals": corpus.referrals(20_000)})
    readbox.read_sheet(path, ("warm",), "referrals", "x.xlsx", keep=False)
    victims = [w.proc.pid for w in readbox._idle]
    got = {}
    reading = threading.Thread(target=lambda: got.update(b=readbox.read_sheet(path, ("x",), "referrals", "x.xlsx")))
    reading.start()
    time.sleep(0.05)
    for pid in victims:
        os.kill(pid, signal.SIGKILL)
    reading.join(60)
    assert got["b"].num_rows == 20_001 and readbox._busy == 0
    assert all(w.proc.pid not in victims for w in readbox._idle)


def test_a_worker_has_none_of_the_deployments_settings_and_goes_first_when_memory_runs_out(tmp_path, monkeypatch):
    monkeypatch.setenv("CSC_ID_KEY", "a secret")
    readbox.read_sheet(write_xlsx(tmp_path / "x.xlsx", {"S": [["ok"]]}), ("x",), "S", "x.xlsx")
    pid = readbox._idle[0].proc.pid
    environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    assert not any(e.startswith(b"CSC_") for e in environ) and b"RUST_BACKTRACE=0" in environ
    assert open(f"/proc/{pid}/oom_score_adj").read().strip() == "1000"


def test_a_worker_whose_parent_has_gone_ends_without_a_traceback():
    # `python -m csc import` on a database the dashboard holds ended before its readers were ready;
    # a worker then said "ready" into a closed socket and printed a BrokenPipeError traceback after
    # the command's clear message (1 run in 30)
    import socket
    import subprocess
    import sys

    ours, theirs = socket.socketpair()
    ours.close()  # the parent has gone before the worker says it is ready
    run = subprocess.run(
        [sys.executable, "-c", f"from csc.readbox import main; main({theirs.fileno()}, 0, 5)"],
        pass_fds=(theirs.fileno(),), cwd=readbox.ROOT, capture_output=True, text=True, timeout=60)
    theirs.close()
    assert run.returncode == 0 and run.stderr == "", run.stderr

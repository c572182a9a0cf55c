"""One parse of a workbook shared by the Annex A check and the extract read (`csc.extract.open_reader`,
`sheet_text`): the same file is parsed once, a changed file is parsed again, and nothing is kept
once the read is over."""

from __future__ import annotations

import os
import threading

from csc import annexa, extract, filesafety, splitread
from tests.conftest import write_xlsx
from tests.corpus import referrals

HEADER = ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "child_seen",
          "area_office", "team", "worker_id"]


def _assessments(path, first_id: str):
    return write_xlsx(path, {"Assessments": [HEADER, [first_id, "C1", "Initial", "2012-03-01", None, "Y", "North",
                                                      "N1", "W1"]]})


def test_the_same_file_is_parsed_once_and_its_sheet_kept_until_the_read_ends(tmp_path):
    path = _assessments(tmp_path / "x.xlsx", "A1")
    assert annexa.is_annex_a(path) is False  # "Assessments" is an Annex A title too: its headings were read
    reader = extract.open_reader(path)
    assert extract.open_reader(path) is reader
    part = {"xl/worksheets/sheet1.xml"}
    extents = extract.inspect_once(path, "x.xlsx", part)
    assert extract.inspect_once(path, "x.xlsx", part) is extents and extents["xl/worksheets/sheet1.xml"].declared_rows == 2
    kept = extract.sheet_text(reader, "Assessments")
    assert extract.sheet_text(reader, "Assessments") is kept
    assert kept.column(0).to_pylist() == ["assessment_id", "A1"]  # row 1 is the header, as Excel numbers rows
    result = extract.read_workbook(path)
    assert result.ok and result.sheets["assessments"].table.column("assessment_id").to_pylist() == ["A1"]
    assert extract.open_reader(path) is not reader  # read_workbook let it go


def test_a_file_changed_at_the_same_path_is_read_again(tmp_path):
    path = _assessments(tmp_path / "x.xlsx", "A1")
    first = extract.sheet_text(extract.open_reader(path), "Assessments")
    _assessments(path, "B22")
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # a later modification time, whatever the clock
    again = extract.sheet_text(extract.open_reader(path), "Assessments")
    assert first.column(0).to_pylist()[1] == "A1" and again.column(0).to_pylist()[1] == "B22"
    extract.forget_reads()


def _looked_at(path):
    """What the Annex A check does before the read: the sheet inspected (kept for halves) and the reader opened."""
    parts = filesafety.sheet_parts(path, path.name)
    extract.inspect_once(path, path.name, {parts["Referrals"]}, {"Referrals": parts["Referrals"]})
    return extract.open_reader(path)


def _ids(path, first: int) -> list[str]:
    return [f"R{i}" for i in range(first, first + 40)]


def test_a_sheet_kept_for_one_file_is_never_read_as_another_files(tmp_path, monkeypatch):
    """Two sessions checking files at the same moment: the sheet one kept to read in halves is
    found by its title, and was read as the other's data (same title, another file)."""
    monkeypatch.setattr(splitread, "SPLIT_MIN", 1)  # every sheet read in halves
    halves = []
    real = splitread.read_halves
    monkeypatch.setattr(splitread, "read_halves", lambda *a: halves.append(a[3]) or real(*a))
    x = write_xlsx(tmp_path / "x.xlsx", {"Referrals": referrals(40)})
    y = write_xlsx(tmp_path / "y.xlsx", {"Referrals": referrals(40, start=500)})
    reader_x = _looked_at(x)
    other = threading.Thread(target=_looked_at, args=(y,))  # another session's check, in between
    other.start()
    other.join()
    assert extract.sheet_text(reader_x, "Referrals").column(0).to_pylist()[1:] == _ids(x, 1)
    assert halves == ["Referrals"]  # read in halves: its own
    extract.forget_reads()
    # on one thread: a file inspected after this reader was opened keeps its halves from this reader
    reader_x = _looked_at(x)
    _looked_at(y)
    halves.clear()
    assert extract.sheet_text(reader_x, "Referrals").column(0).to_pylist()[1:] == _ids(x, 1)
    assert halves == []  # read whole by its own reader
    extract.forget_reads()


def test_reads_of_one_file_at_once_on_threads_do_not_share_its_reader(tmp_path):
    """The reader is not safe on two threads at once ("Already mutably borrowed"): it was kept
    for the file, and a file checked twice at once was refused as damaged."""
    path = write_xlsx(tmp_path / "x.xlsx", {"Referrals": referrals(300)})
    results: list = []
    barrier = threading.Barrier(4)

    def read() -> None:
        barrier.wait()
        for _ in range(5):
            r = extract.read_workbook(path)
            results.append((r.ok, [p.message for p in r.errors][:1]))

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [(True, [])] * 20


def test_a_file_replaced_after_its_checks_is_not_opened_unchecked(tmp_path):
    """The reader opens the workbook only when a sheet is read whole (`extract.LazyReader`), after
    the checks; a file saved at the same path meanwhile (a command's own path) is refused, not
    parsed unchecked."""
    import pytest

    path = _assessments(tmp_path / "x.xlsx", "A1")
    parts = filesafety.sheet_parts(path, path.name)
    extract.inspect_once(path, path.name, set(parts.values()))
    reader = extract.open_reader(path, "x.xlsx")
    replacement = _assessments(tmp_path / "other.xlsx", "B2")
    os.replace(replacement, path)  # saved by rename, as Excel and sync clients do
    with pytest.raises(filesafety.FileRefused, match='"x.xlsx" changed while it was being read'):
        extract.sheet_text(reader, "Assessments")
    extract.forget_reads()

"""One parse of a workbook shared by the Annex A check and the extract read (`csc.extract.open_reader`,
`sheet_text`): the same file is parsed once, a changed file is parsed again, and nothing is kept
once the read is over."""

from __future__ import annotations

import os

from csc import annexa, extract
from tests.conftest import write_xlsx

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

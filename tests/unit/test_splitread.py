"""A large sheet read in halves on two cores (`csc.splitread`) gives every cell one read of the
whole sheet gives, and anything that would make them differ sends the sheet to one whole read."""

from __future__ import annotations

import datetime as dt
import re
import tempfile
import zipfile
from pathlib import Path

import fastexcel
import openpyxl
import pyarrow as pa
import pytest

from csc import extract, readbox, splitread
from tests.conftest import cut_short, edit_parts, write_xlsx

SHEET = "xl/worksheets/sheet1.xml"


@pytest.fixture(autouse=True)
def small_sheets_split(monkeypatch):
    monkeypatch.setattr(splitread, "SPLIT_MIN", 1)  # every sheet is "large" here
    yield
    extract.forget_reads()


def whole(path: Path, title: str) -> list[list]:
    batch = fastexcel.read_excel(str(path)).load_sheet(title, header_row=None, skip_rows=0, dtypes="string", eager=True)
    return _rows(batch)


def _same_cells(got, path: Path, title: str) -> bool:
    """`got` (the halves, from column A) holds exactly the cells of one whole read (from the
    leftmost cell): the same number of rows, blank trailing ones included, and the same columns
    once the blank ones on the left are dropped from both."""
    one = fastexcel.read_excel(str(path)).load_sheet(title, header_row=None, skip_rows=0, dtypes="string", eager=True)

    def grid(batch):
        cols = [batch.column(j).to_pylist() for j in range(batch.num_columns)]
        while cols and all(v is None for v in cols[0]):
            cols.pop(0)
        return batch.num_rows, cols
    return grid(got) == grid(one)


def _rows(batch) -> list[list]:
    """Rows as lists, leading all-blank columns dropped (one whole read starts at the leftmost cell,
    the halves at column A) and trailing blanks trimmed."""
    cols = [batch.column(j).to_pylist() for j in range(batch.num_columns)]
    while cols and all(v is None for v in cols[0]):
        cols.pop(0)
    rows = [list(r) for r in zip(*cols)] if cols else []
    for r in rows:
        while r and r[-1] is None:
            r.pop()
    return rows


def parts_of(path: Path) -> tuple[bytes, dict[str, bytes]]:
    with zipfile.ZipFile(path) as zf:
        others = {n: zf.read(n) for n in zf.namelist() if n != SHEET and not n.endswith("/")}
        return zf.read(SHEET), others


def halves(path: Path, title: str, prefix: bytes = b"") -> pa.Table | None:
    xml, others = parts_of(path)
    return splitread.read_halves(xml, others, SHEET, title, prefix)


def test_the_halves_hold_the_same_cells_as_one_read(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Data"
    ws["C4"], ws["D4"], ws["E4"] = "id", "when", "hours"  # a table starting at C4, after blank rows and columns
    for i in range(1, 1501):
        ws.cell(4 + i, 3, f"R{i:05d}")
        ws.cell(4 + i, 4, dt.date(2011, 1, 1) + dt.timedelta(days=i))
        ws.cell(4 + i, 4).number_format = "dd/mm/yyyy"
        if i % 7:
            ws.cell(4 + i, 5, i / 4)
        if i % 250 == 0:
            ws.cell(4 + i, 9, "far right")  # a column only some rows reach
    ws.cell(800, 3, None)  # blank rows near the middle
    for r in range(740, 760):
        for c in range(3, 10):
            ws.cell(r, c, None)
    ws.cell(1600, 2, True)  # a cell left of the table, in the second half only
    path = tmp_path / "x.xlsx"
    wb.save(path)
    got = halves(path, "Data")
    assert got is not None
    assert got.column(0).null_count == got.num_rows  # column A, empty
    assert _same_cells(got, path, "Data")
    assert got.num_rows == 1600


def test_a_sheet_among_others_is_read_in_halves_through_sheet_text(tmp_path, monkeypatch):
    header = ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "child_seen",
              "area_office", "team", "worker_id"]
    rows = [header] + [[f"A{i}", f"C{i % 97}", "Single", dt.date(2012, 1, 1) + dt.timedelta(days=i % 60), None, "Y",
                        "North", "N1", "W1"] for i in range(2000)]
    path = write_xlsx(tmp_path / "x.xlsx", {"Notes": [["anything"]], "Assessments": rows})
    called, opened = [], []
    real, real_read = splitread.read_halves, readbox.read_sheet
    monkeypatch.setattr(splitread, "read_halves", lambda *a: called.append(real(*a)) or called[-1])
    monkeypatch.setattr(readbox, "read_sheet", lambda source, *a, **k: opened.append(str(source)) or real_read(source, *a, **k))
    result = extract.read_workbook(path)
    assert len(called) == 1 and called[0] is not None  # read in halves, not whole
    # and the workbook itself never opened whole: only the two halves were (its shared strings parsed twice, not three
    # times), each by the reader in its own process (`csc.readbox`)
    assert len(opened) == 2 and str(path) not in opened
    assert result.ok, result.errors
    table = result.sheets["assessments"].table
    assert table.num_rows == 2000
    assert table.column("assessment_id").to_pylist() == [f"A{i}" for i in range(2000)]
    assert table.column("excel_row").to_pylist() == list(range(2, 2002))
    assert table.column("start_date").to_pylist()[61] == dt.date(2012, 1, 2)
    monkeypatch.setattr(splitread, "SPLIT_MIN", 10**12)  # the same file read whole: the same typed table
    assert extract.read_workbook(path).sheets["assessments"].table.equals(table)


def _sheet_xml(rows: list[str], prefix: str = "") -> bytes:
    p = prefix
    ns = f'xmlns{":" + p[:-1] if p else ""}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {ns}>'
            f'<{p}sheetData>{"".join(rows)}</{p}sheetData></{p}worksheet>').encode()


def _row(r: int | None, cells: list[tuple[str, str]], prefix: str = "") -> str:
    p = prefix
    attr = f' r="{r}"' if r is not None else ""
    inner = "".join(f'<{p}c r="{ref}" t="inlineStr"><{p}is><{p}t>{v}</{p}t></{p}is></{p}c>' if ref
                    else f'<{p}c t="inlineStr"><{p}is><{p}t>{v}</{p}t></{p}is></{p}c>' for ref, v in cells)
    return f"<{p}row{attr}>{inner}</{p}row>"


def _workbook(path: Path, xml: bytes) -> Path:
    """A workbook of one sheet "S" whose XML is `xml` (written by hand: prefixes, rows out of order)."""
    write_xlsx(path, {"S": [["x"]]})
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    parts[SHEET] = xml
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for n, data in parts.items():
            zf.writestr(n, data)
    return path


def test_a_namespace_prefix_and_cells_without_references(tmp_path):
    rows = [_row(r, [(f"A{r}", f"a{r}"), (f"B{r}", f"b{r}")], "x:") for r in range(1, 301)]
    rows += [_row(r, [("", f"a{r}"), ("", f"b{r}")], "x:") for r in range(301, 601)]  # the reader counts columns
    path = _workbook(tmp_path / "x.xlsx", _sheet_xml(rows, "x:"))
    got = halves(path, "S", b"x:")
    assert got is not None and _same_cells(got, path, "S") and got.num_rows == 600


def _error(r: int, col: str = "B", t: str = 't="e"') -> str:
    return f'<row r="{r}"><c r="{col}{r}" {t}><v>#N/A</v></c></row>'


def _with_row_at(rows: list[str], make, at: int = 10) -> list[str]:
    """`rows` with the row `make(split)` inserted at index `at` (before the cut), where `split` is the
    first row after the cut of the result (inserting moves the cut: found again until it holds)."""
    split = splitread._cut(_sheet_xml(rows), b"")[2]
    while True:
        with_row = rows[:at] + [make(split)] + rows[at:]
        again = splitread._cut(_sheet_xml(with_row), b"")[2]
        if again == split:
            return with_row
        split = again


def _case(case: str) -> list[str]:
    rows = [_row(r, [(f"A{r}", f"a{r}")]) for r in range(1, 401)]
    if case == "late_row_early":
        rows.insert(380, _row(7, [("B7", "early")]))  # after the cut, numbered before it
    elif case == "early_row_late":
        rows.insert(10, _row(390, [("B390", "late")]))  # before the cut, numbered after it
    elif case == "row_at_the_first_mark":  # the first half holds the row where its mark goes
        rows = _with_row_at(rows, lambda split: _row(split, [(f"A{split}", "twice")]))
    elif case == "row_at_the_first_mark_quoted":
        rows = _with_row_at(rows, lambda split: f"<row spans='1:2' r='{split}'><c r='B{split}' t=\"inlineStr\">"
                                                f"<is><t>twice</t></is></c></row>")
    elif case == "row_at_the_second_mark":  # the second half holds the row where its mark goes
        rows = _with_row_at(rows, lambda split: f"<row r='{split - 1}'><c r='A{split - 1}' t=\"inlineStr\">"
                                                f"<is><t>again</t></is></c></row>", at=390)
    elif case == "error_cell_numbered_before_the_cut":  # reads blank: only the XML shows it
        rows.insert(380, _error(7, "A"))
    elif case == "error_cell_after_the_cut":
        rows.insert(380, _error(380))
    elif case == "error_cell_spaced":
        rows.insert(380, _error(380, t="t = 'e'"))
    elif case == "error_cell_spaced_widely":  # spaces and line breaks, as many as a writer likes
        rows.insert(380, _error(380, t="t" + " \n\t" * 40 + "=" + "\r\n " * 40 + '"e"'))
    elif case == "second_half_blank":  # where the sheet ends is in the first half
        rows = rows[:200] + [f'<row r="{r}" s="1" customFormat="1"/>' for r in range(201, 2401)]
    elif case == "rows_without_numbers":
        rows = [_row(None, [("", f"a{r}")]) for r in range(1, 401)]
    return rows


@pytest.mark.parametrize("case", ["late_row_early", "early_row_late", "row_at_the_first_mark",
                                  "row_at_the_first_mark_quoted", "row_at_the_second_mark",
                                  "error_cell_numbered_before_the_cut", "error_cell_after_the_cut", "error_cell_spaced",
                                  "error_cell_spaced_widely", "second_half_blank", "rows_without_numbers"])
def test_what_could_make_the_halves_differ_reads_the_sheet_whole(tmp_path, case):
    path = _workbook(tmp_path / "x.xlsx", _sheet_xml(_case(case)))
    assert halves(path, "S") is None
    # and the read as the import does it still gives the whole read's cells
    extract.inspect_once(path, "x.xlsx", {SHEET}, {"S": SHEET})
    assert _rows(extract.sheet_text(extract.open_reader(path), "S")) == whole(path, "S")


def test_an_error_cell_before_the_cut_would_differ_without_the_xml_check(tmp_path, monkeypatch):
    """The check on the XML is what catches it: without it the halves read, and differ."""
    path = _workbook(tmp_path / "x.xlsx", _sheet_xml(_case("error_cell_numbered_before_the_cut")))
    monkeypatch.setattr(splitread, "_ERROR_CELL", re.compile(rb"^never"))
    got = halves(path, "S")
    assert got is not None and not _same_cells(got, path, "S")
    assert got.column(0)[6].as_py() == "a7" and whole(path, "S")[6] == []  # the whole read: the error, blank


@pytest.mark.parametrize("case", ["row_past_the_last", "row_at_the_old_last_mark", "blank_formatted_rows_at_the_end",
                                  "error_cell_in_the_first_half", "blank_rows_at_the_start"])
def test_what_one_read_gives_the_same_way_is_read_in_halves(tmp_path, case):
    rows = [_row(r, [(f"A{r}", f"a{r}"), (f"C{r}", str(r * 3))]) for r in range(1, 401)]
    if case == "row_past_the_last":
        rows.insert(350, _row(5000, [("B5000", "late")]))  # after the cut, numbered past the last row
    elif case == "row_at_the_old_last_mark":  # out of order, quoted, in the second half
        rows.insert(350, "<row r='401'><c r='B401' t=\"inlineStr\"><is><t>past</t></is></c></row>")
    elif case == "blank_formatted_rows_at_the_end":
        rows += [f'<row r="{r}" s="1" customFormat="1"><c r="A{r}" s="1"/></row>' for r in range(401, 420)]
    elif case == "error_cell_in_the_first_half":
        rows[5] = _error(6)
    elif case == "blank_rows_at_the_start":
        rows = [_row(r, [(f"D{r}", f"d{r}")]) for r in range(30, 430)]
    path = _workbook(tmp_path / "x.xlsx", _sheet_xml(rows))
    got = halves(path, "S")
    assert got is not None and _same_cells(got, path, "S")


def test_a_reader_that_fails_reads_the_sheet_whole_and_leaves_no_files(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path = write_xlsx(tmp_path / "x.xlsx", {"S": [[f"v{i}", i] for i in range(500)]})
    real = splitread._read

    def failing(file, title, name):
        if file.name == "first.xlsx":
            raise readbox.ReaderError("broken")
        return real(file, title, name)
    monkeypatch.setattr(splitread, "_read", failing)
    assert halves(path, "S") is None
    assert list((tmp_path / "tmp").iterdir()) == []
    monkeypatch.setattr(splitread, "_cut", lambda *a: 1 / 0)  # and nothing here raises
    assert halves(path, "S") is None


def test_parts_too_large_to_copy_read_the_sheet_whole(tmp_path, monkeypatch):
    """All the small parts go into the halves or none (a half without its shared strings would read other text)."""
    rows = [[f"text {i}", i] for i in range(500)]
    path = write_xlsx(tmp_path / "x.xlsx", {"S": rows})
    from csc.filesafety import inspect_parts
    with zipfile.ZipFile(path) as zf:
        total = sum(i.file_size for i in zf.infolist() if splitread.wanted_alongside(i.filename))
    kept: dict = {}
    monkeypatch.setattr(splitread, "OTHERS_MAX", total)
    inspect_parts(path, "x.xlsx", {SHEET}, keep=kept)
    assert SHEET in kept
    kept.clear()
    monkeypatch.setattr(splitread, "OTHERS_MAX", total - 1)
    inspect_parts(path, "x.xlsx", {SHEET}, keep=kept)
    assert kept == {}


def test_the_temporary_halves_are_removed(tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    path = write_xlsx(tmp_path / "x.xlsx", {"S": [[f"v{i}", i] for i in range(500)]})
    assert halves(path, "S") is not None
    assert list((tmp_path / "tmp").iterdir()) == []


def test_only_large_sheets_and_the_small_parts_they_need_are_kept(tmp_path, monkeypatch):
    path = write_xlsx(tmp_path / "x.xlsx", {"S": [[f"v{i}", i] for i in range(500)], "T": [["t"]]})
    kept: dict[str, bytes] = {}
    from csc.filesafety import inspect_parts
    inspect_parts(path, "x.xlsx", {SHEET}, keep=kept)
    assert SHEET in kept and "xl/worksheets/sheet2.xml" not in kept
    assert {"xl/workbook.xml", "xl/styles.xml", "xl/_rels/workbook.xml.rels"} <= set(kept)
    monkeypatch.setattr(splitread, "SPLIT_MIN", 10**12)
    kept.clear()
    inspect_parts(path, "x.xlsx", {SHEET}, keep=kept)
    assert kept == {}  # nothing large enough: nothing kept


def test_the_pieces_the_file_checks_keep_are_searched_as_the_whole(tmp_path):
    rows = [_row(r, [(f"A{r}", f"a{r}"), (f"C{r}", "x" * (r % 13))]) for r in range(1, 2001)]
    xml = _sheet_xml(rows)
    cuts = sorted({xml.rfind(b"<", 0, i) for i in range(5000, len(xml), 7919)} - {-1, 0})  # before a "<", as kept
    pieces = splitread.Pieces([xml[a:b] for a, b in zip([0, *cuts], [*cuts, len(xml)])])
    assert len(pieces.pieces) > 10 and pieces.size == len(xml)
    assert splitread._cut(pieces, b"") == splitread._cut(xml, b"")
    opened, mid, split, final, end = splitread._cut(xml, b"")
    assert final == 2000 and xml[mid:].startswith(b'<row r="%d">' % split)
    for a, b in [(0, opened), (opened, mid), (mid, end), (123, 45_678), (end, len(xml))]:
        assert b"".join(pieces.views(a, b)) == xml[a:b]
    for sub in [b'r="A1999"', b'<row r="2"', b"missing"]:
        assert pieces.find(sub) == xml.find(sub) and pieces.rfind(sub) == xml.rfind(sub)


@pytest.mark.parametrize("split", [True, False])
def test_a_workbook_the_reader_cannot_open_is_refused_as_damaged_alone(tmp_path, monkeypatch, split):
    """The reader opens the workbook only to read a sheet whole (`extract.LazyReader`): a part it
    cannot parse (styles cut short) still refuses the file as damaged, with that one error, whether
    the sheets were read in halves first or not."""
    if not split:
        monkeypatch.setattr(splitread, "SPLIT_MIN", 10**12)
    header = ["referral_id", "child_id", "referral_date", "area_office", "team"]
    path = write_xlsx(tmp_path / "x.xlsx", {"Referrals": [header, ["R1", "C1", "2012-03-01", "North", "N1"]],
                                           "Assessments": [["assessment_id"], ["A1"]]})
    edit_parts(path, xl__styles_xml=cut_short)
    result = extract.read_workbook(path)
    assert [p.severity for p in result.problems] == ["error"] and not result.sheets
    assert result.problems[0].message.startswith('"x.xlsx" is damaged or incomplete and cannot be opened (')

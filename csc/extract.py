"""Read and validate a monthly extract workbook against the data contract (`csc.spec`).

An upload is treated as hostile until proven otherwise. The workbook is first checked as a
file, without handing it to any parser: its size, its real type from its bytes (old .xls,
encrypted, CSV, .xlsb), its zip directory (declared sizes and compression ratios: zip bombs
are refused before anything is inflated). Then every part the reader may parse is inflated
here under a cap and checked: no part inflating beyond what it declares, no XML entity
declarations, and the cells of every recognised sheet spanning a bounded area (the reader
allocates a dense grid of rows x columns, so one cell at ZZ1000000 in a 1 KB file would cost
tens of GB). Only then does the Rust reader (fastexcel/calamine) read each recognised sheet,
once, into Arrow as text. Values are cleaned in Arrow and parsed and checked in bulk in DuckDB,
never cell by cell in Python; every problem carries the sheet, the Excel row, the column as
headed in the file, the value found and what was expected.

`csc.annexa`, `csc.ssd` and `csc.census` read their formats with the same defences and checks,
through `csc.filesafety` and `read_sheet`, `map_headers` and `validate_values` here: keep their
signatures.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from csc import readbox, scratch, spec, splitread
from csc.filesafety import (
    HEADER_SEARCH_ROWS,
    HIDDEN,
    SAVE_AS,
    Extent,
    FileRefused,
    check_file,
    damaged,
    inspect_parts,
    sheet_too_big,
    workbook_sheets,
)
from csc.pseudonyms import Ahead
from csc.spec import DATE, ENUM, FLAG, ID, NUMBER, TEXT, WHOLE, Sheet

MAX_WHOLE = 2_147_483_647  # the largest whole number stored
#: The largest number accepted (FTE, funded FTE): far beyond any council's, and small enough that
#: no sum of a sheet's numbers is infinite (a red-team review: two funded FTEs of 1e308 made the
#: vacancy rate inf / inf, and the board's Overview failed on it).
MAX_NUMBER = 1_000_000_000
#: The longest id or name accepted (the contract sets none; Excel's own cap is 32,767). Ids and
#: names are short; a review's 10,000-character ids loaded, and cost gigabytes (docs/decisions.md).
MAX_TEXT = 255
#: Characters no one can see in an id or a name: control characters, and the invisible ones a
#: copy from a web page, an email or a right-to-left text brings. "C1234" with one inside is
#: another child.
_UNSEEN_NAMES = {
    "\u00ad": "a soft hyphen", "\u200b": "a zero-width space", "\u200c": "a zero-width non-joiner",
    "\u200d": "a zero-width joiner", "\u200e": "a left-to-right mark", "\u200f": "a right-to-left mark",
    **dict.fromkeys("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069", "a text-direction control"),
    "\u2060": "a word joiner", **dict.fromkeys("\u2061\u2062\u2063\u2064", "an invisible operator"),
    "\ufeff": "a zero-width no-break space",
}
#: The same characters as DuckDB's regular expression (RE2) and as Python's.
_UNSEEN = "[\\x{0}-\\x{1f}\\x{7f}" + "".join(f"\\x{{{ord(ch):x}}}" for ch in _UNSEEN_NAMES) + "]"
_UNSEEN_RE = re.compile("[\x00-\x1f\x7f" + "".join(_UNSEEN_NAMES) + "]")
MAX_LISTED = 20  # names listed in one warning before "and N more"
MAX_PROBLEMS_PER_SHEET = 10_000  # errors listed per sheet; the total is always said
EARLIEST = dt.date(1990, 1, 1)



@dataclass(frozen=True)
class Problem:
    """One thing wrong (error) or worth knowing (warning) about an uploaded workbook."""

    severity: str  # "error" or "warning"
    message: str
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    expected: str | None = None
    code: str | None = None  # a warning's machine-readable code (docs/extract-format.md lists them)

    def as_dict(self) -> dict:
        out = {
            "severity": self.severity,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "expected": self.expected,
            "message": self.message,
        }
        if self.severity == "warning":
            out["code"] = self.code
        return out


@dataclass
class SheetData:
    spec: Sheet
    title: str  # as named in the workbook
    header_row: int  # Excel row number of the header
    headers: dict[str, str]  # column name -> header text in the file
    table: pa.Table | None = None  # typed, with excel_row; None when it failed validation
    rows: int = 0
    pseudonyms: Ahead | None = None  # its child ids' pseudonyms, being worked out (`csc.pseudonyms.Ahead`)


@dataclass
class Extract:
    """The outcome of reading a workbook: typed sheets and every problem found."""

    path: Path
    sheets: dict[str, SheetData] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def row_counts(self) -> dict[str, int]:
        return {name: s.rows for name, s in self.sheets.items()}


def _error(message: str, **kw) -> Problem:
    return Problem("error", message, **kw)


def _warning(message: str, *, code: str, **kw) -> Problem:
    return Problem("warning", message, code=code, **kw)


def _listed(names: list[str]) -> str:
    shown = ", ".join(f'"{n}"' for n in names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED:,} more" if len(names) > MAX_LISTED else "")


# --- reading ---------------------------------------------------------------------------

# One workbook's reader and the sheets read from it, shared by every look at the same file: the
# Annex A check (`csc.annexa.is_annex_a`) reads a sheet's first rows and the extract reader then
# reads the whole sheet, and the Rust reader parses the whole sheet (and the workbook's shared
# strings) either way. Kept until another workbook is opened or `forget_reads` (a read ends).
# Each thread has its own: a check runs on one thread from the Annex A look to the read, and two
# sessions checking files at the same moment must not see each other's (a sheet kept for halves
# is found by its title; the reader is not safe to use from two threads at once).
class _PerThread(threading.local):
    def __init__(self) -> None:
        self.reads: dict = {}


_LOCAL = _PerThread()


def _file_key(path: str | Path) -> tuple:
    st = Path(path).stat()
    return (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def _refused_if_stopped(read, *args):
    """`read(*args)`, a read stopped by the reader's limits (`readbox.ReaderStopped`) raised as the
    file's refusal, in its words."""
    try:
        return read(*args)
    except readbox.ReaderStopped as exc:
        raise FileRefused(str(exc)) from exc


class LazyReader:
    """A workbook's reader: its sheets read whole in the reader's own process (`csc.readbox`: a
    memory limit around it), which opens the workbook at the first sheet read whole (`load_sheet`):
    a large sheet read in halves (`csc.splitread`) needs none, and opening one parses the
    workbook's shared strings (0.04 s of an import of 100,000 rows, issue 17). The list of sheets
    comes from the workbook's own (`filesafety.workbook_sheets`), read before it. A workbook the
    reader cannot open is refused as damaged (`FileRefused`), and so is one whose read was stopped
    (the reader's memory limit or time), with what happened."""

    def __init__(self, path: str | Path, name: str, key: tuple):
        self.path, self.name, self.key = str(path), name, key
        self._checked = False

    def _check(self) -> None:
        if not self._checked:
            # the bytes inspected, still: a file replaced or rewritten at its path since (a
            # command's own path, saved meanwhile) is not opened unchecked
            if _file_key(self.path) != self.key:
                raise FileRefused(readbox.changed(self.name))
            self._checked = True

    def _ask(self, work):
        self._check()
        try:
            return _refused_if_stopped(work)
        except readbox.ReaderError as exc:
            if exc.opening:  # the reader's own errors opening it: a damaged workbook
                raise damaged(self.name, exc) from exc
            raise

    def load_sheet(self, title: str) -> pa.RecordBatch:
        """Every cell of sheet `title` as text (`readbox.read_sheet`; the worker opens the file
        only if it is still the one checked: its size, modification time and inode)."""
        return self._ask(lambda: readbox.read_sheet(self.path, self.key, title, self.name, identity=self.key[1:]))

    def sheet_names(self) -> list[str]:
        """The sheets as the reader lists them (`readbox.sheet_names`)."""
        return self._ask(lambda: readbox.sheet_names(self.path, self.key, self.name, identity=self.key[1:]))


def open_reader(path: str | Path, name: str | None = None) -> LazyReader:
    """The reader of the workbook at `path`, one per file (the same bytes: path, size,
    modification time) and thread. Call it only after `check_file` and `inspect_parts`."""
    key = _file_key(path)
    reads = _LOCAL.reads
    if reads.get("file") == key and reads["reader"] is not None:
        return reads["reader"]
    reader = LazyReader(path, name or Path(path).name, key)
    if reads.get("file") != key:
        reads.clear()
    reads.update(file=key, reader=reader, sheets={})
    return reader


def inspect_once(path: str | Path, name: str, load: set[str], titles: dict[str, str] | None = None
                 ) -> dict[str, Extent]:
    """`inspect_parts` of the workbook at `path`, worked out once per file, set of sheets and
    thread (the Annex A check and the extract read inspect the same bytes for the same sheets).
    `titles` (sheet title -> its part, for the sheets in `load`): the sheets `sheet_text` may read
    in halves, from the bytes inspected here (`csc.splitread`)."""
    key = ("inspected", _file_key(path), frozenset(load))
    reads = _LOCAL.reads
    if reads.get("file") == key[1] and key in reads:
        return reads[key]
    kept: dict | None = {} if titles else None
    extents = inspect_parts(Path(path), name, load, keep=kept)
    if reads.get("file") != key[1]:
        reads.clear()
        reads.update(file=key[1], reader=None, sheets={})
    reads[key] = extents
    if kept:
        halves = reads.setdefault("halves", {})
        for title, part in (titles or {}).items():
            if part in kept and part in extents and title not in reads["sheets"]:
                others = {p: b for p, b in kept.items() if p not in extents}
                halves[title] = (kept[part], others, part, extents[part].prefix)
    return extents


def sheet_text(reader, title: str) -> pa.RecordBatch | pa.Table:
    """Every cell of sheet `title` as text (row i is Excel row i + 1, whatever blank rows lead
    the sheet), read once per reader from `open_reader` (sheets already measured by `inspect_parts`);
    a large sheet inspected by `inspect_once` with its title is read in halves on two cores
    (`csc.splitread`: the same cells, its columns from column A), only by the reader of the file
    inspected (halves are found by title)."""
    reads = _LOCAL.reads
    mine = reads.get("reader") is reader
    if mine and title in reads["sheets"]:
        return reads["sheets"][title]
    if mine and "stopped" in reads:  # a read of this file stopped (`csc.readbox`): not tried again
        raise reads["stopped"]
    halves = reads.get("halves", {}).pop(title, None) if mine else None
    try:
        batch = _refused_if_stopped(splitread.read_halves, *halves[:3], title, halves[3], reader.name) \
            if halves else None
        del halves  # the sheet's XML: not kept once read
        if batch is None:
            batch = reader.load_sheet(title)
    except FileRefused as exc:
        if mine and isinstance(exc.__cause__, readbox.ReaderStopped):
            reads["stopped"] = exc
        raise
    if mine:
        reads["sheets"][title] = batch
    return batch


def forget_reads() -> None:
    """Drop this thread's kept reader and sheets (a workbook's read is over), and have the reader's
    processes close the workbook (`readbox.forget`)."""
    reader = _LOCAL.reads.get("reader")
    _LOCAL.reads.clear()
    if isinstance(reader, LazyReader):
        readbox.forget(reader.key)


def read_workbook(path: str | Path, original_name: str | None = None, today: dt.date | None = None,
                  id_key: bytes | None = None) -> Extract:
    """Read and validate a workbook; never raises for a bad file, it reports problems instead.
    `id_key`: the store's key, to work out the child ids' pseudonyms as the values are checked
    (`SheetData.pseudonyms`)."""
    try:
        return _read_workbook(path, original_name, today, id_key)
    finally:
        forget_reads()


def _read_workbook(path: str | Path, original_name: str | None, today: dt.date | None,
                   id_key: bytes | None = None) -> Extract:
    path = Path(path)
    name = original_name or path.name
    today = today or dt.date.today()
    extract = Extract(path)
    try:
        check_file(path, original_name)
        listed = workbook_sheets(path, name)  # the workbook's list of sheets, read once
        parts = {title: part for title, part, _ in listed}
        hidden = {title: state for title, _, state in listed if state in HIDDEN}
        wanted = {t: p for t, p in parts.items() if spec.sheet_for(t) is not None}
        extents = inspect_once(path, name, set(wanted.values()), wanted)
        reader = open_reader(path, name)
        titles = [title for title, _, _ in listed]
    except FileRefused as exc:
        extract.problems.append(_error(str(exc)))
        return extract
    except Exception as exc:  # the reader's own errors: a damaged workbook
        extract.problems.append(_error(str(damaged(name, exc))))
        return extract

    seen: dict[str, str] = {}
    for title in titles:
        sheet = spec.sheet_for(title)
        if sheet is None:
            extract.problems.append(
                _warning(f'Sheet "{title}" is not part of the extract and was ignored.', sheet=title,
                         code="sheet_ignored")
            )
            continue
        if parts.get(title, "").startswith("xl/chartsheets/"):  # the reader finds no cells in it
            extract.problems.append(_warning(
                f'Sheet "{title}" is a chart, not a sheet of rows, so nothing was read from it. If the '
                f'records are meant to be loaded, put them on an ordinary worksheet named "{title}" (give the '
                "chart another name) and upload again.", sheet=title, code="sheet_chart"))
            continue
        if sheet.name in seen:
            extract.problems.append(
                _error(
                    f'Sheet "{title}" and sheet "{seen[sheet.name]}" both mean the "{sheet.name}" sheet. Keep one of '
                    "them (rename or delete the other) and upload again.",
                    sheet=title,
                )
            )
            continue
        seen[sheet.name] = title
        extent = extents.get(parts.get(title, ""))
        if extent is None:
            extract.problems.append(_error(str(damaged(name, f'sheet "{title}" has no worksheet part')), sheet=title))
            continue
        too_big = sheet_too_big(title, extent)
        if too_big:
            extract.problems.append(_error(too_big, sheet=title))
            continue
        try:
            read_sheet(reader, title, sheet, extract, today, id_key)
        except FileRefused as exc:  # the reader cannot open the workbook: that alone is said
            extract.problems[:] = [_error(str(exc))]
            extract.sheets.clear()
            return extract
        except Exception as exc:  # a sheet the reader cannot parse
            extract.problems.append(
                _error(f'Sheet "{title}" cannot be read: its cells are damaged, or written in a way Excel does not write '
                      f'them (the reader says: {exc}). {SAVE_AS}', sheet=title)
            )
        extract.problems.extend(blank_looking_cells(title, extent))
        if title in hidden:  # a review's stale hidden sheet was read, the visible one ignored, without a word
            # a "very hidden" sheet is not in Excel's Unhide list: only the Visual Basic editor shows it
            see = ("unhide it to see it" if hidden[title] == "hidden" else "it is \"very hidden\", so Excel's "
                   "Unhide does not list it: show it from the Visual Basic editor (Alt+F11, its Visible property)")
            extract.problems.append(_warning(
                f'Sheet "{title}" is hidden in Excel, and was read as the "{sheet.name}" sheet: check that it is the '
                f"sheet you meant ({see}, or delete it if it is an old copy).", sheet=title,
                code="sheet_hidden"))

    if not seen:
        known = ", ".join(s.name for s in spec.SHEETS.values())
        extract.problems.append(
            _error(
                f"No sheet of the extract was found (sheets in the file: {_listed(list(titles))}). "
                f"Name each sheet after what it holds, one of: {known}."
            )
        )
    return extract


def blank_looking_cells(title: str, extent: Extent) -> list[Problem]:
    """Warnings for the cells of a sheet read as blank though Excel shows something
    (`filesafety.Cells`): an error value (a review's #N/A in an optional column loaded as a blank
    completed date, without a word; in a required one it was called blank) and a formula with no
    saved result (a file written by a program: every such cell loaded blank)."""
    out = []
    n, found = extent.error_cells
    if n:
        # the cells the file names (one written without cell references names none)
        named = ", ".join(f"{ref} ({value})" for ref, value in found)
        more = f" and {n - len(found):,} more" if n > len(found) else ""
        out.append(_warning(
            f'Sheet "{title}": {n:,} cell(s) hold an Excel error, which is read as blank'
            + (f": {named}{more}" if found else "") + ". If the "
            "dashboard uses their column, fix the formulas (or the values) in Excel and upload again.",
            sheet=title, code="excel_errors", value=found[0][0] if found else None))
    n, refs = extent.unsaved_formulas
    if n:
        more = f" and {n - len(refs):,} more" if n > len(refs) else ""
        out.append(_warning(
            f'Sheet "{title}": {n:,} cell(s) hold a formula with no saved result'
            + (f' ({", ".join(refs)}{more})' if refs else "") + ", which "
            "is read as blank: the file was written by a program that does not work formulas out. Open it in "
            "Excel and save it (Excel works them out), then upload again.",
            sheet=title, code="formulas_without_values", value=refs[0] if refs else None))
    return out


def _find_header(rows: list[list[object]], header_map: dict[str, str]) -> int | None:
    """The header row: of the first `HEADER_SEARCH_ROWS`, the one naming the most columns of the
    sheet (at least two; the first of equals). A filter row above the headings ("Area | North |
    Team | All") names two and was taken for them (a review: three "missing column" errors)."""
    best, found = None, 1
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        n = len({header_map[k] for k in (spec.norm(v) for v in row if v is not None) if k in header_map})
        if n > found:
            best, found = i, n
    return best


def map_headers(
    cells: list, header_map: dict[str, str], title: str, excel_header: int, problems: list[Problem]
) -> tuple[dict[str, str], dict[str, int], list[str]]:
    """Match a header row's cells to columns: (column -> header as written, column -> position,
    headers that match no column). Two headers meaning the same column are an error."""
    headers: dict[str, str] = {}
    unknown: list[str] = []
    use: dict[str, int] = {}  # column name -> index in the batch
    for idx, cell in enumerate(cells):
        if cell is None or str(cell).strip() == "":
            continue
        text = re.sub(r"\s+", " ", str(cell)).strip()
        col = header_map.get(spec.norm(text))
        if col is None:
            unknown.append(text)
        elif col in headers:
            problems.append(
                _error(
                    f'Sheet "{title}", row {excel_header}: columns "{headers[col]}" and "{text}" both mean {col}. '
                    "Keep one of them (delete or rename the other) and upload again.",
                    sheet=title,
                    row=excel_header,
                    column=text,
                    value=text,
                    expected=f"one column meaning {col}",
                )
            )
        else:
            headers[col] = text
            use[col] = idx
    return headers, use, unknown


def read_sheet(reader, title: str, sheet: Sheet, extract: Extract, today: dt.date, id_key: bytes | None = None) -> None:
    """Read and check one sheet into `extract`. `id_key`: the store's key, to work out the
    pseudonyms of its child ids while its values are checked (`csc.pseudonyms.Ahead`)."""
    header_map = sheet.header_map()
    # One read of the whole sheet as text (row i is Excel row i + 1), shared with the Annex A check
    batch = sheet_text(reader, title)
    if batch.num_rows == 0 or all(batch.column(i).null_count == batch.num_rows for i in range(batch.num_columns)):
        extract.problems.append(_warning(f'Sheet "{title}" is empty and was skipped.', sheet=title,
                                                  code="sheet_empty"))
        return
    probe_rows = [list(r.values()) for r in batch.slice(0, HEADER_SEARCH_ROWS).to_pylist()]
    h = _find_header(probe_rows, header_map)
    if h is None:
        accepted = "; ".join(
            f'"{c.name}" (or {", ".join(repr(a) for a in c.aliases)})' if c.aliases else f'"{c.name}"'
            for c in sheet.columns if c.required
        )
        extract.problems.append(
            _error(
                f'Sheet "{title}": no header row was found in its first {HEADER_SEARCH_ROWS} rows (a row naming at '
                f"least two columns of the extract). Put the column headings in one row near the top. Its required "
                f"columns are: {accepted}.",
                sheet=title,
                expected="a header row naming the columns",
            )
        )
        return
    excel_header = h + 1
    first_data_row = excel_header + 1

    header_cells = probe_rows[h]
    headers, use, unknown = map_headers(header_cells, header_map, title, excel_header, extract.problems)
    if unknown:
        extract.problems.append(
            _warning(
                f'Sheet "{title}": {len(unknown):,} column(s) that are not part of the extract were ignored: {_listed(unknown)}.',
                sheet=title,
                code="columns_ignored",
            )
        )
    missing = [c for c in sheet.columns if c.required and c.name not in headers]
    for c in missing:
        also = f" (also accepted as {', '.join(repr(a) for a in c.aliases)})" if c.aliases else ""
        # an ignored heading that starts with one of the column's ("FTE (0-1)" for fte): a red-team
        # review's analyst was told only that fte was missing
        near = [u for u in unknown if any(len(spec.norm(h)) >= 3 and spec.norm(u).startswith(spec.norm(h))
                                          for h in c.headers)]
        hint = (f' The column headed "{near[0]}" was ignored: if it holds {c.name}, rename it "{c.name}".'
                if near else "")
        extract.problems.append(
            _error(
                f'Sheet "{title}": the required column "{c.name}"{also} is missing from the header row '
                f"(row {excel_header}). Add it, or rename the column that holds it.{hint}",
                sheet=title,
                row=excel_header,
                column=c.name,
                expected="a column headed " + " or ".join(f'"{x}"' for x in c.headers),
            )
        )
    if missing:
        return

    data = batch.slice(h + 1)
    n = data.num_rows
    arrays = {col: data.column(idx) for col, idx in use.items()}
    arrays["excel_row"] = pa.array(np.arange(first_data_row, first_data_row + n, dtype=np.int64))
    table = pa.table(arrays)
    ahead = None
    if id_key is not None and "child_id" in arrays and sheet.column("child_id").type == ID:
        ahead = Ahead(table.column("child_id"), id_key, prepare=_id_text)  # hashed while the values are checked
    typed, problems = validate_values(table, sheet, title, headers, today)
    if typed is not None and sheet.name == "establishment":
        problems = total_rows(typed, title, headers)
        typed = None if problems else typed
    extract.problems.extend(problems)
    data_sheet = SheetData(sheet, title, excel_header, headers, typed, typed.num_rows if typed is not None else 0,
                           ahead if typed is not None else None)
    extract.sheets[sheet.name] = data_sheet
    if data_sheet.rows == 0 and not problems:
        extract.problems.append(_warning(f'Sheet "{title}" has a header row but no data rows.', sheet=title,
                                                  code="sheet_no_rows"))


#: What a total row is headed with, as `_total_word` reduces it: "Total", "Grand total", "All areas"...
TOTAL_WORDS = {"total", "totals", "grandtotal", "subtotal", "all", "allteams", "allareas", "allareaoffices",
               "alloffices", "overall", "sum"}


def _total_word(text) -> bool:
    """A heading of a total: one of `TOTAL_WORDS`, or a name ending in the word "total" (Excel's
    pivot tables write "North Total")."""
    return isinstance(text, str) and (re.sub(r"[^a-z]", "", text.lower()) in TOTAL_WORDS
                                      or re.search(r"(?i)\btotals?\W*$", text) is not None)


def total_rows(typed: pa.Table, title: str, headers: dict[str, str]) -> list[Problem]:
    """An establishment row whose team is headed as a total ("Total", "All teams"), not a team: its funded FTE,
    counted beside the teams', would double the establishment (a red-team review: the council's
    vacancy rate went from 13.0% to 56.5%, and "All areas" became an area office at 100%). One
    error per such row (a sheet has few)."""
    out = []
    for row, team, area, fte in zip(*(typed.column(c).to_pylist() for c in ("excel_row", "team", "area_office",
                                                                         "funded_fte"))):
        if _total_word(team):  # (not the office alone: a county-wide team may be under "All areas")
            head = headers.get("team", "team")
            out.append(_error(
                f'Sheet "{title}", row {row}: team "{team}" of area office "{area}" (funded FTE {fte:,.6g}) looks like '
                "a total, not a team: the teams' funded FTE would be counted twice in the vacancy rate. Delete the "
                "total row (or any row that adds up others) and upload again.",
                sheet=title, row=row, column=head, value=team, expected="one row per team",
            ))
    return out


# --- validation in bulk, in DuckDB -------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_MESSY = r"^[\s\p{Z}]|[\s\p{Z}]$|[\s\p{Z}]{2}|[\t\n\r\f\x0b]|[^ \PZ]"  # anything a clean-up would change


def _data_bytes(chunk: pa.Array) -> np.ndarray | None:
    """The bytes of a string chunk's values, as they lie in its buffer (a sliced chunk's whole
    buffer: more than its own values, never fewer); None when it has none."""
    buffers = chunk.buffers()
    if len(buffers) < 3 or buffers[2] is None or not buffers[2].size:
        return None
    return np.frombuffer(buffers[2], dtype=np.uint8)


def _surely_tidy(col: pa.ChunkedArray) -> bool:
    """True when no value can match `_MESSY` but for a plain space at its start or end, decided
    from the column's bytes at once (a few scans at memory speed instead of a regular expression
    per value): all ASCII (so no white space but ASCII's), no tab, line break, form feed or
    vertical tab anywhere, and no two spaces in a row (a value's bytes lie together in the
    buffer, so what is in no buffer is in no value). False may be wrong; then the values are
    looked at one by one."""
    for chunk in col.chunks:
        data = _data_bytes(chunk)
        if data is None:
            continue
        # beyond ASCII, or a tab, line feed, vertical tab, form feed or carriage return (9-13)
        if data.max() >= 0x80 or np.count_nonzero((data - np.uint8(9)) < 5):
            return False
        space = data == 0x20
        if np.count_nonzero(space[1:] & space[:-1]):
            return False
    return True


def _may_have_spaced_ends(col: pa.ChunkedArray) -> bool:
    """Whether a value of the string column `col` may start or end with a space, from its offsets
    and bytes at once (the first and last byte of each slot). False is sure; True may be wrong (a
    blank's slot may hold bytes): then the values are looked at one by one."""
    for chunk in col.chunks:
        data = _data_bytes(chunk)
        if data is None:
            continue
        offsets = np.frombuffer(chunk.buffers()[1], dtype=np.int32)[chunk.offset:chunk.offset + len(chunk) + 1]
        starts, ends = offsets[:-1], offsets[1:]
        filled = ends > starts
        if np.count_nonzero(data[starts[filled]] == 0x20) or np.count_nonzero(data[ends[filled] - 1] == 0x20):
            return True
    return False


def _clean(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed, runs of any white space (tabs, line breaks, non-breaking spaces) collapsed to one
    space, and "" made blank; the regular expression rewrites only the values that need it."""
    if not pa.types.is_string(col.type):
        col = col.cast(pa.string())
    if _surely_tidy(col):  # the usual column: only a space at either end can need a change
        messy = pc.or_(pc.starts_with(col, " "), pc.ends_with(col, " ")) if _may_have_spaced_ends(col) else None
    else:
        messy = pc.match_substring_regex(col, _MESSY)
    if messy is not None and pc.any(messy).as_py():
        fixed = pc.utf8_trim(pc.replace_substring_regex(col, r"[\s\x0b\p{Z}]+", " "), " ")
        col = pc.if_else(messy, fixed, col)
    empty = pc.equal(col, "")
    if pc.any(empty).as_py():
        col = pc.if_else(empty, pa.scalar(None, pa.string()), col)
    return col


# an id Excel keeps as a number reads as "1234.0": the id is "1234" (`_parse_expr`, `_id_text`)
_ID_ZEROS = r"^(-?[0-9]+)\.0+$"


def _id_text(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """The ids of a column as its check types them (`_parse_expr`'s ID), in Arrow: cleaned, and a
    number's ".0" dropped; for the pseudonyms worked out ahead (`csc.pseudonyms.Ahead`)."""
    return pc.replace_substring_regex(_clean(col), _ID_ZEROS, "\\1")


_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"
_THOUSANDS = r"[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?"  # 1,250 and 1,250.5: commas between thousands only
_DECIMAL_COMMA = re.compile(r"[+-]?[0-9]*,[0-9]+")  # 12,5 or 0,5


def _parse_expr(col: spec.Column, t: str, usual_dates: bool = False) -> str:
    """DuckDB expression turning the cleaned text `t` into the column's type (null when it does not
    parse). `usual_dates`: a date only in its usual spelling (the first of the spellings tried, so a
    date it gives is the one the whole expression gives), for the first pass of `validate_values`."""
    if col.type == ID:
        return f"case when ends_with({t}, '0') then regexp_replace({t}, '{_ID_ZEROS}', '\\1') else {t} end"
    if col.type == TEXT:
        return t
    if col.type == DATE:
        d = f"split_part(replace({t}, 'T', ' '), ' ', 1)"
        # the usual spelling first, without a regular expression: an Excel date cell reads as "2011-03-31 00:00:00"
        iso = (f"case when substr({t}, 5, 1) = '-' and substr({t}, 8, 1) = '-' and "
               f"(strlen({t}) = 10 or substr({t}, 11, 1) in (' ', 'T')) then try_cast(left({t}, 10) as date) end")
        if usual_dates:
            return iso
        # the other spellings only where that one gave no date: a case runs its branches on those
        # rows alone, where coalesce would try every regular expression on every row
        return (
            f"case when {iso} is not null then {iso} else cast(coalesce("
            f"case when regexp_full_match({d}, '[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}') then try_strptime({d}, '%Y-%m-%d') end, "
            f"case when regexp_full_match({d}, '[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}') then try_strptime({d}, '%d/%m/%Y') end, "
            f"case when regexp_full_match({d}, '[0-9]{{1,2}}-[0-9]{{1,2}}-[0-9]{{4}}') then try_strptime({d}, '%d-%m-%Y') end, "
            f"case when regexp_full_match({d}, '[0-9]{{1,2}}\\.[0-9]{{1,2}}\\.[0-9]{{4}}') then try_strptime({d}, '%d.%m.%Y') end"
            ") as date) end"
        )
    if col.type == FLAG:
        return (
            f"case when lower({t}) in ('y', 'yes', 'true', '1', '1.0') then true "
            f"when lower({t}) in ('n', 'no', 'false', '0', '0.0') then false end"
        )
    if col.type in (NUMBER, WHOLE):
        # a comma only as a thousands separator ("1,250.5"); any other ("12,5": a decimal comma)
        # is no number here: read as 125 it was stored ten times too large (a review)
        num = (f"case when strpos({t}, ',') = 0 then {t} "
               f"when regexp_full_match({t}, '{_THOUSANDS}') then replace({t}, ',', '') end")
        return f"case when regexp_matches({num}, '{_NUMBER}') then try_cast({num} as double) end"
    if col.type == ENUM:
        key = f"lower(regexp_replace({t}, '[^A-Za-z0-9]', '', 'g'))"
        cases = " ".join(f"when {_lit(k)} then {_lit(v)}" for k, v in col.enum_map().items())
        return f"case {key} {cases} end"
    raise ValueError(col.type)


def validate_values(
    table: pa.Table, sheet: Sheet, title: str, headers: dict[str, str], today: dt.date
) -> tuple[pa.Table | None, list[Problem]]:
    """Every check of the sheet as one set of queries; the typed table when there is no error."""
    present = [c for c in sheet.columns if c.name in table.column_names]
    order = {c.name: i for i, c in enumerate(sheet.columns)}
    # Clean each value once, in Arrow (trim, collapse white space, "" -> blank), and skip the rows
    # with nothing in them; then parse every column in one DuckDB query, straight back to Arrow.
    cleaned = {c.name: _clean(table.column(c.name)) for c in present}
    keep = None
    for col in cleaned.values():
        valid = pc.is_valid(col)
        keep = valid if keep is None else pc.or_(keep, valid)
    rows = pa.table({"excel_row": table.column("excel_row"), **{"raw_" + k: v for k, v in cleaned.items()}})
    if keep is not None and not pc.all(keep).as_py():
        rows = rows.filter(keep)
    con = scratch.cursor()
    try:
        con.register("clean_in", rows)

        def parsed(usual_dates: bool) -> str:
            parse = ", ".join(f"{_parse_expr(c, _q('raw_' + c.name), usual_dates)} as {_q(c.name)}" for c in present)
            return f"select *, {parse} from clean_in"

        # (column order, value shown, kind of problem, condition on a row); then the duplicate keys
        checks: list[tuple[int, str, str, str]] = []
        for c in present:
            raw, val, o = _q("raw_" + c.name), _q(c.name), order[c.name]
            if c.required:
                checks.append((o, "null", "'blank'", f"{raw} is null"))
            checks.append((o, raw, "'type'", f"{raw} is not null and {val} is null"))
            if c.type in (ID, TEXT):
                # characters (bytes first: never fewer, and counted at once)
                checks.append((o, raw, "'too_long'", f"strlen({raw}) > {MAX_TEXT} and length({raw}) > {MAX_TEXT}"))
                if _maybe_unseen(cleaned[c.name]):
                    checks.append((o, raw, "'unseen'", f"regexp_matches({raw}, '{_UNSEEN}')"))
            if c.type == DATE:
                checks.append((o, raw, "'date_range'", f"{val} < $earliest or {val} > $today"))
            if c.type == WHOLE:
                checks.append((o, raw, "'range'", f"{val} <> floor({val}) or {val} < 0 or {val} > {MAX_WHOLE}"))
            if c.type == NUMBER:
                # text too large for a number ("1e400") reads as infinity: out of range, as a whole
                # number's is (it was stored as infinity, and made a vacancy rate of inf / inf)
                cond = f"not isfinite({val}) or abs({val}) > {MAX_NUMBER}"
                if c.minimum is not None:
                    op = "<=" if c.exclusive_minimum else "<"
                    cond += f" or {val} {op} {c.minimum}" + (f" or {val} > {c.maximum}" if c.maximum is not None else "")
                checks.append((o, raw, "'range'", cond))
        for later, earlier in sheet.date_order:
            if later in table.column_names and earlier in table.column_names:
                checks.append((order[later], _q("raw_" + later), f"'order:{earlier}'", f"{_q(later)} < {_q(earlier)}"))
        params = {"earliest": EARLIEST, "today": today} if any(c.type == DATE for c in present) else {}
        key = [k for k in sheet.key if k in table.column_names]
        k = ", ".join(_q(x) for x in key)
        key_known = " and ".join(_q(x) + " is not null" for x in key)
        # One pass parses every value and marks each row with a problem (the usual answer is none),
        # only the typed columns coming back to Arrow, then one look for duplicate keys ...
        bad = " or ".join(f"({cond})" for *_, cond in checks) or "false"
        typed_cols = ", ".join(_q(x) for x in ["excel_row", *(c.name for c in present)])
        dup = f"(select count(*) > 0 from (select 1 from typed_in where {key_known} group by {k} having count(*) > 1))" \
            if key else "false"
        # Dates in their usual spelling first: the expression for every spelling costs DuckDB ~5 ms
        # a column to plan, whatever the rows (a fifth of checking a monthly extract). Only when
        # that pass finds a problem (a date in another spelling is one) are the values parsed again
        # with every spelling, and the problems read from that pass: the same answer either way.
        passes = [True, False] if any(c.type == DATE for c in present) else [False]
        for usual_dates in passes:
            parsed_sql = parsed(usual_dates)
            typed = con.sql(f"select {typed_cols}, coalesce({bad}, false) as __bad from ({parsed_sql})",
                            params=params).to_arrow_table()
            con.register("typed_in", typed)
            if not con.execute(f"select (select bool_or(__bad) from typed_in) or {dup}").fetchall()[0][0]:
                return _typed(typed, present), []
        # ... and when something is, every problem, one row each, from the text and the parsed values.
        con.register("parsed", con.sql(parsed_sql).to_arrow_table())
        union = [f"select excel_row, {o}, {shown}, {kind} from parsed where {cond}" for o, shown, kind, cond in checks]
        if key:
            union.append(
                f"select excel_row, {order[key[0]]}, concat_ws(' / ', {k}), 'duplicate:' || first_row from ("
                f"select excel_row, {k}, min(excel_row) over (partition by {k}) as first_row from parsed "
                f"where {key_known}) where excel_row > first_row"
            )
        con.execute("create temp table found as " + " union all ".join(union), params)
        total = con.execute("select count(*) from found").fetchall()[0][0]
        if not total:  # (the first pass saw a problem, so this does not happen)
            return _typed(typed, present), []
        found = con.execute("select * from found order by 1, 2, 4 limit $n", {"n": MAX_PROBLEMS_PER_SHEET}).fetchall()
        # a column written month-first first: it explains the rows listed after it, and would be
        # missed at the end of a long list (a review fixed only the rows listed, and loaded the rest misdated)
        problems = _us_date_columns(con, [c for c in present if c.type == DATE], title, headers)
        problems += [_describe(sheet, title, headers, row, sheet.columns[o].name, value, kind, today)
                     for row, o, value, kind in found]
        if total > len(found):
            problems.append(
                _error(
                    f'Sheet "{title}" has {total:,} problems in all; only the first {len(found):,} are listed. '
                    "Fix those (the same mistake is often repeated down a column) and upload again to see the rest.",
                    sheet=title,
                )
            )
        return None, problems
    finally:
        con.close()


_SLASHED = r"^([0-9]{1,2})[/.-]([0-9]{1,2})[/.-]([0-9]{4})([ T].*)?$"


def _us_date_columns(con, columns: list[spec.Column], title: str, headers: dict[str, str]) -> list[Problem]:
    """A date column written month-first (US order): the cells that can only be month-first are
    problems of their own (`_date_hint`), but the column's other dates that could be either
    (04/02/2012) were read day-first, and fixing only the cells listed would load them misdated.
    One problem per such column, naming how many and the first (`parsed` holds the file's text)."""
    out = []
    either = "a between 1 and 12 and b between 1 and 12 and a <> b"  # 04/02/2012: read day-first
    for c in columns:
        raw = _q("raw_" + c.name)
        us_only, either_n, example, row = con.execute(
            f"select count(*) filter (where a between 1 and 12 and b between 13 and 31), "
            f"count(*) filter (where {either}), arg_min(v, excel_row) filter (where {either}), "
            f"min(excel_row) filter (where {either}) "
            f"from (select excel_row, {raw} as v, try_cast(regexp_extract({raw}, '{_SLASHED}', 1) as int) as a, "
            f"try_cast(regexp_extract({raw}, '{_SLASHED}', 2) as int) as b "
            f"from parsed where regexp_matches({raw}, '{_SLASHED}'))").fetchall()[0]
        if not us_only or not either_n:
            continue
        header = headers.get(c.name, c.name)
        out.append(_error(
            f'Sheet "{title}", column "{header}": {us_only:,} date(s) can only be month-first (US order), and '
            f'{either_n:,} other date(s) in the column could be either, such as "{example}" (row {row}), which is '
            "read day-first (UK order). Fix the whole column, not only the rows listed: format it as dates in "
            "Excel, or write every date day-first.",
            sheet=title, row=row, column=header, value=example, expected="every date of the column day-first",
        ))
    return out


def _maybe_unseen(col: pa.ChunkedArray) -> bool:
    """Whether a value of `col` may hold a character `_UNSEEN` names, from its bytes at once: one
    below 0x20, 0x7f, or any byte of a character beyond ASCII. False is sure; then DuckDB need
    not look value by value."""
    for chunk in col.chunks:
        data = _data_bytes(chunk)
        if data is not None and ((data < 0x20) | (data >= 0x7f)).any():
            return True
    return False


def _typed(parsed: pa.Table, present: list[spec.Column]) -> pa.Table:
    """The typed columns, in sheet order."""
    typed = parsed.select(["excel_row", *(c.name for c in present)])
    rows = typed.column("excel_row")
    if typed.num_rows > 1 and not pc.all(pc.greater(rows[1:], rows[:-1])).as_py():
        typed = typed.sort_by("excel_row")
    return typed


_NUMERIC = re.compile(r"-?[0-9][0-9,]*(\.[0-9]+)?([eE][+-]?[0-9]+)?")  # a value's text, as a number's (for words only)

SHOWN_VALUE_MAX = 80  # characters of a value a problem quotes (a review uploaded a 10,000-character cell)


def _short(value, most: int = SHOWN_VALUE_MAX) -> str:
    """A value as a problem quotes it: cut at `most` characters, saying how long it was."""
    text = str(value)
    return text if len(text) <= most else f"{text[:most]}… ({len(text):,} characters)"


def _date_hint(value: str) -> str:
    """A hint for a value that is not a date in an accepted spelling: a US-style month/day date, an
    Excel serial number, a two-digit year, or a month in words (02-Apr-2011)."""
    m = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?:[ T].*)?", value)
    if m:
        first, second = int(m.group(1)), int(m.group(2))
        try:
            dt.date(int(m.group(3)), first, second)
        except ValueError:
            return ""
        if second > 12:
            return (" Dates are read day first (UK order); this looks like a US-style month/day date: write it as "
                    f"{second:02d}/{first:02d}/{m.group(3)}.")
    if re.fullmatch(r"\d{4,5}(\.\d+)?", value):
        return " This looks like an Excel date serial number: format the column's cells as dates in Excel."
    m = re.fullmatch(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{2})", value.strip())
    if m:  # 02/04/11: which century is the writer's to say
        return (f" The year has two digits: write all four (such as {int(m.group(1)):02d}/{int(m.group(3)):02d}/"
                f"20{m.group(4)}).")
    m = re.fullmatch(r"(\d{1,2})(?:st|nd|rd|th)?[ /.-]?([A-Za-z]{3,9})\.?,?[ /.-]?(\d{4})", value.strip())
    if m:  # 02-Apr-2011, 2nd April 2011: a month in words
        month = "Sep" if m.group(2).lower() == "sept" else m.group(2)
        for form in ("%d %b %Y", "%d %B %Y"):
            try:
                day = dt.datetime.strptime(f"{m.group(1)} {month} {m.group(3)}", form).date()
            except ValueError:
                continue
            return f" Dates are written in figures: write it as {day:%d/%m/%Y}."
    return ""


def _describe(sheet: Sheet, title: str, headers: dict[str, str], row: int, col: str, value, kind: str, today) -> Problem:
    column = sheet.column(col)
    header = headers.get(col, col)
    where = f'Sheet "{title}", row {row}, column "{header}"'
    if value is not None:
        # an Excel date cell reads as "2011-03-01 00:00:00": show it as Excel shows it in the UK
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2}) 00:00:00(?:\.0+)?", value)
        value = f"{m.group(3)}/{m.group(2)}/{m.group(1)}" if m else value
        if column.type in (NUMBER, WHOLE) and len(value) > 20 and re.fullmatch(r"-?[0-9]+(?:\.[0-9]*)?", value):
            value = f"{float(value):.6g}"  # a number cell of 1e308 reads as its 309 digits: shown as Excel shows it
    whole = value  # the value as read: a length and a character are found in it, not in its shortening
    shown = f'"{_short(value)}"' if value is not None else "blank"
    value = _short(value, SHOWN_VALUE_MAX * 4) if value is not None else None  # the table's and the CSV's
    expected = column.expectation()
    if kind == "blank":
        return _error(f"{where}: a value is required but the cell is blank; expected {expected}.", sheet=title, row=row,
                      column=header, value=None, expected=expected)
    if kind == "type":
        hint = _date_hint(str(value)) if column.type == DATE else ""
        if column.type in (NUMBER, WHOLE) and _DECIMAL_COMMA.fullmatch(str(value).strip()):
            hint = (f" It looks like a decimal comma: write {str(value).strip().replace(',', '.')} (a comma is read "
                    "only between thousands, as in 1,250).")
        noun = {DATE: "a date", FLAG: "Y or N", NUMBER: "a number", WHOLE: "a whole number",
                ENUM: "an accepted value"}.get(column.type, "valid")
        return _error(f"{where}: {shown} is not {noun}; expected {expected}.{hint}", sheet=title, row=row,
                      column=header, value=value, expected=expected)
    if kind == "too_long":
        return _error(f"{where}: a value of {len(str(whole)):,} characters is too long: ids, names and categories "
                      f"are at most {MAX_TEXT} characters.", sheet=title, row=row, column=header, value=value,
                      expected=f"at most {MAX_TEXT} characters")
    if kind == "unseen":
        text = str(whole)
        m = _UNSEEN_RE.search(text)
        if m is None:  # the reader and DuckDB disagree: say what DuckDB found, plainly
            return _error(f"{where}: {shown} holds a character that cannot be seen: type the value again in Excel.",
                          sheet=title, row=row, column=header, value=value, expected="no invisible characters")
        found = m.group()
        what = _UNSEEN_NAMES.get(found, f"a control character (U+{ord(found):04X})")
        # shown from a little before the first such character, so that a long value still shows it
        start = max(0, m.start() - SHOWN_VALUE_MAX // 2)
        visible = ("…" if start else "") + _UNSEEN_RE.sub(lambda c: f"<U+{ord(c.group()):04X}>", text[start:])
        place = f" (character {m.start() + 1:,} of {len(text):,})" if start else ""
        return _error(f'{where}: "{_short(visible)}" holds {what}{place}, which cannot be seen and makes it another '
                      "value than the one it looks like: type the value again in Excel.", sheet=title, row=row,
                      column=header, value=_short(visible, SHOWN_VALUE_MAX * 4), expected="no invisible characters")
    if kind == "date_range":
        # a case system's "no date" placeholder (Excel's day 0 or 1, or 1 January 1900): say so (a review)
        placeholder = (" It looks like a placeholder for \"no date\": leave the cell blank instead."
                       if value in ("01/01/1900", "1900-01-01", "31/12/1899", "30/12/1899") else "")
        return _error(
            f"{where}: {shown} is outside the accepted range; expected a date on or after 01/01/1990 and not after the "
            f"day of the import ({today:%d/%m/%Y}).{placeholder}",
            sheet=title, row=row, column=header, value=value, expected=f"a date from 01/01/1990 to {today:%d/%m/%Y}",
        )
    if kind == "range":
        said = "is out of range"
        number = float(str(value).replace(",", "")) if _NUMERIC.fullmatch(str(value)) else None
        if column.type == WHOLE:  # a review read "1.5 is out of range" and "2147483648 is out of range" as riddles
            if number is not None and math.isfinite(number) and number != int(number):
                said = "is not a whole number"
            elif number is not None and number > MAX_WHOLE:
                said, expected = f"is too large (at most {MAX_WHOLE:,})", f"{expected}, at most {MAX_WHOLE:,}"
            elif number is not None and number < 0:
                said = "is below 0"
        elif column.type == NUMBER:
            if number is not None and math.isinf(number):
                said = "is too large to be a number" if number > 0 else "is below 0"
            elif number is not None and number > MAX_NUMBER and (column.maximum is None or column.maximum > MAX_NUMBER):
                said, expected = f"is too large (at most {MAX_NUMBER:,})", f"{expected}, at most {MAX_NUMBER:,}"
        return _error(f"{where}: {shown} {said}; expected {expected}.", sheet=title, row=row,
                      column=header, value=value, expected=expected)
    if kind.startswith("order:"):
        earlier = kind.split(":", 1)[1]
        eh = headers.get(earlier, earlier)
        return _error(f'{where}: {shown} is before the "{eh}" on the same row; expected a date on or after it.',
                      sheet=title, row=row, column=header, value=value, expected=f'a date on or after "{eh}"')
    if kind.startswith("duplicate:"):
        first = kind.split(":", 1)[1]
        key = " and ".join(f'"{headers.get(k, k)}"' for k in sheet.key)
        return _error(f"{where}: {shown} is already used on row {first}; each {key} must be unique in the sheet.",
                      sheet=title, row=row, column=header, value=value, expected="a value not used on another row")
    raise ValueError(kind)  # pragma: no cover


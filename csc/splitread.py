"""One large worksheet read as two halves at once, on the machine's two cores.

The Rust reader (fastexcel/calamine) parses a sheet on one core, letting go of the interpreter
while it works, and a sheet's XML is most of an import's time. The file checks
(`csc.filesafety.inspect_parts`) have inflated that XML already, under their caps, and keep it
(with the workbook's other small parts: shared strings, styles, the workbook and its
relationships) when it is large enough to be worth splitting. Here it is cut at a row boundary
near its middle into two workbooks (stored, not compressed, in a private temporary folder removed
straight after), each read by its own reader (a process of its own with a memory limit,
`csc.readbox`; a thread here waits for each), and the two reads joined: the same cells as one
read of the whole sheet, in about half the time.

The reader numbers rows from Excel's row 1 but columns from the leftmost cell it finds, so each
half is given one cell of its own in column A (a mark: a random text), in a row that is not the
half's (one past the first half's last row; one before the second half's first) and placed before
the half's rows, so that a real cell landing on it overwrites it and shows; it pins both halves to
column A and is then dropped. Whatever would make the halves differ from one read — a row out of
order across the cut, a cell on a mark, an error cell in the second half (it reads as blank, so
one numbered before the cut would not show), a reader error — is caught by checks on both reads
or on the XML, and then `read_halves` answers None and the caller reads the sheet whole, as
before. Columns start at column A (one read of the whole starts at the leftmost cell); callers
find columns by their headings, never by position.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import struct
import tempfile
import threading
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from isal import isal_zlib

from csc import readbox

SPLIT_MIN = 4 * 1024 * 1024  # a sheet's XML this large or larger is read in halves (about 10,000 rows)
SPLIT_MAX = 256 * 1024 * 1024  # and no larger: both halves and the whole are in memory at once
OTHERS_MAX = 64 * 1024 * 1024  # the other parts copied into each half, together, at most (else read whole)
# an error cell: it reads as blank, so could hide on the second half's blank rows (a t written with
# an entity is no risk: the reader refuses it)
_ERROR_CELL = re.compile(rb"""t\s*=\s*["']e["']""")


def worth_splitting(size: int) -> bool:
    """Whether a worksheet part of `size` bytes (inflated) is kept and read in halves."""
    return SPLIT_MIN <= size <= SPLIT_MAX


def wanted_alongside(part: str) -> bool:
    """Whether a part other than a worksheet goes into the halves: the XML the reader may open
    (workbook, relationships, shared strings, styles, ...), not pictures or other sheets. All of
    them or none: when together they are over `OTHERS_MAX` the sheet is read whole."""
    return part.endswith((".xml", ".rels")) and not (part.startswith("xl/worksheets/") and part.count("/") == 2)


def _write_stored_zip(parts: list[tuple[str, list]], path: Path) -> None:
    """A zip of `parts` (name, pieces of its bytes) written to `path`, stored without compression:
    the bytes written as they are, with their CRC-32 (ISA-L's, which lets go of the interpreter),
    no deflating and no copy in memory."""
    central: list[bytes] = []
    offset = 0
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as fh:
        for name, pieces in parts:
            n = name.encode("utf-8")
            crc, size = 0, 0
            for p in pieces:
                crc = isal_zlib.crc32(p, crc)
                size += len(p)
            flags, date = 0x800, 0x21  # names in UTF-8; 1980-01-01
            fh.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, flags, 0, 0, date, crc, size, size, len(n), 0) + n)
            for p in pieces:
                fh.write(p)
            central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, flags, 0, 0, date, crc, size, size,
                                       len(n), 0, 0, 0, 0, 0, offset) + n)
            offset += 30 + len(n) + size
        directory = b"".join(central)
        fh.write(directory)
        fh.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), len(directory), offset, 0))


class Pieces:
    """A worksheet's XML as the file checks kept it: pieces of bytes, each cut just before a "<",
    so that no tag runs from one piece into the next and every search for a tag or an attribute
    looks inside one piece, without joining them (tens of MB copied and paged in for nothing)."""

    def __init__(self, pieces: list[bytes] | bytes):
        self.pieces = [pieces] if isinstance(pieces, (bytes, bytearray)) else [p for p in pieces if p]
        self.starts = []
        size = 0
        for piece in self.pieces:
            self.starts.append(size)
            size += len(piece)
        self.size = size

    def _within(self, start: int, end: int, backwards: bool = False):
        """(piece, its offset, where to look from, to) for the pieces overlapping [start, end)."""
        order = range(len(self.pieces) - 1, -1, -1) if backwards else range(len(self.pieces))
        for i in order:
            at, piece = self.starts[i], self.pieces[i]
            lo, hi = max(start - at, 0), min(end - at, len(piece))
            if lo < hi:
                yield piece, at, lo, hi

    def search(self, pattern: re.Pattern, start: int = 0, end: int | None = None) -> tuple[int, int] | None:
        """Where `pattern` (a tag, or within one) first matches in [start, end): (start, end)."""
        for piece, at, lo, hi in self._within(start, self.size if end is None else end):
            m = pattern.search(piece, lo, hi)
            if m:
                return at + m.start(), at + m.end()
        return None

    def rfind(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        for piece, at, lo, hi in self._within(start, self.size if end is None else end, backwards=True):
            i = piece.rfind(sub, lo, hi)
            if i >= 0:
                return at + i
        return -1

    def find(self, sub: bytes, start: int = 0, end: int | None = None) -> int:
        for piece, at, lo, hi in self._within(start, self.size if end is None else end):
            i = piece.find(sub, lo, hi)
            if i >= 0:
                return at + i
        return -1

    def match(self, pattern: re.Pattern, pos: int) -> re.Match | None:
        """`pattern` matched at `pos` (a tag's start), within its piece."""
        piece, _, lo, _ = next(self._within(pos, pos + 1), (b"", 0, 0, 0))
        return pattern.match(piece, lo) if piece else None

    def views(self, start: int, end: int) -> list[memoryview]:
        """The bytes of [start, end), as views of the pieces (no copy)."""
        return [memoryview(piece)[lo:hi] for piece, at, lo, hi in self._within(start, end)]


def _row_number(xml: Pieces, at: int, prefix: bytes) -> int | None:
    """The `r` of the row tag starting at `at`, or None (no number: the reader counts on from the row before)."""
    m = xml.match(re.compile(rb"<" + re.escape(prefix) + rb"row(\s[^>]*)?/?>"), at)
    if m is None or m.group(1) is None:
        return None
    r = re.search(rb'(?:^|\s)r="([0-9]{1,7})"', m.group(1))
    return int(r.group(1)) if r else None


def _cut(xml: Pieces | bytes, prefix: bytes) -> tuple[int, int, int, int, int] | None:
    """(end of the sheetData start tag, the cut: the start of a row tag near the middle, the
    first row number after the cut, the last row number, the start of the sheetData end tag),
    or None when the sheet cannot be cut safely."""
    xml = xml if isinstance(xml, Pieces) else Pieces(xml)
    p = re.escape(prefix)
    opened = xml.search(re.compile(rb"<" + p + rb"sheetData\s*>"))
    end = xml.rfind(b"</" + prefix + b"sheetData>")
    if opened is None or end < opened[1]:
        return None
    row = re.compile(rb"<" + p + rb"row[\s>/]")
    m = xml.search(row, max(xml.size // 2, opened[1]), end)
    last = xml.rfind(b"<" + prefix + b"row", opened[1], end)
    while last >= 0 and not xml.match(row, last):
        last = xml.rfind(b"<" + prefix + b"row", opened[1], last)
    if m is None or last < 0 or m[0] > last:
        return None
    split = _row_number(xml, m[0], prefix)
    final = _row_number(xml, last, prefix)
    if split is None or final is None or not 1 < split <= final:
        return None
    return opened[1], m[0], split, final, end


def _mark(prefix: bytes, row: int, text: str) -> bytes:
    p = prefix
    return b'<%srow r="%d"><%sc r="A%d" t="inlineStr"><%sis><%st>%s</%st></%sis></%sc></%srow>' % (
        p, row, p, row, p, p, text.encode(), p, p, p, p)


def _read(path: Path, title: str, name: str) -> pa.RecordBatch:
    """A half read by the reader in its own process (`csc.readbox`), not kept open after; `name`:
    the workbook's own name, for a message."""
    return readbox.read_sheet(path, (str(path), "half"), title, name, keep=False)


def _only_mark(batch: pa.RecordBatch, i: int, text: str) -> bool:
    """Row `i` of `batch` (within it: the row counts are checked first) holds the mark `text` in
    its first column and nothing else."""
    row = batch.slice(i, 1)
    return row.column(0)[0].as_py() == text and all(row.column(j).null_count == 1 for j in range(1, row.num_columns))


def _all_null(batch: pa.RecordBatch, start: int, length: int) -> bool:
    part = batch.slice(start, length)
    return all(part.column(j).null_count == part.num_rows for j in range(part.num_columns))


def read_halves(xml: Pieces | list[bytes] | bytes, others: dict[str, bytes], part: str, title: str, prefix: bytes = b"",
                name: str = "the workbook") -> pa.Table | None:
    """The sheet `title` (its XML `xml`, whole or as the file checks' pieces, at `part` in the workbook whose other parts are `others`)
    as text, every cell as one read of the whole gives it, row i being Excel row i + 1, and
    column j column j + 1 (A is 0); or None if it cannot be read in halves here (then read it
    whole). It raises only a read stopped by the reader's limits (`readbox.ReaderStopped`): the
    whole sheet would only meet them again. `prefix`: the namespace prefix of the worksheet's tags
    ("x:" in some writers), as found by the file checks; `name`: the workbook's, for a message."""
    try:
        return _read_halves(xml if isinstance(xml, Pieces) else Pieces(xml), others, part, title, prefix, name)
    except readbox.ReaderStopped:
        raise
    except Exception:  # noqa: BLE001 - whatever went wrong here, one whole read gives the answer
        return None


def _read_halves(xml: Pieces, others: dict[str, bytes], part: str, title: str, prefix: bytes,
                 name: str) -> pa.Table | None:
    cut = _cut(xml, prefix)
    if cut is None:
        return None
    opened, mid, split, _final, end = cut
    if xml.search(_ERROR_CELL, mid, end) is not None:
        return None
    text = "csc-mark-" + secrets.token_hex(8)  # no real cell holds it by chance
    rest = [(name, [data]) for name, data in others.items() if name != part]
    head, tail = xml.views(0, opened), xml.views(end, xml.size)
    halves = {  # each mark before the half's rows: a real cell on it comes later and overwrites it
        "first": [*rest, (part, [*head, _mark(prefix, split, text), *xml.views(opened, mid), *tail])],
        "second": [*rest, (part, [*head, _mark(prefix, split - 1, text), *xml.views(mid, end), *tail])],
    }
    out: dict = {}
    folder = Path(tempfile.mkdtemp(prefix="csc-halves-"))  # 0700, this user's only; removed below

    def work(key: str) -> None:
        try:
            path = folder / f"{key}.xlsx"
            _write_stored_zip(halves[key], path)
            out[key] = _read(path, title, name)
        except Exception as exc:  # noqa: BLE001 - the caller reads the sheet whole instead
            out[key] = exc

    other = threading.Thread(target=work, args=("first",), name="csc-read-half", daemon=True)
    try:
        other.start()
        work("second")
    finally:
        if other.ident is not None:
            other.join()  # its files are closed before the folder goes
        shutil.rmtree(folder, ignore_errors=True)
    first, second = out.get("first"), out.get("second")
    for result in (first, second):
        if isinstance(result, readbox.ReaderStopped):
            raise result
    if not isinstance(first, pa.RecordBatch) or not isinstance(second, pa.RecordBatch):
        return None
    # the first half: rows 1 .. split - 1, then its mark on row `split`, and nothing past it; the
    # second: nothing before row split - 1, its mark there, then its rows (at least one not blank:
    # else where the whole sheet ends is in the first half)
    if first.num_rows != split or not _only_mark(first, split - 1, text) or second.num_rows < split \
            or not _only_mark(second, split - 2, text) or not _all_null(second, 0, split - 2):
        return None
    rows = second.num_rows
    width = max(first.num_columns, second.num_columns)
    columns = []
    for j in range(width):
        top = first.column(j).slice(0, split - 1) if j < first.num_columns else pa.nulls(split - 1, pa.string())
        bottom = second.column(j).slice(split - 1, rows + 1 - split) if j < second.num_columns \
            else pa.nulls(rows + 1 - split, pa.string())
        columns.append(pa.chunked_array([pc.cast(top, pa.string()), pc.cast(bottom, pa.string())], pa.string()))
    return pa.table(columns, names=[f"__UNNAMED__{j}" for j in range(width)])

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

`csc.annexa` reads Ofsted's Annex A workbook with the same defences and checks, through
`check_file`, `_sheet_parts`, `_inspect_parts`, `_too_big` and `_validate`: keep their
signatures.
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
import struct
import threading
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import fastexcel
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from csc import spec
from csc.spec import DATE, ENUM, FLAG, ID, NUMBER, TEXT, WHOLE, Sheet

MAX_FILE_BYTES = 200 * 1024 * 1024  # the upload itself
MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024  # declared size of all parts once inflated
MAX_PART_RATIO = 200  # a part inflating more than this many times over is a zip bomb
MAX_PARTS = 10_000  # parts in the zip; a workbook has a few dozen
MAX_ROWS = 1_000_000  # data rows in one sheet
MAX_COLUMNS = 16_384  # Excel's own limit (column XFD)
MAX_CELLS = 30_000_000  # rows x columns of one sheet's used area: the reader allocates all of them
MAX_WHOLE = 2_147_483_647  # the largest whole number stored
HEADER_SEARCH_ROWS = 10
MAX_LISTED = 20  # names listed in one warning before "and N more"
MAX_PROBLEMS_PER_SHEET = 10_000  # errors listed per sheet; the total is always said
EARLIEST = dt.date(1990, 1, 1)

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 4 * 1024 * 1024  # inflate parts this much at a time
PROLOG_BYTES = 64 * 1024  # an XML part's root element must start within this
SAVE_AS = 'Open it in Excel and use File > Save As > "Excel Workbook (.xlsx)", then upload the saved .xlsx file.'


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


class FileRefused(Exception):
    """The file cannot be read as an extract at all."""


def _error(message: str, **kw) -> Problem:
    return Problem("error", message, **kw)


def _warning(message: str, **kw) -> Problem:
    return Problem("warning", message, **kw)


def _listed(names: list[str]) -> str:
    shown = ", ".join(f'"{n}"' for n in names[:MAX_LISTED])
    return shown + (f" and {len(names) - MAX_LISTED:,} more" if len(names) > MAX_LISTED else "")


# --- the file itself -------------------------------------------------------------------


def check_file(path: Path, original_name: str | None = None) -> None:
    """Refuse a file that is not a plausible .xlsx/.xlsm workbook, from its bytes and zip
    directory alone (nothing is inflated here)."""
    name = original_name or path.name
    suffix = Path(name).suffix.lower()
    size = path.stat().st_size
    if size == 0:
        raise FileRefused(f'"{name}" is empty (0 bytes). Export the extract again and upload the saved .xlsx file.')
    if size > MAX_FILE_BYTES:
        raise FileRefused(
            f'"{name}" is {size / 2**20:,.0f} MB, more than the {MAX_FILE_BYTES / 2**20:,.0f} MB limit. '
            "Split the extract or remove sheets the dashboard does not use."
        )
    with path.open("rb") as fh:
        head = fh.read(8)
    if head.startswith(OLE_MAGIC):
        if _ole_is_encrypted(path):
            raise FileRefused(
                f'"{name}" is password-protected (encrypted), so it cannot be read. Open it in Excel, remove the '
                "password (File > Info > Protect Workbook > Encrypt with Password, clear the password, OK) and save it "
                "again as .xlsx, then upload it."
            )
        raise FileRefused(f'"{name}" is an old-style Excel 97-2003 (.xls) workbook, which is not accepted. {SAVE_AS}')
    if not head.startswith(ZIP_MAGIC):
        kind = "a CSV or text file" if _looks_like_text(path) else "not an Excel workbook"
        raise FileRefused(f'"{name}" is {kind}, whatever its name says. {SAVE_AS}')
    _check_zip_count(path, name)
    infos = zip_parts(path, name, "parts; an Excel workbook holds a few dozen. " + SAVE_AS)
    names = [i.filename for i in infos]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise FileRefused(
            f'"{name}" contains two parts both named "{dup}", which Excel never writes and which can make programs '
            f"read different data, so it was not opened. {SAVE_AS}"
        )
    if "xl/workbook.bin" in names:
        raise FileRefused(f'"{name}" is a binary workbook (.xlsb), which is not accepted. {SAVE_AS}')
    if "xl/workbook.xml" not in names:
        if "EncryptedPackage" in names:
            raise FileRefused(f'"{name}" is password-protected (encrypted), so it cannot be read. Remove the password in Excel and save again as .xlsx.')
        raise FileRefused(f'"{name}" is a zip archive but not an Excel workbook. {SAVE_AS}')
    if suffix not in {".xlsx", ".xlsm"}:
        raise FileRefused(f'"{name}" is named "{suffix or "(no extension)"}", not .xlsx or .xlsm. {SAVE_AS}')
    for info in infos:
        if info.flag_bits & 0x1:
            raise FileRefused(f'"{name}" has encrypted parts, so it cannot be read. Remove any password in Excel and save again as .xlsx.')
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRefused(f'"{name}" was saved with an unusual compression method that Excel never uses. {SAVE_AS}')
    total = sum(i.file_size for i in infos)
    if total > MAX_UNCOMPRESSED_BYTES:
        raise FileRefused(
            f'"{name}" would expand to {total / 2**30:,.1f} GB when opened, more than the '
            f"{MAX_UNCOMPRESSED_BYTES / 2**30:,.0f} GB limit, so it was not opened (this is how a \"zip bomb\" attack "
            "works). Check it is the real extract; a genuine extract is far smaller."
        )
    for info in infos:
        if info.file_size > 1_000_000 and info.file_size > MAX_PART_RATIO * max(info.compress_size, 1):
            raise FileRefused(
                f'"{name}" contains a part ({info.filename}) that would expand '
                f"{info.file_size // max(info.compress_size, 1):,} times over when opened: the pattern of a malicious "
                "file (a zip bomb), so it was not opened. Check it is the real extract."
            )


def zip_parts(path: Path, name: str, too_many: str) -> list[zipfile.ZipInfo]:
    """The parts of a zip file (a workbook, or an export of CSV files), refused in plain words when
    it is damaged or holds more than `MAX_PARTS`: '"<name>" holds <n> <too_many>'."""
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _damaged(name, exc) from exc
    if len(infos) > MAX_PARTS:
        raise FileRefused(f'"{name}" holds {len(infos):,} {too_many}')
    return infos


def _damaged(name: str, exc: object = None) -> FileRefused:
    why = f" ({exc})" if exc else ""
    return FileRefused(
        f'"{name}" is damaged or incomplete and cannot be opened{why}. If it opens in Excel, use File > Save As > '
        '"Excel Workbook (.xlsx)" and upload the saved copy; otherwise export the extract again.'
    )


def _check_zip_count(path: Path, name: str) -> None:
    """Refuse a zip whose directory claims an absurd number of parts, before parsing the directory."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        fh.seek(max(0, size - 65_557))
        tail = fh.read()
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + 22 > len(tail):
        raise _damaged(name, "no zip directory at its end: the file was probably cut short")
    count = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    if MAX_PARTS < count < 0xFFFF:
        raise FileRefused(f'"{name}" holds {count:,} parts; an Excel workbook holds a few dozen. {SAVE_AS}')


def _ole_is_encrypted(path: Path) -> bool:
    with path.open("rb") as fh:
        data = fh.read(2_000_000)
    return "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as fh:
        sample = fh.read(4096)
    return b"\x00" not in sample


# --- inflating parts under a cap ----------------------------------------------------------


def _inflate(fh, info: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    """The part's bytes, a chunk at a time; refuses a part that inflates beyond what it declares
    (a lying zip bomb) or that is damaged. The caller may stop early."""
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != ZIP_MAGIC:
        raise _damaged(name, f"part {info.filename} is missing")
    n, m = struct.unpack("<HH", local[26:30])
    fh.seek(info.header_offset + 30 + n + m)
    left = info.compress_size
    produced = 0
    crc = 0
    if info.compress_type == zipfile.ZIP_STORED:
        while left > 0:
            raw = fh.read(min(CHUNK, left))
            if not raw:
                raise _damaged(name, f"part {info.filename} is cut short")
            left -= len(raw)
            produced += len(raw)
            crc = zlib.crc32(raw, crc)
            yield raw
    else:
        d = zlib.decompressobj(-15)
        try:
            while not d.eof:
                if d.unconsumed_tail:
                    raw = d.unconsumed_tail
                else:
                    if left <= 0:
                        raise _damaged(name, f"part {info.filename} is cut short")
                    raw = fh.read(min(CHUNK // 8, left))  # compressed: about a chunk once inflated
                    if not raw:
                        raise _damaged(name, f"part {info.filename} is cut short")
                    left -= len(raw)
                out = d.decompress(raw, CHUNK)
                produced += len(out)
                if produced > info.file_size:
                    raise FileRefused(
                        f'"{name}" contains a part ({info.filename}) that expands to more than the size it declares: '
                        "the pattern of a malicious file (a zip bomb), so it was not opened. Check it is the real extract."
                    )
                crc = zlib.crc32(out, crc)
                if out:
                    yield out
        except zlib.error as exc:
            raise _damaged(name, f"part {info.filename}: {exc}") from exc
    if produced != info.file_size or crc != info.CRC:
        raise _damaged(name, f"part {info.filename} fails its checksum")


def _prolog_problem(head: bytes, complete: bool) -> str | None:
    """'entity' if the XML declares a DOCTYPE or entities before its root element; 'long' if
    the root element does not start within the bytes given; else None."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or head[:2] in (b"<\x00", b"\x00<"):
        enc = "utf-16-be" if head.startswith(codecs.BOM_UTF16_BE) or head[:1] == b"\x00" else "utf-16-le"
        head = head[: len(head) // 2 * 2].decode(enc, errors="replace").encode("utf-8")
    if head.startswith(codecs.BOM_UTF8):
        head = head[3:]
    i, n = 0, len(head)
    while True:
        while i < n and head[i] in b" \t\r\n\xef\xbb\xbf":
            i += 1
        if i >= n:
            return None if complete else "long"
        if head.startswith(b"<?", i):
            close = b"?>"
        elif head.startswith(b"<!--", i):
            close = b"-->"
        elif head.startswith(b"<!", i):
            return "entity"
        else:
            return None  # the root element (or text a real parser will reject)
        end = head.find(close, i + 2)
        if end < 0:
            return None if complete else "long"
        i = end + len(close)


def _looks_like_xml(head: bytes) -> bool:
    start = head[:16].lstrip(b" \t\r\n")
    return start.startswith((b"<", codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE, b"\x00<"))


def _check_prolog(head: bytes, complete: bool, part: str, name: str) -> None:
    problem = _prolog_problem(head[:PROLOG_BYTES], complete or len(head) < PROLOG_BYTES)
    if problem == "entity":
        raise FileRefused(
            f'"{name}" contains XML document type or entity declarations ({part}), which genuine Excel files never have '
            "and which are used to attack servers (for example the \"billion laughs\" attack), so it was not opened. "
            "Check it is the real extract."
        )
    if problem == "long":
        raise FileRefused(f'"{name}" has a part ({part}) that does not look like Excel wrote it. {SAVE_AS}')


_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="([A-Za-z]+)(\d+)(?::([A-Za-z]+)(\d+))?"')
_ROOT_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_ANY_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*["']([A-Za-z]*)([0-9]*)["']""")


@dataclass
class _Extent:
    """Where a worksheet's cells lie: what its <dimension> declares and what its cells reach."""

    declared_rows: int = 0
    declared_cols: int = 0
    rows: int = 0  # the highest Excel row number of any cell (an upper bound)
    cols: int = 0  # the highest column number of any cell (an upper bound)


def _col_number(letters: bytes | str) -> int:
    n = 0
    for ch in letters.upper() if isinstance(letters, str) else letters.decode().upper():
        n = n * 26 + ord(ch) - 64
        if n > 10**9:
            break
    return n


def _row_number(digits: bytes) -> int:
    return int(digits) if len(digits) <= 10 else 10**10


class _Scanner:
    """Bounds on the area a worksheet's cells span, found from its XML with a few regular
    expression passes and nothing built per cell in Python, when every cell carries its
    reference as `<c r="B7"` (as Excel writes them). Cells in columns A-Z with row numbers below
    1,000,000 span at most 26 x 999,999 cells, within the limits, so only longer references are
    looked at one by one. When the bounds are too loose to decide, or a cell has no reference,
    `_exact_extent` follows the reader's own rules instead."""

    def __init__(self, prefix: bytes):
        p = b"<" + re.escape(prefix)
        # any cell that is not simply <c r="A1"...> to <c r="Z999999"...>
        self.not_simple = re.compile(p + rb'c(?:[>/\t\n\r]| (?!r="[A-Z][0-9]{1,6}"))')
        self.no_ref = re.compile(p + rb'c(?:[>/\t\n\r]| (?!r="))')
        self.multi_letter = re.compile(p + rb'c r="[A-Z]{2}')
        self.multi_letter_all = re.compile(p + rb'c r="([A-Z]{2,})')
        self.long_row = {k: re.compile(p + rb'c r="[A-Z]+[0-9]{%d}' % k) for k in range(1, 8)}
        self.long_row_all = {k: re.compile(p + rb'c r="[A-Z]+([0-9]{%d,})' % k) for k in range(1, 8)}
        self.fast = True  # False: a cell without a reference was seen
        self.rows = 0  # upper bounds
        self.cols = 0

    def feed(self, buf: bytes) -> None:
        if not self.fast:
            return
        if not self.not_simple.search(buf):  # the usual case: one look at the buffer
            self.rows, self.cols = max(self.rows, 999_999), max(self.cols, 26)
            return
        if self.no_ref.search(buf):
            self.fast = False
            return
        self.cols = max(self.cols, 26)
        if self.multi_letter.search(buf):
            self.cols = max(self.cols, max(_col_number(x) for x in set(self.multi_letter_all.findall(buf))))
        # the longest row numbers present; stop once the bound is tight enough
        for k in range(7, 0, -1):
            if self.long_row[k].search(buf):
                self.rows = max(self.rows, max(_row_number(x) for x in set(self.long_row_all[k].findall(buf))))
                break
            bound = 10 ** (k - 1) - 1  # every row number here has fewer than k digits
            if bound <= self.rows or bound * self.cols <= MAX_CELLS:
                self.rows = max(self.rows, bound)
                break


def _exact_extent(chunks: Iterator[bytes]) -> tuple[int, int]:
    """The reader's own rules: a cell without a reference is one column right of the previous
    one, a row without a number is one below the previous one."""
    row = col = max_row = max_col = 0
    carry = b""
    for chunk in chunks:
        buf = carry + chunk
        cut = buf.rfind(b"<")
        buf, carry = (buf[:cut], buf[cut:]) if cut > 0 else (buf, b"")
        for m in _ANY_TAG.finditer(buf):
            kind, attrs = m.groups()
            a = _R_ATTR.search(attrs)
            if kind == b"row":
                row = _row_number(a.group(2)) if a and a.group(2) else row + 1
                col = 0
            else:
                if a and a.group(1):
                    col = _col_number(a.group(1))
                    r = _row_number(a.group(2)) if a.group(2) else row
                else:
                    col, r = col + 1, row
                max_row, max_col = max(max_row, r), max(max_col, col)
    return max_row, max_col


def _inspect_parts(path: Path, name: str, load: set[str]) -> dict[str, _Extent]:
    """Inflate (under caps) every part but the worksheets the reader will not open: no part
    larger than declared, no damage, no XML entity declarations; and measure the worksheets in
    `load`."""
    extents: dict[str, _Extent] = {}
    with zipfile.ZipFile(path) as zf, path.open("rb") as fh:
        for info in zf.infolist():
            part = info.filename
            if part.endswith("/"):
                continue  # a folder entry
            is_sheet = part in load or (part.startswith("xl/worksheets/") and part.count("/") == 2)
            chunks = _inflate(fh, info, name)
            head = b""
            for chunk in chunks:
                head += chunk
                if len(head) >= PROLOG_BYTES:
                    break
            if _looks_like_xml(head):  # whatever the part's name: the reader follows the relationships
                _check_prolog(head, len(head) < PROLOG_BYTES, part, name)
            if not is_sheet:
                for _ in chunks:  # verify the rest: size and checksum
                    pass
                continue
            if part not in load:
                chunks.close()  # a sheet the reader will not open
                continue
            extent = extents[part] = _Extent()
            m = _DIMENSION.search(head)
            if m and m.group(3):
                extent.declared_rows, extent.declared_cols = _row_number(m.group(4)), _col_number(m.group(3))
                if extent.declared_rows > MAX_ROWS + HEADER_SEARCH_ROWS:
                    chunks.close()  # refused on what it declares, without reading further
                    continue
            root = _ROOT_PREFIX.search(head)
            scanner = _Scanner(root.group(1) or b"" if root else b"")
            carry = head
            for chunk in chunks:
                buf = carry + chunk
                cut = buf.rfind(b"<")
                buf, carry = (buf[:cut], buf[cut:]) if cut > 0 else (buf, b"")
                scanner.feed(buf)
            scanner.feed(carry)
            extent.rows, extent.cols = scanner.rows, scanner.cols
            if not scanner.fast or _too_big("", extent):  # measure exactly before refusing on a bound
                extent.rows, extent.cols = _exact_extent(_inflate(fh, info, name))
    return extents


def _sheet_parts(path: Path, name: str) -> dict[str, str]:
    """Sheet title -> worksheet part name, from the workbook and its relationships."""
    import defusedxml.ElementTree as ET

    def read(zf: zipfile.ZipFile, fh, part: str) -> bytes:
        info = zf.getinfo(part)
        data = b"".join(_inflate(fh, info, name))
        _check_prolog(data, True, part, name)
        return data

    try:
        with zipfile.ZipFile(path) as zf, path.open("rb") as fh:
            wb = ET.fromstring(read(zf, fh, "xl/workbook.xml"))
            rels = ET.fromstring(read(zf, fh, "xl/_rels/workbook.xml.rels"))
    except FileRefused:
        raise
    except KeyError as exc:
        raise _damaged(name, f"{exc.args[0]} is missing") from exc
    except Exception as exc:  # malformed XML, or defusedxml refusing a DTD
        raise _damaged(name, f"the list of sheets cannot be read: {exc}") from exc
    targets = {r.get("Id"): r.get("Target") or "" for r in rels}
    parts = {}
    for el in wb.iter():
        if el.tag.endswith("}sheet") or el.tag == "sheet":
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rid, "")
            if target.startswith("/"):
                target = target.lstrip("/")
            else:
                target = "xl/" + target
            parts[el.get("name")] = re.sub(r"[^/]+/\.\./", "", target.replace("/./", "/"))
    return parts


# --- reading ---------------------------------------------------------------------------

# One workbook's reader and the sheets read from it, shared by every look at the same file: the
# Annex A check (`csc.annexa.is_annex_a`) reads a sheet's first rows and the extract reader then
# reads the whole sheet, and the Rust reader parses the whole sheet (and the workbook's shared
# strings) either way. Kept until another workbook is opened or `forget_reads` (a read ends).
_READS: dict = {}
_READS_LOCK = threading.Lock()


def _file_key(path: str | Path) -> tuple:
    st = Path(path).stat()
    return (str(Path(path).resolve()), st.st_size, st.st_mtime_ns, st.st_ino)


def open_reader(path: str | Path):
    """The fastexcel reader of the workbook at `path`, opened once per file (the same bytes: path,
    size, modification time). Call it only after `check_file` and `_inspect_parts`."""
    key = _file_key(path)
    with _READS_LOCK:
        if _READS.get("file") == key and _READS["reader"] is not None:
            return _READS["reader"]
    reader = fastexcel.read_excel(str(path))
    with _READS_LOCK:
        if _READS.get("file") != key:
            _READS.clear()
        _READS.update(file=key, reader=reader, sheets={})
    return reader


def inspect_once(path: str | Path, name: str, load: set[str]) -> dict[str, _Extent]:
    """`_inspect_parts` of the workbook at `path`, worked out once per file and set of sheets (the
    Annex A check and the extract read inspect the same bytes for the same sheets)."""
    key = ("inspected", _file_key(path), frozenset(load))
    with _READS_LOCK:
        if _READS.get("file") == key[1] and key in _READS:
            return _READS[key]
    extents = _inspect_parts(Path(path), name, load)
    with _READS_LOCK:
        if _READS.get("file") != key[1]:
            _READS.clear()
            _READS.update(file=key[1], reader=None, sheets={})
        _READS[key] = extents
    return extents


def sheet_text(reader, title: str) -> pa.RecordBatch:
    """Every cell of sheet `title` as text (row i is Excel row i + 1, whatever blank rows lead
    the sheet), read once per reader from `open_reader` (sheets already measured by `_inspect_parts`)."""
    with _READS_LOCK:
        if _READS.get("reader") is reader and title in _READS["sheets"]:
            return _READS["sheets"][title]
    batch = reader.load_sheet(title, header_row=None, skip_rows=0, dtypes="string", eager=True)
    with _READS_LOCK:
        if _READS.get("reader") is reader:
            _READS["sheets"][title] = batch
    return batch


def forget_reads() -> None:
    """Drop the kept reader and sheets (a workbook's read is over)."""
    with _READS_LOCK:
        _READS.clear()


def read_workbook(path: str | Path, original_name: str | None = None, today: dt.date | None = None) -> Extract:
    """Read and validate a workbook; never raises for a bad file, it reports problems instead."""
    try:
        return _read_workbook(path, original_name, today)
    finally:
        forget_reads()


def _read_workbook(path: str | Path, original_name: str | None, today: dt.date | None) -> Extract:
    path = Path(path)
    name = original_name or path.name
    today = today or dt.date.today()
    extract = Extract(path)
    try:
        check_file(path, original_name)
        parts = _sheet_parts(path, name)
        wanted = {parts.get(t, "") for t in parts if spec.sheet_for(t) is not None}
        extents = inspect_once(path, name, wanted)
        reader = open_reader(path)
        titles = reader.sheet_names
    except FileRefused as exc:
        extract.problems.append(_error(str(exc)))
        return extract
    except Exception as exc:  # the reader's own errors: a damaged workbook
        extract.problems.append(_error(str(_damaged(name, exc))))
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
            extract.problems.append(_error(str(_damaged(name, f'sheet "{title}" has no worksheet part')), sheet=title))
            continue
        too_big = _too_big(title, extent)
        if too_big:
            extract.problems.append(_error(too_big, sheet=title))
            continue
        try:
            _read_sheet(reader, title, sheet, extract, today)
        except Exception as exc:  # a sheet the reader cannot parse
            extract.problems.append(
                _error(f'Sheet "{title}" cannot be read ({exc}). {SAVE_AS}', sheet=title)
            )

    if not seen:
        known = ", ".join(s.name for s in spec.SHEETS.values())
        extract.problems.append(
            _error(
                f"No sheet of the extract was found (sheets in the file: {_listed(list(titles))}). "
                f"Name each sheet after what it holds, one of: {known}."
            )
        )
    return extract


def _too_big(title: str, e: _Extent) -> str | None:
    limit = MAX_ROWS + HEADER_SEARCH_ROWS
    tidy = ("If the data is shorter, delete the empty formatted rows and columns beyond it (Ctrl+End shows the last "
            "used cell), save, and upload again.")
    if e.declared_rows > limit:
        return (f'Sheet "{title}" declares {e.declared_rows:,} rows, more than the {MAX_ROWS:,} rows this dashboard '
                f"reads from one sheet, so it was not read. {tidy}")
    if e.rows > limit:
        return (f'Sheet "{title}" has cells down to row {e.rows:,}, more than the {MAX_ROWS:,} rows this dashboard '
                f"reads from one sheet, so it was not read. {tidy}")
    if e.cols > MAX_COLUMNS:
        return f'Sheet "{title}" has cells beyond column {MAX_COLUMNS:,} (XFD), Excel\'s own limit, so it was not read. {tidy}'
    if e.rows * e.cols > MAX_CELLS:
        return (f'Sheet "{title}" spans {e.rows:,} rows by {e.cols:,} columns ({e.rows * e.cols:,} cells), more than the '
                f"{MAX_CELLS:,} cells this dashboard reads from one sheet, so it was not read. {tidy} Remove columns "
                "the extract does not use.")
    return None


def _find_header(rows: list[list[object]], header_map: dict[str, str]) -> int | None:
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for v in row if v is not None and spec.norm(v) in header_map) >= 2:
            return i
    return None


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


def _read_sheet(reader, title: str, sheet: Sheet, extract: Extract, today: dt.date) -> None:
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
        extract.problems.append(
            _error(
                f'Sheet "{title}": the required column "{c.name}"{also} is missing from the header row '
                f"(row {excel_header}). Add it, or rename the column that holds it.",
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
    typed, problems = _validate(table, sheet, title, headers, today)
    extract.problems.extend(problems)
    data_sheet = SheetData(sheet, title, excel_header, headers, typed, typed.num_rows if typed is not None else 0)
    extract.sheets[sheet.name] = data_sheet
    if data_sheet.rows == 0 and not problems:
        extract.problems.append(_warning(f'Sheet "{title}" has a header row but no data rows.', sheet=title,
                                                  code="sheet_no_rows"))


# --- validation in bulk, in DuckDB -------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_MESSY = r"^[\s\p{Z}]|[\s\p{Z}]$|[\s\p{Z}]{2}|[\t\n\r\f\x0b]|[^ \PZ]"  # anything a clean-up would change


def _clean(col: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trimmed, runs of any white space (tabs, line breaks, non-breaking spaces) collapsed to one
    space, and "" made blank; the regular expression rewrites only the values that need it."""
    if not pa.types.is_string(col.type):
        col = col.cast(pa.string())
    messy = pc.match_substring_regex(col, _MESSY)
    if pc.any(messy).as_py():
        fixed = pc.utf8_trim(pc.replace_substring_regex(col, r"[\s\x0b\p{Z}]+", " "), " ")
        col = pc.if_else(messy, fixed, col)
    empty = pc.equal(col, "")
    if pc.any(empty).as_py():
        col = pc.if_else(empty, pa.scalar(None, pa.string()), col)
    return col


_NUMBER = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$"


def _parse_expr(col: spec.Column, t: str) -> str:
    """DuckDB expression turning the cleaned text `t` into the column's type (null when it does not parse)."""
    if col.type == ID:
        return f"case when ends_with({t}, '0') then regexp_replace({t}, '^(-?[0-9]+)\\.0+$', '\\1') else {t} end"
    if col.type == TEXT:
        return t
    if col.type == DATE:
        d = f"split_part(replace({t}, 'T', ' '), ' ', 1)"
        # the usual spelling first, without a regular expression: an Excel date cell reads as "2011-03-31 00:00:00"
        iso = (f"case when substr({t}, 5, 1) = '-' and substr({t}, 8, 1) = '-' and "
               f"(strlen({t}) = 10 or substr({t}, 11, 1) in (' ', 'T')) then try_cast(left({t}, 10) as date) end")
        return (
            f"cast(coalesce({iso}, "
            f"case when regexp_full_match({d}, '[0-9]{{4}}-[0-9]{{1,2}}-[0-9]{{1,2}}') then try_strptime({d}, '%Y-%m-%d') end, "
            f"case when regexp_full_match({d}, '[0-9]{{1,2}}/[0-9]{{1,2}}/[0-9]{{4}}') then try_strptime({d}, '%d/%m/%Y') end, "
            f"case when regexp_full_match({d}, '[0-9]{{1,2}}-[0-9]{{1,2}}-[0-9]{{4}}') then try_strptime({d}, '%d-%m-%Y') end, "
            f"case when regexp_full_match({d}, '[0-9]{{1,2}}\\.[0-9]{{1,2}}\\.[0-9]{{4}}') then try_strptime({d}, '%d.%m.%Y') end"
            ") as date)"
        )
    if col.type == FLAG:
        return (
            f"case when lower({t}) in ('y', 'yes', 'true', '1', '1.0') then true "
            f"when lower({t}) in ('n', 'no', 'false', '0', '0.0') then false end"
        )
    if col.type in (NUMBER, WHOLE):
        num = f"replace({t}, ',', '')"
        return f"case when regexp_matches({num}, '{_NUMBER}') then try_cast({num} as double) end"
    if col.type == ENUM:
        key = f"lower(regexp_replace({t}, '[^A-Za-z0-9]', '', 'g'))"
        cases = " ".join(f"when {_lit(k)} then {_lit(v)}" for k, v in col.enum_map().items())
        return f"case {key} {cases} end"
    raise ValueError(col.type)


def _validate(
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
    con = duckdb.connect()
    try:
        con.register("clean_in", rows)
        parse = ", ".join(f"{_parse_expr(c, _q('raw_' + c.name))} as {_q(c.name)}" for c in present)
        parsed = con.sql(f"select *, {parse} from clean_in").to_arrow_table()
        con.register("parsed", parsed)
        # (column order, value shown, kind of problem, condition on a row); then the duplicate keys
        checks: list[tuple[int, str, str, str]] = []
        for c in present:
            raw, val, o = _q("raw_" + c.name), _q(c.name), order[c.name]
            if c.required:
                checks.append((o, "null", "'blank'", f"{raw} is null"))
            checks.append((o, raw, "'type'", f"{raw} is not null and {val} is null"))
            if c.type == DATE:
                checks.append((o, raw, "'date_range'", f"{val} < $earliest or {val} > $today"))
            if c.type == WHOLE:
                checks.append((o, raw, "'range'", f"{val} <> floor({val}) or {val} < 0 or {val} > {MAX_WHOLE}"))
            if c.type == NUMBER and c.minimum is not None:
                op = "<=" if c.exclusive_minimum else "<"
                cond = f"{val} {op} {c.minimum}" + (f" or {val} > {c.maximum}" if c.maximum is not None else "")
                checks.append((o, raw, "'range'", cond))
        for later, earlier in sheet.date_order:
            if later in table.column_names and earlier in table.column_names:
                checks.append((order[later], _q("raw_" + later), f"'order:{earlier}'", f"{_q(later)} < {_q(earlier)}"))
        params = {"earliest": EARLIEST, "today": today} if any(c.type == DATE for c in present) else {}
        key = [k for k in sheet.key if k in table.column_names]
        k = ", ".join(_q(x) for x in key)
        key_known = " and ".join(_q(x) + " is not null" for x in key)
        # One pass to see whether anything is wrong at all (the usual answer is no) ...
        bad = " or ".join(f"({cond})" for *_, cond in checks) or "false"
        dup = f"(select count(*) > 0 from (select 1 from parsed where {key_known} group by {k} having count(*) > 1))" \
            if key else "false"
        if not con.execute(f"select (select count(*) > 0 from parsed where {bad}) or {dup}", params).fetchall()[0][0]:
            return _typed(parsed, present), []
        # ... and when something is, every problem, one row each.
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
            return _typed(parsed, present), []
        found = con.execute("select * from found order by 1, 2, 4 limit $n", {"n": MAX_PROBLEMS_PER_SHEET}).fetchall()
        problems = [_describe(sheet, title, headers, row, sheet.columns[o].name, value, kind, today)
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


def _typed(parsed: pa.Table, present: list[spec.Column]) -> pa.Table:
    """The typed columns, in sheet order."""
    typed = parsed.select(["excel_row", *(c.name for c in present)])
    rows = typed.column("excel_row")
    if typed.num_rows > 1 and not pc.all(pc.greater(rows[1:], rows[:-1])).as_py():
        typed = typed.sort_by("excel_row")
    return typed


def _us_date_hint(value: str) -> str:
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
    return ""


def _describe(sheet: Sheet, title: str, headers: dict[str, str], row: int, col: str, value, kind: str, today) -> Problem:
    column = sheet.column(col)
    header = headers.get(col, col)
    where = f'Sheet "{title}", row {row}, column "{header}"'
    if value is not None:
        # an Excel date cell reads as "2011-03-01 00:00:00": show it as Excel shows it in the UK
        m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2}) 00:00:00(?:\.0+)?", value)
        value = f"{m.group(3)}/{m.group(2)}/{m.group(1)}" if m else value
    shown = f'"{value}"' if value is not None else "blank"
    expected = column.expectation()
    if kind == "blank":
        return _error(f"{where}: a value is required but the cell is blank; expected {expected}.", sheet=title, row=row,
                      column=header, value=None, expected=expected)
    if kind == "type":
        hint = _us_date_hint(str(value)) if column.type == DATE else ""
        noun = {DATE: "a date", FLAG: "Y or N", NUMBER: "a number", WHOLE: "a whole number",
                ENUM: "an accepted value"}.get(column.type, "valid")
        return _error(f"{where}: {shown} is not {noun}; expected {expected}.{hint}", sheet=title, row=row,
                      column=header, value=value, expected=expected)
    if kind == "date_range":
        return _error(
            f"{where}: {shown} is outside the accepted range; expected a date on or after 01/01/1990 and not after the "
            f"day of the import ({today:%d/%m/%Y}).",
            sheet=title, row=row, column=header, value=value, expected=f"a date from 01/01/1990 to {today:%d/%m/%Y}",
        )
    if kind == "range":
        return _error(f"{where}: {shown} is out of range; expected {expected}.", sheet=title, row=row,
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


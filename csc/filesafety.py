"""An upload is hostile until proven otherwise: the checks made on a workbook as a file, before
any parser sees it (moved from `csc.extract`).

Its size, its real type from its bytes (old .xls, encrypted, CSV, .xlsb), its zip directory
(declared sizes and compression ratios: zip bombs are refused before anything is inflated). Then
every part the reader may parse is inflated here under a cap and checked: no part inflating
beyond what it declares, no XML entity declarations, and the cells of every recognised sheet
spanning a bounded area (the reader allocates a dense grid of rows x columns, so one cell at
ZZ1000000 in a 1 KB file would cost tens of GB).
"""

from __future__ import annotations

import codecs
import functools
import re
import queue
import struct
import threading
import zipfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from isal import isal_zlib

from csc import splitread

MAX_ROWS = 1_000_000  # data rows in one sheet
HEADER_SEARCH_ROWS = 10
MAX_FILE_BYTES = 200 * 1024 * 1024  # the upload itself
MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024  # declared size of all parts once inflated
MAX_PART_RATIO = 200  # a part inflating more than this many times over is a zip bomb
MAX_PARTS = 10_000  # parts in the zip; a workbook has a few dozen
MAX_COLUMNS = 16_384  # Excel's own limit (column XFD)
MAX_CELLS = 30_000_000  # rows x columns of one sheet's used area: the reader allocates all of them
OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 4 * 1024 * 1024  # inflate parts this much at a time
PROLOG_BYTES = 64 * 1024  # an XML part's root element must start within this
SAVE_AS = 'Open it in Excel and use File > Save As > "Excel Workbook (.xlsx)", then upload the saved .xlsx file.'


class FileRefused(Exception):
    """The file cannot be read as an extract at all."""


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
        collection = _xml_collection(path)
        if collection is not None:
            raise FileRefused(
                f'"{name}" is a DfE {collection} census return (XML), which the dashboard does not read: saving it '
                "as a workbook would not help. It reads the monthly extract (.xlsx), Ofsted's Annex A workbook, the "
                "Standard Safeguarding Dataset's tables and the children's social work workforce census (XML)."
                if collection != "CSWW" else f'"{name}" is a workforce census (XML) that could not be read.')
        kind = ("a web page (HTML), as some systems' \"export to Excel\" write" if _looks_like_html(path)
                else "a CSV or text file" if _looks_like_text(path) else "not an Excel workbook")
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
        raise damaged(name, exc) from exc
    if len(infos) > MAX_PARTS:
        raise FileRefused(f'"{name}" holds {len(infos):,} {too_many}')
    return infos


def damaged(name: str, exc: object = None) -> FileRefused:
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
        raise damaged(name, "no zip directory at its end: the file was probably cut short")
    count = struct.unpack("<H", tail[at + 10 : at + 12])[0]
    if MAX_PARTS < count < 0xFFFF:
        raise FileRefused(f'"{name}" holds {count:,} parts; an Excel workbook holds a few dozen. {SAVE_AS}')


def _ole_is_encrypted(path: Path) -> bool:
    with path.open("rb") as fh:
        data = fh.read(2_000_000)
    return "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data


def _xml_collection(path: Path) -> str | None:
    """The collection a DfE census return names (`<Message>` ... `<Collection>CIN</Collection>`),
    read from its first few KB; None for any other file."""
    with path.open("rb") as fh:
        head = fh.read(8192).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head.startswith(b"<") or b"<Message" not in head:
        return None
    m = re.search(rb"<Collection>\s*([A-Za-z0-9 _-]{1,40}?)\s*</Collection>", head)
    return m.group(1).decode("ascii") if m else None


def _looks_like_html(path: Path) -> bool:
    """An HTML page (a report saved from a browser, or a system's "export to Excel" that writes
    HTML under an .xls name: a review's was called "a CSV or text file")."""
    with path.open("rb") as fh:
        sample = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return sample.startswith((b"<!doctype html", b"<html")) or (sample.startswith(b"<") and b"<table" in sample)


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as fh:
        sample = fh.read(4096)
    return b"\x00" not in sample


# --- inflating parts under a cap ----------------------------------------------------------


def inflate(fh, info: zipfile.ZipInfo, name: str) -> Iterator[bytes]:
    """The part's bytes, a chunk at a time; refuses a part that inflates beyond what it declares
    (a lying zip bomb) or that is damaged. The caller may stop early."""
    fh.seek(info.header_offset)
    local = fh.read(30)
    if len(local) < 30 or local[:4] != ZIP_MAGIC:
        raise damaged(name, f"part {info.filename} is missing")
    n, m = struct.unpack("<HH", local[26:30])
    fh.seek(info.header_offset + 30 + n + m)
    left = info.compress_size
    produced = 0
    crc = 0
    if info.compress_type == zipfile.ZIP_STORED:
        while left > 0:
            raw = fh.read(min(CHUNK, left))
            if not raw:
                raise damaged(name, f"part {info.filename} is cut short")
            left -= len(raw)
            produced += len(raw)
            crc = isal_zlib.crc32(raw, crc)
            yield raw
    else:
        # ISA-L's inflate, zlib's format: 41 MB of XML in 0.04 s, where zlib takes 0.08 s, and
        # the CRC in 0.001 s, not 0.008 (issue 17; it lets go of the interpreter as zlib does)
        d = isal_zlib.decompressobj(-15)
        try:
            while not d.eof:
                if d.unconsumed_tail:
                    raw = d.unconsumed_tail
                elif left > 0:
                    raw = fh.read(min(CHUNK // 8, left))  # compressed: about a chunk once inflated
                    if not raw:
                        raise damaged(name, f"part {info.filename} is cut short")
                    left -= len(raw)
                else:  # all of it read: what the inflater still holds (ISA-L keeps output zlib would leave as input)
                    raw = b""
                out = d.decompress(raw, CHUNK)
                if not raw and not out:
                    raise damaged(name, f"part {info.filename} is cut short")
                produced += len(out)
                if produced > info.file_size:
                    raise FileRefused(
                        f'"{name}" contains a part ({info.filename}) that expands to more than the size it declares: '
                        "the pattern of a malicious file (a zip bomb), so it was not opened. Check it is the real extract."
                    )
                crc = isal_zlib.crc32(out, crc)
                if out:
                    yield out
        except isal_zlib.error as exc:
            raise damaged(name, f"part {info.filename}: {exc}") from exc
    if produced != info.file_size or crc != info.CRC:
        raise damaged(name, f"part {info.filename} fails its checksum")


def read_ahead(chunks: Iterator[bytes], depth: int = 2) -> Iterator[bytes]:
    """`chunks`, produced by a thread of their own up to `depth` ahead of the caller: inflating
    (ISA-L lets go of the interpreter while it works) overlaps with what the caller does with
    the chunk before (the cell scan, in RE2, does too), on two cores. Whatever `chunks` raises is
    raised here, in order; when this generator is closed or stops early, the thread stops too,
    and it has finished with the file before this returns."""
    ready: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    done = object()

    def produce() -> None:
        try:
            for chunk in chunks:
                while not stop.is_set():
                    try:
                        ready.put((chunk, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            ready.put((done, None))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller
            ready.put((done, exc))
        finally:
            close = getattr(chunks, "close", None)  # a generator: let it tidy up (and stop reading)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="csc-inflate", daemon=True)
    worker.start()
    try:
        while True:
            chunk, exc = ready.get()
            if chunk is done:
                if exc is not None:
                    raise exc
                return
            yield chunk
    finally:
        stop.set()
        while worker.is_alive():  # let a producer blocked on a full queue see the stop
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass
        worker.join()


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


_ESCAPED_TARGET = re.compile(rb"""\bTarget\s*=\s*(?:"[^"]*&|'[^']*&)""")
_DIMENSION = re.compile(rb'<(?:[A-Za-z_][\w.-]*:)?dimension\s+ref="([A-Za-z]+)(\d+)(?::([A-Za-z]+)(\d+))?"')
_ROOT_PREFIX = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
# A tag's prefix as loosely as the reader takes it: whatever comes before the first colon, even
# nothing or "a!b" (a review's `<:c` and `<a=b:c` were cells to it)
_NAME_CHAR = r"""[^\s<>/:"']"""
# a start tag whose quoted values may hold ">" (`<c foo="x>y" r="ZZ9">`: a review)
_ANY_TAG = re.compile(rb"<(?:" + _NAME_CHAR.encode() + rb"""*:)?(row|c)(?=[\s/>])((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_EVENT = re.compile(_ANY_TAG.pattern + rb"|</(?:" + _NAME_CHAR.encode() + rb"*:)?row\s*>")  # or a row's end
# an r attribute after a space or a quote (`s="0"r="ZZ9"`: a review); the reader takes the last
_R_ATTR = re.compile(rb"""(?:^|[\s"'])r\s*=\s*["']([A-Za-z]*)([0-9]*)["']""")


@dataclass
class Extent:
    """Where a worksheet's cells lie: what its <dimension> declares and what its cells reach."""

    declared_rows: int = 0
    declared_cols: int = 0
    rows: int = 0  # the highest Excel row number of any cell (an upper bound)
    cols: int = 0  # the highest column number of any cell (an upper bound)
    prefix: bytes = b""  # the namespace prefix of its tags ("x:"), if any
    # cells the reader reads as blank though Excel shows something: an error value (#N/A, a
    # formula that failed) and a formula with no saved result (a file written by a program, not
    # Excel): (count, the first few (reference, error) found), from `Cells`
    error_cells: tuple[int, tuple[tuple[str, str], ...]] = (0, ())
    unsaved_formulas: tuple[int, tuple[str, ...]] = (0, ())


class Cells:
    """Looks through a worksheet's XML for the cells the reader reads as blank though Excel shows
    something (`Extent.error_cells`, `Extent.unsaved_formulas`): a quick look for the attribute or
    the tag in each buffer, and a regular expression only where it is there."""

    SHOWN = 5  # references kept of each
    #: either, for RE2 (`_Scanner.feed`'s one pass): `{prefix}` the worksheet's tags' prefix
    RE2 = r't="e"|<{prefix}f[\s>/]'

    def __init__(self, prefix: bytes):
        p = re.escape(prefix)
        self.error_tag = b't="e"'
        self.formula_tag = b"<" + prefix + b"f"
        self.error = re.compile(rb"<" + p + rb'c\b[^>]*?\br="([A-Z]{1,3}[0-9]{1,7})"[^>]*?\bt="e"[^>]*>\s*(?:<' + p
                                + rb"f\b[^>]*(?:/>|>[^<]*</" + p + rb"f>)\s*)?<" + p + rb"v>([^<]{0,20})</" + p + rb"v>")
        # a formula and no value, or an empty one (openpyxl writes <v />); its reference when it has one
        self.unsaved = re.compile(rb"<" + p + rb'c\b(?:(?=[^>]*?\br="([A-Z]{1,3}[0-9]{1,7})"))?[^>]*>\s*<' + p
                                  + rb"f\b[^>]*(?:/>|>[^<]*</" + p + rb"f>)\s*(?:<" + p + rb"v\s*/>|<" + p
                                  + rb"v>\s*</" + p + rb"v>)?\s*</" + p + rb"c>")
        self.errors: list[tuple[str, str]] = []
        self.n_errors = 0
        self.formulas: list[str] = []
        self.n_formulas = 0

    def feed(self, buf: bytes) -> None:
        if self.error_tag in buf:
            self.n_errors += buf.count(self.error_tag)  # the attribute is a cell's only (<f t=...> is never "e")
            if len(self.errors) < self.SHOWN:  # which cells: those whole in this buffer
                for m in self.error.finditer(buf):
                    self.errors.append((m.group(1).decode(), m.group(2).decode("utf-8", "replace")))
                    if len(self.errors) == self.SHOWN:
                        break
        if self.formula_tag in buf:
            for m in self.unsaved.finditer(buf):
                self.n_formulas += 1
                if len(self.formulas) < self.SHOWN and m.group(1):  # (a cell written without its reference: counted)
                    self.formulas.append(m.group(1).decode())


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
        # column letters in either case: the reader takes "zz999999" as ZZ999999 (a red-team review:
        # a 2 KB file measured as 26 columns wide asked the reader for 22 GB)
        self.multi_letter = re.compile(p + rb'c r="[A-Za-z]{2}')
        self.multi_letter_all = re.compile(p + rb'c r="([A-Za-z]{2,})')
        self.long_row = {k: re.compile(p + rb'c r="[A-Za-z]+[0-9]{%d}' % k) for k in range(1, 8)}
        self.long_row_all = {k: re.compile(p + rb'c r="[A-Za-z]+([0-9]{%d,})' % k) for k in range(1, 8)}
        # The same search for RE2 (pyarrow), which has no look-ahead but scans about twice as fast
        # as Python's `re` here: the text after "<c " spelt out as every way of not starting
        # with r="[A-Z][0-9]{1,6}" (the last line: a buffer ending inside such a reference)
        self.not_simple_re2 = p.decode("latin-1") + (
            r'c(?:[>/\t\n\r]| (?:[^r]|r[^=]|r=[^"]|r="[^A-Z]|r="[A-Z][^0-9]|r="[A-Z][0-9]{1,6}[^0-9"]'
            r'|r="[A-Z][0-9]{7}|(?:r(?:=(?:"(?:[A-Z][0-9]{0,6})?)?)?)?\z))')
        # ... or an error cell or a formula (`Cells`), in the same pass: the usual buffer has neither
        self.not_simple_or_cells_re2 = self.not_simple_re2 + "|" + Cells.RE2.format(prefix=re.escape(
            prefix.decode("latin-1")))
        # a cell or row tag with another prefix than the worksheet's: the reader matches tags by their
        # local name, whatever the prefix, so `<x:c r="ZZ999999">` under an unprefixed root is a cell
        # to it that the patterns above never see (a review: 2 KB asking for 22 GB); measured exactly
        # ... and a cell tag these patterns could misread: a quoted value holding ">" (`foo="x>y"`),
        # or a second r attribute (the reader takes the last, these patterns the first): a review
        q = p.decode("latin-1")
        self.foreign_re2 = (_foreign_re2(prefix) + rf"""|{q}c\s[^>]*="[^"]*>|{q}c\s[^>]*='[^']*>"""
                            + rf"""|{q}c\s[^>]*r\s*=[^>]*[\s"']r\s*=""")  # (`q` begins with "<")
        self.foreign = re.compile(self.foreign_re2.encode())
        self.not_simple_or_cells_re2 += "|" + self.foreign_re2
        self.fast = True  # False: a cell without a reference was seen
        self.rows = 0  # upper bounds
        self.cols = 0

    def _any(self, buf: bytes, pattern: str | None = None) -> bool:
        """Whether RE2 `pattern` (default: `self.not_simple`'s) matches the buffer's bytes as they are."""
        if len(buf) >= 2**31:  # beyond a binary value's offsets (buffers are a few MB): both, as if matched
            return pattern is not None or self.not_simple.search(buf) is not None
        one = pa.Array.from_buffers(pa.binary(), 1, [None, pa.py_buffer(struct.pack("<ii", 0, len(buf))),
                                                     pa.py_buffer(buf)])
        return pc.match_substring_regex(one, pattern or self.not_simple_re2)[0].as_py()

    def usual(self, buf: bytes) -> bool:
        """Whether the buffer has only simple cells and neither an error cell nor a formula: `feed`'s
        one look at it with `cells`, in RE2, which lets go of the interpreter, so a thread may take it
        for a later buffer while `feed` measures this one (`inspect_parts`)."""
        return not self._any(buf, self.not_simple_or_cells_re2)

    def feed(self, buf: bytes, cells: Cells | None = None, usual: bool | None = None) -> None:
        """Measure the buffer; `cells`: look for error cells and formulas too (one pass for both
        when there is neither). `usual`: that pass's answer, `usual(buf)`, if already known."""
        if not self.fast:
            if cells is not None:
                cells.feed(buf)
            return
        if cells is not None:
            if self.usual(buf) if usual is None else usual:  # the usual case: one look at the buffer
                self.rows, self.cols = max(self.rows, 999_999), max(self.cols, 26)
                return
            cells.feed(buf)
        if self._any(buf, self.foreign_re2):  # `self.foreign.search(buf)`, by RE2
            self.fast = False
            return
        if not self._any(buf):  # `self.not_simple.search(buf)`, by RE2
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


def _foreign_re2(prefix: bytes) -> str:
    """An expression (RE2 and Python alike: no look-ahead) for a `c` or `row` start tag whose
    prefix is not `prefix` (b"" or b"x:"): the name before the colon spelt out as every way of
    not being `prefix`'s: shorter, longer, or another character somewhere."""
    tag = r"(?:c|row)[\s/>]"
    if not prefix:
        return rf"<{_NAME_CHAR}*:{tag}"
    name = prefix[:-1].decode("latin-1")
    k = len(name)
    ways = [rf"{_NAME_CHAR}{{{k + 1},}}", rf"{_NAME_CHAR}{{0,{k - 1}}}"]
    for i, ch in enumerate(name):
        other = _NAME_CHAR[:-1] + re.escape(ch) + "]"  # a name character, not this one
        ways.append(re.escape(name[:i]) + other + (rf"{_NAME_CHAR}{{{k - i - 1}}}" if k - i - 1 else ""))
    return rf"<(?:{tag}|(?:{'|'.join(ways)}):{tag})"


def _exact_extent(chunks: Iterator[bytes]) -> tuple[int, int]:
    """The reader's own rules: a cell without a reference is one column right of the previous
    one, a row without a number is one below the previous one."""
    row = col = max_row = max_col = 0
    in_row = False
    for buf in _before_tags(b"", chunks):
        for m in _EVENT.finditer(buf):
            kind, attrs = m.group(1), m.group(2)
            if kind is None:  # </row>
                in_row = False
                continue
            found = _R_ATTR.findall(attrs)
            letters, digits = found[-1] if found else (b"", b"")  # two r attributes: the reader takes the last
            if kind == b"row":
                if in_row:
                    # a row inside a row: the reader counts rows by their ends, these checks by their
                    # starts (a review: 20,000 nested rows asked it for 10 GB); Excel never writes one
                    return 10**9, max(max_col, 1)
                in_row = not attrs.rstrip().endswith(b"/")
                row = _row_number(digits) if digits else row + 1
                col = 0
            else:
                if letters:
                    col = _col_number(letters)
                    r = _row_number(digits) if digits else row
                else:
                    col, r = col + 1, row
                max_row, max_col = max(max_row, r), max(max_col, col)
    return max_row, max_col


def _before_tags(head: bytes, chunks: Iterator[bytes]) -> Iterator[bytes]:
    """A part's bytes (`head`, then `chunks`) in buffers each cut just before a "<", so that no
    tag runs from one into the next (a tag longer than a chunk is carried whole: a review's 8 MB
    cell tag was cut, and its reference never seen); the last one holds what follows the last "<"."""
    carry = head
    for chunk in chunks:
        buf = carry + chunk
        cut = buf.rfind(b"<")
        if cut > 0:
            buf, carry = buf[:cut], buf[cut:]
        elif cut == 0:  # one tag so far, perhaps not ended: wait for the next "<"
            carry = buf
            continue
        else:
            carry = b""
        yield buf
    yield carry


def _measure(looks: deque, scanner: _Scanner, cells: Cells, waiting: int) -> None:
    """Feed the oldest buffers of `looks` (buffer, its pending `_Scanner.usual`) to the scanner, in
    order, until `waiting` are left (a cell cut between two buffers is counted, not always named)."""
    while len(looks) > waiting:
        done, usual = looks.popleft()
        scanner.feed(done, cells, usual.result())


def _sheets_or_none(path: Path, name: str) -> list:
    """The workbook's sheets (`workbook_sheets`), or none when they cannot be read: for a message."""
    try:
        return workbook_sheets(path, name)
    except Exception:  # noqa: BLE001 - only a message is at stake
        return []


def _measure_other(path: Path, part: str, head: bytes, chunks: Iterator[bytes], whole: list | None, again,
                   name: str) -> None:
    """Measure an XML part the checks do not expect the reader to open (`inspect_parts`): the
    area its cells span, if it has any; refused when that is more than a sheet may span. `whole`:
    filled with the part's bytes; `again()`: its chunks afresh, for an exact measure."""
    scanner = None  # made for the first buffer with a cell tag in it: most parts have none
    for buf in _before_tags(head, chunks):
        # no "<c" and no ":c" is no cell tag at all (the shared strings, the styles ...): a byte search
        if b"<c" in buf or b":c" in buf:
            if scanner is None:
                root = _ROOT_PREFIX.search(head, 0, PROLOG_BYTES)  # (a head may be a chunk of megabytes)
                scanner = _Scanner(root.group(1) or b"" if root else b"")
                unusual = scanner.not_simple_re2 + "|" + scanner.foreign_re2  # one look at the buffer
            if scanner._any(buf, unusual):
                scanner.feed(buf)
        if whole is not None:
            whole.append(buf)
    if scanner is None:
        return
    extent = Extent(rows=max(scanner.rows, 999_999), cols=max(scanner.cols, 26))
    if not scanner.fast or sheet_too_big("", extent):
        extent.rows, extent.cols = _exact_extent(again())
        if sheet_too_big("", extent):
            sheet = next((f'sheet "{t}" ' for t, p_, _ in _sheets_or_none(path, name) if p_ == part), "")
            raise FileRefused(
                f'"{name}" has a part ({sheet}{part}) whose cells span {extent.rows:,} rows by {extent.cols:,} '
                "columns, more than a sheet this dashboard reads may, so the file was not read. If it is a sheet, "
                "delete its empty formatted rows and columns (Ctrl+End shows the last used cell), or the sheet if "
                f"the extract does not need it, save, and upload again. {SAVE_AS}")


def inspect_parts(path: Path, name: str, load: set[str], keep: dict | None = None) -> dict[str, Extent]:
    """Inflate (under caps) every part: no part larger than declared, no damage, no XML entity
    declarations; measure the worksheets in `load`, and every other XML part too (refused when its
    cells span more than a sheet may: the reader may be sent to it). `keep`: filled, when a worksheet in `load` is large enough to be read in halves
    (`csc.splitread`), with those worksheets (as `splitread.Pieces`) and the bytes of the parts
    they are read with, as inflated and checked here; left empty otherwise."""
    extents: dict[str, Extent] = {}
    with zipfile.ZipFile(path) as zf, path.open("rb") as fh:
        # not folder entries; one whose name ends in "/" but holds bytes is a part (a review's reader opened it)
        infos = [i for i in zf.infolist() if not (i.filename.endswith("/") and i.file_size == 0)]
        if keep is not None:
            split = {i.filename for i in infos if i.filename in load and splitread.worth_splitting(i.file_size)}
            alongside = {i.filename for i in infos if splitread.wanted_alongside(i.filename)}
            if not split or sum(i.file_size for i in infos if i.filename in alongside) > splitread.OTHERS_MAX:
                keep = None
        for info in infos:
            part = info.filename
            is_sheet = part in load or (part.startswith("xl/worksheets/") and part.count("/") == 2)
            chunks = inflate(fh, info, name)
            head = b""
            for chunk in chunks:
                head += chunk
                if len(head) >= PROLOG_BYTES:
                    break
            xml = _looks_like_xml(head)
            if xml:  # whatever the part's name: the reader follows the relationships
                _check_prolog(head, len(head) < PROLOG_BYTES, part, name)
            if part not in load:
                # Any part may be the one the reader opens as a sheet: it takes a relationship's
                # Target as written ("./", "..", "//", a tab, another case, an escaped Id ...), where
                # these checks resolve it (reviews found a dozen ways to send it to a part never
                # measured: 2 KB asking for 22 GB), and reads what does not look like XML too. So
                # every part is measured, and refused when it spans more than a sheet may.
                whole = [] if keep is not None and part in alongside and not is_sheet else None
                _measure_other(path, part, head, chunks, whole, functools.partial(inflate, fh, info, name), name)
                if whole is not None:
                    keep[part] = b"".join(whole)  # and so verified: size and checksum
                continue
            extent = extents[part] = Extent()
            m = _DIMENSION.search(head)
            if m and m.group(3):
                extent.declared_rows, extent.declared_cols = _row_number(m.group(4)), _col_number(m.group(3))
                if extent.declared_rows > MAX_ROWS + HEADER_SEARCH_ROWS:
                    chunks.close()  # refused on what it declares, without reading further
                    continue
            root = _ROOT_PREFIX.search(head)
            extent.prefix = root.group(1) or b"" if root else b""
            scanner, cells = _Scanner(extent.prefix), Cells(extent.prefix)
            pieces = [] if keep is not None and part in split else None
            # the next buffers inflate (and are cut) in a thread while those before are scanned, the
            # one look at each buffer (`_Scanner.usual`) taken by two threads at once, and the
            # buffers measured in order, each as its look is done (a few at a time in memory): the
            # scan had been most of the checks' time once inflating took half as long (issue 17)
            looks: deque = deque()
            with ThreadPoolExecutor(2, thread_name_prefix="csc-scan") as pool:
                for buf in read_ahead(_before_tags(head, chunks)):
                    looks.append((buf, pool.submit(scanner.usual, buf)))
                    _measure(looks, scanner, cells, 2)
                    if pieces is not None:
                        pieces.append(buf)  # each cut before a "<": no tag runs over two (`splitread.Pieces`)
                _measure(looks, scanner, cells, 0)
            extent.rows, extent.cols = scanner.rows, scanner.cols
            extent.error_cells = (cells.n_errors, tuple(cells.errors))
            extent.unsaved_formulas = (cells.n_formulas, tuple(cells.formulas))
            if pieces is not None:
                keep[part] = splitread.Pieces(pieces)
            if not scanner.fast or sheet_too_big("", extent):  # measure exactly before refusing on a bound
                extent.rows, extent.cols = _exact_extent(inflate(fh, info, name))
    return extents


HIDDEN = ("hidden", "veryHidden")  # a sheet's states in which Excel does not show it


def sheet_parts(path: Path, name: str) -> dict[str, str]:
    """Sheet title -> worksheet part name, from the workbook and its relationships."""
    return {title: part for title, part, _ in workbook_sheets(path, name)}


def workbook_sheets(path: Path, name: str) -> list[tuple[str, str, str]]:
    """(title, worksheet part name, state: "visible" or one of `HIDDEN`) of each sheet, from the
    workbook and its relationships."""
    import defusedxml.ElementTree as ET

    def read(zf: zipfile.ZipFile, fh, part: str) -> bytes:
        info = zf.getinfo(part)
        data = b"".join(inflate(fh, info, name))
        _check_prolog(data, True, part, name)
        return data

    try:
        with zipfile.ZipFile(path) as zf, path.open("rb") as fh:
            wb = ET.fromstring(read(zf, fh, "xl/workbook.xml"))
            raw_rels = read(zf, fh, "xl/_rels/workbook.xml.rels")
            rels = ET.fromstring(raw_rels)
            members = set(zf.namelist())
    except FileRefused:
        raise
    except KeyError as exc:
        raise damaged(name, f"{exc.args[0]} is missing") from exc
    except Exception as exc:  # malformed XML, or defusedxml refusing a DTD
        raise damaged(name, f"the list of sheets cannot be read: {exc}") from exc
    if _ESCAPED_TARGET.search(raw_rels):
        # the reader takes a part's name as written, these checks as XML reads it: "sheet&#49;.xml"
        # would be a part never measured (a red-team review: 2 KB asking the reader for 22 GB)
        raise damaged(name, "a part of the workbook is named with an escaped character (&...;), which Excel never "
                            "writes")
    targets = {r.get("Id"): r.get("Target") or "" for r in rels}
    parts = []
    for el in wb.iter():
        if el.tag.endswith("}sheet") or el.tag == "sheet":
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rid, "")
            if target.startswith("/"):
                target = target.lstrip("/")
            else:
                target = "xl/" + target
            part = re.sub(r"[^/]+/\.\./", "", target.replace("/./", "/"))
            if part not in members:  # part names are not case-sensitive (Excel, the reader): "Sheet1.xml"
                part = next((m for m in sorted(members) if m.lower() == part.lower()), part)
            parts.append((el.get("name"), part, el.get("state") or "visible"))
    return parts


def sheet_too_big(title: str, e: Extent) -> str | None:
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

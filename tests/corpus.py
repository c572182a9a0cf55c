"""The corpus of bad (and awkward but good) workbooks, built by the tests at run time.

Every case is a named builder function `build(folder) -> Path` plus what the import must do
with it: refuse it with a message naming the right sheet, Excel row, column (as headed in the
file), value and expectation, or load it. No binary is committed: the workbooks are written
with openpyxl, or by hand (zip + XML) where openpyxl cannot write what the case needs (cached
formula values, lying zip headers, entity declarations, a huge declared dimension...).
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl

TODAY = dt.date.today()
FUTURE = TODAY + dt.timedelta(days=40)

# --- good rows every case starts from ---------------------------------------------------

REFERRALS = ["referral_id", "child_id", "referral_date", "area_office", "team", "source"]
ASSESSMENTS = ["assessment_id", "child_id", "assessment_type", "start_date", "completed_date", "child_seen",
               "area_office", "team", "worker_id"]
CP_PLANS = ["cp_plan_id", "child_id", "start_date", "end_date", "category", "previous_plans", "area_office", "team",
            "worker_id"]
INVOLVEMENTS = ["involvement_id", "child_id", "worker_id", "start_date", "end_date", "area_office", "team",
                "change_reason"]
TRANSFERS = ["transfer_id", "child_id", "from_team", "to_team", "requested_date", "accepted_date", "area_office"]
WORKFORCE = ["worker_id", "area_office", "team", "role", "is_qualified", "is_agency", "fte", "start_date", "end_date",
             "leave_reason"]
ESTABLISHMENT = ["team", "area_office", "funded_fte"]
AUDITS = ["audit_id", "child_id", "audit_date", "area_office", "subject", "grade", "is_smart"]
SUPERVISIONS = ["supervision_id", "worker_id", "supervision_date"]


def d(day: int, month: int = 4, year: int = 2011) -> dt.date:
    return dt.date(year, month, day)


def referrals(n: int = 3, start: int = 1) -> list[list[object]]:
    return [list(REFERRALS)] + [[f"R{i}", f"C{i}", d(1 + i % 28), "North", "Team A", "Police"] for i in range(start, start + n)]


def assessments(n: int = 3) -> list[list[object]]:
    return [list(ASSESSMENTS)] + [
        [f"A{i}", f"C{i}", "Single", d(1 + i % 20), d(5 + i % 20), "Y", "North", "Team A", "W1"] for i in range(1, n + 1)
    ]


def cp_plans(n: int = 3) -> list[list[object]]:
    return [list(CP_PLANS)] + [
        [f"P{i}", f"C{i}", d(1 + i), d(20 + i), "Neglect", 0, "North", "Team A", "W1"] for i in range(1, n + 1)
    ]


def involvements(n: int = 3) -> list[list[object]]:
    return [list(INVOLVEMENTS)] + [
        [f"I{i}", f"C{i}", "W1", d(1 + i), None, "North", "Team A", "MANAGE"] for i in range(1, n + 1)
    ]


def transfers(n: int = 3) -> list[list[object]]:
    return [list(TRANSFERS)] + [
        [f"T{i}", f"C{i}", "Intake", "Team A", d(1 + i), d(3 + i), "North"] for i in range(1, n + 1)
    ]


def workforce(n: int = 3) -> list[list[object]]:
    return [list(WORKFORCE)] + [
        [f"W{i}", "North", "Team A", "Social Worker", "Y", "N", 1, d(1, 1, 2010), None, None] for i in range(1, n + 1)
    ]


def establishment() -> list[list[object]]:
    return [list(ESTABLISHMENT), ["Team A", "North", 5.5], ["Team B", "North", 3]]


def audits(n: int = 3) -> list[list[object]]:
    return [list(AUDITS)] + [[f"AU{i}", f"C{i}", d(10 + i), "North", "CP Plan", "Good", "Y"] for i in range(1, n + 1)]


def supervisions(n: int = 3) -> list[list[object]]:
    return [list(SUPERVISIONS)] + [[f"S{i}", "W1", d(10 + i)] for i in range(1, n + 1)]


# --- writers ---------------------------------------------------------------------------


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]], merge: dict[str, str] | None = None) -> Path:
    """A workbook written by openpyxl: sheet title -> rows (None = empty cell)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(list(row))
        if merge and title in merge:
            ws.merge_cells(merge[title])
    wb.save(path)
    return path


@dataclass(frozen=True)
class Formula:
    """A formula cell with the value Excel cached when it last calculated (`cached=None`: never calculated)."""

    formula: str
    cached: object = None


def col_letters(n: int) -> str:
    s = ""
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


def excel_serial(day: dt.date) -> int:
    return (day - dt.date(1899, 12, 30)).days


def _cell(ref: str | None, value: object) -> str:
    r = f' r="{ref}"' if ref else ""
    if isinstance(value, Formula):
        f = f"<f>{escape(value.formula)}</f>"
        if value.cached is None:
            return f"<c{r}>{f}</c>"
        if isinstance(value.cached, str):
            return f'<c{r} t="str">{f}<v>{escape(value.cached)}</v></c>'
        if isinstance(value.cached, dt.date):
            return f'<c{r} s="1">{f}<v>{excel_serial(value.cached)}</v></c>'
        return f"<c{r}>{f}<v>{value.cached}</v></c>"
    if isinstance(value, bool):
        return f'<c{r} t="b"><v>{int(value)}</v></c>'
    if isinstance(value, dt.date):
        return f'<c{r} s="1"><v>{excel_serial(value)}</v></c>'
    if isinstance(value, int | float):
        return f"<c{r}><v>{value!r}</v></c>"
    return f'<c{r} t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def sheet_xml(rows: list[list[object]], dimension: str | None = None, refs: bool = True, prolog: str = "",
              first_row: int = 1) -> str:
    """A worksheet part written by hand; `refs=False` leaves out the r="A1" references (allowed by the format)."""
    out = []
    for i, row in enumerate(rows, start=first_row):
        if refs:
            cells = "".join(_cell(f"{col_letters(j)}{i}", v) for j, v in enumerate(row, start=1) if v is not None)
            out.append(f'<row r="{i}">{cells}</row>')
        else:
            cells = "".join(_cell(None, v) if v is not None else "<c/>" for v in row)
            out.append(f"<row>{cells}</row>")
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n{prolog}'
            f'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{dim}'
            f"<sheetData>{''.join(out)}</sheetData></worksheet>")


STYLES = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
          '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
          '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
          '<fills count="1"><fill><patternFill patternType="none"/></fill></fills>'
          '<borders count="1"><border/></borders>'
          '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
          '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
          '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
          "</styleSheet>")


def raw_workbook(path: Path, sheets: dict[str, str], shared_strings: str | bytes | None = None,
                 extra: dict[str, bytes | str] | None = None, macro: bool = False,
                 shared_strings_part: str = "sharedStrings.xml", compression: int = zipfile.ZIP_DEFLATED) -> Path:
    """A workbook zip written by hand: sheet title -> worksheet XML (see `sheet_xml`)."""
    ns = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel_ns = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    kind = "application/vnd.ms-excel.sheet.macroEnabled.main+xml" if macro else \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"
    overrides = [f'<Override PartName="/xl/workbook.xml" ContentType="{kind}"/>',
                 '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>']
    sheet_els, rels = [], [
        f'<Relationship Id="rIdS" Type="{rel_ns}/styles" Target="styles.xml"/>'
    ]
    parts: dict[str, bytes | str] = {"xl/styles.xml": STYLES}
    for i, (title, xml) in enumerate(sheets.items(), start=1):
        sheet_els.append(f'<sheet name="{escape(title, {chr(34): "&quot;"})}" sheetId="{i}" r:id="rId{i}"/>')
        rels.append(f'<Relationship Id="rId{i}" Type="{rel_ns}/worksheet" Target="worksheets/sheet{i}.xml"/>')
        overrides.append(f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                         'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
        parts[f"xl/worksheets/sheet{i}.xml"] = xml
    if shared_strings is not None:
        rels.append(f'<Relationship Id="rIdSS" Type="{rel_ns}/sharedStrings" Target="{shared_strings_part}"/>')
        overrides.append(f'<Override PartName="/xl/{shared_strings_part}" '
                         'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>')
        parts[f"xl/{shared_strings_part}"] = shared_strings
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    files: dict[str, bytes | str] = {
        "[Content_Types].xml": head + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>' + "".join(overrides) + "</Types>",
        "_rels/.rels": head + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        f'<Relationship Id="rId1" Type="{rel_ns}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": head + f'<workbook xmlns="{ns}" xmlns:r="{rel_ns}"><sheets>{"".join(sheet_els)}</sheets></workbook>',
        "xl/_rels/workbook.xml.rels": head + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + "".join(rels) + "</Relationships>",
        **parts,
        **(extra or {}),
    }
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return path


def patch_flag(path: Path, member: str, bit: int) -> Path:
    """Set a general-purpose flag bit of a member in the central directory (bit 0: encrypted)."""
    data = bytearray(path.read_bytes())
    cd = data.rfind(b"PK\x05\x06")
    i = struct.unpack_from("<I", data, cd + 16)[0]
    while data[i : i + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<HHH", data, i + 28)
        if data[i + 46 : i + 46 + n].decode() == member:
            flags = struct.unpack_from("<H", data, i + 8)[0]
            struct.pack_into("<H", data, i + 8, flags | (1 << bit))
        i += 46 + n + m + k
    path.write_bytes(bytes(data))
    return path


def patch_sizes(path: Path, member: str, file_size: int) -> Path:
    """Rewrite a member's declared uncompressed size in both its local header and the central
    directory (the zip stays otherwise intact): a lying header."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo(member)
    struct.pack_into("<I", data, info.header_offset + 22, file_size)
    cd = data.rfind(b"PK\x05\x06")
    cd_offset = struct.unpack_from("<I", data, cd + 16)[0]
    i = cd_offset
    while data[i : i + 4] == b"PK\x01\x02":
        n, m, k = struct.unpack_from("<HHH", data, i + 28)
        if data[i + 46 : i + 46 + n].decode() == member:
            struct.pack_into("<I", data, i + 24, file_size)
        i += 46 + n + m + k
    path.write_bytes(bytes(data))
    return path


def ole2(path: Path, names: list[str]) -> Path:
    """A minimal OLE2 compound file (the container of .xls and of encrypted .xlsx files): a header,
    one FAT sector and one directory sector naming the given streams (names in UTF-16LE)."""
    header = bytearray(512)
    header[0:8] = bytes.fromhex("D0CF11E0A1B11AE1")
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<I", header, 44, 1)  # FAT sectors
    struct.pack_into("<I", header, 48, 1)  # first directory sector
    struct.pack_into("<I", header, 56, 4096)
    struct.pack_into("<I", header, 60, 0xFFFFFFFE)
    struct.pack_into("<I", header, 68, 0xFFFFFFFE)
    header[76:80] = struct.pack("<I", 0)
    for i in range(1, 109):
        struct.pack_into("<I", header, 76 + 4 * i, 0xFFFFFFFF)
    fat = bytearray(b"\xff" * 512)
    struct.pack_into("<III", fat, 0, 0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFE)
    directory = bytearray()
    for i, name in enumerate(["Root Entry", *names][:4]):
        entry = bytearray(128)
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        entry[0 : len(encoded)] = encoded
        struct.pack_into("<HBB", entry, 64, len(encoded), 5 if i == 0 else 2, 1)
        struct.pack_into("<III", entry, 68, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF)
        directory += entry
    directory += b"\x00" * (512 - len(directory))
    path.write_bytes(bytes(header) + bytes(fat) + bytes(directory) + b"\x00" * 512)
    return path


# --- the cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]
    loads: bool
    words: tuple[str, ...] = ()  # must all appear in one message (an error, or a warning when it loads)
    sheet: str | None = None
    row: int | None = None
    column: str | None = None
    value: str | None = None
    check: Callable | None = None  # more checks: check(store, result)
    period: str = "2011-05"

    @property
    def file_name(self) -> str:
        return self.name + ".xlsx"


CASES: list[Case] = []


def case(loads: bool = False, words: tuple[str, ...] = (), **kw) -> Callable:
    def register(fn: Callable[[Path], Path]) -> Callable[[Path], Path]:
        CASES.append(Case(fn.__name__, fn, loads, tuple(words), **kw))
        return fn

    return register


# The file itself

@case(words=("old-style", ".xls", "File > Save As", "Excel Workbook (.xlsx)"))
def xls_file(folder: Path) -> Path:
    return ole2(folder / "xls_file.xls", ["Workbook", "\x05SummaryInformation"])


@case(words=("xls_renamed.xlsx", "old-style", ".xls", "Save As"))
def xls_renamed_xlsx(folder: Path) -> Path:
    return ole2(folder / "xls_renamed.xlsx", ["Workbook"])


@case(words=("password-protected", "remove the password", ".xlsx"))
def password_protected(folder: Path) -> Path:
    return ole2(folder / "password_protected.xlsx", ["EncryptionInfo", "EncryptedPackage", "\x06DataSpaces"])


@case(words=("CSV", "whatever its name says", "Save As", "Excel Workbook (.xlsx)"))
def csv_renamed_xlsx(folder: Path) -> Path:
    path = folder / "csv_renamed.xlsx"
    path.write_text("referral_id,child_id,referral_date,area_office\nR1,C1,01/04/2011,North\n")
    return path


@case(words=("empty", "0 bytes"))
def empty_file(folder: Path) -> Path:
    path = folder / "empty_file.xlsx"
    path.write_bytes(b"")
    return path


@case(words=("not an Excel workbook", "Save As"))
def random_bytes(folder: Path) -> Path:
    path = folder / "random_bytes.xlsx"
    path.write_bytes(bytes(range(256)) * 8)
    return path


@case(words=("damaged", "cut short", "export the extract again"))
def corrupt_zip_truncated(folder: Path) -> Path:
    good = write_xlsx(folder / "whole.xlsx", {"referrals": referrals(50)})
    path = folder / "truncated.xlsx"
    path.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    return path


@case(words=("damaged", "xl/worksheets/sheet1.xml"))
def corrupt_part_data(folder: Path) -> Path:
    """Bytes flipped inside the compressed sheet: the zip directory is intact, the part is not."""
    path = write_xlsx(folder / "corrupt_part.xlsx", {"referrals": referrals(200)})
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    n, m = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + n + m
    for i in range(start + 40, start + info.compress_size - 40, 97):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    return path


@case(words=("zip archive but not an Excel workbook", "Save As"))
def zip_not_workbook(folder: Path) -> Path:
    path = folder / "zip_not_workbook.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
        zf.writestr("data/referrals.csv", "referral_id\nR1\n")
    return path


@case(words=("binary workbook (.xlsb)", "Save As", "Excel Workbook (.xlsx)"))
def xlsb_like(folder: Path) -> Path:
    path = folder / "xlsb_like.xlsb"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.bin", b"\x83\x01\x00" * 100)
        zf.writestr("xl/worksheets/sheet1.bin", b"\x00" * 100)
    return path


@case(words=("would expand to", "GB", "zip bomb", "not opened"))
def zip_bomb_declared(folder: Path) -> Path:
    """A part declaring 3.9 GB once inflated: refused from the zip directory, before inflating anything."""
    path = raw_workbook(folder / "zip_bomb_declared.xlsx", {"referrals": sheet_xml(referrals())},
                        extra={"xl/media/image1.xml": "<a/>" * 1000})
    return patch_sizes(path, "xl/media/image1.xml", 0xF0000000)


@case(words=("times over", "zip bomb", "not opened"))
def zip_bomb_ratio(folder: Path) -> Path:
    """A 50 MB part of one repeated byte squeezed into ~50 KB: the classic bomb's ratio."""
    path = folder / "zip_bomb_ratio.xlsx"
    raw_workbook(path, {"referrals": sheet_xml(referrals())})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(zipfile.ZipInfo("xl/sharedStrings.xml"), b"<sst>" + b" " * 50_000_000 + b"</sst>",
                    compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
    return path


@case(words=("more than the size it declares", "zip bomb"))
def zip_bomb_lying_header(folder: Path) -> Path:
    """A part whose header claims 2 KB but whose data inflates to 900 KB (under the ratio check's
    radar): caught while inflating it under a cap, before the reader sees it."""
    strings = ('<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
               + "<si><t>x</t></si>" * 50_000 + "</sst>")
    path = raw_workbook(folder / "zip_bomb_lying.xlsx", {"referrals": sheet_xml(referrals())}, shared_strings=strings)
    return patch_sizes(path, "xl/sharedStrings.xml", 2048)


@case(words=("more than the size it declares", "zip bomb"))
def zip_bomb_lying_sheet(folder: Path) -> Path:
    """A worksheet whose header claims 300 KB but whose data inflates to several MB: caught while
    the cell scan reads it chunk by chunk (inflated a chunk ahead, in a thread of its own)."""
    path = raw_workbook(folder / "zip_bomb_lying_sheet.xlsx", {"referrals": sheet_xml(referrals(60_000))})
    return patch_sizes(path, "xl/worksheets/sheet1.xml", 300_000)


BILLION_LAUGHS = (
    '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
    + "".join(f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n' for i in range(1, 10))
    + "]>\n"
)


@case(words=("entity declarations", "xl/sharedStrings.xml", "not opened"))
def xml_entity_shared_strings(folder: Path) -> Path:
    strings = BILLION_LAUGHS + ('<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
                                'uniqueCount="1"><si><t>&lol9;</t></si></sst>')
    xml = sheet_xml(referrals()).replace('t="inlineStr"><is><t xml:space="preserve">North</t></is>', 't="s"><v>0</v>')
    return raw_workbook(folder / "xml_entity_ss.xlsx", {"referrals": xml}, shared_strings=strings)


@case(words=("entity declarations", "xl/worksheets/sheet1.xml", "not opened"))
def xml_entity_sheet(folder: Path) -> Path:
    xml = sheet_xml(referrals(), prolog=BILLION_LAUGHS.split("\n", 1)[1]).replace(">North<", ">&lol9;<")
    return raw_workbook(folder / "xml_entity_sheet.xlsx", {"referrals": xml})


@case(words=("entity declarations", "xl/worksheets/sheet1.xml"))
def xml_entity_after_long_comment(folder: Path) -> Path:
    """The DOCTYPE hidden after 20 KB of comment, beyond a naive 4 KB look at the start of the part."""
    prolog = "<!--" + "padding " * 2500 + "-->\n" + '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
    return raw_workbook(folder / "xml_entity_long.xlsx", {"referrals": sheet_xml(referrals(), prolog=prolog)})


@case(words=("entity declarations", "xl/sharedStrings.xml"))
def xml_entity_utf16(folder: Path) -> Path:
    """The same attack with the XML encoded as UTF-16, where a byte search for "<!DOCTYPE" finds nothing."""
    strings = ('<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE x [<!ENTITY e "e">]>\n'
               '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><t>&e;</t></si></sst>')
    return raw_workbook(folder / "xml_entity_utf16.xlsx", {"referrals": sheet_xml(referrals())},
                        shared_strings=b"\xff\xfe" + strings.encode("utf-16-le"))


@case(words=("entity declarations", "xl/strings.bin"))
def xml_entity_in_oddly_named_part(folder: Path) -> Path:
    """The shared strings under a name that does not end in .xml (the relationships say where they are)."""
    strings = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "e">]><sst><si><t>&e;</t></si></sst>'
    return raw_workbook(folder / "xml_entity_odd.xlsx", {"referrals": sheet_xml(referrals())}, shared_strings=strings,
                        shared_strings_part="strings.bin")


@case(words=("two parts both named", "xl/workbook.xml"))
def duplicate_part_names(folder: Path) -> Path:
    path = raw_workbook(folder / "dup_parts.xlsx", {"referrals": sheet_xml(referrals())})
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about the duplicate, which is the point
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr("xl/workbook.xml", "<workbook/>")
    return path


@case(words=("encrypted parts", "Remove any password"))
def encrypted_zip_entry(folder: Path) -> Path:
    path = raw_workbook(folder / "zip_crypto.xlsx", {"referrals": sheet_xml(referrals())})
    return patch_flag(path, "xl/worksheets/sheet1.xml", 0)


@case(words=("unusual compression method", "Save As"))
def unusual_compression(folder: Path) -> Path:
    return raw_workbook(folder / "bzip2.xlsx", {"referrals": sheet_xml(referrals())}, compression=zipfile.ZIP_BZIP2)


@case(words=("10,001 parts", "a few dozen"))
def too_many_parts(folder: Path) -> Path:
    path = raw_workbook(folder / "many_parts.xlsx", {"referrals": sheet_xml(referrals())})
    with zipfile.ZipFile(path, "a", zipfile.ZIP_STORED) as zf:
        for i in range(10_001 - len(zf.infolist())):
            zf.writestr(f"xl/media/p{i}.txt", b"")
    return path


@case(words=("declares 1,048,576 rows", "1,000,000", "delete the empty formatted rows"), sheet="referrals")
def million_rows_declared(folder: Path) -> Path:
    return raw_workbook(folder / "million_rows.xlsx", {"referrals": sheet_xml(referrals(), dimension="A1:D1048576")})


@case(words=("702 columns", "30,000,000 cells", "not read"), sheet="referrals")
def far_cell_small_file(folder: Path) -> Path:
    """A ~1 KB file with one cell at ZZ1000000 and no <dimension>: the reader would allocate 700
    million cells (tens of GB) for it, so it is measured first and refused."""
    xml = sheet_xml(referrals()).replace("</sheetData>", '<row r="1000000"><c r="ZZ1000000"><v>1</v></c></row></sheetData>')
    return raw_workbook(folder / "far_cell.xlsx", {"referrals": xml})


@case(words=("cells down to row 5,000,000", "not read"), sheet="referrals")
def far_row_small_file(folder: Path) -> Path:
    xml = sheet_xml(referrals()).replace("</sheetData>", '<row r="5000000"><c r="A5000000"><v>1</v></c></row></sheetData>')
    return raw_workbook(folder / "far_row.xlsx", {"referrals": xml})


@case(words=("cells", "not read"), sheet="referrals")
def far_cells_without_references(folder: Path) -> Path:
    """Cells written without r="..." references sit one column right of the previous cell: 40
    empty-reference cells in a row numbered 900,000 span 36 million cells."""
    xml = sheet_xml(referrals()).replace(
        "</sheetData>", '<row r="900000">' + "<c><v>1</v></c>" * 40 + "</row></sheetData>")
    return raw_workbook(folder / "far_noref.xlsx", {"referrals": xml})


# Sheets and headers

@case(words=("No sheet of the extract", '"Sheet1"', '"Summary"', "referrals, assessments"))
def no_recognised_sheet(folder: Path) -> Path:
    return write_xlsx(folder / "no_sheet.xlsx", {"Sheet1": referrals(), "Summary": [["total", 3]]})


@case(words=('"cp_plans"', '"CP Plans"', "both mean", "Keep one"), sheet="cp_plans")
def two_sheets_same_meaning(folder: Path) -> Path:
    return write_xlsx(folder / "two_cp.xlsx", {"CP Plans": cp_plans(), "cp_plans": cp_plans()})


@case(words=("required column", '"child_id"', "'Child ID'", "'Child Unique ID'", "missing"), sheet="Referrals",
      column="child_id", row=1)
def missing_required_column(folder: Path) -> Path:
    rows = [[c for i, c in enumerate(r) if i != 1] for r in referrals()]
    return write_xlsx(folder / "missing_col.xlsx", {"Referrals": rows})


@case(words=("required column", '"is_agency"', "'Agency'", "'Agency Worker'"), sheet="Staff", column="is_agency")
def missing_required_column_alias_sheet(folder: Path) -> Path:
    rows = [[c for i, c in enumerate(r) if i != 5] for r in workforce()]
    rows[0] = ["Staff ID", "area_office", "team", "Job Title", "Qualified", "FTE", "Role Start Date", "Leaving Date",
               "Reason Leave"]
    return write_xlsx(folder / "missing_alias.xlsx", {"Staff": rows})


@case(words=('"Child ID"', '"child_id"', "both mean child_id"), sheet="referrals", row=1)
def duplicate_headers(folder: Path) -> Path:
    rows = [r + [r[1]] for r in referrals()]
    rows[0][-1] = "Child ID"
    return write_xlsx(folder / "dup_headers.xlsx", {"referrals": rows})


@case(words=("no header row", "first 10 rows", '"referral_id"'), sheet="referrals")
def header_too_low(folder: Path) -> Path:
    return write_xlsx(folder / "header_low.xlsx", {"referrals": [["Report"]] + [[None]] * 11 + referrals()})


def _wide_rows(drop: str | None) -> list[list[object]]:
    base = referrals(3)
    keep = [i for i, c in enumerate(base[0]) if c != drop]
    extra = 1000 - len(keep)
    rows = [[r[i] for i in keep] + [f"x{j}" for j in range(extra)] for r in base]
    rows[0] = [base[0][i] for i in keep] + [f"Extra column {j}" for j in range(extra)]
    return rows


def _check_one_wide_warning(store, result) -> None:
    ignored = [p for p in result.problems if "not part of the extract were ignored" in p.message]
    assert len(ignored) == 1 and "995 column(s)" in ignored[0].message, [p.message for p in result.problems]


@case(words=("required column", '"referral_date"', "'Date of Referral'"), sheet="referrals", column="referral_date",
      check=_check_one_wide_warning)
def wide_sheet_missing_required(folder: Path) -> Path:
    """1,000 columns, all but five unknown, and a required one missing: one summarised warning, one error."""
    return write_xlsx(folder / "wide_missing.xlsx", {"referrals": _wide_rows("referral_date")})


# Values

@case(words=("a value is required but the cell is blank", "expected a value"), sheet="referrals", row=3,
      column="area_office")
def blank_required_value(folder: Path) -> Path:
    rows = referrals()
    rows[2][3] = None
    return write_xlsx(folder / "blank_required.xlsx", {"referrals": rows})


@case(words=("blank",), sheet="referrals", row=4, column="Child ID")
def whitespace_only_required_value(folder: Path) -> Path:
    rows = referrals()
    rows[0][1] = "Child ID"
    rows[3][1] = " \u00a0\t "
    return write_xlsx(folder / "whitespace_required.xlsx", {"referrals": rows})


@case(words=('"next Tuesday" is not a date', "31/03/2011"), sheet="referrals", row=2, column="Date of Referral",
      value="next Tuesday")
def text_in_date_column(folder: Path) -> Path:
    rows = referrals()
    rows[0][2] = "Date of Referral"
    rows[1][2] = "next Tuesday"
    return write_xlsx(folder / "text_date.xlsx", {"referrals": rows})


@case(words=('"12/25/2011" is not a date', "day first", "US-style", "25/12/2011"), sheet="referrals", row=3,
      column="referral_date", value="12/25/2011")
def us_style_date(folder: Path) -> Path:
    return _one_date(folder, 3, "12/25/2011", "us_date.xlsx")


@case(words=('"02-Apr-2011" is not a date', "written in figures", "02/04/2011"), sheet="referrals", row=2,
      column="referral_date", value="02-Apr-2011")
def month_in_words_date(folder: Path) -> Path:
    # a date typed as text the way some systems export it: the hint gives the figures to write
    return _one_date(folder, 2, "02-Apr-2011", "month_in_words.xlsx")


@case(words=('"02/04/11" is not a date', "two digits", "all four"), sheet="referrals", row=3,
      column="referral_date", value="02/04/11")
def two_digit_year_date(folder: Path) -> Path:
    return _one_date(folder, 3, "02/04/11", "two_digit_year.xlsx")


def _one_date(folder: Path, row: int, value: str, name: str) -> Path:
    """The referrals with the referral date of Excel row `row` typed as the text `value`."""
    rows = referrals()
    rows[row - 1][2] = value
    return write_xlsx(folder / name, {"referrals": rows})


@case(words=("1 date(s) can only be month-first", "1 other date(s) in the column could be either", '"04/02/2011"',
             "read day-first", "Fix the whole column"), sheet="referrals", row=2, column="referral_date",
      value="04/02/2011")
def us_style_date_column(folder: Path) -> Path:
    # 12/25/2011 can only be month-first and is listed; 04/02/2011 (meant as 2 April) reads as
    # 4 February and would load misdated once the listed cell alone is fixed (found by a review)
    rows = referrals()
    rows[1][2] = "04/02/2011"
    rows[2][2] = "12/25/2011"
    return write_xlsx(folder / "us_date_column.xlsx", {"referrals": rows})


@case(words=(' is not a date', "… (10,000 characters)"), sheet="referrals", row=2, column="referral_date")
def ten_thousand_characters_in_a_date(folder: Path) -> Path:
    # the problem quotes the first 80 characters and says how long the value was (a review found a
    # 10,000-character value echoed whole: one line of 10,170 characters)
    rows = referrals()
    rows[1][2] = "x" * 10_000
    return write_xlsx(folder / "long_value.xlsx", {"referrals": rows})


@case(words=('"13/25/2011" is not a date',), sheet="referrals", row=2, column="referral_date", value="13/25/2011")
def impossible_date(folder: Path) -> Path:
    return _one_date(folder, 2, "13/25/2011", "impossible_date.xlsx")


@case(words=('"31/02/2011" is not a date',), sheet="referrals", row=4, column="referral_date", value="31/02/2011")
def thirty_first_of_february(folder: Path) -> Path:
    return _one_date(folder, 4, "31/02/2011", "feb31.xlsx")


@case(words=('"40634" is not a date', "serial number", "format"), sheet="referrals", row=2, column="referral_date",
      value="40634")
def date_as_serial_number(folder: Path) -> Path:
    rows = referrals()
    rows[1][2] = 40634  # a number, not a date cell: Excel shows 40634, not 01/04/2011
    return write_xlsx(folder / "serial_date.xlsx", {"referrals": rows})


@case(words=("outside the accepted range", "not after the day of the import"), sheet="referrals", row=3,
      column="referral_date")
def future_date(folder: Path) -> Path:
    rows = referrals()
    rows[2][2] = FUTURE
    return write_xlsx(folder / "future_date.xlsx", {"referrals": rows})


@case(words=('"31/12/1989"', "outside the accepted range", "01/01/1990"), sheet="referrals", row=2,
      column="referral_date", value="31/12/1989")
def date_before_1990(folder: Path) -> Path:
    rows = referrals()
    rows[1][2] = "31/12/1989"
    return write_xlsx(folder / "old_date.xlsx", {"referrals": rows})


@case(words=('"R2" is already used on row 3', "unique"), sheet="referrals", row=5, column="referral_id", value="R2")
def duplicate_key(folder: Path) -> Path:
    rows = referrals(4)
    rows[4][0] = "R2"
    return write_xlsx(folder / "dup_key.xlsx", {"referrals": rows})


@case(words=("already used on row 2",), sheet="referrals", row=3, column="referral_id", value="R1")
def duplicate_key_after_trimming(folder: Path) -> Path:
    """ "R1" and "  R1 " are the same id once trimmed."""
    rows = referrals(2)
    rows[2][0] = "  R1 "
    return write_xlsx(folder / "dup_trim.xlsx", {"referrals": rows})


@case(words=('is before the "start_date"',), sheet="cp_plans", row=3, column="end_date")
def end_before_start(folder: Path) -> Path:
    rows = cp_plans()
    rows[2][3] = d(1, 3)
    return write_xlsx(folder / "end_before_start.xlsx", {"cp_plans": rows})


@case(words=('is before the "Assessment Start Date"',), sheet="assessments", row=2, column="Date of Authorisation")
def completed_before_start(folder: Path) -> Path:
    rows = assessments()
    rows[0][3], rows[0][4] = "Assessment Start Date", "Date of Authorisation"
    rows[1][4] = d(1, 1)
    return write_xlsx(folder / "completed_before.xlsx", {"assessments": rows})


@case(words=('is before the "Date Requested"',), sheet="transfers", row=4, column="Date Accepted")
def accepted_before_requested(folder: Path) -> Path:
    rows = transfers()
    rows[0][4], rows[0][5] = "Date Requested", "Date Accepted"
    rows[3][5] = d(1)
    return write_xlsx(folder / "accepted_before.xlsx", {"transfers": rows})


@case(words=('"1.5" is out of range', "greater than 0 and at most 1"), sheet="workforce", row=3, column="FTE",
      value="1.5")
def fte_one_and_a_half(folder: Path) -> Path:
    rows = workforce()
    rows[0][6] = "FTE"
    rows[2][6] = 1.5
    return write_xlsx(folder / "fte_15.xlsx", {"workforce": rows})


@case(words=('"0" is out of range', "greater than 0"), sheet="workforce", row=2, column="fte", value="0")
def fte_zero(folder: Path) -> Path:
    rows = workforce()
    rows[1][6] = 0
    return write_xlsx(folder / "fte_0.xlsx", {"workforce": rows})


@case(words=('"full time" is not a number',), sheet="workforce", row=2, column="fte", value="full time")
def fte_text(folder: Path) -> Path:
    rows = workforce()
    rows[1][6] = "full time"
    return write_xlsx(folder / "fte_text.xlsx", {"workforce": rows})


@case(words=('"NaN" is not a number',), sheet="establishment", row=3, column="Funded FTE", value="NaN")
def not_a_number_text(folder: Path) -> Path:
    rows = establishment()
    rows[0][2] = "Funded FTE"
    rows[2][2] = "NaN"
    return write_xlsx(folder / "nan.xlsx", {"establishment": rows})


@case(words=('"-2" is out of range', "0 or more"), sheet="establishment", row=2, column="funded_fte", value="-2")
def negative_funded_fte(folder: Path) -> Path:
    rows = establishment()
    rows[1][2] = -2
    return write_xlsx(folder / "neg_fte.xlsx", {"establishment": rows})


@case(words=('"Maybe" is not Y or N', "Y or N"), sheet="workforce", row=4, column="Agency", value="Maybe")
def flag_maybe(folder: Path) -> Path:
    rows = workforce()
    rows[0][5] = "Agency"
    rows[3][5] = "Maybe"
    return write_xlsx(folder / "flag_maybe.xlsx", {"workforce": rows})


@case(words=('"Full" is not an accepted value', "one of: Initial, Core, Single"), sheet="assessments", row=3,
      column="Type", value="Full")
def unknown_enum(folder: Path) -> Path:
    rows = assessments()
    rows[0][2] = "Type"
    rows[2][2] = "Full"
    return write_xlsx(folder / "enum.xlsx", {"assessments": rows})


@case(words=('"Excellent" is not an accepted value', "Requires improvement"), sheet="audits", row=2, column="Judgement",
      value="Excellent")
def unknown_grade(folder: Path) -> Path:
    rows = audits()
    rows[0][5] = "Judgement"
    rows[1][5] = "Excellent"
    return write_xlsx(folder / "grade.xlsx", {"audits": rows})


@case(words=('"BORED" is not an accepted value', "MANAGE"), sheet="Allocations", row=2, column="Reason", value="BORED")
def unknown_change_reason(folder: Path) -> Path:
    rows = involvements()
    rows[0][7] = "Reason"
    rows[1][7] = "BORED"
    return write_xlsx(folder / "reason.xlsx", {"Allocations": rows})


@case(words=('"2.5" is not a whole number', "a whole number, 0 or more"), sheet="cp_plans", row=2,
      column="Number of Previous Child Protection Plans", value="2.5")
def whole_number_with_fraction(folder: Path) -> Path:
    rows = cp_plans()
    rows[0][5] = "Number of Previous Child Protection Plans"
    rows[1][5] = 2.5
    return write_xlsx(folder / "whole_25.xlsx", {"cp_plans": rows})


@case(words=('"-1" is below 0',), sheet="cp_plans", row=4, column="previous_plans", value="-1")
def whole_number_negative(folder: Path) -> Path:
    rows = cp_plans()
    rows[3][5] = -1
    return write_xlsx(folder / "whole_neg.xlsx", {"cp_plans": rows})


@case(words=("is too large (at most 2,147,483,647)", "a whole number, 0 or more, at most 2,147,483,647"),
      sheet="cp_plans", row=2, column="previous_plans")
def whole_number_too_big(folder: Path) -> Path:
    rows = cp_plans()
    rows[1][5] = 1e12
    return write_xlsx(folder / "whole_big.xlsx", {"cp_plans": rows})


@case(words=('"1e999" is too large (at most 2,147,483,647)',), sheet="cp_plans", row=2, column="previous_plans")
def whole_number_beyond_any_float(folder: Path) -> Path:
    # text that reads as infinity: said as too large (its words once raised on int(inf))
    rows = cp_plans()
    rows[1][5] = "1e999"
    return write_xlsx(folder / "whole_inf.xlsx", {"cp_plans": rows})


@case(words=("cell is blank",), sheet="referrals", row=3, column="child_id")
def formula_never_calculated(folder: Path) -> Path:
    """A formula with no cached value (the file was written by a program, never opened in Excel):
    it reads as blank, and a required blank is an error."""
    rows = referrals()
    rows[2][1] = Formula('CONCATENATE("C", 2)', None)
    return raw_workbook(folder / "formula_nocache.xlsx", {"referrals": sheet_xml(rows)})


@case(words=("cell is blank",), sheet="referrals", row=7, column="area_office")
def title_rows_and_blank_rows_error_row(folder: Path) -> Path:
    """Header on Excel row 3 under a title and a blank row, a blank row inside the data: the
    error still cites the Excel row the analyst sees (7)."""
    rows = [["Referrals extract, April 2011"], [None]] + referrals(2) + [[None] * 6] + referrals(1, start=3)[1:]
    rows[-1][3] = None
    return write_xlsx(folder / "title_blank_error.xlsx", {"referrals": rows})


# Good files that look awkward: they must load

def _current(store, sheet: str, where: str = "true") -> list[tuple]:
    return store.cursor().execute(f"select * exclude (import_id) from cur_{sheet} where {where} order by all").fetchall()


def _raw(store, sheet: str, cols: str) -> list[tuple]:
    return store.cursor().execute(
        f"select {cols} from raw_{sheet} where import_id = (select max(import_id) from imports) order by excel_row"
    ).fetchall()


def _check_float_ids(store, result) -> None:
    rows = _raw(store, "referrals", "referral_id")
    assert [r[0] for r in rows] == ["12345", "67890", "555"], rows


@case(loads=True, check=_check_float_ids)
def numeric_ids_typed_as_float(folder: Path) -> Path:
    rows = referrals(3)
    rows[1][0], rows[2][0], rows[3][0] = 12345.0, "67890.0", 555
    return write_xlsx(folder / "float_ids.xlsx", {"referrals": rows})


def _check_title(store, result) -> None:
    rows = _raw(store, "referrals", "excel_row, referral_id")
    assert rows == [(4, "R1"), (5, "R2"), (6, "R3")], rows


@case(loads=True, check=_check_title)
def header_below_title_row(folder: Path) -> Path:
    return write_xlsx(folder / "title_row.xlsx", {"referrals": [["Children's Social Care: referrals"], [None]] + referrals()})


@case(loads=True, check=_check_title)
def merged_title_cells(folder: Path) -> Path:
    rows = [["Referrals extract", None, None, None, None, None], ["April 2011"]] + referrals()
    return write_xlsx(folder / "merged_title.xlsx", {"referrals": rows}, merge={"referrals": "A1:F1"})


def _check_formula(store, result) -> None:
    rows = _raw(store, "referrals", "referral_id, referral_date, area_office, source")
    assert rows[0] == ("1001", d(1), "North", "Police"), rows


@case(loads=True, check=_check_formula)
def formula_cells_use_cached_values(folder: Path) -> Path:
    rows = referrals(2)
    rows[1][0] = Formula("1000+1", 1001)
    rows[1][2] = Formula("DATE(2011,4,1)", d(1))
    rows[1][3] = Formula('UPPER(LEFT("north",1))&"orth"', "North")
    rows[1][5] = Formula('"Pol"&"ice"', "Police")
    return raw_workbook(folder / "formulas.xlsx", {"referrals": sheet_xml(rows)})


def _check_wide(store, result) -> None:
    ignored = [p for p in result.warnings if "not part of the extract were ignored" in p.message]
    assert len(ignored) == 1, [p.message for p in result.warnings]
    assert "994 column(s)" in ignored[0].message and "and 974 more" in ignored[0].message, ignored[0].message
    assert result.row_counts == {"referrals": 3}


@case(loads=True, check=_check_wide, words=("994 column(s)", "were ignored"))
def wide_sheet_loads_with_one_warning(folder: Path) -> Path:
    return write_xlsx(folder / "wide.xlsx", {"referrals": _wide_rows(None)})


def _check_date_id(store, result) -> None:
    rows = _raw(store, "referrals", "referral_id")
    assert rows[0][0].startswith("2011-04-01"), rows


@case(loads=True, check=_check_date_id)
def date_in_id_column(folder: Path) -> Path:
    """An id column takes any text; a date cell there is read as its text, not refused."""
    rows = referrals()
    rows[1][0] = d(1)
    return write_xlsx(folder / "date_id.xlsx", {"referrals": rows})


def _check_offset(store, result) -> None:
    assert _raw(store, "referrals", "excel_row, referral_id") == [(6, "R1"), (7, "R2"), (8, "R3")]


@case(loads=True, check=_check_offset)
def table_starting_at_c5(folder: Path) -> Path:
    """The table does not start in A1: blank rows and columns before it."""
    rows = [[None, None, *r] for r in referrals()]
    return raw_workbook(folder / "offset.xlsx", {"referrals": sheet_xml(rows, first_row=5)})


def _check_norefs(store, result) -> None:
    assert _raw(store, "referrals", "excel_row, referral_id, area_office") == [
        (2, "R1", "North"), (3, "R2", "North"), (4, "R3", "North")]


@case(loads=True, check=_check_norefs)
def cells_without_references(folder: Path) -> Path:
    return raw_workbook(folder / "norefs.xlsx", {"referrals": sheet_xml(referrals(), refs=False)})


def _check_macro(store, result) -> None:
    assert result.row_counts == {"referrals": 3}


@case(loads=True, check=_check_macro)
def macro_workbook_xlsm(folder: Path) -> Path:
    """An .xlsm with a VBA project: read like any workbook; macros are never run."""
    path = folder / "macro.xlsm"
    return raw_workbook(path, {"referrals": sheet_xml(referrals())}, macro=True,
                        extra={"xl/vbaProject.bin": ole2(folder / "vba.bin", ["VBA", "PROJECT"]).read_bytes()})


def _check_other_sheets(store, result) -> None:
    assert any('Sheet "Pivot" is not part of the extract' in p.message for p in result.warnings)
    assert any('Sheet "audits" is empty' in p.message for p in result.warnings)
    assert result.row_counts == {"referrals": 3}


@case(loads=True, check=_check_other_sheets, words=('"Pivot"', "ignored"))
def unknown_and_empty_sheets(folder: Path) -> Path:
    return write_xlsx(folder / "other_sheets.xlsx", {"Pivot": [["x", 1]], "referrals": referrals(), "audits": []})


def _check_many_sheets(store, result) -> None:
    assert result.row_counts == {"referrals": 3, "assessments": 3, "cp_plans": 3, "involvements": 3, "transfers": 3,
                                 "workforce": 3, "establishment": 2, "audits": 3, "supervisions": 3}


@case(loads=True, check=_check_many_sheets)
def every_sheet_by_alias(folder: Path) -> Path:
    return write_xlsx(folder / "aliases.xlsx", {
        "Referrals": referrals(), "Assessments": assessments(), "Child Protection": cp_plans(),
        "Allocations": involvements(), "transfers": transfers(), "Staff": workforce(),
        "ESTABLISHMENT": establishment(), "Audits": audits(), "super-visions": supervisions()})


def _check_prefixed(store, result) -> None:
    assert result.row_counts == {"referrals": 3}


@case(loads=True, check=_check_prefixed)
def namespace_prefixed_xml(folder: Path) -> Path:
    """Some programs write <x:row>/<x:c> with a namespace prefix; the format allows it."""
    xml = sheet_xml(referrals())
    xml = (xml.replace('<worksheet xmlns="', '<x:worksheet xmlns:x="').replace("</worksheet>", "</x:worksheet>")
           .replace("<sheetData>", "<x:sheetData>").replace("</sheetData>", "</x:sheetData>")
           .replace("<row ", "<x:row ").replace("</row>", "</x:row>").replace("<c ", "<x:c ").replace("</c>", "</x:c>")
           .replace("<v>", "<x:v>").replace("</v>", "</x:v>").replace("<is>", "<x:is>").replace("</is>", "</x:is>")
           .replace("<t ", "<x:t ").replace("</t>", "</x:t>"))
    return raw_workbook(folder / "prefixed.xlsx", {"referrals": xml})


def many_errors_workbook(folder: Path, bad_rows: int = 500) -> Path:
    """`bad_rows` rows each with one bad date (plus good rows around them)."""
    rows = referrals(bad_rows + 10)
    for i in range(1, bad_rows + 1):
        rows[i + 5][2] = "not a date"
    return write_xlsx(folder / "many_errors.xlsx", {"referrals": rows})

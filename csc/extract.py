"""Read and validate a monthly extract workbook against the data contract (`csc.spec`).

The workbook is first checked as a file (size, real type from its bytes, zip-bomb and XML
entity defences, encryption), then each recognised sheet is read by a Rust-based reader
(fastexcel/calamine) into Arrow as text and validated in bulk in DuckDB, never cell by cell
in Python. Every problem carries the sheet, the Excel row, the column as headed in the file,
the value found and what was expected.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import fastexcel
import pyarrow as pa

from csc import spec
from csc.spec import DATE, ENUM, FLAG, ID, NUMBER, TEXT, WHOLE, Sheet

MAX_FILE_BYTES = 200 * 1024 * 1024  # the upload itself
MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024  # declared size of all parts once inflated
MAX_PART_RATIO = 200  # a part inflating more than this many times over is a zip bomb
MAX_ROWS = 1_000_000  # data rows in one sheet
MAX_COLUMNS = 16_384  # Excel's own limit; only known columns are ever parsed
HEADER_SEARCH_ROWS = 10
MAX_LISTED = 20  # names listed in one warning before "and N more"
EARLIEST = dt.date(1990, 1, 1)

OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
ZIP_MAGIC = b"PK\x03\x04"


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

    def as_dict(self) -> dict:
        return {
            "severity": self.severity,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "expected": self.expected,
            "message": self.message,
        }


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
    return shown + (f" and {len(names) - MAX_LISTED} more" if len(names) > MAX_LISTED else "")


# --- the file itself -------------------------------------------------------------------


def check_file(path: Path, original_name: str | None = None) -> None:
    """Refuse a file that is not a safe, readable .xlsx/.xlsm workbook, before parsing it."""
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
                f'"{name}" is password-protected (encrypted), so it cannot be read. '
                "Open it in Excel, remove the password (File > Info > Protect Workbook > Encrypt with Password, "
                "clear the password) and save it again as .xlsx."
            )
        raise FileRefused(
            f'"{name}" is an old-style Excel 97-2003 (.xls) workbook. '
            'Open it in Excel and use File > Save As > "Excel Workbook (.xlsx)", then upload the .xlsx file.'
        )
    if not head.startswith(ZIP_MAGIC):
        kind = "a CSV or text file" if _looks_like_text(path) else "not an Excel workbook"
        raise FileRefused(
            f'"{name}" is {kind}, whatever its name says. '
            'Open it in Excel and use File > Save As > "Excel Workbook (.xlsx)", then upload the .xlsx file.'
        )
    if suffix not in {".xlsx", ".xlsm"}:
        raise FileRefused(f'"{name}" is not an .xlsx or .xlsm file. Save it as .xlsx and upload it again.')
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            names = {i.filename for i in infos}
            if "xl/workbook.xml" not in names and "xl/workbook.bin" not in names:
                raise FileRefused(f'"{name}" is a zip archive but not an Excel workbook. Save it as .xlsx and upload it again.')
            if "xl/workbook.bin" in names:
                raise FileRefused(f'"{name}" is a binary workbook (.xlsb). Save it as .xlsx and upload it again.')
            total = sum(i.file_size for i in infos)
            if total > MAX_UNCOMPRESSED_BYTES:
                raise FileRefused(
                    f'"{name}" would expand to {total / 2**30:,.1f} GB when opened, more than the '
                    f"{MAX_UNCOMPRESSED_BYTES / 2**30:,.0f} GB limit, so it was not opened. "
                    "Check it is the real extract; a genuine extract is far smaller."
                )
            for info in infos:
                if info.file_size > 1_000_000 and info.file_size > MAX_PART_RATIO * max(info.compress_size, 1):
                    raise FileRefused(
                        f'"{name}" contains a part ({info.filename}) that would expand {info.file_size // max(info.compress_size, 1):,} '
                        "times over when opened: a pattern used by malicious files (a zip bomb), so it was not opened."
                    )
            for info in infos:
                if info.filename.endswith((".xml", ".rels", ".vml")):
                    with zf.open(info) as part:
                        prolog = part.read(4096)
                    if b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog:
                        raise FileRefused(
                            f'"{name}" contains XML entity declarations ({info.filename}), which genuine Excel files never '
                            "have and which are used to attack servers, so it was not opened."
                        )
    except zipfile.BadZipFile as exc:
        raise FileRefused(
            f'"{name}" is damaged and cannot be opened ({exc}). Open it in Excel, save it again as .xlsx and re-upload.'
        ) from exc


def _ole_is_encrypted(path: Path) -> bool:
    data = path.read_bytes()[:2_000_000]
    return "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data


def _looks_like_text(path: Path) -> bool:
    with path.open("rb") as fh:
        sample = fh.read(4096)
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError:
        try:
            sample.decode("latin-1")
        except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
            return False
    return b"\x00" not in sample


_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"')


def _declared_sizes(path: Path) -> dict[str, tuple[int, int]]:
    """Declared (rows, columns) of each worksheet part, read from its first few KB."""
    sizes: dict[str, tuple[int, int]] = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                with zf.open(info) as part:
                    m = _DIMENSION.search(part.read(4096))
                if m and m.group(3):
                    sizes[info.filename] = (int(m.group(4)), _col_number(m.group(3).decode()))
    return sizes


def _col_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet title -> worksheet part name, from the workbook's relationships."""
    import defusedxml.ElementTree as ET

    with zipfile.ZipFile(path) as zf:
        wb = ET.fromstring(zf.read("xl/workbook.xml"))
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    parts = {}
    for el in wb.iter():
        if el.tag.endswith("}sheet") or el.tag == "sheet":
            rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
            target = (targets.get(rid) or "").lstrip("/")
            parts[el.get("name")] = target if target.startswith("xl/") else "xl/" + target
    return parts


# --- reading ---------------------------------------------------------------------------


def read_workbook(path: str | Path, original_name: str | None = None, today: dt.date | None = None) -> Extract:
    """Read and validate a workbook; never raises for a bad file, it reports problems instead."""
    path = Path(path)
    today = today or dt.date.today()
    extract = Extract(path)
    try:
        check_file(path, original_name)
        reader = fastexcel.read_excel(str(path))
        titles = reader.sheet_names
    except FileRefused as exc:
        extract.problems.append(_error(str(exc)))
        return extract
    except Exception as exc:  # calamine's own errors: damaged workbook
        extract.problems.append(
            _error(f"The workbook cannot be read ({exc}). Open it in Excel, save it again as .xlsx and re-upload.")
        )
        return extract

    try:
        declared = _declared_sizes(path)
        parts = _sheet_parts(path)
    except Exception:  # unusual but readable workbook: fall back to the reader's own limits
        declared, parts = {}, {}

    seen: dict[str, str] = {}
    for title in titles:
        sheet = spec.sheet_for(title)
        if sheet is None:
            extract.problems.append(
                _warning(f'Sheet "{title}" is not part of the extract and was ignored.', sheet=title)
            )
            continue
        if sheet.name in seen:
            extract.problems.append(
                _error(
                    f'Sheet "{title}" and sheet "{seen[sheet.name]}" are both read as "{sheet.name}". Keep one of them.',
                    sheet=title,
                )
            )
            continue
        seen[sheet.name] = title
        rows, cols = declared.get(parts.get(title, ""), (0, 0))
        if rows > MAX_ROWS + HEADER_SEARCH_ROWS:
            extract.problems.append(
                _error(
                    f'Sheet "{title}" declares {rows:,} rows, more than the {MAX_ROWS:,} rows this dashboard reads from '
                    "one sheet, so it was not read. If the data is shorter, delete the empty formatted rows below it "
                    "(Ctrl+Shift+End shows the last used cell) and save again.",
                    sheet=title,
                )
            )
            continue
        try:
            _read_sheet(reader, title, sheet, extract, today)
        except Exception as exc:  # a sheet calamine cannot parse
            extract.problems.append(
                _error(f'Sheet "{title}" cannot be read ({exc}). Save the workbook again as .xlsx and re-upload.', sheet=title)
            )

    if not seen:
        known = ", ".join(s.name for s in spec.SHEETS.values())
        extract.problems.append(
            _error(
                f"No sheet of the extract was found (sheets in the file: {_listed(list(titles))}). "
                f"Name each sheet after what it holds: {known}."
            )
        )
    return extract


def _find_header(rows: list[list[object]], header_map: dict[str, str]) -> int | None:
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        if sum(1 for v in row if spec.norm(v) in header_map) >= 2:
            return i
    return None


def _read_sheet(reader, title: str, sheet: Sheet, extract: Extract, today: dt.date) -> None:
    header_map = sheet.header_map()
    # skip_rows=0 makes row i of the probe Excel row i + 1, whatever blank rows lead the sheet.
    probe_sheet = reader.load_sheet(title, header_row=None, skip_rows=0, n_rows=HEADER_SEARCH_ROWS, dtypes="string")
    absolute = [c.absolute_index for c in probe_sheet.available_columns()]
    probe = probe_sheet.to_arrow()
    if probe.num_rows == 0 or all(v is None for r in probe.to_pylist() for v in r.values()):
        extract.problems.append(_warning(f'Sheet "{title}" is empty and was skipped.', sheet=title))

        return
    probe_rows = [list(r.values()) for r in probe.to_pylist()]
    h = _find_header(probe_rows, header_map)
    if h is None:
        accepted = "; ".join(f"{c.name} (or {', '.join(c.aliases)})" if c.aliases else c.name for c in sheet.columns if c.required)
        extract.problems.append(
            _error(
                f'Sheet "{title}": no header row found in its first {HEADER_SEARCH_ROWS} rows (a row naming at least two '
                f"columns of the extract). Its required columns are: {accepted}.",
                sheet=title,
            )
        )
        return
    excel_header = h + 1
    first_data_row = excel_header + 1

    header_cells = [c for c in probe_rows[h]]
    headers: dict[str, str] = {}
    unknown: list[str] = []
    use: list[int] = []
    for idx, cell in enumerate(header_cells):
        if cell is None or str(cell).strip() == "":
            continue
        col = header_map.get(spec.norm(cell))
        if col is None:
            unknown.append(str(cell))
        elif col in headers:
            extract.problems.append(
                _error(
                    f'Sheet "{title}": columns "{headers[col]}" and "{cell}" both mean {col}. Keep one of them.',
                    sheet=title,
                    column=str(cell),
                )
            )
        else:
            headers[col] = str(cell)
            use.append(idx)
    if unknown:
        extract.problems.append(
            _warning(f'Sheet "{title}": {len(unknown):,} column(s) not in the extract were ignored: {_listed(unknown)}.', sheet=title)
        )
    missing = [c for c in sheet.columns if c.required and c.name not in headers]
    for c in missing:
        also = f" (also accepted: {', '.join(repr(a) for a in c.aliases)})" if c.aliases else ""
        extract.problems.append(
            _error(
                f'Sheet "{title}": required column "{c.name}"{also} is missing.',
                sheet=title,
                column=c.name,
                expected="a column headed " + " or ".join(f'"{x}"' for x in c.headers),
            )
        )
    if missing:
        return

    names = [f"c{i}" for i in range(len(use))]
    # skip_rows counts from Excel row 1, so data row j is Excel row first_data_row + j.
    data = reader.load_sheet(
        title, header_row=None, skip_rows=h + 1, use_columns=[absolute[i] for i in use], dtypes="string"
    ).to_arrow()
    cols = dict(zip([header_map[spec.norm(header_cells[i])] for i in use], names))
    if data.num_rows:
        table = pa.table(dict(zip(names, data.columns)))
    else:
        table = pa.table({n: pa.array([], pa.string()) for n in names})
    typed, problems = _validate(table, cols, sheet, title, headers, first_data_row, extract, today)
    extract.problems.extend(problems)
    data_sheet = SheetData(sheet, title, excel_header, headers, typed, typed.num_rows if typed is not None else 0)
    extract.sheets[sheet.name] = data_sheet
    if data_sheet.rows == 0 and not problems:
        extract.problems.append(_warning(f'Sheet "{title}" has a header but no rows.', sheet=title))


# --- validation in bulk, in DuckDB -------------------------------------------------------


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _text_expr(raw: str) -> str:
    return f"nullif(regexp_replace(trim({raw}), '\\s+', ' ', 'g'), '')"


def _parse_expr(col: spec.Column, raw: str) -> str:
    """DuckDB expression turning the raw text into the column's type (null when it does not parse)."""
    t = _text_expr(raw)
    if col.type == ID:
        return f"regexp_replace({t}, '^(-?[0-9]+)\\.0+$', '\\1')"
    if col.type == TEXT:
        return t
    if col.type == DATE:
        d = f"split_part({t}, ' ', 1)"
        return (
            "cast(coalesce("
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
        return f"try_cast(replace({t}, ',', '') as double)"
    if col.type == ENUM:
        return f"enum_{col.name}.canonical"
    raise ValueError(col.type)


def _validate(
    table: pa.Table,
    cols: dict[str, str],
    sheet: Sheet,
    title: str,
    headers: dict[str, str],
    first_data_row: int,
    extract: Extract,
    today: dt.date,
) -> tuple[pa.Table | None, list[Problem]]:
    con = duckdb.connect()
    try:
        con.register("raw_in", table)
        present = [c for c in sheet.columns if c.name in cols]
        joins = []
        for c in present:
            if c.type == ENUM:
                con.execute(f"create temp table enum_{c.name} (k varchar, canonical varchar)")
                con.executemany(f"insert into enum_{c.name} values (?, ?)", list(c.enum_map().items()))
                joins.append(
                    f"left join enum_{c.name} on enum_{c.name}.k = "
                    f"lower(regexp_replace(raw.{_q(cols[c.name])}, '[^A-Za-z0-9]', '', 'g'))"
                )
        any_value = " or ".join(f"{_text_expr('raw.' + _q(n))} is not null" for n in table.column_names) or "false"
        select = ", ".join(
            [f"(raw.rn + {first_data_row - 1}) as excel_row"]
            + [f"{_text_expr('raw.' + _q(cols[c.name]))} as {_q('raw_' + c.name)}" for c in present]
            + [f"{_parse_expr(c, 'raw.' + _q(cols[c.name]))} as {_q(c.name)}" for c in present]
        )
        con.execute(
            f"create temp table parsed as select {select} "
            f"from (select *, row_number() over () as rn from raw_in) raw {' '.join(joins)} "
            f"where {any_value} order by excel_row"
        )
        checks: list[str] = []
        params: dict[str, object] = {"earliest": EARLIEST, "today": today}
        for c in present:
            raw, val = _q("raw_" + c.name), _q(c.name)
            label = c.name
            if c.required:
                checks.append(f"select excel_row, '{label}', null, 'blank' from parsed where {raw} is null")
            checks.append(
                f"select excel_row, '{label}', {raw}, 'type' from parsed where {raw} is not null and {val} is null"
            )
            if c.type == DATE:
                checks.append(
                    f"select excel_row, '{label}', {raw}, 'date_range' from parsed "
                    f"where {val} < $earliest or {val} > $today"
                )
            if c.type == WHOLE:
                checks.append(
                    f"select excel_row, '{label}', {raw}, 'whole' from parsed where {val} <> floor({val}) or {val} < 0"
                )
            if c.type == NUMBER and c.minimum is not None:
                op = "<=" if c.exclusive_minimum else "<"
                cond = f"{val} {op} {c.minimum}" + (f" or {val} > {c.maximum}" if c.maximum is not None else "")
                checks.append(f"select excel_row, '{label}', {raw}, 'range' from parsed where {cond}")
        for later, earlier in sheet.date_order:
            if later in cols and earlier in cols:
                checks.append(
                    f"select excel_row, '{later}', {_q('raw_' + later)}, 'order:{earlier}' from parsed "
                    f"where {_q(later)} < {_q(earlier)}"
                )
        key = [k for k in sheet.key if k in cols]
        if key:
            k = ", ".join(_q(x) for x in key)
            checks.append(
                f"select excel_row, '{key[0]}', concat_ws(' / ', {k}), 'duplicate:' || string_agg(excel_row::varchar, ',') "
                f"over (partition by {k}) from parsed qualify count(*) over (partition by {k}) > 1 "
                f"and {' and '.join(_q(x) + ' is not null' for x in key)}"
            )
        query = " union all ".join(checks)
        used = {k: v for k, v in params.items() if f"${k}" in query}
        found = con.execute(query, used).fetchall() if checks else []
        order = {c.name: i for i, c in enumerate(sheet.columns)}
        found.sort(key=lambda f: (f[0], order[f[1]]))
        problems = [_describe(sheet, title, headers, row, col, value, kind, today) for row, col, value, kind in found]
        if problems:
            return None, problems
        typed = con.sql(
            "select excel_row, " + ", ".join(_q(c.name) for c in present) + " from parsed order by excel_row"
        ).to_arrow_table()
        return typed, []
    finally:
        con.close()


def _describe(sheet: Sheet, title: str, headers: dict[str, str], row: int, col: str, value, kind: str, today) -> Problem:
    column = sheet.column(col)
    header = headers.get(col, col)
    where = f'Sheet "{title}", row {row}, column "{header}"'
    shown = f'"{value}"' if value is not None else "blank"
    if kind == "blank":
        return _error(f"{where}: a value is required but the cell is blank.", sheet=title, row=row, column=header,
                      value=None, expected=column.expectation())
    if kind == "type":
        hint = ""
        if column.type == DATE and re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", str(value)):
            hint = " Dates are read day first (UK order); this looks like a US-style month/day date."
        noun = {"date": "a date", "flag": "Y or N", "number": "a number", "whole": "a whole number", "enum": "an accepted value"}.get(
            column.type, "valid"
        )
        return _error(f"{where}: {shown} is not {noun}; expected {column.expectation()}.{hint}", sheet=title, row=row,
                      column=header, value=value, expected=column.expectation())
    if kind == "date_range":
        return _error(
            f"{where}: {shown} is outside the accepted range; expected a date on or after 1990-01-01 and not after the "
            f"day of the import ({today:%d/%m/%Y}).",
            sheet=title, row=row, column=header, value=value, expected="a date from 1990-01-01 to today",
        )
    if kind in ("range", "whole"):
        return _error(f"{where}: {shown} is out of range; expected {column.expectation()}.", sheet=title, row=row,
                      column=header, value=value, expected=column.expectation())
    if kind.startswith("order:"):
        earlier = kind.split(":", 1)[1]
        eh = headers.get(earlier, earlier)
        return _error(f'{where}: {shown} is before the "{eh}" on the same row; expected a date on or after it.',
                      sheet=title, row=row, column=header, value=value, expected=f'on or after "{eh}"')
    if kind.startswith("duplicate:"):
        rows = sorted({int(r) for r in kind.split(":", 1)[1].split(",")})
        others = ", ".join(str(r) for r in rows if r != row)
        key = " and ".join(headers.get(k, k) for k in sheet.key)
        return _error(f'{where}: {key} {shown} appears more than once (also on row {others}); each must be unique.',
                      sheet=title, row=row, column=header, value=value, expected="a unique value")
    raise ValueError(kind)  # pragma: no cover

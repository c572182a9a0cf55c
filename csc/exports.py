"""Downloads of tables as CSV or Excel, safe against formula injection. A text cell is
neutralised with a leading apostrophe, so a spreadsheet shows it as text and never runs it, when:

- it starts with a formula starter (=, +, -, @, a tab, a carriage return or a line feed), or a
  look-alike a spreadsheet may take for one (full-width ＝＋－＠, small ﹦﹢﹣﹫, the minus sign −),
  after any leading whitespace or control/format characters (" =1+1", "\n=1+1", zero-width space);
- or a separator (, ; | tab, line break) is followed by a formula starter anywhere in it ("a;=1+1"):
  a file opened with another separator would start a cell there.

Every download the dashboard offers goes through `csc.ui.download` (audit-logged) and these
functions; Streamlit's own table toolbar export is switched off (`client.disableDataExport`)."""

from __future__ import annotations

import re
import unicodedata
from io import BytesIO

import pandas as pd

XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

DANGEROUS = ("=", "+", "-", "@", "\t", "\r", "\n")
LOOK_ALIKES = "\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63\ufe6b\u2212\u2010\u2011\u207a\u207c\u208a\u208c"
STARTERS = "=+\\-@" + LOOK_ALIKES
_AFTER_SEPARATOR = re.compile(f"[,;|\t\r\n][\\s\u200b\ufeff]*[{STARTERS}]")


def _blank(ch: str) -> bool:
    """Whitespace, control and format characters (zero-width space, BOM, bidi marks...)."""
    return ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")


def _starter(ch: str) -> bool:
    return ch in DANGEROUS or ch in LOOK_ALIKES or unicodedata.normalize("NFKC", ch)[:1] in ("=", "+", "-", "@")


def neutralise(value):
    if not isinstance(value, str) or not value:
        return value
    first = next((c for c in value if not _blank(c)), "")  # the first character a spreadsheet may act on
    if value[0] in DANGEROUS or _starter(first) or _AFTER_SEPARATOR.search(value):
        return "'" + value
    return value


def safe_frame(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    out.columns = [neutralise(str(c)) for c in out.columns]
    for col in out.columns:
        if (out[col].dtype == object or pd.api.types.is_string_dtype(out[col])
                or isinstance(out[col].dtype, pd.CategoricalDtype)):
            out[col] = out[col].astype(object).map(neutralise)
    return out


def _one_line(value):
    """A line break inside a CSV field can start a new row (and so a new cell) in a reader that
    does not honour the quotes, e.g. one opening the file with another separator: a space instead."""
    return re.sub(r"[\r\n\u2028\u2029\x0b\x0c\x85]+", " ", value) if isinstance(value, str) else value


#: Decimal places a CSV's numbers keep: far beyond any figure's precision, short of binary fractions' noise.
CSV_DECIMALS = 10


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """Every text field quoted (a separator inside a value never starts a cell), no line break inside
    a field, every text neutralised."""
    import csv

    out = safe_frame(df)
    out.columns = [_one_line(c) for c in out.columns]
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].map(_one_line)
        elif pd.api.types.is_float_dtype(out[col]):
            # to 10 decimal places: a difference of two rates came out as -2.299999999999997 (a review)
            out[col] = out[col].round(CSV_DECIMALS)
    return out.to_csv(index=False, quoting=csv.QUOTE_NONNUMERIC).encode("utf-8-sig")


def to_excel_bytes(df: pd.DataFrame, sheet: str = "data") -> bytes:
    """A workbook of one sheet (`to_excel_sheets`)."""
    return to_excel_sheets({sheet: df})


def to_excel_sheets(sheets: dict[str, pd.DataFrame]) -> bytes:
    """A workbook with a sheet per table, every text a string cell: never a formula, whatever it
    starts with. A name Excel would refuse is mended (`sheet_name`)."""
    buf = BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        taken: set[str] = set()
        for sheet, df in sheets.items():
            name = sheet_name(sheet, taken)
            safe_frame(df).to_excel(writer, index=False, sheet_name=name)
            for row in writer.sheets[name].iter_rows(min_row=1):
                for cell in row:
                    if isinstance(cell.value, str):
                        cell.data_type = "s"
    return buf.getvalue()


def sheet_name(wanted: str, taken: set[str]) -> str:
    """`wanted` as an Excel sheet name: none of : \\ / ? * [ ], at most 31 characters, not blank,
    and not one already `taken` (case aside: a number is added); the name is added to `taken`."""
    base = re.sub(r"[:\\/?*\[\]]", " ", wanted).strip(" '")[:31].strip() or "Sheet"
    name, n = base, 1
    while name.lower() in {t.lower() for t in taken}:
        n += 1
        name = f"{base[:31 - len(str(n)) - 1]} {n}"
    taken.add(name)
    return name

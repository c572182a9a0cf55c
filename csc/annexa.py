"""Read Ofsted's Annex A workbook, which councils already produce for inspection, as an import.

Annex A is a set of lists of children ("List 1" contacts ... "List 11" adopters), one sheet
each, headed with Ofsted's published column names. Three of them carry what the dashboard's
contract sheets hold:

- **List 3 (referrals)** -> `referrals`
- **List 4 (assessments)** -> `assessments`, every one a "Single" (continuous) assessment
- **List 7 (child protection)** -> `cp_plans`

The other lists, and any other sheet, are ignored with a warning. The values are validated by
`csc.extract`'s own bulk validation in DuckDB (the same rules and messages as the extract), then
three things the lists lack are added, also in DuckDB:

- **keys**: Annex A has no referral, assessment or plan ids, so each record is identified by its
  list, its child and its date: `A3-<child>-<YYYYMMDD>` (referral date), `A4-...` (assessment
  start), `A7-...` (plan start). `<child>` is the keyed hash the store keeps instead of the child
  id (`csc.pseudonyms.pseudonymise`), so no child id reaches the database through a key. The same
  record in next month's list has the same key, so it updates rather than duplicates.
- **area office**: from the Allocated Team through the team -> area office mapping analysts
  keep on the Teams page (table `team_areas`). A file naming a team nobody has mapped is refused
  with an error naming the team(s); the teams are recorded in `team_areas` without an area so
  the Teams page lists them for mapping. Rows with no Allocated Team count under the area office
  "Not allocated".
- **assessment type**: "Single".

Changes of social worker (the two Action 3 KPIs) need involvements, which Annex A does not
have. Where no involvements sheet is loaded, `rebuild_inferred` infers them from the Allocated
Worker each child has on Lists 4 and 7 in successive monthly Annex A imports, into the table
`inferred_involvements` (same columns as `cur_involvements`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import fastexcel
import pandas as pd
import pyarrow as pa

from csc import spec
from csc.extract import (
    MAX_PROBLEMS_PER_SHEET,
    Extract,
    Problem,
    SheetData,
    map_headers,
    validate_values,
)
from csc.filesafety import (
    HEADER_SEARCH_ROWS,
    SAVE_AS,
    FileRefused,
    check_file,
    damaged,
    inspect_parts,
    sheet_parts,
    sheet_too_big,
)

SOURCE_FORMAT = "annex_a"
NO_TEAM_AREA = "Not allocated"  # the area office of a row with no Allocated Team
TEAMS_PAGE = "the Teams page (Manage > Teams)"
MAX_SHOWN = 20  # teams or rows named in one message before "and N more"

# Ofsted's list titles, for messages
LIST_TITLES = {
    1: "Contacts",
    2: "Early help",
    3: "Referrals",
    4: "Assessments",
    5: "Section 47 enquiries and ICPCs",
    6: "Children in need",
    7: "Child protection",
    8: "Children in care",
    9: "Care leavers",
    10: "Adoption",
    11: "Adopters",
}
_LIST_TITLE = re.compile(r"^\W*list[\s_.:-]*(\d{1,2})(?!\d)", re.IGNORECASE)

CHILD = ("Child Unique ID", "Child ID", "ChildUniqueID", "Person ID", "Unique ID", "Child Unique Identifier", "Child Identifier", "Child Reference")
TEAM = ("Allocated Team", "Team", "Allocated Team Name", "Team Allocated", "Current Team")
WORKER = ("Allocated Worker", "Worker", "Allocated Social Worker", "Allocated Worker Name", "Current Worker")


@dataclass(frozen=True)
class AnnexList:
    """One Annex A list the dashboard reads, and the contract sheet it feeds."""

    number: int
    sheet: str  # the contract sheet
    date_column: str  # the contract column that, with the child, identifies a record
    headings: dict[str, tuple[str, ...]]  # contract column -> Annex A headings (beside the contract's own)
    constants: tuple[tuple[str, str], ...] = ()  # contract column -> value for every row
    noun: str = "record"
    extra: tuple[spec.Column, ...] = ()  # columns Annex A has beyond the contract's, kept in a side table

    @property
    def a_noun(self) -> str:
        return ("an " if self.noun[0] in "aeiou" else "a ") + self.noun

    @property
    def prefix(self) -> str:
        return f"A{self.number}"

    @property
    def spec(self) -> spec.Sheet:
        """The contract sheet, with the list's extra columns (validated by the same rules)."""
        sheet = spec.SHEETS[self.sheet]
        return dataclasses.replace(sheet, columns=sheet.columns + self.extra) if self.extra else sheet

    @property
    def key_column(self) -> str:
        return self.spec.key[0]

    @property
    def required(self) -> tuple[str, ...]:
        return ("child_id", self.date_column, "team")

    def header_map(self) -> dict[str, str]:
        """Normalised heading -> contract column: the contract's own names and aliases for the
        columns read from the list, and Annex A's published headings with the variants councils use."""
        mapping = {h: c for h, c in self.spec.header_map().items() if c in self.headings}
        for column, headings in self.headings.items():
            mapping.update({spec.norm(h): column for h in headings})
        return mapping


LISTS: dict[int, AnnexList] = {
    3: AnnexList(
        3,
        "referrals",
        "referral_date",
        {
            "child_id": CHILD,
            "referral_date": ("Date of Referral", "Referral Date", "Date Referral Received"),
            "source": ("Referral Source", "Source of Referral"),
            "prior_referrals_12m": (
                "Number of Referrals in Last 12 Months",
                "Number of Referrals in the Last 12 Months",
                "Referrals in Last 12 Months",
                "NumberOfReferralsInLast12Months",
            ),
            "team": TEAM,
        },
        noun="referral",
        extra=(spec.Column("prior_referrals_12m", spec.WHOLE, minimum=0),),
    ),
    4: AnnexList(
        4,
        "assessments",
        "start_date",
        {
            "child_id": CHILD,
            "start_date": (
                "Continuous Assessment Start Date",
                "Assessment Start Date",
                "Start Date of Continuous Assessment",
                "Continuous Assessment Start",
            ),
            "completed_date": (
                "Continuous Assessment Date of Authorisation",
                "Date of Authorisation",
                "Continuous Assessment Authorisation Date",
                "Assessment Authorisation Date",
                "Date Continuous Assessment Authorised",
                "ContinuousAssessmentAuthDate",  # Data to Insight's SSD Annex A query
                "Continuous Assessment Authorisation",
                "Assessment Auth Date",
            ),
            "child_seen": (
                "Child seen during continuous assessment",
                "Was the child seen during the continuous assessment",
                "Child Seen",
                "ContinuousAssessmentChildSeen",  # Data to Insight's SSD Annex A query
                "Child Seen During Assessment",
            ),
            "team": TEAM,
            "worker_id": WORKER,
        },
        constants=(("assessment_type", "Single"),),
        noun="assessment",
    ),
    7: AnnexList(
        7,
        "cp_plans",
        "start_date",
        {
            "child_id": CHILD,
            "start_date": ("Child Protection Plan Start Date", "CP Plan Start Date", "Plan Start Date"),
            "end_date": (
                "Child Protection Plan End Date",
                "CP Plan End Date",
                "Plan End Date",
                "Date Child Protection Plan Ended",
                "Date Child Protection Plan Ceased",
            ),
            "category": ("Initial Category of Abuse", "Category of Abuse"),
            "previous_plans": (
                "Number of Previous Child Protection Plans",
                "Sum of Number of Previous Child Protection Plans",
                "Number of Previous CP Plans",
                "Previous Child Protection Plans",
                "NumberOfPreviousChildProtectionPlans",
            ),
            "team": TEAM,
            "worker_id": WORKER,
        },
        noun="child protection plan",
    ),
}

# Annex A columns the contract has not: column -> the side table (raw_<name>) its values are kept in
SIDE_TABLES = {"prior_referrals_12m": "referral_counts"}

# The store's tables for Annex A (created by `Store._ensure_schema`).
SCHEMA = """
create table if not exists team_areas (
    team varchar primary key,           -- an Allocated Team as written in Annex A
    area_office varchar,                -- null: seen in an Annex A upload, not mapped yet
    changed_by varchar,                 -- who last set the area office (null while not mapped)
    changed_at timestamp                -- when it was set (or first seen, while not mapped)
);
create table if not exists raw_referral_counts (
    import_id integer not null, excel_row integer,
    referral_id varchar,                -- an Annex A referral (A3-<child>-<date>)
    prior_referrals_12m integer         -- List 3's "Number of Referrals in Last 12 Months"
);
create table if not exists referral_counts_current (referral_id varchar, prior_referrals_12m integer);
-- Teams named by an Annex A upload that was refused because they have no area office yet: kept
-- apart from the data (a refused file changes no table the figures are made from), for the Teams
-- page to list; each addition is in the audit log. A team leaves this list once it is saved.
create table if not exists teams_awaiting_area (
    team varchar primary key,
    first_seen timestamp not null,
    seen_by varchar
);
create table if not exists inferred_involvements (
    involvement_id varchar, child_id varchar, worker_id varchar, start_date date, end_date date,
    area_office varchar, team varchar, change_reason varchar, import_period varchar, import_id integer
);
"""


@dataclass
class AnnexAExtract(Extract):
    """An `Extract` read from an Annex A workbook."""

    source_format: str = SOURCE_FORMAT
    lists: dict[str, str] = field(default_factory=dict)  # contract sheet -> the list's sheet title
    unmapped_teams: list[str] = field(default_factory=list)  # as written in the file

    @property
    def row_counts(self) -> dict[str, int]:
        """Rows per contract sheet (a side table such as `referral_counts` is not a sheet of its own)."""
        return {name: s.rows for name, s in self.sheets.items() if name not in SIDE_TABLES.values()}


def _error(message: str, **kw) -> Problem:
    return Problem("error", message, **kw)


def _warning(message: str, **kw) -> Problem:
    return Problem("warning", message, **kw)


def _shown(items: list[str], quote: bool = True) -> str:
    parts = [f'"{i}"' if quote else str(i) for i in items[:MAX_SHOWN]]
    more = f" and {len(items) - MAX_SHOWN:,} more" if len(items) > MAX_SHOWN else ""
    return ", ".join(parts) + more


def _rows(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:5])
    return f"row {shown}" if len(rows) == 1 else f"rows {shown}" + (f" and {len(rows) - 5:,} more" if len(rows) > 5 else "")


def team_key(team: str) -> str:
    """How team names are matched: case and runs of spaces do not matter."""
    return " ".join(str(team).split()).lower()


def list_number(title: str) -> int | None:
    """The Annex A list a sheet title names ("List 3", "List 3 - Referrals", "list_7 ..."), or None."""
    m = _LIST_TITLE.match(str(title))
    if not m:
        return None
    n = int(m.group(1))
    return n if n in LIST_TITLES else None


# Sheets named after what the list holds, as Social Finance's Annex A tools and some councils'
# exports name them, instead of "List N".
NAMED_LISTS = {
    **{spec.norm(t): n for n, t in LIST_TITLES.items()},
    "earlyhelpassessments": 2,
    "section47": 5, "s47": 5, "section47enquiries": 5, "section47enquiriesandicpcs": 5, "s47andicpc": 5,
    "childprotectionplans": 7, "cpplans": 7,
    "lookedafterchildren": 8, "childrenlookedafter": 8,
    "adopted": 10, "adoptions": 10, "adoptionplacements": 10,
    "prospectiveadopters": 11,
}
# The same titles are sheet names of the monthly extract: such a workbook is Annex A only when a
# sheet's headings are Annex A's (no record id of the extract).
EXTRACT_NAMED = {3, 4, 7}


def named_list(title: str) -> int | None:
    """The Annex A list a sheet named after its content stands for ("Referrals" -> 3), or None."""
    return NAMED_LISTS.get(spec.norm(title))


# --- recognising the workbook ---------------------------------------------------------------


def is_annex_a(path: str | Path, original_name: str | None = None) -> bool:
    """Whether a workbook is an Annex A return: one of its sheets is named "List 1" ... "List 11";
    or, with none so named, its sheets are named after Annex A's lists ("Contacts", "Referrals",
    "Child Protection", ...) and either one of them is not an extract sheet or the headings of a
    "Referrals", "Assessments" or "Child Protection" sheet are Annex A's (no record id).
    Reads the file's list of sheets (and then at most the first rows of those three), after the
    same file checks as any upload; a file that fails them is not Annex A (the extract reader
    then says what is wrong with it)."""
    path = Path(path)
    name = original_name or path.name
    try:
        check_file(path, original_name)
        parts = sheet_parts(path, name)
    except Exception:
        return False
    if any(list_number(t) is not None for t in parts):
        return True
    named = {t: named_list(t) for t in parts if named_list(t) is not None}
    if not named:
        return False
    if any(n not in EXTRACT_NAMED for n in named.values()):
        return True
    if any(spec.sheet_for(t) is not None and named_list(t) is None for t in parts):
        return False  # a sheet only the monthly extract has (Workforce, Transfers, ...): no need to look inside
    try:
        return _headings_are_annex_a(path, name, parts, named)
    except Exception:
        return False


def _headings_are_annex_a(path: Path, name: str, parts: dict[str, str], named: dict[str, int]) -> bool:
    """A "Referrals"/"Assessments"/"Child Protection" sheet whose header row names Annex A columns
    and not the extract's record id. The sheets are measured (bounded) before the reader opens them."""
    extents = inspect_parts(path, name, {parts[t] for t in named})
    reader = fastexcel.read_excel(str(path))
    for title, n in named.items():
        extent = extents.get(parts[title])
        if extent is None or sheet_too_big(title, extent):
            continue
        lst = LISTS[n]
        batch = reader.load_sheet(title, header_row=None, skip_rows=0, n_rows=HEADER_SEARCH_ROWS, dtypes="string",
                                  eager=True)
        header_map = lst.header_map()
        for row in batch.to_pylist():
            words = {spec.norm(v) for v in row.values() if v is not None}
            if sum(1 for w in words if w in header_map) >= 2:
                keys = {spec.norm(h) for h in lst.spec.column(lst.key_column).headers}
                if not words & keys:
                    return True
                break
    return False


# --- reading --------------------------------------------------------------------------------


def read(
    path: str | Path,
    team_areas: Mapping[str, str | None] | None,
    *,
    id_key: bytes,
    original_name: str | None = None,
    today: dt.date | None = None,
) -> AnnexAExtract:
    """Read and validate an Annex A workbook into the contract's sheets; never raises for a bad
    file, it reports problems instead. `team_areas`: Allocated Team -> area office (None: not
    mapped yet; None: no database, so the teams are not checked). `id_key`: the store's key for
    pseudonymising child ids (`config.id_key`)."""
    path = Path(path)
    name = original_name or path.name
    today = today or dt.date.today()
    extract = AnnexAExtract(path)
    try:
        check_file(path, original_name)
        parts = sheet_parts(path, name)
        by_name = not any(list_number(t) is not None for t in parts)  # sheets named "Referrals", ...
        number = named_list if by_name else list_number
        wanted = {parts.get(t, "") for t in parts if number(t) in LISTS}
        extents = inspect_parts(path, name, wanted)
        reader = fastexcel.read_excel(str(path))
        titles = reader.sheet_names
    except FileRefused as exc:
        extract.problems.append(_error(str(exc)))
        return extract
    except Exception as exc:  # the reader's own errors: a damaged workbook
        extract.problems.append(_error(str(damaged(name, exc))))
        return extract

    check_teams = team_areas is not None
    mapping = {team_key(t): a for t, a in (team_areas or {}).items()}
    seen: dict[int, str] = {}
    other_lists: list[str] = []
    other_sheets: list[str] = []
    for title in titles:
        n = number(title)
        if n is None:
            other_sheets.append(title)
            continue
        if n not in LISTS:
            other_lists.append(title)
            continue
        if n in seen:
            extract.problems.append(
                _error(
                    f'Sheet "{title}" and sheet "{seen[n]}" are both List {n}. Keep one of them (rename or delete the '
                    "other) and upload again.",
                    sheet=title,
                )
            )
            continue
        seen[n] = title
        extent = extents.get(parts.get(title, ""))
        if extent is None:
            extract.problems.append(_error(str(damaged(name, f'sheet "{title}" has no worksheet part')), sheet=title))
            continue
        too_big = sheet_too_big(title, extent)
        if too_big:
            extract.problems.append(_error(too_big, sheet=title))
            continue
        try:
            _read_list(reader, title, LISTS[n], extract, mapping, id_key, today, check_teams)
        except Exception as exc:  # a sheet the reader cannot parse
            extract.problems.append(_error(f'Sheet "{title}" cannot be read ({exc}). {SAVE_AS}', sheet=title))

    if not seen:
        extract.problems.append(
            _error(
                "This Annex A workbook has none of the lists the dashboard reads: "
                + ", ".join(f'"List {n}" ({LIST_TITLES[n].lower()})' for n in LISTS)
                + f". Its sheets are: {_shown(list(titles))}."
            )
        )
    if other_lists:
        extract.problems.append(
            _warning(
                f"Annex A lists the dashboard does not use were ignored: {_shown(other_lists)}. It reads "
                + ", ".join(f"List {n} ({LIST_TITLES[n].lower()})" for n in LISTS)
                + "."
            )
        )
    if other_sheets:
        extract.problems.append(
            _warning(
                f"Sheets that are not Annex A lists were ignored: {_shown(other_sheets)}. In an Annex A workbook "
                "only its lists are read; load the extract's own sheets (workforce, transfers, audits, ...) in the "
                "monthly extract workbook."
            )
        )
    if by_name and seen:
        extract.problems.append(
            _warning(
                "This workbook's sheets are named after what the lists hold rather than \"List 1\" ... \"List 11\", "
                "so they were read as Annex A lists: "
                + ", ".join(f'"{t}" as List {n}' for n, t in sorted(seen.items()))
                + ". Ofsted's template names them \"List 3\", \"List 4\", \"List 7\" (with or without the title)."
            )
        )
    if team_areas is None:
        extract.problems.append(
            _warning(
                f"No database could be opened, so the Allocated Teams were not checked against {TEAMS_PAGE}: "
                "on import, a team with no area office there refuses the file."
            )
        )
    if extract.ok:
        extract.problems.extend(_summary(extract))
    return extract


def _read_list(reader, title: str, lst: AnnexList, extract: AnnexAExtract, mapping: dict[str, str | None],
               id_key: bytes, today: dt.date, check_teams: bool = True) -> None:
    header_map = lst.header_map()
    batch = reader.load_sheet(title, header_row=None, skip_rows=0, dtypes="string", eager=True)
    if batch.num_rows == 0 or all(batch.column(i).null_count == batch.num_rows for i in range(batch.num_columns)):
        extract.problems.append(_warning(f'Sheet "{title}" is empty and was skipped.', sheet=title))
        return
    probe = [list(r.values()) for r in batch.slice(0, HEADER_SEARCH_ROWS).to_pylist()]
    h = next(
        (i for i, row in enumerate(probe) if sum(1 for v in row if v is not None and spec.norm(v) in header_map) >= 2),
        None,
    )
    if h is None:
        extract.problems.append(
            _error(
                f'Sheet "{title}": no row of Annex A column headings was found in its first {HEADER_SEARCH_ROWS} rows. '
                "Keep the published headings (for example "
                + ", ".join(f'"{lst.headings[c][0]}"' for c in lst.required)
                + ") in one row near the top.",
                sheet=title,
                expected="a header row naming the columns",
            )
        )
        return
    excel_header = h + 1
    headers, use, unused = map_headers(probe[h], header_map, title, excel_header, extract.problems)
    missing = [c for c in lst.required if c not in headers]
    for c in missing:
        why = " The dashboard needs it to give each record its area office." if c == "team" else ""
        extract.problems.append(
            _error(
                f'Sheet "{title}": the column "{lst.headings[c][0]}" is missing from the header row (row '
                f"{excel_header}).{why} Add it, or rename the column that holds it; also accepted: "
                + ", ".join(f'"{x}"' for x in lst.headings[c][1:4])
                + ".",
                sheet=title, row=excel_header, column=lst.headings[c][0],
                expected="a column headed " + " or ".join(f'"{x}"' for x in lst.headings[c]),
            )
        )
    extract.problems.extend(_look_alikes(lst, title, headers, unused))
    if missing or any(p.severity == "error" and p.sheet == title for p in extract.problems):
        return

    data = batch.slice(h + 1)
    first = excel_header + 1
    arrays = {col: _decoded(data.column(idx), lst.spec.column(col)) for col, idx in use.items()}
    arrays["excel_row"] = pa.array(range(first, first + data.num_rows), pa.int64())
    table = pa.table(arrays)

    unmapped = _unmapped_teams(table, mapping) if check_teams else []
    for team, _ in unmapped:
        if team not in extract.unmapped_teams:
            extract.unmapped_teams.append(team)
    if unmapped:
        extract.problems.append(
            _error(
                f'Sheet "{title}", column "{headers["team"]}": {len(unmapped):,} team(s) have no area office yet: '
                + ", ".join(f'"{t}" ({_rows(r)})' for t, r in unmapped[:MAX_SHOWN])
                + (f" and {len(unmapped) - MAX_SHOWN:,} more" if len(unmapped) > MAX_SHOWN else "")
                + f". Map each team to its area office on {TEAMS_PAGE}, then upload this file again.",
                sheet=title, column=headers["team"], value=", ".join(t for t, _ in unmapped[:MAX_SHOWN]),
                expected="a team mapped to an area office on the Teams page",
            )
        )

    typed, problems = validate_values(table, lst.spec, title, headers, today)
    extract.problems.extend(problems)
    if typed is None or unmapped:
        return
    final, problems, notes = _derive(typed, lst, title, headers, mapping, id_key)
    extract.problems.extend(problems)
    if final is None:
        return
    headers = {**headers, lst.key_column: f"{lst.prefix}-<child>-<date>", "area_office": headers["team"]}
    sides = {}
    for col in lst.extra:  # kept beside the contract sheet, in a side table keyed like it
        if col.name in final.column_names:
            sides[SIDE_TABLES[col.name]] = SheetData(
                spec.Sheet(SIDE_TABLES[col.name], (lst.key_column,), (lst.spec.column(lst.key_column), col)),
                title, excel_header, headers, final.select(["excel_row", lst.key_column, col.name]), final.num_rows)
            final = final.drop_columns([col.name])
    extract.sheets[lst.sheet] = SheetData(spec.SHEETS[lst.sheet], title, excel_header, headers, final, final.num_rows)
    extract.sheets.update(sides)
    extract.lists[lst.sheet] = title
    extract.problems.extend(notes)
    extract.problems.append(_where_from(lst, title, headers, unused, final.num_rows))
    if final.num_rows == 0:
        extract.problems.append(_warning(f'Sheet "{title}" has a header row but no data rows.', sheet=title))


# Annex A's drop-down values carry a letter code: "a) Yes", "b) No", "c) Unknown", "a) Neglect",
# "q) 6: Police". The code is dropped and the value read by its meaning.
_CODE = r"^[\s\p{Z}]*[A-Za-z]{1,2}\)[\s\p{Z}]*"
_UNKNOWN = r"(?i)^[\s\p{Z}]*(unknown|not known|not recorded|n/?a)[\s\p{Z}]*$"
_NOT_CODED = {"child_id", "team", "worker_id"}  # free text: a name such as "b) Team" is kept as written


def _decoded(col: pa.ChunkedArray, column: spec.Column) -> pa.ChunkedArray:
    """The column with Annex A's drop-down codes removed; for a Y/N column "Unknown" is blank."""
    import pyarrow.compute as pc

    if column.name in _NOT_CODED:
        return col
    if not pa.types.is_string(col.type):
        col = col.cast(pa.string())
    col = pc.replace_substring_regex(col, _CODE, "", max_replacements=1)
    if column.type == spec.FLAG:
        col = pc.if_else(pc.match_substring_regex(col, _UNKNOWN), pa.scalar(None, pa.string()), col)
    return col


_STOP = {"of", "the", "a", "an", "in", "on", "during", "was", "is", "to", "for", "and", "by"}
_SAME = {"auth": "authorisation", "authorization": "authorisation", "authorised": "authorisation",
         "authorized": "authorisation", "dob": "birth", "cp": "childprotection", "id": "identifier",
         "ref": "referral", "referrals": "referral", "plans": "plan", "no": "number", "num": "number"}


def _words(text: str) -> set[str]:
    """The words of a heading, ignoring case, spaces and punctuation: "ContinuousAssessmentAuthDate"
    and "Continuous assessment - date of authorisation" share continuous, assessment, date, authorisation."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", str(text))
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {_SAME.get(w, w) for w in words if w not in _STOP}


def _look_alikes(lst: AnnexList, title: str, headers: dict[str, str], unused: list[str]) -> list[Problem]:
    """A warning for each column left unread whose heading looks like one the list reads (most of the
    words of a known heading) while that column was not found: never drop such a column silently."""
    problems = []
    for text in unused:
        words = _words(text)
        best = None
        for col, known in lst.headings.items():
            if col in headers:
                continue
            for k in known:
                kw = _words(k)
                common = len(words & kw)
                if common >= 2 and common / len(kw) >= 0.6 and (best is None or common / len(kw) > best[2]):
                    best = (col, known[0], common / len(kw))  # named by its published heading
        if best:
            problems.append(_warning(
                f'Sheet "{title}": the column "{text}" looks like "{best[1]}" ({best[0]}) but is not one of the headings '
                f"read, so it was not used and {best[0]} is blank. Rename it \"{best[1]}\" and upload again if that is "
                "what it holds.", sheet=title, column=text, value=text, expected=f'a column headed "{best[1]}"'))
    return problems


def _unmapped_teams(table: pa.Table, mapping: dict[str, str | None]) -> list[tuple[str, list[int]]]:
    """Teams named in the sheet that have no area office, with the Excel rows naming them."""
    known = pa.table({"k": pa.array([k for k, a in mapping.items() if a], pa.string())})
    con = duckdb.connect()
    try:
        con.register("sheet", table.select(["team", "excel_row"]))
        con.register("known", known)
        rows = con.execute(
            """
            with named as (
                select trim(regexp_replace(team, '[\\s\\p{Z}]+', ' ', 'g')) as team, excel_row from sheet
            )
            select min(team) as team, list(excel_row order by excel_row) as rows
            from named
            where team <> '' and lower(team) not in (select k from known)
            group by lower(team)
            order by 1
            """
        ).fetchall()
    finally:
        con.close()
    return [(t, r) for t, r in rows]


def _hmac_sql(expr: str) -> str:
    """HMAC-SHA-256 of the text, first 128 bits in hex: the same value as `csc.pseudonyms.pseudonymise`."""
    return f"left(sha256($opad || unhex(sha256($ipad || encode({expr})))), 32)"


def _pads(key: bytes) -> dict[str, bytes]:
    k = key if len(key) <= 64 else hashlib.sha256(key).digest()
    k = k.ljust(64, b"\0")
    return {"ipad": bytes(b ^ 0x36 for b in k), "opad": bytes(b ^ 0x5C for b in k)}


def _derive(typed: pa.Table, lst: AnnexList, title: str, headers: dict[str, str], mapping: dict[str, str | None],
            id_key: bytes) -> tuple[pa.Table | None, list[Problem], list[Problem]]:
    """Add the derived key, the area office and the constant columns, in DuckDB; refuse two different
    rows with the same key, drop rows that repeat an earlier row exactly."""
    con = duckdb.connect()
    try:
        con.register("typed", typed)
        con.register("areas", pa.table({"k": pa.array(list(mapping), pa.string()),
                                        "area": pa.array(list(mapping.values()), pa.string())}))
        cols = [c for c in typed.column_names if c != "excel_row"]
        date = lst.date_column
        consts = ", ".join(f"$c{i}::varchar as {c}" for i, (c, _) in enumerate(lst.constants))
        params = {**_pads(id_key), "prefix": lst.prefix, "no_team": NO_TEAM_AREA,
                  **{f"c{i}": v for i, (_, v) in enumerate(lst.constants)}}
        con.execute(
            f"""
            create temp table derived as
            with keyed as (
                select
                    t.*,
                    $prefix || '-' || {_hmac_sql('t.child_id')} || '-' || strftime(t.{date}, '%Y%m%d') as record_key,
                    case when t.team is null then $no_team else a.area end as area_office,
                    md5(to_json(struct_pack({', '.join(f'{c} := t.{c}' for c in cols)}))::varchar) as signature,
                from typed as t
                left join areas as a on a.k = lower(t.team)
            ),
            versions as (
                select record_key, count(distinct signature) as versions, min(excel_row) as first_row,
                from keyed
                group by record_key
            )
            select
                k.*,
                {consts + ',' if consts else ''}
                v.versions,
                v.first_row,
                row_number() over (partition by k.record_key order by k.excel_row) as nth,
            from keyed as k
            inner join versions as v on v.record_key = k.record_key
            """,
            params,
        )
        clashes = con.execute(
            f"select excel_row, first_row, strftime({date}, '%d/%m/%Y') from derived where nth > 1 and versions > 1 "
            "order by excel_row limit $n",
            {"n": MAX_PROBLEMS_PER_SHEET},
        ).fetchall()
        total = con.execute("select count(*) from derived where nth > 1 and versions > 1").fetchall()[0][0]
        if clashes:
            date_header = headers.get(date, date)
            problems = [
                _error(
                    f'Sheet "{title}", row {row}: the same child already has {lst.a_noun} with "{date_header}" '
                    f"{day} on row {first}, with different details. Annex A has no {lst.noun} id, so the dashboard "
                    f"knows {lst.a_noun} by its child and date: keep one row for it (merge or delete the other) and "
                    "upload again.",
                    sheet=title, row=row, column=date_header, value=day,
                    expected=f"one row per child and {date_header}",
                )
                for row, first, day in clashes
            ]
            if total > len(clashes):
                problems.append(_error(f'Sheet "{title}" has {total:,} such rows in all; only the first '
                                       f"{len(clashes):,} are listed.", sheet=title))
            return None, problems, []
        repeated = [r[0] for r in con.execute("select excel_row from derived where nth > 1 order by 1").fetchall()]
        no_team = con.execute("select count(*) from derived where nth = 1 and team is null").fetchall()[0][0]
        out = [lst.key_column, *cols, "area_office", *(c for c, _ in lst.constants)]
        final = con.sql(
            "select excel_row, record_key as " + lst.key_column + ", "
            + ", ".join(c for c in out[1:]) + " from derived where nth = 1 order by excel_row"
        ).to_arrow_table()
    finally:
        con.close()
    notes = []
    if repeated:
        notes.append(_warning(
            f'Sheet "{title}": {len(repeated):,} row(s) repeat an earlier row exactly and were ignored '
            f"({_rows(repeated)}).", sheet=title))
    if no_team:
        notes.append(_warning(
            f'Sheet "{title}": {no_team:,} row(s) have no "{headers["team"]}"; they count under the area office '
            f'"{NO_TEAM_AREA}".', sheet=title, column=headers["team"]))
    return final, [], notes


def _where_from(lst: AnnexList, title: str, headers: dict[str, str], unused: list[str], rows: int) -> Problem:
    read_cols = [f'"{h}" → {c}' for c, h in headers.items() if c not in (lst.key_column, "area_office")]
    consts = ", ".join(f'{c} "{v}"' for c, v in lst.constants)
    message = (
        f'"{title}" → {lst.sheet}: {rows:,} row{"" if rows == 1 else "s"}. Read: {", ".join(read_cols)}; area_office from '
        f'"{headers["team"]}" through the Teams page'
        + (f"; {consts} for every row" if consts else "")
        + f". Each {lst.noun} is known by its child and {headers[lst.date_column]} ({lst.key_column} "
        f"{lst.prefix}-<child>-<YYYYMMDD>), so the same {lst.noun} in a later month's Annex A updates it."
    )
    if unused:
        message += f" Not used: {_shown(unused)}."
    return _warning(message, sheet=title)


def _summary(extract: AnnexAExtract) -> list[Problem]:
    """Which KPIs this file feeds and which it cannot, from the tables each KPI's SQL reads."""
    from csc import kpis  # late import: only for the summary

    provided = set(extract.sheets)
    inferable = {"involvements"}
    cannot, inferred = [], []
    for kpi in kpis.registry().values():
        needs = set(re.findall(r"\bcur_([a-z_]+)", kpi.sql))
        if needs <= provided:
            continue
        label = f"{kpi.title} ({kpi.name})"
        if needs - provided <= inferable and "inferred_involvements" in kpi.sql:
            inferred.append(label)
        else:
            missing = sorted(needs - provided - inferable) or sorted(needs - provided)
            cannot.append(f"{label}: needs {', '.join(missing)}")
    problems = []
    if cannot:
        problems.append(_warning(
            f"This Annex A file cannot feed {len(cannot)} KPI(s), which come from the extract's own sheets "
            "(workforce, establishment, transfers, audits, supervisions, involvements): " + "; ".join(cannot)
            + ". Load those sheets in the monthly extract workbook."))
    if inferred:
        problems.append(_warning(
            "Changes of social worker — " + "; ".join(inferred) + " — need an involvements sheet. Until one is "
            "loaded they are inferred from the Allocated Worker each child has on Lists 4 and 7 in successive "
            "monthly Annex A imports (a different worker from the previous import counts as a new involvement "
            "from that month), and the dashboard says the figure is inferred."))
    return problems


# --- the team -> area office mapping --------------------------------------------------------


class MappingError(Exception):
    """A team mapping the page cannot save, with a message for the analyst."""


def team_areas(cur: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """Allocated Team -> area office (None: seen in an upload, not mapped yet)."""
    return dict(cur.execute("select team, area_office from team_areas order by team").fetchall())


def team_table(cur: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The mapping for the Teams page, with the teams refused uploads named (not mapped yet) first."""
    return cur.execute(
        "select team, area_office, changed_by, changed_at from team_areas "
        "union all "
        "select w.team, null, null, w.first_seen from teams_awaiting_area as w "
        "where lower(w.team) not in (select lower(team) from team_areas) "
        "order by area_office is not null, lower(team)"
    ).df()


def record_unmapped(store, extract: Extract, user: str | None = None, role: str | None = None,
                    name: str | None = None) -> list[str]:
    """Record the teams a refused Annex A upload named that nobody has mapped, so the Teams page lists
    them: team names only, in `teams_awaiting_area` (apart from the mapping and the data), audited."""
    teams = getattr(extract, "unmapped_teams", None)
    if not teams:
        return []
    if store.read_only:
        extract.problems.append(_warning(
            f"This check opened the database read-only (storing nothing), so the team(s) with no area office were "
            f"not added to {TEAMS_PAGE}: {_shown(teams)}. Add them there with their area offices, or check the file "
            "on the Upload page, which lists them there for you."))
        return []
    with store.transaction(user or "unknown", "teams_awaiting_area", role=role) as w:
        cur = w.cur
        known = {team_key(t) for t in team_areas(cur)}
        known |= {team_key(r[0]) for r in cur.execute("select team from teams_awaiting_area").fetchall()}
        new = []
        for t in teams:
            if team_key(t) not in known:
                known.add(team_key(t))
                new.append(t)
        if new:
            cur.executemany("insert into teams_awaiting_area (team, first_seen, seen_by) values (?, ?, ?)",
                            [(t, dt.datetime.now(), user) for t in new])
            w.detail.update(added=new, file=name)
        else:
            w.abandon()
    extract.problems.append(_warning(
        f"{TEAMS_PAGE[0].upper() + TEAMS_PAGE[1:]} now lists the team(s) with no area office, at the top: "
        f"{_shown(teams)}."))
    return new


def _clean(value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
        return None
    text = " ".join(str(value).split())
    return text or None


def save_team_areas(store, table: pd.DataFrame, user: str, role: str | None = None) -> str:
    """Replace the mapping with the edited table (columns team, area_office): who and when are set
    on the rows whose area office (or spelling) changed; removed teams are deleted; audit-logged."""
    wanted: dict[str, tuple[str, str | None]] = {}
    for team, area in zip(table["team"].tolist(), table["area_office"].tolist(), strict=True):
        team, area = _clean(team), _clean(area)
        if team is None:
            if area is not None:
                raise MappingError(f'A row gives the area office "{area}" but no team. Fill in the team or delete the row.')
            continue
        k = team_key(team)
        if k in wanted:
            raise MappingError(f'The team "{team}" is listed twice (as "{wanted[k][0]}" too). Keep one row for it.')
        wanted[k] = (team, area)
    now = dt.datetime.now()
    # the manifest keeps the mapping's new state when this commits (a rebuild replays Annex A
    # files with the mapping of their day)
    with store.transaction(user, "team_areas", role=role) as w:
        cur = w.cur
        current = {team_key(t): (t, a) for t, a in team_areas(cur).items()}
        waiting = {team_key(r[0]): r[0] for r in cur.execute("select team from teams_awaiting_area").fetchall()}
        removed = [current[k][0] for k in current if k not in wanted]
        # a waiting team still without an area office stays waiting; one deleted from the table is dropped
        changed = {k: v for k, v in wanted.items() if current.get(k) != v and not (k in waiting and k not in current
                                                                                    and v[1] is None)}
        dropped = [waiting[k] for k in waiting if k not in wanted and k not in current]
        if not removed and not changed and not dropped:
            w.abandon()
            return "Nothing to save: the mapping is unchanged."
        for k in changed:
            if k in waiting:
                cur.execute("delete from teams_awaiting_area where team = ?", [waiting[k]])
        for team in dropped:
            cur.execute("delete from teams_awaiting_area where team = ?", [team])
        for team in removed:
            cur.execute("delete from team_areas where team = ?", [team])
        for k, (team, area) in changed.items():
            if k in current:
                cur.execute("delete from team_areas where team = ?", [current[k][0]])
            cur.execute(
                "insert into team_areas (team, area_office, changed_by, changed_at) values (?, ?, ?, ?)",
                [team, area, user if area else None, now],
            )
        w.detail.update({"set": {t: a for t, a in changed.values()}, "removed": removed + dropped})
    mapped = sum(1 for _, a in changed.values() if a)
    parts = [f"{mapped} team(s) mapped"] if mapped else []
    if len(changed) - mapped:
        parts.append(f"{len(changed) - mapped} left without an area office")
    if removed or dropped:
        parts.append(f"{len(removed) + len(dropped)} removed")
    return "Saved: " + ", ".join(parts) + ". New Annex A uploads use this mapping."


# --- inferred involvements ------------------------------------------------------------------

INFERRED_SQL = """
create or replace table inferred_involvements as
with

snapshots as (
    -- each period's latest loaded Annex A import: a full list of the children open at the time
    select
        period,
        max(import_id) as import_id,
        strptime(period, '%Y-%m')::date as m0,
    from imports
    where status = 'loaded' and source_format = 'annex_a'
    group by period
),

numbered as (
    select *, row_number() over (order by period) as seq from snapshots
),

seen as (
    -- the Allocated Worker on each child's rows; an open plan says most about the current worker,
    -- then an open assessment, then a closed plan, then a completed assessment
    select n.seq, n.m0, r.child_id, r.worker_id, r.area_office, r.team, r.start_date,
           case when r.end_date is null then 0 else 2 end as priority, r.end_date as ended,
    from raw_cp_plans as r
    inner join numbered as n on n.import_id = r.import_id
    where r.worker_id is not null
    union all
    select n.seq, n.m0, r.child_id, r.worker_id, r.area_office, r.team, r.start_date,
           case when r.completed_date is null then 1 else 3 end, r.completed_date,
    from raw_assessments as r
    inner join numbered as n on n.import_id = r.import_id
    where r.worker_id is not null
),

observed as (
    -- one worker per child per import
    select *
    from seen
    qualify row_number() over (
        partition by child_id, seq order by priority, start_date desc, worker_id
    ) = 1
),

changes as (
    -- a new involvement where the worker differs from the previous import's, or the child was
    -- not seen in the previous import
    select
        *,
        lag(worker_id) over w is distinct from worker_id
            or coalesce(lag(seq) over w, -1) <> seq - 1 as is_new,
    from observed
    window w as (partition by child_id order by seq)
),

runs as (
    select *, sum(is_new::int) over (partition by child_id order by seq) as run,
    from changes
),

involvements as (
    select
        child_id,
        run,
        any_value(worker_id) as worker_id,
        min(m0) as start_date,
        max(seq) as last_seq,
        arg_max(area_office, seq) as area_office,
        arg_max(team, seq) as team,
        -- the plan or assessment the child was last seen on had ended: the involvement ends there
        nullif(arg_max(coalesce(ended, '9999-12-31'::date), seq), '9999-12-31'::date) as last_ended,
    from runs
    group by child_id, run
)

select
    'INF-' || i.child_id || '-' || strftime(i.start_date, '%Y%m') as involvement_id,
    i.child_id,
    i.worker_id,
    least(i.start_date, coalesce(i.last_ended, i.start_date)) as start_date,
    -- where the record it was last seen on ended; else the next Annex A month in which it was not seen
    coalesce(i.last_ended, after.m0) as end_date,
    i.area_office,
    i.team,
    null::varchar as change_reason,
    last.period as import_period,
    last.import_id::integer as import_id,
from involvements as i
inner join numbered as last on last.seq = i.last_seq
left join numbered as after on after.seq = i.last_seq + 1
where not exists (select 1 from cur_involvements)
order by i.child_id, i.start_date
"""


REFERRAL_COUNTS_SQL = """
create or replace table referral_counts_current as
select r.referral_id, r.prior_referrals_12m
from raw_referral_counts as r
join imports as i on i.import_id = r.import_id
where i.status = 'loaded'
qualify row_number() over (partition by r.referral_id order by i.period desc, r.import_id desc) = 1
"""


def rebuild_inferred(cur: duckdb.DuckDBPyConnection) -> None:
    """Rebuild `inferred_involvements` (inside the store's rebuild, before the KPIs): empty as soon
    as any involvements sheet is loaded; and `referral_counts_current`, the current List 3 count of
    each Annex A referral (as `cur_<sheet>` is built: the latest loaded import's)."""
    cur.execute(INFERRED_SQL)
    cur.execute(REFERRAL_COUNTS_SQL)


def involvements_inferred(cur: duckdb.DuckDBPyConnection) -> bool:
    """True when the changes-of-worker KPIs use inferred involvements (no involvements sheet loaded)."""
    return bool(cur.execute("select count(*) from inferred_involvements").fetchall()[0][0])


def inferred_summary(cur: duckdb.DuckDBPyConnection) -> dict:
    rows = cur.execute(
        "select count(*), count(distinct child_id), "
        "(select count(distinct period) from imports where status = 'loaded' and source_format = 'annex_a') "
        "from inferred_involvements"
    ).fetchall()[0]
    return {"involvements": rows[0], "children": rows[1], "imports": rows[2]}


"""Read Data to Insight's Standard Safeguarding Dataset (SSD) tables as one month's import.

The SSD lives in the council's own case-system database (`ssd_*` tables built by Data to
Insight's scripts). An analyst exports the tables, one sheet of a workbook or one CSV file per
table, named after the table (`ssd_cin_episodes`; the prefix is needed) and headed with
the SSD column names (`ssd/schema/*.yml`), and uploads them as one file: the workbook, or a .zip
of the CSV files. The monthly extract's own sheets (workforce, establishment, transfers, audits,
supervisions) may be added beside the SSD tables in the same workbook.

Mapping onto the contract (see docs/ssd.md):

- `ssd_cin_episodes` -> referrals; `ssd_cin_assessments` -> assessments ("Single");
  `ssd_cp_plans` -> cp_plans, team and worker from the initial conference
  (`ssd_initial_cp_conference`) or else the allocated involvement open at the plan's start,
  previous plans counted from the child's earlier plans in the table;
  `ssd_involvements` -> involvements, allocated social workers only (by role);
  `ssd_professionals` -> workforce (qualified = a Social Work England registration number
  present; no dates, agency flag only when Y/N).
- Team columns hold a department id (Liquidlogic) or a name (Mosaic): an id found in
  `ssd_department` is replaced by the team's name. Area offices come from the team through the
  Teams page mapping Annex A uses (an unmapped team refuses the file; the teams are listed there).
- `1900-01-01` (the case-system scripts' "no date") is blank.

Values are checked by `csc.extract`'s own bulk validation, with the SSD column names in the
messages. The keys are the SSD's own ids.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv

from csc import annexa_lists, scratch, spec
from csc.extract import (
    Extract,
    Problem,
    SheetData,
    open_reader,
    read_sheet,
    sheet_text,
    validate_values,
)
from csc.filesafety import (
    HEADER_SEARCH_ROWS,
    MAX_FILE_BYTES,
    MAX_PART_RATIO,
    MAX_ROWS,
    MAX_UNCOMPRESSED_BYTES,
    SAVE_AS,
    FileRefused,
    check_file,
    damaged,
    inflate,
    inspect_parts,
    sheet_parts,
    sheet_too_big,
    zip_parts,
)

SOURCE_FORMAT = "ssd"
NO_TEAM_AREA = annexa_lists.NO_TEAM_AREA
BLANK_DATE = "1900-01-01"

# SSD table -> the columns read (the first ones of each table are required)
TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ssd_cin_episodes": (("cine_referral_id", "cine_person_id", "cine_referral_date"),
                         ("cine_referral_source_code", "cine_referral_source_desc", "cine_referral_team",
                          "cine_referral_worker_id", "cine_close_date")),
    "ssd_cin_assessments": (("cina_assessment_id", "cina_person_id", "cina_assessment_start_date"),
                            ("cina_assessment_auth_date", "cina_assessment_child_seen", "cina_assessment_team",
                             "cina_assessment_worker_id", "cina_referral_id")),
    "ssd_cp_plans": (("cppl_cp_plan_id", "cppl_person_id", "cppl_cp_plan_start_date"),
                     ("cppl_cp_plan_end_date", "cppl_cp_plan_initial_category", "cppl_cp_plan_latest_category",
                      "cppl_icpc_id")),
    "ssd_initial_cp_conference": (("icpc_icpc_id",), ("icpc_cp_plan_id", "icpc_icpc_team", "icpc_icpc_worker_id")),
    "ssd_involvements": (("invo_involvements_id", "invo_professional_id", "invo_person_id",
                          "invo_involvement_start_date"),
                         ("invo_professional_role_id", "invo_professional_team", "invo_involvement_end_date",
                          "invo_worker_change_reason")),
    "ssd_professionals": (("prof_professional_id",),
                          ("prof_social_worker_registration_no", "prof_professional_job_title",
                           "prof_professional_department", "prof_full_time_equivalency", "prof_agency_worker_flag",
                           "prof_staff_id")),
    "ssd_department": (("dept_team_id", "dept_team_name"), ("dept_team_parent_id", "dept_team_parent_name")),
}
DATE_COLUMNS = {c for req, opt in TABLES.values() for c in req + opt if c.endswith("_date")}

# Involvement roles that are the child's allocated social worker: Liquidlogic writes "CW"
# (allocated case worker); other systems write the role's name. Compared ignoring case and punctuation.
ALLOCATED_ROLES = ("CW", "Allocated Case Worker", "Allocated Caseworker", "Allocated Social Worker",
                   "Allocated Worker", "Social Worker", "SW", "Key Worker (Social Worker)")

# Which SSD table gives each contract sheet
FEEDS = {
    "referrals": "ssd_cin_episodes",
    "assessments": "ssd_cin_assessments",
    "cp_plans": "ssd_cp_plans",
    "involvements": "ssd_involvements",
    "workforce": "ssd_professionals",
}
NO_SOURCE = ("transfers", "establishment", "audits", "supervisions")

# Side table: each case-system worker's Social Work England registration number, so that a
# workforce census (which knows workers only by that number) links to the case system's workers.
REGISTRATIONS = "worker_registrations"
SCHEMA = f"""
create table if not exists raw_{REGISTRATIONS} (
    import_id integer not null, excel_row integer,
    worker_id varchar,                  -- ssd_professionals.prof_professional_id
    swe_number varchar                  -- prof_social_worker_registration_no
);
"""
REGISTRATION_SHEET = spec.Sheet(REGISTRATIONS, ("worker_id",), (
    spec.Column("worker_id", spec.ID, True), spec.Column("swe_number", spec.ID, True)))


def registrations(cur: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """Social Work England number (normalised) -> case-system worker id, from the latest loaded SSD
    import listing each worker."""
    from csc import kpis

    rows = cur.execute(kpis.app_sql("worker_registrations")).fetchall()
    return {swe_key(n): w for n, w in rows}


def swe_key(number: str) -> str:
    """How Social Work England numbers match: "SW12345", "sw 12345", "12345" and the census's
    zero-padded "SW0000012345" (two letters and ten digits) are one number."""
    key = re.sub(r"[^0-9A-Za-z]", "", str(number)).upper()
    key = key[2:] if key.startswith("SW") else key
    return key.lstrip("0") or key


@dataclass
class SSDExtract(Extract):
    source_format: str = SOURCE_FORMAT
    unmapped_teams: list[str] = field(default_factory=list)
    tables: dict[str, str] = field(default_factory=dict)  # SSD table -> sheet or file it came from

    @property
    def row_counts(self) -> dict[str, int]:
        return {n: s.rows for n, s in self.sheets.items() if n != REGISTRATIONS}


def _error(message: str, **kw) -> Problem:
    return Problem("error", message, **kw)


def _warning(message: str, *, code: str, **kw) -> Problem:
    return Problem("warning", message, code=code, **kw)


def table_name(title: str) -> str | None:
    """The SSD table a sheet or file name stands for ("ssd_cin_episodes", "SSD CIN Episodes.csv"), or
    None. The "ssd" prefix is needed: without it "cp_plans" and "involvements" are the extract's sheets."""
    key = spec.norm(Path(str(title)).stem if str(title).lower().endswith(".csv") else title)
    for name in TABLES:
        if key == spec.norm(name):
            return name
    return None


# --- recognising and opening the upload -------------------------------------------------------


def _zip_members(path: Path, name: str) -> list[zipfile.ZipInfo]:
    """The CSV members of a .zip upload, after checks like the workbook's: size, part count,
    compression ratio, no encryption (nothing is inflated here)."""
    size = path.stat().st_size
    if size == 0 or size > MAX_FILE_BYTES:
        raise FileRefused(f'"{name}" is empty or larger than {MAX_FILE_BYTES / 2**20:,.0f} MB.')
    infos = zip_parts(path, name, "files; an SSD export holds a few dozen.")
    if sum(i.file_size for i in infos) > MAX_UNCOMPRESSED_BYTES:
        raise FileRefused(f'"{name}" would expand to more than {MAX_UNCOMPRESSED_BYTES / 2**30:,.0f} GB.')
    for i in infos:
        if i.flag_bits & 0x1:
            raise FileRefused(f'"{name}" is password-protected; zip the CSV files again without a password.')
        if i.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRefused(f'"{name}" uses an unusual compression method; zip the CSV files again.')
        if i.file_size > 1_000_000 and i.file_size > MAX_PART_RATIO * max(i.compress_size, 1):
            raise FileRefused(f'"{name}" contains a file ({i.filename}) that would expand {i.file_size // max(i.compress_size, 1):,} '
                              "times over: the pattern of a malicious file (a zip bomb), so it was not opened.")
    return [i for i in infos if not i.is_dir() and i.filename.lower().endswith(".csv")]


def is_ssd(path: str | Path, original_name: str | None = None) -> bool:
    """Whether an upload holds SSD tables: a workbook with a sheet named after one, or a .zip with a
    CSV file named after one. Reads only the list of sheets or files."""
    path = Path(path)
    name = original_name or path.name
    try:
        if name.lower().endswith(".zip"):
            return any(table_name(Path(i.filename).name) for i in _zip_members(path, name))
        check_file(path, original_name)
        return any(table_name(t) for t in sheet_parts(path, name))
    except Exception:
        return False


def _csv_table(data: bytes) -> pa.Table:
    opts = pacsv.ConvertOptions(strings_can_be_null=True, null_values=[""], column_types=None)
    read = pacsv.ReadOptions(autogenerate_column_names=False)
    table = pacsv.read_csv(io.BytesIO(data), read_options=read, convert_options=opts)
    return pa.table({c: table.column(c).cast(pa.string()) for c in table.column_names})


def _load_sources(path: Path, name: str, extract: SSDExtract, today: dt.date) -> dict[str, pa.Table]:
    """SSD table -> its columns as text, with `excel_row` (the row in the sheet or file). The
    extract's own sheets in the same workbook are read onto `extract.sheets` as any extract's."""
    found: dict[str, pa.Table] = {}
    if name.lower().endswith(".zip"):
        members = _zip_members(path, name)
        with path.open("rb") as fh:
            for info in members:
                member = Path(info.filename).name
                table = table_name(member)
                if table is None:
                    extract.problems.append(_warning(f'"{member}" is not an SSD table the dashboard reads and was ignored.',
                                                        code="ssd_table_ignored"))
                    continue
                data = b"".join(inflate(fh, info, name))
                try:
                    t = _csv_table(data)
                    t = t.rename_columns([c.strip().lower() for c in t.column_names])
                except Exception as exc:
                    extract.problems.append(_error(f'"{member}" cannot be read as CSV ({exc}).', sheet=member))
                    continue
                if t.num_rows > MAX_ROWS:
                    extract.problems.append(_error(f'"{member}" has {t.num_rows:,} rows, more than {MAX_ROWS:,}.',
                                                   sheet=member))
                    continue
                found[table] = t.append_column("excel_row", pa.array(range(2, t.num_rows + 2), pa.int64()))
                extract.tables[table] = member
        return found

    check_file(path, name)
    parts = sheet_parts(path, name)
    wanted = {parts.get(t, "") for t in parts if table_name(t) or spec.sheet_for(t)}
    extents = inspect_parts(path, name, wanted)
    reader = open_reader(path, name)  # the reader in its own process (`csc.readbox`)
    for title in reader.sheet_names():
        table = table_name(title)
        sheet = spec.sheet_for(title)
        extent = extents.get(parts.get(title, ""))
        if (table or sheet) and (extent is None or sheet_too_big(title, extent)):
            extract.problems.append(_error(sheet_too_big(title, extent) if extent else f'Sheet "{title}" cannot be read.',
                                           sheet=title))
            continue
        if sheet is not None:
            read_sheet(reader, title, sheet, extract, today)  # a sheet of the monthly extract, beside the SSD
            continue
        if table is None:
            extract.problems.append(_warning(f'Sheet "{title}" is neither an SSD table nor a sheet of the extract '
                                             "and was ignored.", sheet=title, code="ssd_sheet_ignored"))
            continue
        batch = sheet_text(reader, title)
        rows = [list(r.values()) for r in batch.slice(0, HEADER_SEARCH_ROWS).to_pylist()]
        known = {c for c in TABLES[table][0] + TABLES[table][1]}
        h = next((i for i, r in enumerate(rows) if sum(1 for v in r if v and str(v).strip().lower() in known) >= 1),
                 None)
        if h is None:
            extract.problems.append(_error(f'Sheet "{title}": no row of SSD column names (such as '
                                           f'"{TABLES[table][0][0]}") in its first {HEADER_SEARCH_ROWS} rows.', sheet=title))
            continue
        cols = {}
        for idx, v in enumerate(rows[h]):
            if v is not None and str(v).strip():
                cols.setdefault(str(v).strip().lower(), batch.slice(h + 1).column(idx))
        n = batch.num_rows - h - 1
        found[table] = pa.table({**cols, "excel_row": pa.array(range(h + 2, h + 2 + n), pa.int64())})
        extract.tables[table] = title
    return found


# --- mapping ----------------------------------------------------------------------------------


def _date(col: str) -> str:
    """The column's text with the case systems' "no date" (1900-01-01) made blank."""
    return (f"case when left(trim({col}), 10) = '{BLANK_DATE}' or trim({col}) like '01/01/1900%' "
            f"or trim({col}) like '1/1/1900%' then null else {col} end")


def _map_sql(name: str, roles: tuple[str, ...]) -> str:
    """The SQL turning an SSD table (as text) into the contract sheet's columns (as text)."""
    team = "coalesce(d.dept_team_name, {c})"
    dept = "left join dept as d on d.dept_team_id = {c}"
    if name == "referrals":
        return f"""
            select e.excel_row, e.cine_referral_id as referral_id, e.cine_person_id as child_id,
                   {_date('e.cine_referral_date')} as referral_date, {team.format(c='e.cine_referral_team')} as team,
                   coalesce(e.cine_referral_source_desc, e.cine_referral_source_code) as source,
            from ssd_cin_episodes as e {dept.format(c='e.cine_referral_team')}"""
    if name == "assessments":
        return f"""
            select a.excel_row, a.cina_assessment_id as assessment_id, a.cina_person_id as child_id,
                   'Single' as assessment_type, {_date('a.cina_assessment_start_date')} as start_date,
                   {_date('a.cina_assessment_auth_date')} as completed_date,
                   a.cina_assessment_child_seen as child_seen, {team.format(c='a.cina_assessment_team')} as team,
                   a.cina_assessment_worker_id as worker_id,
            from ssd_cin_assessments as a {dept.format(c='a.cina_assessment_team')}"""
    if name == "cp_plans":
        return f"""
            select p.excel_row, p.cppl_cp_plan_id as cp_plan_id, p.cppl_person_id as child_id,
                   {_date('p.cppl_cp_plan_start_date')} as start_date, {_date('p.cppl_cp_plan_end_date')} as end_date,
                   coalesce(p.cppl_cp_plan_initial_category, p.cppl_cp_plan_latest_category) as category,
                   {team.format(c='c.icpc_icpc_team')} as team, c.icpc_icpc_worker_id as worker_id,
            from ssd_cp_plans as p
            left join (
                select * from ssd_initial_cp_conference
                qualify row_number() over (partition by icpc_icpc_id order by excel_row) = 1
            ) as c on c.icpc_icpc_id = p.cppl_icpc_id
            {dept.format(c='c.icpc_icpc_team')}"""
    if name == "involvements":
        keys = ", ".join("'" + spec.norm(r) + "'" for r in roles)
        codes = ", ".join("'" + v + "'" for v in spec.SHEETS["involvements"].column("change_reason").values)
        return f"""
            select i.excel_row, i.invo_involvements_id as involvement_id, i.invo_person_id as child_id,
                   i.invo_professional_id as worker_id, {_date('i.invo_involvement_start_date')} as start_date,
                   {_date('i.invo_involvement_end_date')} as end_date,
                   {team.format(c='i.invo_professional_team')} as team,
                   case when upper(trim(i.invo_worker_change_reason)) in ({codes})
                        then upper(trim(i.invo_worker_change_reason)) end as change_reason,
            from ssd_involvements as i {dept.format(c='i.invo_professional_team')}
            where lower(regexp_replace(coalesce(i.invo_professional_role_id, ''), '[^A-Za-z0-9]', '', 'g')) in ({keys})"""
    if name == "workforce":
        return f"""
            select p.excel_row, p.prof_professional_id as worker_id,
                   {team.format(c='p.prof_professional_department')} as team,
                   p.prof_professional_job_title as role,
                   case when nullif(trim(p.prof_social_worker_registration_no), '') is not null then 'Y' else 'N' end
                       as is_qualified,
                   case when upper(trim(p.prof_agency_worker_flag)) in ('Y', 'N') then upper(trim(p.prof_agency_worker_flag))
                   end as is_agency,
                   nullif(trim(p.prof_full_time_equivalency), '') as fte,
            from ssd_professionals as p {dept.format(c='p.prof_professional_department')}"""
    raise ValueError(name)


def _sheet_spec(name: str) -> spec.Sheet:
    """The contract sheet as the SSD can fill it: the workforce's agency flag, FTE and dates, which
    the SSD does not have, are not required (blank: the KPIs needing them stay empty)."""
    sheet = spec.SHEETS[name]
    if name == "workforce":
        relaxed = {"is_agency", "fte", "start_date", "area_office"}
        sheet = dataclasses.replace(sheet, columns=tuple(
            dataclasses.replace(c, required=False) if c.name in relaxed else c for c in sheet.columns))
    else:
        sheet = dataclasses.replace(sheet, columns=tuple(
            dataclasses.replace(c, required=False) if c.name == "area_office" else c for c in sheet.columns))
    return sheet


def read(
    path: str | Path,
    team_areas: Mapping[str, str | None] | None,
    *,
    original_name: str | None = None,
    today: dt.date | None = None,
    roles: tuple[str, ...] = ALLOCATED_ROLES,
    known_workers: pa.Table | None = None,
) -> SSDExtract:
    """Read and validate SSD tables (a workbook or a .zip of CSV files) into the contract's sheets;
    never raises for a bad file. `team_areas`: team -> area office (None: no database, not checked).
    `known_workers`: the current workforce rows (`cur_workforce`): a worker's agency flag, FTE, dates
    and reason for leaving, which ssd_professionals lacks, are kept from there (a census or an
    extract gave them) rather than blanked."""
    path = Path(path)
    name = original_name or path.name
    today = today or dt.date.today()
    extract = SSDExtract(path)
    try:
        sources = _load_sources(path, name, extract, today)
    except FileRefused as exc:
        extract.problems.append(_error(str(exc)))
        return extract
    except Exception as exc:
        extract.problems.append(_error(str(damaged(name, exc))))
        return extract
    if not sources:
        extract.problems.append(_error("No SSD table was found. Name each sheet (or CSV file) after its table: "
                                       + ", ".join(TABLES) + "."))
        return extract

    for table, (required, optional) in TABLES.items():
        if table not in sources:
            continue
        have = set(sources[table].column_names)
        missing = [c for c in required if c not in have]
        if missing:
            extract.problems.append(_error(
                f'"{extract.tables[table]}" ({table}) lacks the column(s) {", ".join(missing)}: export the table with '
                "its SSD column names.", sheet=extract.tables[table]))
            sources.pop(table)
            continue
        t = sources[table]
        for c in optional:
            if c not in have:
                t = t.append_column(c, pa.nulls(t.num_rows, pa.string()))
        sources[table] = t.select([*required, *optional, "excel_row"])
    if extract.errors:
        return extract

    con = scratch.cursor()
    try:
        for table, (required, optional) in TABLES.items():
            t = sources[table] if table in sources else pa.table({
                **{c: pa.array([], pa.string()) for c in required + optional}, "excel_row": pa.array([], pa.int64())})
            con.register(table, t)
        con.execute("create temp table dept as select trim(dept_team_id) as dept_team_id, any_value(dept_team_name) "
                    "as dept_team_name from ssd_department where dept_team_id is not null group by 1")
        typed: dict[str, pa.Table] = {}
        for sheet_name, table in FEEDS.items():
            if table not in sources:
                continue
            if sheet_name in extract.sheets:
                extract.problems.append(_warning(
                    f'Both the sheet "{extract.sheets[sheet_name].title}" and the SSD table {table} give '
                    f"{sheet_name}: the sheet was used and {table} ignored.", code="ssd_sheet_and_table"))
                continue
            text = con.sql(_map_sql(sheet_name, roles)).to_arrow_table()
            title = extract.tables[table]
            sheet = _sheet_spec(sheet_name)
            headers = _headers(sheet_name)
            checked, problems = validate_values(text, sheet, title, headers, today)
            extract.problems.extend(problems)
            if checked is not None:
                typed[sheet_name] = checked
            if sheet_name == "involvements":
                extract.problems.extend(_role_notes(con, sources[table], title, roles))
        if "ssd_professionals" in sources and "workforce" in typed:
            regs = con.sql("select excel_row, prof_professional_id as worker_id, "
                           "trim(prof_social_worker_registration_no) as swe_number from ssd_professionals "
                           "where nullif(trim(prof_social_worker_registration_no), '') is not null").to_arrow_table()
            checked, problems = validate_values(regs, REGISTRATION_SHEET, extract.tables["ssd_professionals"],
                                          {"worker_id": "prof_professional_id",
                                           "swe_number": "prof_social_worker_registration_no"}, today)
            extract.problems.extend(problems)
            if checked is not None:
                typed[REGISTRATIONS] = checked
    finally:
        con.close()
    if extract.errors:
        return extract

    typed = _derive(typed)
    if "workforce" in typed and known_workers is not None and known_workers.num_rows:
        typed["workforce"] = _keep_known(typed["workforce"], known_workers)
    mapping = {annexa_lists.team_key(t): a for t, a in (team_areas or {}).items()}
    unmapped: dict[str, list[str]] = {}
    for sheet_name, table in typed.items():
        if sheet_name == REGISTRATIONS:
            extract.sheets[sheet_name] = SheetData(REGISTRATION_SHEET, extract.tables["ssd_professionals"], 1, {},
                                                   table, table.num_rows)
            continue
        teams = table.column("team").to_pylist()
        if team_areas is not None:
            for t in teams:
                if t is not None and not mapping.get(annexa_lists.team_key(t)):
                    unmapped.setdefault(" ".join(t.split()), []).append(sheet_name)
        areas = [NO_TEAM_AREA if t is None else mapping.get(annexa_lists.team_key(t)) for t in teams]
        table = table.append_column("area_office", pa.array(areas, pa.string()))
        title = extract.tables[FEEDS[sheet_name]]
        extract.sheets[sheet_name] = SheetData(spec.SHEETS[sheet_name], title, 1, _headers(sheet_name), table,
                                               table.num_rows)
    if unmapped:
        extract.unmapped_teams = sorted(unmapped)
        extract.problems.append(_error(
            f"{len(unmapped):,} team(s) in the SSD tables have no area office yet: "
            + ", ".join(f'"{t}" ({", ".join(sorted(set(s)))})' for t, s in sorted(unmapped.items())[:20])
            + f". Map each team to its area office on {annexa_lists.TEAMS_PAGE}, then upload the file again."))
        extract.sheets.clear()
        return extract
    if team_areas is None:
        extract.problems.append(annexa_lists.teams_not_checked())
    extract.problems.extend(_summary(extract))
    return extract


def _headers(sheet_name: str) -> dict[str, str]:
    """Contract column -> the SSD column it comes from, for messages."""
    table = FEEDS[sheet_name]
    pairs = {
        "referrals": {"referral_id": "cine_referral_id", "child_id": "cine_person_id",
                      "referral_date": "cine_referral_date", "team": "cine_referral_team",
                      "source": "cine_referral_source_desc"},
        "assessments": {"assessment_id": "cina_assessment_id", "child_id": "cina_person_id",
                        "start_date": "cina_assessment_start_date", "completed_date": "cina_assessment_auth_date",
                        "child_seen": "cina_assessment_child_seen", "team": "cina_assessment_team",
                        "worker_id": "cina_assessment_worker_id"},
        "cp_plans": {"cp_plan_id": "cppl_cp_plan_id", "child_id": "cppl_person_id",
                     "start_date": "cppl_cp_plan_start_date", "end_date": "cppl_cp_plan_end_date",
                     "category": "cppl_cp_plan_initial_category", "team": "icpc_icpc_team",
                     "worker_id": "icpc_icpc_worker_id"},
        "involvements": {"involvement_id": "invo_involvements_id", "child_id": "invo_person_id",
                         "worker_id": "invo_professional_id", "start_date": "invo_involvement_start_date",
                         "end_date": "invo_involvement_end_date", "team": "invo_professional_team",
                         "change_reason": "invo_worker_change_reason"},
        "workforce": {"worker_id": "prof_professional_id", "team": "prof_professional_department",
                      "role": "prof_professional_job_title", "is_qualified": "prof_social_worker_registration_no",
                      "is_agency": "prof_agency_worker_flag", "fte": "prof_full_time_equivalency"},
    }[sheet_name]
    return {k: f"{table}.{v}" for k, v in pairs.items()}


def _role_notes(con, table: pa.Table, title: str, roles: tuple[str, ...]) -> list[Problem]:
    keys = {spec.norm(r) for r in roles}
    con.register("inv_roles", table.select(["invo_professional_role_id", "invo_worker_change_reason"]))
    counts = con.execute("select invo_professional_role_id, count(*) from inv_roles group by 1 order by 2 desc").fetchall()
    codes = set(spec.SHEETS["involvements"].column("change_reason").values)
    other = con.execute("select count(*) from inv_roles where invo_worker_change_reason is not null and "
                        "upper(trim(invo_worker_change_reason)) not in (select unnest($c))",
                        {"c": sorted(codes)}).fetchall()[0][0]
    notes = []
    left = [(r, n) for r, n in counts if spec.norm(r or "") not in keys]
    kept = sum(n for r, n in counts if spec.norm(r or "") in keys)
    if left:
        notes.append(_warning(
            f'"{title}": {kept:,} involvement(s) of an allocated social worker were read; {sum(n for _, n in left):,} with '
            "another role were left out (" + ", ".join(f'"{r}": {n:,}' for r, n in left[:10]) + "). Roles read as the "
            "allocated social worker: " + ", ".join(f'"{r}"' for r in roles) + ".", sheet=title,
            column="invo_professional_role_id", code="ssd_other_roles"))
    if other:
        notes.append(_warning(
            f'"{title}": {other:,} involvement(s) give a change reason that is not one of the codes '
            + ", ".join(sorted(codes)) + " (a case system's own reasons); it was left blank.", sheet=title,
            column="invo_worker_change_reason", code="ssd_change_reason_unknown"))
    return notes


def _keep_known(workforce: pa.Table, known: pa.Table) -> pa.Table:
    """The SSD's workforce rows with what it lacks taken from the worker's current row."""
    con = scratch.cursor()
    try:
        con.register("w", workforce)
        con.register("k", known)
        keep = ("is_agency", "fte", "start_date", "end_date", "leave_reason")
        return con.sql(
            "select w.* exclude (" + ", ".join(c for c in keep if c in workforce.column_names) + "), "
            + ", ".join(f"coalesce({'w.' + c if c in workforce.column_names else 'null'}, k.{c}) as {c}" for c in keep)
            + " from w left join k on k.worker_id = w.worker_id order by w.excel_row"
        ).to_arrow_table()
    finally:
        con.close()


def _derive(typed: dict[str, pa.Table]) -> dict[str, pa.Table]:
    """What the SSD gives only across tables, on the typed tables: a plan's previous plans (the
    child's plans in the table that started before it) and, where the initial conference gave no
    worker, the allocated involvement open at the plan's start."""
    if "cp_plans" not in typed:
        return typed
    from csc import kpis

    con = scratch.cursor()
    try:
        con.register("plans", typed["cp_plans"])
        inv = typed["involvements"] if "involvements" in typed else pa.table({
            "child_id": pa.array([], pa.string()), "worker_id": pa.array([], pa.string()),
            "team": pa.array([], pa.string()), "start_date": pa.array([], pa.date32()),
            "end_date": pa.array([], pa.date32()), "involvement_id": pa.array([], pa.string())})
        con.register("inv", inv)
        plans = con.sql(
            kpis.app_sql("cp_plans_with_workers")
        ).to_arrow_table()
    finally:
        con.close()
    return {**typed, "cp_plans": plans}


def _summary(extract: SSDExtract) -> list[Problem]:
    """Which KPIs the upload can feed and which stay empty, from the tables each KPI's SQL reads;
    the workforce KPIs that need dates or the agency flag stay empty from `ssd_professionals` alone."""
    from csc import guardrails, kpis

    provided = set(extract.row_counts)
    ssd_workforce = "workforce" in provided and extract.sheets["workforce"].title == extract.tables.get("ssd_professionals")
    # the KPIs whose SQL reads a workforce column ssd_professionals lacks
    needs_dates = set().union(*(guardrails.feeds("workforce", c) for c in ("is_agency", "fte", "start_date", "end_date")))
    empty = []
    for kpi in kpis.registry().values():
        needs = set(re.findall(r"\bcur_([a-z_]+)", kpi.sql))
        missing = sorted(needs - provided)
        if missing:
            empty.append(f"{kpi.title} ({kpi.name}): needs {', '.join(missing)}")
        elif ssd_workforce and kpi.name in needs_dates:
            empty.append(f"{kpi.title} ({kpi.name}): needs the workers' agency flag and start/end dates, which "
                         "ssd_professionals does not have")
    notes = [_warning(
        "Read from the SSD: " + ", ".join(f"{extract.tables[FEEDS[s]]} → {s} ({extract.sheets[s].rows:,} rows)"
                                          for s in FEEDS if s in extract.sheets and FEEDS[s] in extract.tables
                                          and extract.sheets[s].title == extract.tables[FEEDS[s]]) + ".",
        code="ssd_read")]
    if empty:
        notes.append(_warning(
            f"{len(empty)} KPI(s) stay empty with this upload, because the SSD has no source for them (transfers, "
            "establishment, audits, supervisions, a worker's agency flag and dates): " + "; ".join(empty)
            + ". Add the monthly extract's sheets (workforce, establishment, transfers, audits, supervisions) beside "
            "the SSD tables in the same workbook, or load the workforce census for the workforce figures.",
            code="ssd_kpis_not_fed"))
    return notes


__all__ = ["read", "is_ssd", "SSDExtract", "registrations", "swe_key", "SAVE_AS"]

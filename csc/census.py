"""Read the DfE children's social work workforce (CSWW) census XML as an import.

The census is an annual return: one `CSWWWorker` per social worker (agency flag, Social Work
England number, FTE, role, start and end dates, reason for leaving, ...) and the LA-level
vacancies, at the census date (30 September). It is parsed with defusedxml (no DTDs or entities),
checked against the DfE schema (`csc/schemas/social_work_workforce_2022.xsd`, validated with
xmlschema) and mapped onto the contract (docs/workforce-census.md):

- each worker -> a `workforce` row: worker_id = the SWE number, or the case system's worker id
  when an SSD upload gave that worker's registration number (`csc.ssd.registrations`); qualified
  (every census worker is a registered social worker); agency = AgencyWorker; fte = FTE, or FTE30
  where FTE is 0; start/end = RoleStartDate/RoleEndDate; leave_reason = ReasonLeave's meaning;
  role = OrgRole's meaning. A worker linked to the case system keeps the team and area office
  that worker has; the others are in the team "Workforce census" of the area "Not allocated".
- the LA-level vacancies -> `establishment`: one row per team of the census's workers, funded FTE
  = the FTE of its permanent workers in post at the census date, plus NumberOfVacancies on the
  census team's row, so the vacancy KPI at the census date is NumberOfVacancies over vacancies
  plus permanent FTE.

Its period is the census date's month, whatever month the upload names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from csc import annexa_lists, kpis, scratch, spec
from csc.extract import EARLIEST, Extract, Problem, SheetData, validate_values

SOURCE_FORMAT = "csww"
SCHEMA_FILE = Path(__file__).parent / "schemas" / "social_work_workforce_2022.xsd"
CENSUS_TEAM = "Workforce census"
MAX_BYTES = 50 * 1024 * 1024  # a council's census is a few MB
READ = {"AgencyWorker", "SWENo", "FTE", "FTE30", "OrgRole", "RoleStartDate", "RoleEndDate", "ReasonLeave",
        "LALevelVacancies", "NumberOfVacancies", "ReferenceDate"}

ROLES = {"1": "Senior Manager", "2": "Middle Manager", "3": "First Line Manager", "4": "Senior Practitioner",
         "5": "Case Holder", "6": "Qualified Without Cases"}
REASONS = {"1": "Resignation", "2": "Voluntary Redundancy", "3": "Compulsory Redundancy", "4": "Dismissed",
           "5": "Retired", "6": "Deceased", "7": "Moved to a non-child and family social work role within the LA",
           "8": "Other", "9": "Not known", "10": "Not yet collected"}


@dataclass
class CensusExtract(Extract):
    source_format: str = SOURCE_FORMAT
    period: str | None = None  # the census date's month: the import's period
    census_date: dt.date | None = None
    la: str | None = None
    unmapped_teams: tuple = ()
    unlinked: frozenset = frozenset()  # the worker ids (SWE numbers) the census could not link to the case system


def _error(message: str, **kw) -> Problem:
    return Problem("error", message, **kw)


def _warning(message: str, *, code: str, **kw) -> Problem:
    return Problem("warning", message, code=code, **kw)


def is_census(path: str | Path, original_name: str | None = None) -> bool:
    """An XML file whose root element is the census's <Message> with CSWW content (read from the
    first few KB only)."""
    path = Path(path)
    name = (original_name or path.name).lower()
    try:
        with path.open("rb") as fh:
            head = fh.read(8192)
    except OSError:
        return False
    return (name.endswith(".xml") or head.lstrip().startswith(b"<")) and b"<Message" in head and (
        b"CSWW" in head or b"LALevelVacancies" in head or b"CSWWWorker" in head)


def read(
    path: str | Path,
    *,
    original_name: str | None = None,
    registrations: Mapping[str, str] | None = None,
    worker_teams: Mapping[str, tuple[str | None, str | None]] | None = None,
    today: dt.date | None = None,
) -> CensusExtract:
    """Read, check and map a census file; never raises for a bad file. `registrations`: SWE number
    (`ssd.swe_key`) -> case-system worker id; `worker_teams`: worker id -> (team, area office)."""
    import defusedxml.ElementTree as ET
    import xmlschema
    from defusedxml import DefusedXmlException

    from csc.ssd import swe_key

    path = Path(path)
    name = original_name or path.name
    today = today or dt.date.today()
    extract = CensusExtract(path)
    registrations = registrations or {}
    worker_teams = worker_teams or {}
    if path.stat().st_size > MAX_BYTES:
        extract.problems.append(_error(f'"{name}" is larger than {MAX_BYTES // 2**20} MB; a census file is far smaller.'))
        return extract
    try:
        root = ET.parse(str(path), forbid_dtd=True).getroot()
    except DefusedXmlException as exc:
        extract.problems.append(_error(f'"{name}" declares a DTD or entities ({exc}), which a census file never has, '
                                       "so it was not read."))
        return extract
    except Exception as exc:
        extract.problems.append(_error(f'"{name}" is not well-formed XML ({exc}). Export the census file again.'))
        return extract

    schema = xmlschema.XMLSchema(str(SCHEMA_FILE))
    for err in schema.iter_errors(root):
        reason = err.reason or str(err)
        tag = getattr(err.elem, "tag", "") if err.elem is not None else ""
        matters = tag in READ and tag != "CSWWWorker" or any(f"'{f}'" in reason for f in READ)
        where = err.path or "/"
        (extract.problems.append(_error(f"{where}: {reason} (the schema of the census, {SCHEMA_FILE.name})",
                                        column=tag or None, expected="as the census schema says"))
         if matters else extract.problems.append(_warning(
             f"{where}: {reason} — a schema error in a field the dashboard does not read; the file is still loaded, "
             "but the DfE's own validation will report it.", column=tag or None, code="census_schema_unread")))
    if extract.errors:
        return extract

    ref = root.findtext("Header/CollectionDetails/ReferenceDate")
    try:
        census_date = dt.date.fromisoformat(ref.strip()) if ref else None
    except ValueError:
        census_date = None
    if census_date is None:
        extract.problems.append(_error("The census has no ReferenceDate (Header/CollectionDetails): the dashboard "
                                       "needs the census date to know which month it describes."))
        return extract
    extract.census_date = census_date
    extract.period = census_date.strftime("%Y-%m")
    extract.la = root.findtext("Header/Source/LEA")
    year_start = census_date.replace(year=census_date.year - 1) + dt.timedelta(days=1)

    rows = []
    unlinked = set()
    linked = early = 0
    for i, w in enumerate(root.findall("CSWWWorker"), start=1):
        swe = (w.findtext("SWENo") or "").strip()
        worker = registrations.get(swe_key(swe))
        linked += worker is not None
        if worker is None:
            unlinked.add(swe)
        worker = worker or swe
        team, area = worker_teams.get(worker, (None, None))
        fte = next((v for v in (w.findtext("FTE"), w.findtext("FTE30")) if v and float(v) > 0), None)
        start, end = w.findtext("RoleStartDate"), w.findtext("RoleEndDate")
        if not start:  # in post from before the census year (or from its leaving date, if earlier)
            start = min(year_start, dt.date.fromisoformat(end)).isoformat() if end else year_start.isoformat()
        if start < EARLIEST.isoformat():  # the store keeps dates from 1990; only "in post" matters here
            start = EARLIEST.isoformat()
            early += 1
        rows.append({
            "excel_row": i, "worker_id": worker, "team": team or CENSUS_TEAM, "area_office": area or annexa_lists.NO_TEAM_AREA,
            "role": ROLES.get((w.findtext("OrgRole") or "").strip()), "is_qualified": "Y",
            "is_agency": "Y" if (w.findtext("AgencyWorker") or "").strip() == "1" else "N",
            "fte": fte, "start_date": start, "end_date": end,
            "leave_reason": REASONS.get((w.findtext("ReasonLeave") or "").strip()),
        })
    text = pa.Table.from_pylist(rows, schema=pa.schema(
        [("excel_row", pa.int64())] + [(c, pa.string()) for c in (
            "worker_id", "team", "area_office", "role", "is_qualified", "is_agency", "fte", "start_date", "end_date",
            "leave_reason")]))
    sheet = _workforce_sheet()
    headers = {"worker_id": "SWENo", "is_agency": "AgencyWorker", "fte": "FTE", "start_date": "RoleStartDate",
               "end_date": "RoleEndDate", "leave_reason": "ReasonLeave", "role": "OrgRole"}
    typed, problems = validate_values(text, sheet, "CSWWWorker", headers, today)
    extract.problems.extend(problems)
    if typed is None:
        return extract
    extract.sheets["workforce"] = SheetData(spec.SHEETS["workforce"], "CSWWWorker", 0, headers, typed, typed.num_rows)
    extract.unlinked = frozenset(unlinked)

    vacancies = float(root.findtext("LALevelVacancies/NumberOfVacancies") or 0)
    establishment = _establishment(typed, census_date, vacancies)
    extract.sheets["establishment"] = SheetData(spec.SHEETS["establishment"], "LALevelVacancies", 0,
                                                {"funded_fte": "NumberOfVacancies"}, establishment,
                                                establishment.num_rows)
    no_fte = sum(1 for r in rows if r["fte"] is None)
    extract.problems.append(_warning(
        f"Workforce census at {census_date:%d/%m/%Y} (LA {extract.la or 'not given'}): {len(rows):,} worker record(s) "
        f"→ workforce, LA-level vacancies ({vacancies:g} FTE; agency FTE {root.findtext('LALevelVacancies/NoAgencyFTE')}"
        f", not used: the agency workers' own records are) → establishment. Loaded as the period {extract.period}, the "
        "census date's month; its workers count in the workforce KPIs of every month they were in post. "
        + (f"{linked:,} worker(s) linked to the case system's worker through the SSD registration number; " if linked
           else "No worker is linked to a case-system worker (load the SSD's ssd_professionals first to link them); ")
        + f"the others are in the team \"{CENSUS_TEAM}\", area \"{annexa_lists.NO_TEAM_AREA}\"."
        + (f" {early:,} worker(s) started before 1990: their RoleStartDate is kept as 01/01/1990." if early else "")
        + (f" {no_fte:,} record(s) have neither FTE nor FTE30 above 0: their FTE is blank and they add nothing to "
           "the FTE figures." if no_fte else ""), code="census_read"))
    return extract


def _workforce_sheet() -> spec.Sheet:
    import dataclasses

    sheet = spec.SHEETS["workforce"]
    return dataclasses.replace(sheet, columns=tuple(
        dataclasses.replace(c, required=False) if c.name == "fte" else c for c in sheet.columns))


def _establishment(workforce: pa.Table, census_date: dt.date, vacancies: float) -> pa.Table:
    """One row per team: the FTE of its permanent workers in post at the census date (as the
    vacancy KPI counts them), plus the LA's vacancies on the census team's row."""
    from csc import kpis

    con = scratch.cursor()
    try:
        con.register("w", workforce)
        con.register("teams", pa.table({"team": [CENSUS_TEAM], "area_office": [annexa_lists.NO_TEAM_AREA]}))
        return con.sql(
            kpis.app_sql("team_establishment"),
            params={"d": census_date, "census": CENSUS_TEAM, "v": vacancies},
        ).to_arrow_table()
    finally:
        con.close()


def census_note(cur, board: bool = False) -> str | None:
    """Which workforce census the workforce KPIs include, for the pages: each loaded census and the
    month its figures describe, and, when workforce sheets of other sources are loaded beside it,
    that workers the census could not link may be counted twice (how many, except to the board,
    which sees no small numbers); None when no census is loaded."""
    rows = cur.execute(
        "select period, file_name, import_id from imports where status = 'loaded' and source_format = $f "
        "order by period, import_id",
        {"f": SOURCE_FORMAT},
    ).fetchall()
    if not rows:
        return None
    latest = {}
    for period, name, import_id in rows:
        latest[period] = (name, import_id)  # the latest import of each census month is the current one
    listed = "; ".join(f"{period} from the census at 30 September (\"{name}\", import {i})" if period.endswith("-09")
                       else f"{period} from \"{name}\" (import {i})" for period, (name, i) in latest.items())
    beside_unlinked, others, unlinked = cur.execute(
        kpis.app_sql("census_unlinked_workers"),
        {"census": SOURCE_FORMAT},
    ).fetchall()[0]
    note = ("Workforce figures (agency, turnover, vacancies) include the children's social work workforce census "
            f"({listed}): its workers count in every month they were in post. ")
    if others and board:
        return note + ("Some of them are not linked to the case system and were in post at the same month ends as "
                       "workers of the workforce sheets: where these are the same people, they are counted twice.")
    if others:
        return note + (f"{beside_unlinked:,} of them, not linked to the case system (area \"{annexa_lists.NO_TEAM_AREA}\"), "
                       f"were in post at the same month ends as {others:,} workers of the workforce sheets: where "
                       "these are the same people, they are counted twice (load the SSD professionals table to link "
                       "them).")
    return note + (f"Workers it does not link to the case system are under the area \"{annexa_lists.NO_TEAM_AREA}\"."
                   if unlinked else "Every one of them is linked to the case system's worker.")

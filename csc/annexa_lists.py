"""Ofsted's Annex A lists as this dashboard reads them: titles, column names, which contract sheet
each list feeds, and the messages' small helpers (moved from `csc.annexa`)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field


from csc import spec
from csc.extract import Extract, Problem

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


def error(message: str, **kw) -> Problem:
    return Problem("error", message, **kw)


def warning(message: str, *, code: str, **kw) -> Problem:
    """A warning, with its code (`csc.guardrails.CODES`; docs/extract-format.md lists each)."""
    return Problem("warning", message, code=code, **kw)


def teams_not_checked() -> Problem:
    """An Annex A or SSD upload checked with no database to look its teams up in."""
    return warning(f"No database could be opened, so the teams were not checked against {TEAMS_PAGE}: on import, a "
                   "team with no area office there refuses the file.", code="teams_not_checked")


def shown(items: list[str], quote: bool = True) -> str:
    parts = [f'"{i}"' if quote else str(i) for i in items[:MAX_SHOWN]]
    more = f" and {len(items) - MAX_SHOWN:,} more" if len(items) > MAX_SHOWN else ""
    return ", ".join(parts) + more


def rows_named(rows: list[int]) -> str:
    listed = ", ".join(str(r) for r in rows[:5])
    return f"row {listed}" if len(rows) == 1 else f"rows {listed}" + (f" and {len(rows) - 5:,} more" if len(rows) > 5 else "")


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

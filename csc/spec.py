"""The monthly extract's data contract as code: sheets, columns, aliases, types and keys.

This module is the single source of truth that the validator (`csc.extract`), the
downloadable template (`csc.template`) and `docs/extract-format.md` all follow; a test fails
when the documentation and this module disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Column types
ID, TEXT, DATE, FLAG, NUMBER, WHOLE, ENUM = "id", "text", "date", "flag", "number", "whole", "enum"

TYPE_WORDS = {
    ID: "id",
    TEXT: "text",
    DATE: "date",
    FLAG: "flag (Y/N)",
    NUMBER: "number",
    WHOLE: "whole number ≥ 0",
    ENUM: "enum",
}


def norm(text: object) -> str:
    """Normalise a sheet or header name: lower case, only letters and digits."""
    return re.sub(r"[^a-z0-9]", "", str(text).lower()) if text is not None else ""


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()  # enum: canonical values
    synonyms: tuple[tuple[str, str], ...] = ()  # enum: (synonym, canonical)
    minimum: float | None = None  # number: lowest allowed value
    exclusive_minimum: bool = False
    maximum: float | None = None
    description: str = ""

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)

    def enum_map(self) -> dict[str, str]:
        """Normalised spelling -> canonical value, for an enum column."""
        mapping = {norm(v): v for v in self.values}
        mapping.update({norm(s): v for s, v in self.synonyms})
        return mapping

    def expectation(self) -> str:
        """What a valid value looks like, in plain English."""
        if self.type == DATE:
            return "a date such as 31/03/2011 or 2011-03-31, on or after 1990-01-01 and not after today"
        if self.type == FLAG:
            return "Y or N (Yes/No, True/False, 1/0 also accepted)"
        if self.type == ENUM:
            return "one of: " + ", ".join(self.values)
        if self.type == WHOLE:
            return "a whole number, 0 or more"
        if self.type == NUMBER:
            if self.maximum is not None and self.exclusive_minimum:
                return f"a number greater than {self.minimum:g} and at most {self.maximum:g}"
            if self.minimum is not None:
                return f"a number, {self.minimum:g} or more"
            return "a number"
        return "a value"


@dataclass(frozen=True)
class Sheet:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()
    description: str = ""
    # (later date column, earlier date column): the later may not be before the earlier
    date_order: tuple[tuple[str, str], ...] = ()
    key_includes_period: bool = False

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def header_map(self) -> dict[str, str]:
        """Normalised header spelling -> column name."""
        return {norm(h): c.name for c in self.columns for h in c.headers}


def _c(name, type_, required=False, aliases=(), **kw) -> Column:
    return Column(name, type_, required, tuple(aliases), **kw)


R = True
AREA = _c("area_office", TEXT, R, ("Area", "Area Office"), description="The area office responsible")
TEAM = _c("team", TEXT, False, ("Allocated Team",), description="The allocated team")

SHEETS: dict[str, Sheet] = {
    s.name: s
    for s in (
        Sheet(
            "referrals",
            ("referral_id",),
            (
                _c("referral_id", ID, R, ("Referral ID",)),
                _c("child_id", ID, R, ("Child ID", "Child Unique ID")),
                _c("referral_date", DATE, R, ("Date of Referral",)),
                AREA,
                TEAM,
                _c("source", TEXT, False, ("Referral Source",)),
            ),
            description="Referrals to children's social care",
        ),
        Sheet(
            "assessments",
            ("assessment_id",),
            (
                _c("assessment_id", ID, R),
                _c("child_id", ID, R, ("Child Unique ID",)),
                _c(
                    "assessment_type",
                    ENUM,
                    R,
                    ("Type",),
                    values=("Initial", "Core", "Single"),
                    synonyms=(
                        ("Initial Assessment", "Initial"),
                        ("Core Assessment", "Core"),
                        ("Single Assessment", "Single"),
                        ("Continuous Assessment", "Single"),
                    ),
                ),
                _c("start_date", DATE, R, ("Assessment Start Date", "Continuous Assessment Start Date")),
                _c(
                    "completed_date",
                    DATE,
                    False,
                    (
                        "Date of Authorisation",
                        "Continuous Assessment Date of Authorisation",
                        "Completion Date",
                    ),
                ),
                _c("child_seen", FLAG, False, ("Child Seen", "Child Seen During Continuous Assessment")),
                _c("area_office", TEXT, R),
                TEAM,
                _c("worker_id", ID, False, ("Allocated Worker",)),
            ),
            description="Initial, core and single assessments",
            date_order=(("completed_date", "start_date"),),
        ),
        Sheet(
            "cp_plans",
            ("cp_plan_id",),
            (
                _c("cp_plan_id", ID, R, ("CP Plan ID",)),
                _c("child_id", ID, R),
                _c("start_date", DATE, R, ("Child Protection Plan Start Date",)),
                _c("end_date", DATE, False, ("Child Protection Plan End Date",)),
                _c("category", TEXT, False, ("Category of Abuse", "Initial Category of Abuse")),
                _c(
                    "previous_plans",
                    WHOLE,
                    False,
                    ("Number of Previous Child Protection Plans",),
                    minimum=0,
                ),
                _c("area_office", TEXT, R),
                TEAM,
                _c("worker_id", ID, False, ("Allocated Worker",)),
            ),
            aliases=("CP Plans", "Child Protection"),
            description="Child protection plans",
            date_order=(("end_date", "start_date"),),
        ),
        Sheet(
            "involvements",
            ("involvement_id",),
            (
                _c("involvement_id", ID, R, ("Allocation ID",)),
                _c("child_id", ID, R),
                _c("worker_id", ID, R, ("Allocated Worker",)),
                _c("start_date", DATE, R),
                _c("end_date", DATE, False),
                _c("area_office", TEXT, R),
                _c("team", TEXT, False),
                _c(
                    "change_reason",
                    ENUM,
                    False,
                    ("Reason",),
                    values=(
                        "MANAGE",
                        "FCONTA",
                        "LEFTRL",
                        "ORGRST",
                        "TSPROC",
                        "ABSENC",
                        "CHCHAN",
                        "PCCHAN",
                        "SWDIED",
                        "OTHERS",
                    ),
                ),
            ),
            aliases=("Allocations",),
            description="A worker allocated to a child's case",
            date_order=(("end_date", "start_date"),),
        ),
        Sheet(
            "transfers",
            ("transfer_id",),
            (
                _c("transfer_id", ID, R),
                _c("child_id", ID, R),
                _c("from_team", TEXT, R),
                _c("to_team", TEXT, R),
                _c("requested_date", DATE, R, ("Date Requested",)),
                _c("accepted_date", DATE, False, ("Date Accepted",)),
                _c("area_office", TEXT, R, description="The receiving area office"),
            ),
            description="A case handed from one team to another",
            date_order=(("accepted_date", "requested_date"),),
        ),
        Sheet(
            "workforce",
            ("worker_id",),
            (
                _c("worker_id", ID, R, ("Staff ID",)),
                _c("area_office", TEXT, R),
                _c("team", TEXT, False),
                _c("role", TEXT, False, ("Job Title",)),
                _c("is_qualified", FLAG, R, ("Qualified", "Registered Social Worker")),
                _c("is_agency", FLAG, R, ("Agency", "Agency Worker")),
                _c("fte", NUMBER, R, ("FTE",), minimum=0, exclusive_minimum=True, maximum=1),
                _c("start_date", DATE, R, ("Role Start Date",)),
                _c("end_date", DATE, False, ("Role End Date", "Leaving Date")),
                _c("leave_reason", TEXT, False, ("Reason Leave",)),
            ),
            aliases=("Staff",),
            description="Every worker in post at any time in the period, leavers included",
            date_order=(("end_date", "start_date"),),
        ),
        Sheet(
            "establishment",
            ("team",),
            (
                _c("team", TEXT, R),
                _c("area_office", TEXT, R),
                _c("funded_fte", NUMBER, R, ("Establishment FTE", "Funded FTE"), minimum=0),
            ),
            description="Funded posts at the end of the period",
            key_includes_period=True,
        ),
        Sheet(
            "audits",
            ("audit_id",),
            (
                _c("audit_id", ID, R),
                _c("child_id", ID, False),
                _c("audit_date", DATE, R),
                _c("area_office", TEXT, R),
                _c(
                    "subject",
                    ENUM,
                    R,
                    ("Audit Type",),
                    values=("assessment", "cp_plan", "other"),
                    synonyms=(
                        ("Assessment", "assessment"),
                        ("CP Plan", "cp_plan"),
                        ("Child Protection Plan", "cp_plan"),
                    ),
                ),
                _c(
                    "grade",
                    ENUM,
                    R,
                    ("Judgement",),
                    values=("Outstanding", "Good", "Adequate", "Requires improvement", "Inadequate"),
                    # Ofsted's own words for the grade since 2014 (a review's file was refused for them)
                    synonyms=(("Requires improvement to be good", "Requires improvement"),),
                ),
                _c("is_smart", FLAG, False, ("SMART", "Plan is SMART")),
            ),
            description="Case-file audits",
        ),
        Sheet(
            "supervisions",
            ("supervision_id",),
            (
                _c("supervision_id", ID, R),
                _c("worker_id", ID, R, ("Staff ID",)),
                _c("supervision_date", DATE, R),
            ),
            description="Supervision sessions",
        ),
    )
}


def sheet_for(title: str) -> Sheet | None:
    """The spec sheet a workbook sheet title stands for, or None."""
    key = norm(title)
    for sheet in SHEETS.values():
        if key in {norm(sheet.name), *(norm(a) for a in sheet.aliases)}:
            return sheet
    return None


def render_markdown() -> str:
    """The sheet and column tables, as `docs/extract-format.md` shows them."""
    lines: list[str] = []
    for sheet in SHEETS.values():
        key = ", ".join(f"`{k}`" for k in sheet.key) + (" and the period" if sheet.key_includes_period else "")
        also = f" (also {', '.join(repr(a) for a in sheet.aliases)})" if sheet.aliases else ""
        lines += [f"### {sheet.name}{also}", "", f"{sheet.description}; key {key}.", ""]
        lines += ["| column | type | required | also accepted as |", "|---|---|---|---|"]
        for c in sheet.columns:
            kind = TYPE_WORDS[c.type]
            if c.type == ENUM:
                kind = "one of " + ", ".join(c.values)
                if c.synonyms:
                    kind += " (also " + ", ".join(f'"{s}"' for s, _ in c.synonyms) + ")"
            elif c.type == NUMBER:
                kind = c.expectation()
            lines.append(f"| {c.name} | {kind} | {'yes' if c.required else 'no'} | {', '.join(c.aliases)} |")
        lines.append("")
    return "\n".join(lines)

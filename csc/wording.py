"""Words, not codes, wherever people read: RAG, SPC, statuses, plan fields, audit details and
dates as plain English, and `*_label` columns beside codes in downloads. No Streamlit here."""

from __future__ import annotations

import datetime as dt
import functools
import html
import json
from collections.abc import Iterable
from typing import Any

import pandas as pd
import pyarrow as pa

from csc import kpis, spc

NONE = "–"
RAG_WORDS = {spc.GREEN: "Green", spc.AMBER: "Amber", spc.RED: "Red"}
#: A KPI's unit as a column heading says it (the board pack's "Unit").
UNIT_WORDS = {"pct": "%", "days": "working days", "count": "number", "per_fte": "per FTE"}
#: The SPC rule that flagged a point, as a sentence says it (`csc.verdict`).
RULE_WORDS = {
    spc.RULE_OUTSIDE_LIMITS: "outside the limits",
    spc.RULE_TREND: "7 months in a row moving the same way",
    spc.RULE_TWO_OF_THREE: "2 of 3 months close to a limit",
    spc.RULE_RUN: "7 or more months in a row on one side of the mean",
}
#: (text colour, fill) per RAG or status word: a dark word on a pale chip, never colour alone.
CHIP_COLOURS = {
    "green": ("#005a30", "#cce2d8"),
    "amber": ("#6f3700", "#fcd6c3"),
    "red": ("#942514", "#f4cdc6"),
    "on track": ("#005a30", "#cce2d8"),
    "complete": ("#005a30", "#cce2d8"),
    "at risk": ("#6f3700", "#fcd6c3"),
    "off track": ("#942514", "#f4cdc6"),
}
GREY_CHIP = ("#383f43", "#e5e6e7")

#: Compact SPC words for narrow table cells (the full Making Data Count wording is in the help).
_VARIATION_SHORT = {
    "common_cause": "No change",
    "improvement_high": "Improving ↑",
    "improvement_low": "Improving ↓",
    "concern_high": "Concern ↑",
    "concern_low": "Concern ↓",
    "neutral_high": "Unusual ↑",
    "neutral_low": "Unusual ↓",
}
_ASSURANCE_SHORT = {spc.CONSISTENT_PASS: "Passing", spc.CONSISTENT_FAIL: "Failing", spc.INCONSISTENT: "Hit or miss"}
IMPORT_STATUS = {"loaded": "Loaded", "rolled_back": "Rolled back", "unchanged": "Unchanged", "refused": "Refused"}
AUDIT_ACTIONS = {
    "view": "Viewed", "import": "Imported", "rollback": "Rolled back", "export": "Exported",
    "plan_change": "Changed the plan", "team_areas": "Mapped teams to area offices", "rebuild": "Rebuilt the database",
    "page_refused": "Opened a page not for their role", "import_refused": "File refused",
    "upload_refused": "Upload refused", "refresh": "Recomputed the figures", "rebuild_renumber": "Kept an import's number in a rebuild",
    "teams_awaiting_area": "Listed teams without an area office",
}
ROLES = {"director": "Director", "board": "Board member", "analyst": "Performance analyst"}
_DETAIL_KEYS = {
    "page": "page", "areas": "area offices", "period_from": "from", "period_to": "to", "what": "what",
    "format": "format", "period": "month", "suppressed": "small numbers suppressed", "import_id": "import",
    "file": "file", "action": "action", "field": "field", "value": "value", "set": "mapped", "removed": "unmapped",
    "history": "from", "imports": "imports", "problems": "problems",
}
PLAN_FIELDS = {"title": "Title", "owner": "Owner", "due": "Due date", "status": "Status (owner's)"}
COMMENTARY_PARTS = (("did", "What we did"), ("changed", "What changed"), ("next", "What next"))


def rag_word(rag: Any) -> str:
    return RAG_WORDS.get(rag, NONE) if isinstance(rag, str) else NONE


def chip(word: str, kind: str | None = None, title: str | None = None) -> str:
    """A coloured chip with the word in it (HTML), e.g. chip("Red", "red")."""
    fg, bg = CHIP_COLOURS.get((kind or word or "").lower(), GREY_CHIP)
    tip = f' title="{html.escape(title)}"' if title else ""
    return (f'<span class="csc-chip"{tip} style="color:{fg};background:{bg};border-radius:0.75rem;'
            f'padding:0.1rem 0.55rem;font-weight:600;white-space:nowrap;font-size:0.85rem">{html.escape(word)}</span>')


def chip_style(word: Any) -> str:
    """A pandas Styler cell style for a RAG or status word (colour with the word, not instead of it)."""
    fg, bg = CHIP_COLOURS.get(str(word).lower(), (None, None))
    return f"color:{fg};background-color:{bg};font-weight:600" if fg else ""


def variation_short(point_type: Any, improvement: str = spc.INCREASE) -> str:
    if not isinstance(point_type, str):
        return NONE
    icon = spc.variation_icon(point_type, improvement)
    return _VARIATION_SHORT.get(icon.code, icon.label) if icon else NONE


def variation_words(point_type: Any, improvement: str = spc.INCREASE) -> str:
    return spc.variation_label(point_type, improvement) if isinstance(point_type, str) else NONE


def assurance_short(assurance: Any) -> str:
    return _ASSURANCE_SHORT.get(assurance, NONE) if isinstance(assurance, str) else NONE


def assurance_words(assurance: Any) -> str:
    return (spc.assurance_label(assurance) or NONE) if isinstance(assurance, str) else NONE


def change_words(value: Any, unit: str, suffix: str = "") -> str:
    """A change such as "+1.2 pts"; a change that rounds to nothing is "no change" (never "-0.0")."""
    value = spc.clean_value(value)
    if value is None:
        return NONE
    if round(value, 1) == 0:
        return "no change"
    unit_words = "pts" if unit == "pct" else suffix.strip()
    return f"{value:+.1f} {unit_words}".strip()


def direction_words(higher_is_better: bool) -> str:
    return "Higher is better" if higher_is_better else "Lower is better"


def date_words(value: Any) -> str:
    """A date as "30 September 2011"; a time of day only when there is one ("2 December 2026 14:05")."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NaT:
        return NONE
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, pd.Timestamp):
        value = value.to_pydatetime()
    if isinstance(value, dt.datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return f"{value.day} {value:%B %Y}"
        return f"{value.day} {value:%B %Y %H:%M}"
    if isinstance(value, dt.date):
        return f"{value.day} {value:%B %Y}"
    return str(value)


def due_words(due: str, short: bool = False) -> str:
    """A due date in words ("30 September 2011", or "30 Sep 2011" when short), or "ongoing"."""
    if not due[:4].isdigit():
        return "ongoing"
    if short:
        try:
            d = dt.date.fromisoformat(due[:10])
        except ValueError:
            return due
        return f"{d.day} {d:%b %Y}"
    return date_words(due[:10])


def measure_title(kpi: kpis.Kpi, areas: Any = None) -> str:
    """A measure's title; with area offices chosen, a measure counted for all areas together only
    says so, as its figure is the council's and not the offices' (the Overview, the board pack)."""
    return kpi.title + (" (all areas: not counted by office)" if areas and kpi.all_areas_only else "")


def judged_when(judged: Any, due: Any, plural: bool = False) -> str:
    """When a target was judged met or missed, once its due month has come (`spc.trajectory`
    judges the latest month with a value, which may be months after the due one): "in its due
    month, October 2011" or "in March 2012, after its due month (October 2011)". Every place
    that says "met" or "missed" names the month it judged, never only the due month."""
    its = "their" if plural else "its"
    if judged is None:
        return f"in {its} latest month, after {its} due month ({_period_or(due)})"
    if due is None:  # no due month given: the month judged only
        return f"in {_period_or(judged)}"
    if spc.month_index(judged) == spc.month_index(due):
        return f"in {its} due month, {_period_or(judged)}"
    return f"in {_period_or(judged)}, after {its} due month ({_period_or(due)})"


def trajectory_label(status: Any, judged: Any = None, due: Any = None, short: bool = False) -> str | None:
    """A trajectory's status for a table cell, a met or missed target with the month it judged:
    "target met in March 2012, after its due month (October 2011)" (`judged_when`), or, short,
    "Target met in Mar 2012". Other statuses as they are; None for none."""
    if not isinstance(status, str):
        return None
    if status not in (spc.TARGET_MET, spc.TARGET_MISSED) or judged is None:
        return status.capitalize() if short else status
    if short:
        return f"{status.capitalize()} in {month_short(judged)}"
    return f"{status} {judged_when(judged, due)}"


def joined(items: list[str]) -> str:
    """"A", "A and B", "A, B and C": a list in a sentence."""
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def month_short(period: Any) -> str:
    """A month in short words, e.g. "Mar 2012"."""
    year, month0 = divmod(spc.month_index(period), 12)
    return f"{dt.date(year, month0 + 1, 1):%b %Y}"


def _period_or(value: Any) -> str:
    try:
        return spc.period_label(value)
    except (TypeError, ValueError):
        return str(value)


def field_words(field: str) -> str:
    """A plan field in plain English: "target:caseload_avg" → "Target: Caseload per …"."""
    if field.startswith("target:"):
        name = field.split(":", 1)[1]
        kpi = kpis.registry().get(name)
        return f"Target: {kpi.title if kpi else name}"
    if field.startswith("commentary:"):
        return f"Commentary for {_period_or(field.split(':', 1)[1])}"
    return PLAN_FIELDS.get(field, field.replace("_", " ").capitalize())


def value_words(field: str, value: Any) -> str:
    """A plan change's value as the person typed it (commentary's three answers, not JSON)."""
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return "(cleared)" if field.startswith("target:") else NONE
    if field.startswith("commentary:"):
        try:
            note = json.loads(value)
        except (TypeError, ValueError):
            return str(value)
        if isinstance(note, dict):
            return " · ".join(f"{label}: {note.get(key) or NONE}" for key, label in COMMENTARY_PARTS)
    return str(value)


def _detail_value(key: str, value: Any) -> str | None:
    if value is None:
        return None
    if key == "areas":
        return ", ".join(value) if value else "all areas"
    if key in ("period_from", "period_to", "period"):
        return _period_or(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        return ", ".join(f"{k} → {v}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value)) or "none"
    return str(value)


def audit_detail(detail: Any) -> str:
    """An audit entry's detail in words: "page overview · area offices: all areas · from April 2010 …"."""
    try:
        d = json.loads(detail) if isinstance(detail, str) else (detail or {})
    except ValueError:
        return str(detail)
    if not isinstance(d, dict):
        return str(d)
    if "field" in d:  # a plan change: field and value in words
        d = {**d, "field": field_words(str(d["field"])), "value": value_words(str(d["field"]), d.get("value"))}
    parts = []
    for key, value in d.items():
        words = _detail_value(key, value)
        if words is not None:
            parts.append(f"{_DETAIL_KEYS.get(key, key.replace('_', ' '))}: {words}")
    return " · ".join(parts)


@functools.lru_cache(maxsize=8192)
def _audit_detail_of_text(detail: str) -> str:
    return audit_detail(detail)


def audit_details(details: Iterable[Any]) -> list[str]:
    """`audit_detail` of each: the words for a detail's text worked out once per process, as the
    log repeats the same few (a page and a selection viewed again and again); but a plan change's
    each time, as its words name a KPI by the title its file gives now (`field_words`)."""
    return [_audit_detail_of_text(d) if isinstance(d, str) and '"field"' not in d else audit_detail(d)
            for d in details]


def audit_in_words(entries: pa.Table) -> pa.Table:
    """Audit entries (`Store.audit_entries`) with the role (`role_label`), the action (`what`) and
    the detail (`detail_label`) in words, as the Audit log page shows them."""
    return (entries
            .append_column("role_label", pa.array([ROLES.get(r, r or NONE) for r in entries["role"].to_pylist()],
                                                  pa.string()))
            .append_column("what", pa.array([AUDIT_ACTIONS.get(a, a) for a in entries["action"].to_pylist()],
                                            pa.string()))
            .append_column("detail_label", pa.array(audit_details(entries["detail"].to_pylist()), pa.string())))


#: Columns that hold codes, and how to say each in words.
def _label_column(df: pd.DataFrame, col: str) -> list[str] | None:
    if col == "rag":
        return [rag_word(v) for v in df[col]]
    if col == "variation":
        directions = df["direction"] if "direction" in df else [None] * len(df)
        return [variation_words(v, spc.normalise_direction(d) if isinstance(d, str) else spc.INCREASE)
                for v, d in zip(df[col], directions)]
    if col == "assurance":
        return [assurance_words(v) for v in df[col]]
    if col == "status" and df[col].isin(list(IMPORT_STATUS)).all():
        return [IMPORT_STATUS.get(v, v) for v in df[col]]
    if col == "point_type":
        return [variation_words(v) for v in df[col]]
    return None


def with_labels(df: pd.DataFrame) -> pd.DataFrame:
    """A download frame with a `*_label` column in words beside each column of codes."""
    out = df.copy()
    for col in list(df.columns):
        labels = _label_column(df, col)
        if labels is not None:
            out.insert(out.columns.get_loc(col) + 1, f"{col}_label", labels)
    for col in out.columns:  # dates without a time of day
        if pd.api.types.is_datetime64_any_dtype(out[col]):
            if (out[col].dropna().dt.normalize() == out[col].dropna()).all():
                out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out


def incomplete_history(first: str | None, period_from: str | None) -> str | None:
    """What is said when the months chosen (from `period_from`) start before `first`, the first
    extract loaded: those months come from the history it carried, and measures that look back over
    months are incomplete there, their ratings too (the pages, `ui.incomplete_history`, and the board
    pack's Notes). None when they do not."""
    if not (first and period_from and period_from < first):
        return None
    return (f"Months before {spc.period_label(first)}, the first extract loaded, come from the history it carried: "
            "measures that look back over months (re-referrals within 12 months, 12-month turnover, supervision in the "
            "last 6 weeks) are incomplete there, and so are their ratings.")

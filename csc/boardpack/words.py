"""The board pack's figures and ratings in words and numbers, shared by the workbook and the HTML."""

from __future__ import annotations

from csc import kpis, privacy, spc, status, wording
from csc.boardpack.content import Measure, Pack, _num
from csc.plan import Action


SUPPRESSION_RULE = (
    f"Small numbers are suppressed, as the Department for Education publishes children's statistics: any count "
    f"from {privacy.LOW} to {privacy.HIGH} (of staff in FTE: above 0 and up to {privacy.HIGH}), and any rate whose "
    f"numerator or denominator is that small (or, for the re-referral rate, shown beside the referral counts, the "
    f"referrals that were not re-referrals), is shown as \"{privacy.SUPPRESSED}\", with enough other figures to stop "
    "it being worked out from them, or from 1 to 5 between them. A measure with a suppressed month in the months "
    "shown has no mean or limits drawn and no rating of change, assurance or trend (they would give the month "
    "back), only each shown month's own rating against its target. Rates and medians are shown without "
    "the numbers behind them (177 of 178 would show the 1 not counted)."
)
NO_VALUE = wording.NONE
SUMMARY_SHEET, COMMENTARY_SHEET, NOTES_SHEET = "Summary", "Commentary", "Notes"
SUMMARY_HEADER_ROW = 5
COMMENTARY_FIELDS = wording.COMMENTARY_PARTS


# --- words and numbers ----------------------------------------------------------------------


def _text(value) -> str | None:
    """A label from a DataFrame cell: None for None, NaN or an empty string."""
    return value if isinstance(value, str) and value else None


def status_words(pack: Pack, action: Action, short: bool = False) -> str:
    """The action's status as the Overview shows it: worked out from the figures, with its owner's
    typed status beside it (a pack that gave the owner's alone said "on track" of actions the
    dashboard showed off track: a review). `short`: for the Summary's column."""
    derived = pack.status_of(action)
    if short:
        owner = action.status.strip() or "no status"
        return derived.status if not status.differs(action.status, derived) and derived.status != status.NOT_RATED \
            else f"{derived.status}; owner says {owner}"
    return f"status from the figures: {derived.status} · {status.comparison(action.status, derived)}"


def rag_words(m: Measure) -> str:
    # the board's rating is the director's, worked out from the true figures (report.overview)
    rag = _text(m.row.get("rag"))
    if rag:
        return wording.RAG_WORDS.get(rag, rag)
    if m.target is None:
        return "No target"
    return NO_VALUE


def variation_words(m: Measure) -> str:
    return wording.variation_words(_text(m.row.get("variation")), m.kpi.improvement)


def assurance_words(m: Measure) -> str:
    assurance = _text(m.row.get("assurance"))
    if assurance is None and m.target is None:
        return "No target"
    return wording.assurance_words(assurance)


def verdict_words(m: Measure) -> str:
    """The one verdict's sentence (`csc.verdict`), as the Overview and the Action page say it."""
    return _text(m.row.get("verdict")) or NO_VALUE


def trajectory_words(m: Measure) -> str:
    status = _text(m.row.get("trajectory"))
    if status:  # a met or missed target names the month it judged, which may be after the due one
        return wording.trajectory_label(status, m.row.get("period"), m.action.due_period)
    if m.action.due_period is None:
        return "Ongoing: no due date" if m.action.due.strip().lower() == "ongoing" else f"No due date ({m.action.due})"
    return NO_VALUE


def value_words(m: Measure, value=None) -> str:
    value = m.value if value is None else value
    if m.suppressed and value is None:
        return privacy.SUPPRESSED
    return m.kpi.format(_num(value)) if _num(value) is not None else NO_VALUE


def change_words(kpi: kpis.Kpi, change) -> str:
    return wording.change_words(change, kpi.unit, kpi.unit_suffix)


def target_words(m: Measure) -> str:
    return m.kpi.format(m.target) if m.target is not None else "no target set"


def direction_words(kpi: kpis.Kpi) -> str:
    return wording.direction_words(kpi.higher_is_better)


def _applies(kpi: kpis.Kpi, column: str, board: bool = False) -> bool:
    """Whether a KPI has this column at all: a median has no numerator, a count no denominator.
    The board's pack has neither for a rate or median: the board sees rates, never the counts
    behind them (`privacy.rates_only`)."""
    if board and column in ("numerator", "denominator") and kpi.aggregate != "sum":
        return False
    if column == "numerator":
        return kpi.aggregate != "median"
    if column == "denominator":
        return kpi.aggregate != "sum"
    return True


def _count_format(value: float | None) -> str:
    return "#,##0" if value is None or float(value).is_integer() else "#,##0.00"


def month_of(m: Measure) -> str | None:
    return _text(m.row.get("period"))


def notes_lines(pack: Pack) -> list[tuple[str, str]]:
    """The notes about the pack itself, as (label, text)."""
    lines = [
        ("Produced", f"{pack.produced:%d %B %Y at %H:%M}"),
        ("Month", f"{pack.month_label} ({pack.period})"),
        ("Months judged", f"{spc.period_label(pack.period_from)} to {pack.month_label}: the monthly figures, the SPC "
                          "limits and the verdicts are over these months, as on the Overview they were made from "
                          "(by default the last 24, none before the first extract loaded)"
         if pack.period_from else "every month with figures"),
        *((("Incomplete months", said),) if (said := wording.incomplete_history(
            min(pack.imports["period"]) if not pack.imports.empty else None, pack.period_from)) else ()),
        ("Area offices", pack.area_label),
        ("Version", pack.version_words),
        ("Action plan", pack.plan.title),
        ("Data version", pack.version),
        ("Revised figures", pack.revised_words),
    ]
    if pack.suppress:
        lines.append(("Small numbers", SUPPRESSION_RULE))
    lines += [
        ("Figures", "Every figure is computed from the current version of each record across all the loaded "
                    "extracts listed below (a later extract can correct an earlier month). No record-level data is "
                    "included."),
        ("RAG", "Green meets the target; Amber misses it by no more than 10% of the target; Red misses it by more."),
        ("SPC", "XmR charts as NHS England's \"Making Data Count\" draws them: mean ± 2.66 × the mean moving range, "
                "limits from the months before each action started, recalculated once a new level has held for 7 "
                "steady months, and kept within the measure's range. Variation says whether the latest month "
                "shows a real change (special cause) or noise (common cause); assurance says whether the target "
                "is reliably met, reliably missed, or hit and miss."),
        ("Will the target be met?", "A straight-line trend of the months since the action started, projected to "
                                    "its due month with an 80% range."),
    ]
    return lines
REVISED_COLUMNS = ["Measure", "Month", "Area", "Was", "Now", "Changed by", "File"]

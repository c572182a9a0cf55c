"""What the board pack shows, gathered once for both formats (`collect`): a `Pack` of `Measure`s."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from csc import kpis, report, revisions, spc, status, wording
from csc.plan import Action, Plan


ROLES = ("board", "director", "analyst")
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _num(value) -> float | None:
    """A float, or None for a missing value (None, NaN, pandas NA)."""
    return spc.clean_value(value)


def _hidden(rec: dict) -> bool:
    """Whether a monthly row was suppressed for the board."""
    flag = rec.get("suppressed")
    return flag is not None and not pd.isna(flag) and bool(flag)


# --- what both formats show ------------------------------------------------------------------


@dataclass
class Measure:
    """One KPI of one action: its summary row and its monthly figures for the selection."""

    action: Action
    kpi: kpis.Kpi
    target: float | None
    row: dict  # a row of report.overview
    monthly: pd.DataFrame  # period, numerator, denominator, value (, suppressed)
    true_monthly: pd.DataFrame | None = None  # the board's pack: the unsuppressed series, for the ratings only

    @property
    def suppressed(self) -> bool:
        return _hidden(self.row)

    @property
    def value(self) -> float | None:
        return _num(self.row.get("value"))

    @property
    def has_figures(self) -> bool:
        return not self.monthly.empty

    @property
    def has_values(self) -> bool:
        return bool(self.monthly["value"].notna().any()) if self.has_figures else False


@dataclass
class Pack:
    plan: Plan
    period: str
    areas: tuple[str, ...] | None
    role: str
    produced: dt.datetime
    measures: list[Measure]
    imports: pd.DataFrame  # import_id, period, file_name, imported_at (loaded imports)
    version: str = ""  # the data version the pack was made from (csc.revisions.version_words)
    revised: pd.DataFrame = field(default_factory=pd.DataFrame)  # csc.revisions.for_report
    period_from: str | None = None  # the first month its series and SPC judge over (`collect`)

    @property
    def revised_words(self) -> str:
        n = len(self.revised)
        if not n:
            return "No figure of the pack has been revised since it was first shown."
        return (f"{n} figure(s) revised since first shown (a later extract changed the records behind them): see "
                "Revised figures.")

    def revision(self, m: Measure) -> dict | None:
        """The revision of a measure's figure for the pack's month (all areas), if it was revised."""
        if self.revised.empty or self.areas:
            return None
        hit = self.revised[(self.revised["kpi"] == m.kpi.name) & (self.revised["period"] == self.period)
                           & (self.revised["area"] == "All areas")]
        return hit.iloc[0].to_dict() if not hit.empty else None

    @property
    def suppress(self) -> bool:
        return self.role == "board"

    @property
    def selection(self) -> report.Selection:
        return report.Selection(self.areas, self.period_from, self.period)

    @property
    def area_label(self) -> str:
        return self.selection.label

    @property
    def month_label(self) -> str:
        return spc.period_label(self.period)

    @property
    def title(self) -> str:
        return f"Board pack: {self.plan.title}"

    @property
    def version_words(self) -> str:
        if self.suppress:
            return "Board version: small numbers suppressed (shown as c)"
        return f"{self.role.capitalize()} version: small numbers not suppressed; not for publication"

    def measures_of(self, action: Action) -> list[Measure]:
        return [m for m in self.measures if m.action.id == action.id]

    def status_of(self, action: Action) -> status.ActionStatus:
        """The action's status worked out from its measures' figures in this pack, as the Overview
        it was made from shows it (`status.from_overview`); its owner's typed status is `action.status`."""
        return status.from_overview([m.row for m in self.measures_of(action)], action.due_period)

    def commentary(self, action: Action) -> dict[str, str]:
        entry = action.commentary.get(self.period) or {}
        return {key: str(entry.get(key) or "") for key, _ in wording.COMMENTARY_PARTS}


def collect(
    cur: duckdb.DuckDBPyConnection,
    plan: Plan,
    period: str,
    areas=None,
    role: str = "director",
    produced: dt.datetime | None = None,
    period_from: str | None = None,
) -> Pack:
    """Everything the pack shows, for `period` (YYYY-MM) and the area offices `areas` (None or
    empty: all areas together). The board's figures are suppressed as the board's view is.
    `period_from`: the first month of its series, SPC and ratings, as on the page it was made
    from; None: the pages' default (`report.default_from`), so that its verdicts are the screen's
    (over every month since 2009 they differed, even in direction: a review)."""
    if not isinstance(period, str) or not _PERIOD.match(period):
        raise ValueError(f'The period "{period}" is not a month written as YYYY-MM (for example 2011-06).')
    if role not in ROLES:
        raise ValueError(f"The role must be one of {', '.join(ROLES)}, not {role!r}.")
    area_tuple = tuple(areas) if areas else None
    suppress = role == "board"
    if period_from is not None and (not _PERIOD.match(period_from) or period_from > period):
        raise ValueError(f'The first month "{period_from}" is not a month written as YYYY-MM up to {period}.')
    sel = report.Selection(area_tuple, period_from or report.default_from(cur, period), period)
    overview = report.overview(cur, plan, sel, period, suppress=suppress)
    rows = {(r["action"], r["kpi"]): r for r in overview.to_dict("records")} if not overview.empty else {}
    registry = kpis.registry()
    measures = []
    for action in plan.actions:
        for name in action.kpis:
            kpi = registry.get(name)
            if kpi is None:
                continue
            monthly = report.series(cur, kpi, sel, suppress=suppress)
            true_monthly = report.series(cur, kpi, sel) if suppress else None
            measures.append(Measure(action, kpi, action.target(name), rows.get((action.id, name), {}), monthly,
                                    true_monthly))
    imports = cur.execute(
        "select import_id, period, file_name, imported_at from imports where status = 'loaded' order by period, import_id"
    ).df()
    revised = revisions.for_report(cur, [m.kpi.name for m in measures], period, area_tuple, suppress)
    return Pack(plan, period, area_tuple, role, produced or dt.datetime.now().replace(microsecond=0), measures, imports,
                revisions.version_words(cur), revised, sel.period_from)

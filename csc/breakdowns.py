"""Breakdowns the pages show beside the KPI series, as plain functions (no Streamlit):

- by team for one month, from the team figures stored with the KPIs (`team_table`);
- referrals per month by area office (`referrals_by_month`);
- assessment timeliness by type, Initial 7 / Core 35 / Single 45 working days
  (`assessment_timeliness`);
- the wording that goes with the charts: a title that states the finding for several area
  offices (`areas_finding`), for a funnel plot (`funnel_finding`) and for a trajectory
  (`trajectory_title`), the source line (`extract_source`), the empty-state messages
  (`empty_message`), and small figure recipes that put these together (`area_figure`,
  `funnel_figure`).

Small numbers: every function that can feed the board view takes ``suppress``; the caller
passes ``role == "board"``. Nothing here returns record-level rows except `kpis.records`,
which the pages only call for directors and analysts.
"""

from __future__ import annotations

import textwrap

import duckdb
import numpy as np
import pandas as pd

from csc import charts, kpis, privacy, spc, suppression, wording
from csc.months import add_months, month_range
from csc.verdict import small_base_applies

ALL_AREAS = "All areas"
NO_TEAM = "(no team)"

ALL_SUPPRESSED = (  # true of a figure hidden as a partner too: it does not say which a figure is
    "Every figure for these months is suppressed (shown as c): it comes from 5 or fewer cases, or is hidden so that "
    "such a figure cannot be worked out from it. This protects the children and staff concerned."
)


# --- wording --------------------------------------------------------------------------------


def extract_source(cur: duckdb.DuckDBPyConnection) -> str:
    """The source line's words: which extracts the figures come from."""
    rows = cur.execute(
        "select min(period), max(period), count(*), max(import_id), max(imported_at)::date "
        "from imports where status = 'loaded'"
    ).fetchall()
    first, last, n, latest_id, loaded = rows[0]
    if not n:
        return "no extract loaded"
    months = first if first == last else f"{first} to {last}"
    return (
        f"children's social care monthly extracts {months} ({n} import{'s' if n != 1 else ''}, "
        f"latest import {latest_id} loaded {loaded:%d %B %Y})"
    )


def empty_message(kpi: kpis.Kpi, df: pd.DataFrame | None = None) -> str | None:
    """Why a KPI has nothing to draw, or None when it has values.

    A frame whose rows are all suppressed (board view) gets the small-numbers message."""
    if df is not None and not df.empty and df["value"].notna().any():
        return None
    if df is not None and not df.empty and "suppressed" in df and df["suppressed"].any():
        return ALL_SUPPRESSED
    return kpi.empty_message


def _latest(df: pd.DataFrame) -> tuple[str | None, float | None, float | None]:
    """(latest period with a value, its value, the value the month before or None)."""
    present = df[df["value"].notna()].sort_values("period")
    if present.empty:
        return None, None, None
    period = present["period"].iloc[-1]
    value = float(present["value"].iloc[-1])
    before = present[present["period"] == add_months(period, -1)]
    return period, value, (float(before["value"].iloc[0]) if len(before) else None)


def series_title(kpi: kpis.Kpi, df: pd.DataFrame, target: float | None, where: str | None = None) -> str:
    """`charts.finding_title` for one series: "… rose to 75% in July 2011, below the target of 90%"."""
    period, value, previous = _latest(df)
    title = kpi.title if not where else f"{kpi.title} ({where})"
    last = df.sort_values("period").iloc[-1] if len(df) else None
    if last is not None and "suppressed" in df and bool(last["suppressed"]):
        # the latest month is hidden: say so, never an older month's value as if it were this one's
        return f"{title}: c in {spc.period_label(last['period'])} (suppressed to protect small numbers)"
    return charts.finding_title(title, value, previous, kpi.unit_suffix, kpi.direction, period, target)


#: What a title says of offices with a small base: where the page has a funnel plot, and where not.
SMALL_BASE_ADVICE = {True: "compare offices on the funnel plot's limits, not the raw swings",
                     False: "with so few cases a rate swings from month to month, so compare offices with care"}


def areas_finding(kpi: kpis.Kpi, df: pd.DataFrame, target: float | None, funnel: bool = False) -> str:
    """A title stating what the area offices' latest month shows.

    With a target: how many offices met it and which was furthest off; without one: which
    office was highest and lowest. One office only (or only all areas): `series_title`.
    Offices with a small base (fewer than `spc.SMALL_BASE` cases) are named, and the reader
    sent to the funnel plot's limits rather than the raw swings where the page has one (`funnel`:
    the Action page; Workforce and Practice have none, and said so of a plot they do not show)."""
    title = _areas_finding(kpi, df, target)
    period, _, _ = _latest(df)
    if period is None or "denominator" not in df or not df["denominator"].notna().any():
        return title  # no denominators (the board's): nothing said about counts
    if not small_base_applies(kpi):
        return title
    latest = df[(df["period"] == period) & (df["area"] != ALL_AREAS) & df["value"].notna()]
    if len(latest) < 2:  # one office: nothing compared
        return title
    small = [f"{r.area} ({spc.format_value(float(r.denominator))} case{'' if r.denominator == 1 else 's'})"
             for r in latest.itertuples() if spc.small_base(r.denominator)]
    if not small:
        return title
    return f"{title}; small base{'s' if len(small) > 1 else ''} in {', '.join(small)}: {SMALL_BASE_ADVICE[funnel]}"


def _areas_finding(kpi: kpis.Kpi, df: pd.DataFrame, target: float | None) -> str:
    if _latest(df)[0] is None:
        return f"{kpi.title}: no value in these months"
    period = df["period"].max()  # the last month shown, whether or not every line has a value in it
    month = spc.period_label(period)
    offices = df[df["area"] != ALL_AREAS]
    latest = offices[(offices["period"] == period) & offices["value"].notna()]
    if offices["area"].nunique() == 1:  # one area office chosen: its own figure, never all areas'
        office = str(offices["area"].iloc[0])
        return series_title(kpi, offices, target, where=office)
    if len(latest) < 2:  # too few offices to compare in the last month: all areas together, said so
        # (an office chosen with no figures of its own read as if this were its figure: a review)
        return series_title(kpi, df[df["area"] == ALL_AREAS], target, where="all areas together")
    unit = kpi.unit_suffix
    higher = kpi.direction == "higher"
    ordered = latest.sort_values("value", ascending=not higher)  # best first
    best, worst = ordered.iloc[0], ordered.iloc[-1]
    # offices drawn with no figure for the month (an older last value, or hidden) are not counted:
    # said, where "0 of 2 area offices" sat over three lines (a review)
    partial = latest["area"].nunique() < offices["area"].nunique()
    who, when = (f"area offices with a figure for {month}", "") if partial else ("area offices", f" in {month}")
    if target is not None:
        met = int(sum(spc.meets_target(v, target, spc.normalise_direction(kpi.direction)) for v in latest["value"]))
        target_words = spc.format_value(target, unit)
        if met == len(latest):
            every = "both" if met == 2 else f"all {met}"
            return f"{kpi.title}: {every} {who} met the target of {target_words}{when}"
        return (
            f"{kpi.title}: {met} of {len(latest)} {who} met the target of {target_words}{when}; "
            f"{worst['area']} furthest off at {spc.format_value(float(worst['value']), unit)}"
        )
    high, low = (best, worst) if higher else (worst, best)
    return (
        f"{kpi.title}: {high['area']} highest ({spc.format_value(float(high['value']), unit)}) and "
        f"{low['area']} lowest ({spc.format_value(float(low['value']), unit)}) in {month}"
        + (f", of the {len(latest)} area offices with a figure for it" if partial else "")
    )


def funnel_finding(kpi: kpis.Kpi, points: pd.DataFrame, period: str) -> str:
    """Which area offices sit outside the funnel's limits, in words."""
    month = spc.period_label(period)
    valid = points[points["band"].notna()]
    outside = valid[valid["band"] != spc.WITHIN_95]
    if outside.empty:
        every = "both" if len(valid) == 2 else f"all {len(valid)}"
        return f"{kpi.title}: {every} area offices within the range expected by chance in {month}"
    parts = [f"{r.area} {r.side} the {'99.8' if r.band == spc.BEYOND_998 else '95'}% limit" for r in outside.itertuples()]
    return f"{kpi.title}: {', '.join(parts)} in {month}"


def trajectory_title(kpi: kpis.Kpi, result: spc.Trajectory, period: str | None = None) -> str:
    """"Transfers accepted within 5 working days: at risk of missing 90% by September 2011"; with
    no value for the month chosen (`period`), the projection says which months it rests on."""
    due = spc.period_label(result.due_period)
    target = spc.format_value(result.target, kpi.unit_suffix)
    judged = wording.judged_when(result.latest_period, result.due_period)
    words = {
        spc.ON_TRACK: f"on track to meet {target} by {due}",
        spc.AT_RISK: f"at risk of missing {target} by {due}",
        spc.OFF_TRACK: f"not on track to meet {target} by {due}",
        spc.NOT_ENOUGH_DATA: f"not enough data yet to project to {due}",
        spc.TARGET_MET: f"target of {target} met {judged}",
        spc.TARGET_MISSED: f"target of {target} missed {judged}",
        spc.NO_TARGET: f"projected to {due} (no target)" if result.points else (
            f"no target, and its due month ({due}) " + ("is the latest month" if result.latest_period == result.due_period
                                                        else "has passed")),
    }
    said = words.get(result.status, result.status)
    if (period and result.latest_period and result.points and result.latest_period < period):
        said += f", on the months to {spc.period_label(result.latest_period)} (no value for {spc.period_label(period)})"
    return f"{kpi.title}: {said}"


# --- layout -----------------------------------------------------------------------------------

#: Characters of an 18px title that fit on one line: a full-width chart, one of two columns.
TITLE_CHARS = {"full": 95, "half": 48}


def fit_figure(fig, width: str = "full"):
    """Make a `csc.charts` figure fit its column. The builders already wrap the title for a
    full-width chart, make room for it and fit the axes to the data (`charts._finish`); a
    figure for one of two columns gets its title wrapped shorter. Returns the figure."""
    if width == "full":
        return charts.declutter(charts.fit_axes(fig))
    title = (fig.layout.title.text or "").replace("<br>", " ")
    lines = textwrap.wrap(title, TITLE_CHARS.get(width, TITLE_CHARS["full"])) or [title]
    before = (fig.layout.title.text or "").count("<br>") + 1
    extra = charts.TITLE_LINE_PX * (len(lines) - before)
    pad = fig.layout.title.pad.b if fig.layout.title.pad and fig.layout.title.pad.b is not None else 0
    fig.update_layout(title=dict(text="<br>".join(lines), pad=dict(b=pad + extra if fig.layout.title.yref == "paper" else pad)),
                      margin=dict(t=(fig.layout.margin.t or 0) + extra))
    if fig.layout.height:
        fig.update_layout(height=fig.layout.height + extra)
    return charts.declutter(charts.fit_axes(fig))


# --- KPI figures for charts ------------------------------------------------------------------


def has_counts(df: pd.DataFrame) -> bool:
    """Whether a frame carries the numbers behind its rates (the board's never does)."""
    return any(col in df and df[col].notna().any() for col in ("numerator", "denominator"))


#: Why the board gets no funnel plot (its x axis is each office's number of cases).
BOARD_NO_FUNNEL = "The funnel plot needs each office's number of cases, which the board view does not show."


def hover_counts(fig, df: pd.DataFrame, kpi: kpis.Kpi, color: str = "area") -> None:
    """Add the numbers behind each point (numerator and denominator) to a `charts.line_chart`
    figure's hover. Suppressed points have no value and so no hover."""
    if kpi.aggregate == "sum":
        return
    if not has_counts(df):  # the board's: rates only, never the counts behind them
        return
    suffix = kpi.unit_suffix if kpi.unit_suffix.startswith(("%", " ")) or not kpi.unit_suffix else " " + kpi.unit_suffix
    if kpi.aggregate == "median":
        behind = "median of %{customdata[1]:,.0f} records"
    elif kpi.unit == "per_fte":
        behind = "%{customdata[0]:,.1~f} cases ÷ %{customdata[1]:,.1~f} FTE"
    elif kpi.denominator == "fte":
        behind = "%{customdata[0]:,.1~f} of %{customdata[1]:,.1~f} FTE"
    else:
        behind = "%{customdata[0]:,.0f} of %{customdata[1]:,.0f}"
    data = df.assign(_x=[charts._x(p) for p in df["period"]])
    for trace in fig.data:
        meta = trace.meta if isinstance(trace.meta, dict) else {}
        if meta.get("role") != "series":
            continue
        rows = data[data[color].astype(str) == meta.get("group")].sort_values("_x")
        trace.customdata = np.column_stack([rows["numerator"].astype(float), rows["denominator"].astype(float)])
        trace.hovertemplate = (
            f"{meta.get('group')}<br>%{{x|%B %Y}}<br>%{{y:,.1f}}{suffix}<br>{behind}<extra></extra>"
        )


def gaps_note(df: pd.DataFrame) -> str | None:
    """What the board's chart of area offices says under it (with its source: no element more a
    view) when an office's months are hidden: why (the published rule), and that the months left
    may not be typical: a count of 0 is never hidden, so they lean to 0% (a review saw offices
    drawn at 0% only, beside 23.8% for all areas, and nothing said)."""
    if df is None or df.empty or "suppressed" not in df or "area" not in df:
        return None
    offices = df[df["area"] != ALL_AREAS]
    if not offices["suppressed"].fillna(False).astype(bool).any():
        return None
    return ("Gaps in an office's line are months hidden to protect small numbers (a number in them from 1 to 5, or "
            "one that would give such a number away), so the months left may not be typical of the office: they "
            "can sit at extremes such as 0%.")


def area_figure(kpi: kpis.Kpi, df: pd.DataFrame, target: float | None, source: str, width: str = "full",
                period: str | None = None, funnel: bool = False):
    """All areas beside each area office: directly labelled lines, the target, the numbers
    behind each point on hover. None when there is nothing to draw (see `empty_message`).
    ``period``: the selection's last month, which a line ending earlier names (`charts.line_chart`)."""
    if empty_message(kpi, df):
        return None
    fig = charts.line_chart(df, "period", "value", "area", areas_finding(kpi, df, target, funnel), target=target,
                            unit=kpi.unit_suffix, source=source, period=period, note=gaps_note(df))
    hover_counts(fig, df, kpi)
    return fit_figure(fig, width)


def funnel_figure(kpi: kpis.Kpi, df: pd.DataFrame, period: str, source: str, width: str = "full"):
    """A funnel plot of the area offices for one month: (figure, its points, None), or
    (None, None, why there is none)."""
    month = df[(df["period"] == period) & (df["area"] != ALL_AREAS)]
    if "suppressed" in df and not has_counts(df):  # the board's: no number of cases to plot against
        return None, None, BOARD_NO_FUNNEL
    if "suppressed" in month and month["suppressed"].any():
        return None, None, (f"The funnel plot for {spc.period_label(period)} is not shown: at least one area office had "
                      "5 or fewer cases, and small numbers are suppressed.")
    month = month[month["denominator"] > 0]
    if len(month) < 2:
        return None, None, f"Fewer than two area offices had cases in {spc.period_label(period)}, so there is nothing to compare."
    points = spc.funnel_points(month)
    fig = charts.funnel_chart(points, funnel_finding(kpi, points, period), unit=kpi.unit_suffix, source=source, period=period)
    return fit_figure(fig, width), points, None


def xmr_table(df: pd.DataFrame, result: spc.XmrResult, improvement: str) -> pd.DataFrame:
    """The data behind an XmR chart, for its download."""
    out = df.copy()
    out["mean"] = [p.mean for p in result.points]
    out["lower_process_limit"] = [p.lpl for p in result.points]
    out["upper_process_limit"] = [p.upl for p in result.points]
    out["variation"] = [spc.variation_label(p.point_type, improvement) if p.point_type else "" for p in result.points]
    return for_download(out)


def for_download(df: pd.DataFrame) -> pd.DataFrame:
    """Suppressed figures as `c` in a download, as on screen. The board's (with `suppressed`) has
    no numerator or denominator column when it has no such figure (a rate: never the counts)."""
    if "suppressed" not in df:
        return df
    out = df.drop(columns=[c for c in ("numerator", "denominator") if c in df and df[c].isna().all()])
    if not out["suppressed"].any():
        return out
    for col in ("value", "numerator", "denominator"):
        if col in out:
            out[col] = out[col].astype(object).where(~out["suppressed"], privacy.SUPPRESSED)
    return out


# --- by team -----------------------------------------------------------------------------------


def team_table(cur: duckdb.DuckDBPyConnection, kpi_names, period: str, areas=None,
               suppress: bool = False) -> pd.DataFrame:
    """Several KPIs by team for one month, long: kpi, area, team, numerator, denominator, value,
    suppressed, the KPIs in the order of ``kpi_names``. Read from the team figures stored with the
    KPIs (`kpis.team_results`: worked out once per import, from the same records as the figures by
    area office): no KPI's SQL runs for a view. The stored figures are those with a value, so a
    team has no row for a KPI with no value (no records, or none in the denominator: a team whose
    only worker left has a leaver but no base for turnover), and a team with no value for any KPI
    is not listed. With ``suppress``, the board's: the stored decision
    (`suppression.board_suppression`), complementary included, and no team figures at all for a
    KPI whose counts the board sees."""
    long = kpis.team_results(cur, period=period, areas=list(areas) if areas else None, board=suppress)
    order = {name: i for i, name in enumerate(kpi_names)}
    long = long[long["kpi"].isin(list(order))]
    long = long.iloc[long["kpi"].map(order).argsort(kind="stable")]  # stored by kpi, area, team: the page's order of KPIs
    return long[["kpi", "area", "team", "numerator", "denominator", "value", "suppressed"]].reset_index(drop=True)


def team_table_wide(long: pd.DataFrame, kpi_names) -> pd.DataFrame:
    """The long team table as one row per team and one column per KPI, formatted: `c` where
    suppressed, `–` where there is no value."""
    registry = kpis.registry()
    if long.empty:
        return pd.DataFrame(columns=["Area office", "Team", *[short_title(k) for k in kpi_names]])

    def cell(row) -> str:
        if row["suppressed"]:
            return privacy.SUPPRESSED
        return registry[row["kpi"]].format(row["value"])

    long = long.assign(cell=long.apply(cell, axis=1))
    wide = long.pivot_table(index=["area", "team"], columns="kpi", values="cell", aggfunc="first")
    wide = wide.reindex(columns=list(kpi_names)).astype(object).fillna("–").reset_index()
    return wide.rename(columns={"area": "Area office", "team": "Team", **{k: short_title(k) for k in kpi_names}})


def short_title(kpi_name: str) -> str:
    return kpis.get(kpi_name).short_title


# --- practice breakdowns -----------------------------------------------------------------------


def referrals_by_month(cur: duckdb.DuckDBPyConnection, period_from=None, period_to=None, areas=None,
                       suppress: bool = False) -> pd.DataFrame:
    """Referrals received per month (by referral_date): one row per month for all areas
    together and for each area office (or the chosen ones), months with none as 0.
    Columns period, area ("All areas" for the total), value (and `suppressed`)."""
    df = cur.execute(kpis.app_sql("referrals_by_month"), {"pfrom": period_from, "pto": period_to}).df()
    if df.empty:
        return pd.DataFrame(columns=["period", "area", "value"] + (["suppressed"] if suppress else []))
    df["area"] = df["area"].fillna(ALL_AREAS)
    months = month_range(period_from or df["period"].min(), period_to or df["period"].max())
    offices = set(df["area"].unique()) - {ALL_AREAS}
    before = suppression.hidden_parts(cur, REFERRALS_MARGIN, period_from) if suppress else {}
    if suppress:
        # the board's decision must not depend on the months chosen: every area office that has
        # referrals in any month, and every one hidden before, is a cell of each month (an office
        # missing from one range and listed with 0 in another would give a hidden partner back)
        offices |= {a for (a,) in cur.execute("select distinct area_office from cur_referrals").fetchall() if a}
        offices |= {p for parts in before.values() for p in parts if p is not None}
    groups = [ALL_AREAS] + sorted(offices)
    full = pd.MultiIndex.from_product([months, groups], names=["period", "area"]).to_frame(index=False)
    df = full.merge(df, on=["period", "area"], how="left").fillna({"value": 0.0})
    if suppress:  # decided over every area office, then the chosen ones kept: complementary included
        df = privacy.protect_margin(df, "area", ALL_AREAS, before=before,
                                    chooser=suppression.partners(suppression.partner_secret(cur), REFERRALS_MARGIN))
    if areas:
        df = df[df["area"].isin([ALL_AREAS, *areas])].reset_index(drop=True)
    return df


def assessment_timeliness(cur: duckdb.DuckDBPyConnection, period_from=None, period_to=None, areas=None,
                          suppress: bool = False) -> pd.DataFrame:
    """Assessments completed in each month within their timescale, by type (Initial 7, Core 35,
    Single 45 working days from the start), for the chosen area offices together (all when
    none). Columns period, assessment_type, numerator (in time), denominator (completed),
    value (%) (and `suppressed`)."""
    df = cur.execute(
        kpis.app_sql("assessment_timeliness_by_type"),
        {"pfrom": period_from, "pto": period_to, "all_areas": not areas, "areas": list(areas or [])},
    ).df()
    if not suppress:
        return df
    if areas:  # types of different selections would difference to an office's small figures
        return df.iloc[0:0].assign(suppressed=pd.Series(dtype=bool))
    # the types add up to all assessments completed: hidden with a partner type, as area offices are
    # then rates only: the board never sees the assessments in time or completed behind them
    before = suppression.hidden_parts(cur, TIMELINESS_MARGIN, period_from)
    decided = privacy.protect_margin(df, "assessment_type", None, kind=privacy.RATE_CELL, before=before,
                                     chooser=suppression.partners(suppression.partner_secret(cur), TIMELINESS_MARGIN))
    return privacy.rates_only(privacy.RATE_CELL, decided)


#: The one-level tables the board sees, by the name their denied cells are kept under in
#: `kpi_hidden_ever` (as a KPI's are: hidden once, hidden in every later version).
REFERRALS_MARGIN, TIMELINESS_MARGIN = suppression.REFERRALS_MARGIN, suppression.TIMELINESS_MARGIN


def record_board_margins(cur: duckdb.DuckDBPyConnection, since: str | None = None) -> None:
    """Once per recompute (`kpis.materialise(margins=...)`, just before the KPIs' own decision, which
    hides a re-referral rate where its count is hidden): the cells of referrals
    by area office and of assessment timeliness by type the board is denied (of the months from
    `since` on), added to those it was ever denied, so that a later version hides them again
    whatever its numbers (docs/decisions.md, "Once hidden, hidden in every later version")."""
    referrals = referrals_by_month(cur, since, suppress=True)
    timeliness = assessment_timeliness(cur, since, suppress=True)
    cells = []  # both tables' in one insert
    for table, df, part, total in ((REFERRALS_MARGIN, referrals, "area", ALL_AREAS),
                                   (TIMELINESS_MARGIN, timeliness, "assessment_type", None)):
        if len(df):
            hidden = df[df["suppressed"]]
            cells += [(table, m, None if p == total else p, None) for m, p in zip(hidden["period"], hidden[part])]
    suppression.add_hidden(cur, cells)


def timeliness_title(df: pd.DataFrame) -> str:
    """Which assessment type was least often on time in the latest month."""
    present = df[df["value"].notna()]
    if present.empty:
        return "Assessments completed within timescale, by type: no value in these months"
    period = present["period"].max()
    latest = present[present["period"] == period].sort_values("value")
    month = spc.period_label(period)
    if len(latest) == 1:
        r = latest.iloc[0]
        return f"{r['assessment_type']} assessments: {spc.format_value(float(r['value']), '%')} completed within timescale in {month}"
    low, high = latest.iloc[0], latest.iloc[-1]
    return (
        f"Assessments within timescale in {month}: {low['assessment_type']} lowest at "
        f"{spc.format_value(float(low['value']), '%')}, {high['assessment_type']} highest at "
        f"{spc.format_value(float(high['value']), '%')}"
    )


def referrals_title(df: pd.DataFrame) -> str:
    """"Referrals rose to 10 in July 2011" for all areas (or the one area shown)."""
    total = df[df["area"] == ALL_AREAS]
    period, value, previous = _latest(total)
    return charts.finding_title("Referrals received", value, previous, "", None, period)

"""What the pages show, as plain functions over the store (no Streamlit): KPI series for an area
selection, the overview of the action plan, and ratings (RAG beside SPC)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from csc import kpis, privacy, spc, verdict
from csc.months import add_months, month_range, previous_period
from csc.plan import Action, Plan


@dataclass(frozen=True)
class Selection:
    """The sidebar's filters: areas (None = all areas together) and a period range."""

    areas: tuple[str, ...] | None = None
    period_from: str | None = None
    period_to: str | None = None

    @property
    def label(self) -> str:
        return "All areas" if not self.areas else ", ".join(self.areas)


class Stored:
    """Every KPI's stored rows for a selection's months, read in one query (and the board's in
    one more) and handed out a KPI at a time, as `kpis.results` gives them for one KPI: for a page
    that shows many measures at once (the Overview asked three queries a measure, ~6 ms each, on
    the first view after every import)."""

    def __init__(self, cur: duckdb.DuckDBPyConnection, sel: Selection, board: bool):
        self.sel = sel
        self._plain = self._by_kpi(kpis.results(cur, period_from=sel.period_from, period_to=sel.period_to))
        self._board = self._by_kpi(kpis.results(cur, period_from=sel.period_from, period_to=sel.period_to,
                                                board=True)) if board else None

    @staticmethod
    def _by_kpi(df: pd.DataFrame) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
        return {name: rows.reset_index(drop=True) for name, rows in df.groupby("kpi", sort=False)}, df.iloc[:0]

    def rows(self, kpi: str, area: str | None = None, board: bool = False) -> pd.DataFrame:
        """`kpis.results(cur, kpi=kpi, area=area, period_from=..., period_to=..., board=board)`."""
        groups, empty = self._board if board else self._plain
        df = groups.get(kpi, empty)
        if area is not None:
            df = df[df["area"] == area]
        return df.reset_index(drop=True)


def series(cur: duckdb.DuckDBPyConnection, kpi: kpis.Kpi, sel: Selection, suppress: bool = False,
           stored: Stored | None = None) -> pd.DataFrame:
    """One KPI's monthly figures for the selection: columns period, numerator, denominator, value
    (and `suppressed` when small numbers are suppressed for the board).

    All areas: the stored all-areas rows. One area: its rows. Several areas: their numerators
    and denominators added up (a median is recomputed from the records). `stored`: the stored rows
    of the selection's months, read once for many KPIs (`Stored`)."""
    if stored is not None and stored.sel != sel:
        raise ValueError("the stored rows are of another selection")
    df = _series(cur, kpi, sel, stored)
    if not suppress:
        return df
    shown = stored.rows(kpi.name, board=True) if stored is not None else \
        kpis.results(cur, kpi=kpi.name, period_from=sel.period_from, period_to=sel.period_to, board=True)
    total = None  # every office of a month chosen: all areas' true figures, which its figure may be (`board_view`)
    if (sel.areas and len(sel.areas) > 1 and not kpi.all_areas_only
            and any(set(rows.loc[rows["area"].notna(), "area"]) <= set(sel.areas)
                    for _, rows in shown.groupby("period"))):
        total = _series(cur, kpi, Selection(None, sel.period_from, sel.period_to))
    return privacy.board_view(shown, kpi, sel, df, total=total)


#: Months in the Overview's trend cell.
SPARK_MONTHS = 12


def sparkline(df: pd.DataFrame, end: str | None) -> list[float | None]:
    """The values of the last `SPARK_MONTHS` months up to `end`, a month at a time (from the series'
    first month when it is shorter): None for a month with no value or hidden, so that a gap is drawn
    where that month is, and a series ending before `end` ends in empty slots (a review: the last 12
    rows drew May in July's slot). Empty for an empty series."""
    if df.empty or not end:
        return []
    values = {p: float(v) for p, v in zip(df["period"], df["value"]) if v is not None and not pd.isna(v)}
    months = month_range(max(add_months(end, -(SPARK_MONTHS - 1)), df["period"].min()), end)
    return [values.get(m) for m in months]


def through(df: pd.DataFrame, period: str | None) -> pd.DataFrame:
    """A series that ends before `period` (the month chosen) with an empty row for it: what is
    judged and drawn for the month chosen is then "no value for August 2011", never an older
    month's value rated as if it were this month's (a review). A series already there, or empty,
    is returned as it is."""
    if df.empty or not period or df["period"].iloc[-1] >= period:
        return df
    empty = {c: (False if c == "suppressed" else None) for c in df.columns}
    return pd.concat([df, pd.DataFrame([{**empty, "period": period}]).astype(df.dtypes.to_dict(), errors="ignore")],
                     ignore_index=True)


def _series(cur: duckdb.DuckDBPyConnection, kpi: kpis.Kpi, sel: Selection, stored: Stored | None = None
            ) -> pd.DataFrame:
    if not sel.areas or kpi.all_areas_only:
        df = stored.rows(kpi.name) if stored is not None else \
            kpis.results(cur, kpi=kpi.name, period_from=sel.period_from, period_to=sel.period_to)
        return df[df["area"].isna()].drop(columns=["kpi", "area"]).reset_index(drop=True)
    if len(sel.areas) == 1:
        df = stored.rows(kpi.name, area=sel.areas[0]) if stored is not None else \
            kpis.results(cur, kpi=kpi.name, area=sel.areas[0], period_from=sel.period_from, period_to=sel.period_to)
        return df.drop(columns=["kpi", "area"]).reset_index(drop=True)
    where, params = kpis.filters({
        "areas": ("list_contains($areas, area)", list(sel.areas)),
        "pfrom": ("period >= $pfrom", sel.period_from or None),
        "pto": ("period <= $pto", sel.period_to or None),
    })
    if kpi.aggregate == "median":  # a median of the areas' medians is not theirs together: from the records
        kpis.prepare(cur)
        rows = f"select period, numerator, denominator from ({kpis._strip(kpi.sql)}) where {where}"
    else:  # the stored cells of each area add up
        rows = f"select period, numerator, denominator from kpi_results where kpi = $kpi and {where}"
        params["kpi"] = kpi.name
    df = kpis.aggregate(cur, kpi, rows, ("period",), params)
    return df.dropna(subset=["value"]).reset_index(drop=True)


def by_area(cur: duckdb.DuckDBPyConnection, kpi: kpis.Kpi, period_from=None, period_to=None, areas=None,
            suppress: bool = False) -> pd.DataFrame:
    """Every area's series and the all-areas series, long: period, area ("All areas"), value...
    (`suppress`: the board's, with `suppressed`)."""
    df = kpis.results(cur, kpi=kpi.name, period_from=period_from, period_to=period_to, board=suppress)
    if areas:
        df = df[df["area"].isna() | df["area"].isin(areas)]
    return df.assign(area=df["area"].fillna("All areas")).drop(columns=["kpi"]).reset_index(drop=True)


def overview(cur: duckdb.DuckDBPyConnection, plan: Plan, sel: Selection, period: str | None = None,
             suppress: bool = False) -> pd.DataFrame:
    """One row per action and KPI: latest value, target, RAG, SPC icons, changes, sparkline values."""
    rows = []
    registry = kpis.registry()
    stored = Stored(cur, Selection(sel.areas, sel.period_from, period or sel.period_to), suppress)
    for action in plan.actions:
        for name in action.kpis:
            kpi = registry.get(name)
            if kpi is None:
                continue
            rows.append(_overview_row(cur, action, kpi, sel, period, suppress, stored))
    return pd.DataFrame(rows)


def _value_at(df: pd.DataFrame, period: str | None) -> float | None:
    if period is None:
        return None
    hit = df.loc[df["period"] == period, "value"]
    return None if hit.empty or pd.isna(hit.iloc[0]) else float(hit.iloc[0])


def _overview_row(cur, action: Action, kpi: kpis.Kpi, sel: Selection, period: str | None, suppress: bool,
                  stored: Stored | None = None) -> dict:
    """Ratings (RAG, SPC, trajectory) always come from the true figures, so the board's equal the
    director's; the board's row then loses every figure it may not see (`_board_row`). The months
    are the selection's, from its first (the SPC limits from the months before the action within
    them, as the Action page and the charts under the row have them) to `period`."""
    month_sel = Selection(sel.areas, sel.period_from, period or sel.period_to)
    df = series(cur, kpi, month_sel, stored=stored)
    row = _true_row(action, kpi, df, period or sel.period_to)
    if not suppress:
        return row
    shown = series(cur, kpi, month_sel, suppress=True, stored=stored)
    out = _board_row(row, shown, action)
    if row["value"] is not None:  # the same verdict, in words that name no hidden figure
        vd = verdict.assess(kpi, df, action.target(kpi.name), action.start, action.due_period, shown=shown).verdict
        # its ratings too: a month the board may not see is not rated for it, and a month it sees is
        # rated as any month whatever its base (the director's row drops the assurance of a small
        # base, which told the board the base was small: `verdict.verdict`)
        out.update(verdict=vd.sentence, small_base=vd.small_base, improved=vd.improved, rag=vd.rag,
                   variation=vd.variation, assurance=vd.assurance, trajectory=vd.trajectory)
    return out


def _board_row(row: dict, shown: pd.DataFrame, action: Action) -> dict:
    """The board's copy of an overview row: ratings kept, hidden figures gone."""
    def at(p):
        return _value_at(shown, p)

    out = dict(row, too_small=False)
    if kpis.get(row["kpi"]).aggregate != "sum":  # a rate: never the counts behind it
        out.update(numerator=None, denominator=None)
    out["sparkline"] = sparkline(shown, row["period"])
    if row["period"] is None or row["value"] is None:
        return out
    latest = shown[shown["period"] == row["period"]]
    hidden = latest.empty or bool(latest["suppressed"].iloc[0])
    prev = at(previous_period(row["period"]))
    start_value = at(previous_period(action.start)) if action.start else None
    out.update(previous=prev, at_start=start_value, suppressed=hidden)
    if hidden:
        out.update(value=None, numerator=None, denominator=None, change_month=None, change_since_start=None,
                   too_small=shown["value"].isna().all())
    else:  # the published value (a rate rounded as shown: `privacy.shown`), and changes between published values
        value = at(row["period"])
        out.update(value=value, change_month=None if prev is None else value - prev,
                   change_since_start=None if start_value is None else value - start_value)
    return out


def _true_row(action: Action, kpi: kpis.Kpi, df: pd.DataFrame, want: str | None) -> dict:
    target = action.target(kpi.name)
    row = {
        "action": action.id,
        "action_title": action.title,
        "owner": action.owner,
        "due": action.due,
        "status": action.status,
        "kpi": kpi.name,
        "title": kpi.title,
        "unit": kpi.unit,
        "direction": kpi.direction,
        "target": target,
        "period": None,
        "value": None,
        "numerator": None,
        "denominator": None,
        "previous": None,
        "change_month": None,
        "at_start": None,
        "change_since_start": None,
        "rag": None,
        "variation": None,
        "improved": False,
        "assurance": None,
        "trajectory": None,
        "verdict": None,
        "small_base": False,
        "sparkline": [],
        "suppressed": False,
        "no_value": False,
    }
    if df.empty:
        return row
    latest = df.iloc[-1]
    if want and latest["period"] != want:  # no value for the month asked about: never an older one as current
        row.update(period=want, no_value=True, verdict=f"No value for {spc.period_label(want)}.",
                   sparkline=sparkline(df, want))
        return row
    value = float(latest["value"])
    prev = _value_at(df, previous_period(latest["period"]))
    start_value = _value_at(df, previous_period(action.start)) if action.start else None
    assessed = verdict.assess(kpi, df, target, action.start, action.due_period)
    vd = assessed.verdict  # the one verdict: RAG, variation, assurance and trajectory agree with its sentence
    row.update(
        period=latest["period"],
        value=value,
        numerator=latest["numerator"],
        denominator=latest["denominator"],
        previous=prev,
        change_month=None if prev is None else value - prev,
        at_start=start_value,
        change_since_start=None if start_value is None else value - start_value,
        rag=vd.rag,
        variation=vd.variation,
        improved=vd.improved,
        assurance=vd.assurance,
        trajectory=vd.trajectory,
        verdict=vd.sentence,
        small_base=vd.small_base,
        sparkline=sparkline(df, latest["period"]),
    )
    return row


#: The months the pages show by default, ending with the month chosen (`csc.ui.sidebar_filters`).
DEFAULT_MONTHS = 24


def default_from(cur: duckdb.DuckDBPyConnection, period: str) -> str | None:
    """The first month shown by default for months ending with `period`: the last `DEFAULT_MONTHS`,
    none before the first extract loaded (the months before it are the history that extract
    carried, where what looks back over months is incomplete: `csc.ui.first_extract`). What the
    pages show unless another range is chosen, and so what the board pack judges over."""
    return default_start(period, cur.execute("select min(period) from imports where status = 'loaded'").fetchall()[0][0])


def default_start(period: str, first_extract: str | None) -> str:
    """`default_from` when the first extract's month is known."""
    back = add_months(period, -(DEFAULT_MONTHS - 1))
    return max(back, first_extract) if first_extract and first_extract <= period else back


def latest_period(cur: duckdb.DuckDBPyConnection) -> str | None:
    rows = cur.execute("select max(period) from imports where status = 'loaded'").fetchall()
    return rows[0][0] if rows else None


def data_version(cur: duckdb.DuckDBPyConnection) -> str:
    """Changes whenever an import or rollback changes what is current (a cache key)."""
    rows = cur.execute(
        "select count(*), coalesce(max(import_id), 0), count(rolled_back_at), "
        "(select count(*) from plan_changes) from imports"
    ).fetchall()
    return "-".join(str(v) for v in rows[0])

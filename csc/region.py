"""A region's councils side by side, from pooled KPI results (`python -m csc spark-kpis`): read
only, no Streamlit and no Spark (DuckDB reads the Parquet). Councils are compared on their
all-areas figures: trend lines, and a funnel plot of one month. Board members get the same
suppression as everywhere else (`csc.privacy`), applied before anything is drawn."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from csc import breakdowns, charts, config, kpis, privacy, spc

COLUMNS = ["council", "kpi", "period", "area", "numerator", "denominator", "value", "hidden"]


def results_files(folder: str | Path) -> list[Path]:
    """The Parquet files of a pooled `kpi_results` folder (`<folder>/kpi_results/council=<code>/`)."""
    return sorted((Path(folder) / "kpi_results").glob("council=*/*.parquet"))


def stamp(folder: str | Path) -> str:
    """Changes whenever the pooled results are rewritten (a cache key)."""
    files = results_files(folder)
    return ";".join(f"{f.parent.name}/{f.name}:{f.stat().st_mtime_ns}" for f in files)


def read(folder: str | Path, all_areas_only: bool = False) -> pd.DataFrame:
    """The pooled results in `<folder>/kpi_results/council=<code>/` (`COLUMNS`): each council's
    code as text (a code of digits is a code, not a number), and `hidden`: whether the council's
    own dashboard denies the figure to its board (`csc.spark.with_decision`), null where that is
    not known (results pooled before they carried it)."""
    if not results_files(folder):
        return pd.DataFrame(columns=COLUMNS)
    pattern = str(Path(folder) / "kpi_results" / "council=*" / "*.parquet").replace("'", "''")
    con = duckdb.connect()  # in memory: the files are only read
    rel = con.sql(f"select * from read_parquet('{pattern}', hive_partitioning = true, union_by_name = true, "
                  "hive_types = {'council': 'varchar'})" + (" where area is null" if all_areas_only else ""))
    hidden = "hidden" if "hidden" in rel.columns else "null::boolean as hidden"
    return rel.select(f"council, kpi, period, area, numerator, denominator, value, {hidden}").order(
        "council, kpi, period, area nulls first").df()


def load(folder: str | Path) -> pd.DataFrame:
    """Every council's all-areas KPI figures (area offices are each council's own business)."""
    return read(folder, all_areas_only=True)


def undecided(df: pd.DataFrame, kpi: kpis.Kpi, chosen: list[str] | None = None, period_from: str | None = None,
              period_to: str | None = None) -> list[str]:
    """The councils (of those chosen) with a figure of `kpi` in the months chosen whose board
    decision is not known: the board sees none of those figures (`series`)."""
    rows = _chosen(df, kpi, chosen, period_from, period_to)
    rows = rows[rows["hidden"].isna()]
    return sorted(str(c) for c in rows["council"].dropna().unique())


def _chosen(df: pd.DataFrame, kpi: kpis.Kpi, chosen: list[str] | None, period_from: str | None,
            period_to: str | None) -> pd.DataFrame:
    """The rows of `kpi` for the councils and months chosen."""
    out = df[df["kpi"] == kpi.name]
    if chosen:
        out = out[out["council"].isin(chosen)]
    if period_from:
        out = out[out["period"] >= period_from]
    if period_to:
        out = out[out["period"] <= period_to]
    return out


def councils(df: pd.DataFrame) -> list[str]:
    return sorted(df["council"].dropna().unique())


def periods(df: pd.DataFrame) -> list[str]:
    return sorted(df["period"].dropna().unique())


def default_months(months: list[str], period_from: str | None, period_to: str | None,
                   last: int = 24) -> tuple[str, str]:
    """The months the page shows unless others are chosen: the sidebar's selection where the pooled
    results have its last month (the pages agree on the month a figure is for), else the pooled
    results' last `last` months. `months` is sorted and not empty."""
    if period_to in months:
        start = next((m for m in months if period_from is None or m >= period_from), period_to)
        return min(start, period_to), period_to
    return months[max(0, len(months) - last)], months[-1]


def series(df: pd.DataFrame, kpi: kpis.Kpi, chosen: list[str] | None = None, period_from: str | None = None,
           period_to: str | None = None, suppress: bool = False, denied: dict | None = None) -> pd.DataFrame:
    """One KPI's monthly figures for each council: council, period, numerator, denominator, value
    (and `suppressed` for the board, which gets no numerator or denominator for a rate).
    For the board, a figure is shown only where its council's own dashboard shows it: one hidden
    there for more than its numbers (as a partner, or hidden once and since revised) could
    otherwise be worked out from this one. So it is hidden where the pooled `hidden` flag says so
    or does not say, and where `denied` (council -> months of this KPI, `own_denied`: this
    council's stored decision, newer than its last export) names it."""
    out = _chosen(df, kpi, chosen, period_from, period_to)
    decided_shown = (out["hidden"] if "hidden" in out else pd.Series(None, index=out.index, dtype=object)).eq(False)
    out = out.drop(columns=["kpi", "area", "hidden"], errors="ignore").reset_index(drop=True)
    if not suppress:
        return out
    out = privacy.suppress_kpi(out, kpi)
    hide = pd.Series(~decided_shown.fillna(False).to_numpy(dtype=bool), index=out.index)
    for council, months in (denied or {}).items():
        hide |= (out["council"] == council) & out["period"].isin(list(months))
    if hide.any():
        out.loc[hide, "suppressed"] = True
        out.loc[hide, [c for c in ("value", "numerator", "denominator") if c in out]] = float("nan")
    return privacy.rates_only(kpi, out)


def own_denied(cur: duckdb.DuckDBPyConnection, kpi: kpis.Kpi) -> dict[str, set]:
    """This council's (`config.council`) months of `kpi` whose all-areas figure the board is denied
    in the stored decision (`csc.suppression`), for `series(denied=...)`."""
    rows = kpis.results(cur, kpi=kpi.name, board=True)
    return {config.council(): set(rows.loc[rows["area"].isna() & rows["suppressed"].astype(bool), "period"])}


def trend_figure(kpi: kpis.Kpi, df: pd.DataFrame, source: str, period: str | None = None):
    """A line per council, directly labelled; None when there is no figure to draw. The title
    names the month the chart is for (``period``, the months chosen's last; by default the data's
    last), and a council whose last figure shown is from an earlier month names that month (c since,
    or no figure since)."""
    shown = df[df["value"].notna()]
    if shown.empty:
        return None
    latest = period or df["period"].max()
    words = ", ".join(f"{r.council} {kpi.format(r.value)}" + ("" if r.period == latest else f" ({spc.period_label(r.period)})")
                      for r in shown.sort_values("period").groupby("council").tail(1).itertuples())
    fig = charts.line_chart(df, "period", "value", "council", f"{kpi.title}: latest, {spc.period_label(latest)}: {words}",
                            target=kpi.target, unit=kpi.unit_suffix, source=source, period=latest)
    breakdowns.hover_counts(fig, df, kpi, color="council")
    return breakdowns.fit_figure(fig)


def funnel_figure(kpi: kpis.Kpi, df: pd.DataFrame, period: str, source: str):
    """The councils' rates in one month against funnel limits around the region's: (figure,
    points, None) or (None, None, why not)."""
    month = df[df["period"] == period]
    when = spc.period_label(period)
    if "suppressed" in df and not breakdowns.has_counts(df):  # the board's: no number of cases to plot against
        return None, None, breakdowns.BOARD_NO_FUNNEL
    if "suppressed" in month and month["suppressed"].any():
        return None, None, (f"The funnel plot for {when} is not shown: at least one council had 5 or fewer cases, "
                            "and small numbers are suppressed.")
    month = month[month["denominator"] > 0]
    if len(month) < 2:
        return None, None, f"Fewer than two councils had cases in {when}, so there is nothing to compare."
    points = spc.funnel_points(month, area="council")
    valid = points[points["band"].notna()]
    outside = valid[valid["band"] != spc.WITHIN_95]
    if outside.empty:
        title = f"{kpi.title}: all {len(valid)} councils within the range expected by chance in {when}"
    else:
        title = f"{kpi.title}: " + ", ".join(
            f"{r.area} {r.side} the {'99.8' if r.band == spc.BEYOND_998 else '95'}% limit" for r in outside.itertuples()
        ) + f" in {when}"
    fig = charts.funnel_chart(points, title, unit=kpi.unit_suffix, source=source, period=period,
                              overall_label="All councils", noun="councils")
    return breakdowns.fit_figure(fig), points.rename(columns={"area": "council"}), None

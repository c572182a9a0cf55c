"""Data quality: what in the current data would make a figure wrong, or needs a look — counts
over time for directors and analysts, the offending records for analysts only."""

import pandas as pd
import pyarrow as pa
import streamlit as st

from csc import breakdowns, charts, quality, spc, text, ui, viewcache
from csc.months import month_range

v, sel = ui.open_page("data_quality", "Data quality")
ver = ui.version()
source = ui.extract_source(ver)
checks = quality.registry()


latest_loaded = viewcache.shared("latest-loaded", (ver,), lambda: ui.store().loaded_periods(ui.cursor())[-1])
st.write(
    f"Each check runs over the current version of every record, judged at the end of {spc.period_label(latest_loaded)} (the latest "
    "month loaded). **Errors** make a figure on this dashboard wrong until they are fixed in the case system; "
    "**warnings** are records worth a look. Fix them at source: the next extract then replaces the records."
)
st.caption(text.md(sel.label))

months = month_range(sel.period_from, sel.period_to) if sel.period_from and sel.period_to else []


def checks_table():
    """The counts, their summary for these months, each check's total now and the table shown: once
    per data version and selection (a view does no pandas work on them)."""
    counts = ui.quality_counts(ver, sel.areas)
    summary = quality.summary(counts, months)
    totals = {c: int(t) for c, t in zip(summary["check"], summary["total"])}
    return counts, summary, totals, pa.Table.from_pandas(pd.DataFrame({
        "Check": summary["title"],
        "Severity": summary["severity"].map({"error": "Error", "warning": "Warning"}),
        "Now (all months)": summary["total"],
        "In these months": summary["in_range"],
        "Trend": summary["trend"],
        "What it finds": summary["description"],
    }), preserve_index=False)  # as Arrow: a view does not convert it again


counts, summary, totals, table = viewcache.shared("quality-summary", (ver, v.role, sel), checks_table)
st.dataframe(
    table, hide_index=True, width="stretch", key="checks-table",
    column_config={"Check": st.column_config.TextColumn(width=270),
                   "Severity": st.column_config.TextColumn(width=75),
                   "Now (all months)": st.column_config.NumberColumn("Now", width=70,
                                                                     help="Records it finds now, in all months"),
                   "In these months": st.column_config.NumberColumn("Months shown", width=105,
                                                                    help="Records it finds in the months chosen"),
                   "Trend": st.column_config.LineChartColumn("Trend", width=100, help="Over the months chosen"),
                   "What it finds": st.column_config.TextColumn(width=320)},
    alt="Every data-quality check with its severity, how many records it finds now and in the months chosen",
)
ui.download(lambda: summary.drop(columns=["trend"]), "data-quality-summary", key="dl-checks", v=v,
            label="Download this summary (CSV)")
if not any(totals.values()):
    st.success("No check finds anything in the current data.")

# One check in depth: kept in the URL (?check=...) so a link opens it.
names = list(checks)
from_url = st.query_params.get("check")
if from_url in names and from_url != st.session_state.get("_check_in_url"):
    st.session_state["check_pick"] = from_url
elif st.session_state.get("check_pick") not in names:
    first_hit = next((n for n, t in totals.items() if t), names[0])
    st.session_state["check_pick"] = st.session_state.get("_check_in_url") if st.session_state.get(
        "_check_in_url") in names else first_hit
st.subheader("One check over time")
chosen = st.selectbox("Check", names, key="check_pick",
                      format_func=lambda n: f"{checks[n].title} ({checks[n].severity})")
if st.query_params.get("check") != chosen:
    st.query_params["check"] = chosen
st.session_state["_check_in_url"] = chosen
check = checks[chosen]
st.caption(check.description)



def check_chart():
    over_time = quality.fill_months(counts, chosen, months).assign(area=sel.label)
    fig = charts.line_chart(over_time, "period", "count", "area", quality.finding(check, over_time), unit="",
                            source=source)
    fig.update_xaxes(title_text=f"Period: {check.period}")
    fig.update_yaxes(rangemode="tozero")
    return breakdowns.fit_figure(fig), over_time


if months:
    ui.chart(viewcache.chart("quality-chart", (ver, v.role, sel, chosen), check_chart), f"dq-{chosen}",
             filename=f"data-quality-{chosen}-{sel.period_from}-{sel.period_to}", v=v)

if v.role != "analyst":
    st.caption("Analysts can see the offending records.")
    st.stop()

st.subheader("The offending records")


def offending_rows():
    """The records, the table shown (Arrow) and its columns' widths: once per data version and selection."""
    df = quality.rows(ui.cursor(), check, areas=sel.areas, period_from=sel.period_from, period_to=sel.period_to)
    return df, pa.Table.from_pandas(df, preserve_index=False), ui.fitted_columns(df)


offending, offending_table, offending_columns = viewcache.shared("quality-rows", (ver, v.role, sel, chosen),
                                                                 offending_rows)
outside = totals[chosen] - len(offending)
if offending.empty:
    st.info(f"No records fail “{check.title}” in these months."
            + (f" {outside:,} fall in other months: widen the months to see them." if outside > 0 else ""))
    st.stop()
st.caption(f"{len(offending):,} record(s) in these months"
           + (f"; {outside:,} more in other months (widen the months to see them)" if outside > 0 else "")
           + ". Child ids are pseudonymised.")
st.dataframe(offending_table, hide_index=True, width="stretch", key="offending-table", column_config=offending_columns)
ui.download(offending, f"data-quality-{chosen}-records", key="dl-offending", v=v,
            label="Download these records (CSV)")

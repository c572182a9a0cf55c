"""Overview: the action plan at a glance — are we on track?"""

import pandas as pd
import streamlit as st

from csc import boardpack, breakdowns, charts, kpis, report, spc, text, ui

v, sel = ui.open_page("overview", "Are we on track?")
ver = ui.version()
plan = ui.current_plan(ver)
df = ui.overview(ver, v.role, sel)
st.caption(f"{plan.title} · {sel.label} · latest month {sel.period_to or '–'}"
           + (" · numbers from 1 to 5 are suppressed (shown as c)" if v.is_board else ""))

if df.empty or df["value"].isna().all() and not df["suppressed"].any():
    st.info("No KPI values for this selection yet. Widen the months or choose other area offices.")
    st.stop()

registry = kpis.registry()


def fmt(row, col):
    value = row[col]
    if row.get("suppressed") and col == "value":
        return "c"
    if value is None or pd.isna(value):
        return "–"
    return registry[row["kpi"]].format(value)


def change(row, col):
    value = row[col]
    if value is None or pd.isna(value):
        return "–"
    unit = "pts" if row["unit"] == "pct" else registry[row["kpi"]].unit_suffix.strip()
    return f"{value:+.1f} {unit}".strip()


greens = int((df["rag"] == "green").sum())
reds = int((df["rag"] == "red").sum())
improving = int((df["variation"] == "special_cause_improvement").sum())
cols = st.columns(4)
cols[0].metric("Measures meeting target", f"{greens} of {len(df)}")
cols[1].metric("Measures red", reds)
cols[2].metric("Showing real improvement (SPC)", improving)
cols[3].metric("Actions", len(plan.actions))

for action in plan.actions:
    part = df[df["action"] == action.id]
    if part.empty:
        continue
    with st.container(border=True):
        st.subheader(f"{action.id} · {text.md(action.title)}")
        st.caption(f"Owner: {text.md(action.owner)} · due {action.due} · status: **{action.status}**")
        table = pd.DataFrame({
            "Measure": part["title"],
            "Latest": [fmt(r, "value") for r in part.to_dict("records")],
            "Target": [fmt({**r, "value": r["target"], "suppressed": False}, "value") for r in part.to_dict("records")],
            "RAG": part["rag"].map(ui.RAG_WORDS),
            "Last 12 months": part["sparkline"],
            "Will it be met?": part["trajectory"].fillna("–"),
            "Since last month": [change(r, "change_month") for r in part.to_dict("records")],
            "Since the action started": [change(r, "change_since_start") for r in part.to_dict("records")],
            "Variation (SPC)": [spc.variation_label(t, registry[k].improvement) if isinstance(t, str) else "–"
                                for t, k in zip(part["variation"], part["kpi"])],
            "Assurance (SPC)": [spc.assurance_label(a) if isinstance(a, str) else "–" for a in part["assurance"]],
        })
        st.dataframe(
            table, hide_index=True, width="stretch",
            column_config={"Last 12 months": st.column_config.LineChartColumn("Last 12 months", width="small")},
            alt=f"Measures of action {action.id} with latest value, target and ratings",
        )
        if st.toggle("Show the SPC charts", key=f"spc-{action.id}",
                     help="XmR charts: is the change real or noise? Limits recalculated from the action's start."):
            source = breakdowns.extract_source(ui.cursor())
            for name in action.kpis:
                kpi = registry.get(name)
                series = ui.series(ver, v.role, name, sel) if kpi else None
                if series is None or series["value"].dropna().empty:
                    continue
                target = action.target(name)
                result = report.rate(kpi, series, target, action.start)
                fig = charts.xmr_chart(list(series["period"]), list(series["value"]), result,
                                       breakdowns.series_title(kpi, series, target), target=target,
                                       unit=kpi.unit_suffix, source=source, due_period=action.due_period)
                ui.chart(breakdowns.fit_figure(fig), f"overview-xmr-{name}",
                         breakdowns.xmr_table(series, result, kpi.improvement),
                         f"{name}-xmr-{sel.period_from}-{sel.period_to}", v)
        if st.button(f"Open {action.id} in depth", key=f"open-{action.id}"):
            st.query_params["action"] = action.id
            st.switch_page("pages/action.py", query_params={"action": action.id})

ui.download(df.drop(columns=["sparkline"]), f"overview-{sel.period_to}", key="dl-overview", v=v,
            label="Download this overview (CSV)")

# --- the board pack: the same picture to take into the meeting ---------------------------------
st.subheader("Export the board pack")
pack_role = v.role or "board"
pack_period, pack_areas = sel.period_to, list(sel.areas or [])
st.caption(
    f"Every action and measure for {spc.period_label(pack_period) if pack_period else '–'} ({sel.label}): "
    "summary with RAG and SPC in words, the monthly figures and a chart per measure, the commentary and notes. "
    + ("Small numbers are suppressed (shown as c), as on this page." if pack_role == "board"
       else f"Not suppressed ({ui.ROLE_LABELS.get(pack_role, pack_role)} version): a board member's pack shows c "
            "for small numbers.")
    + " The file is made when you press a button."
)
if pack_period:
    pack_store, pack_plan = ui.store(), plan  # captured: the file is made on another thread, on the press

    pack_args = (pack_plan, pack_period, pack_areas, pack_role)  # bound now: this run's selection and role

    def _pack_excel(store=pack_store, args=pack_args) -> bytes:
        return boardpack.build_excel(store.cursor(), *args)

    def _pack_html(store=pack_store, args=pack_args) -> str:
        return boardpack.build_html(store.cursor(), *args)

    def _log_pack(fmt: str, detail=(pack_period, pack_areas, pack_role)) -> None:
        period, areas, role = detail
        ui.store().audit(v.user, v.role, "export", {"what": "board pack", "format": fmt, "period": period,
                                                    "areas": areas, "suppressed": role == "board"})

    left, right = st.columns(2)
    left.download_button(
        "Board pack (Excel)", _pack_excel, key="dl-boardpack-xlsx", mime=boardpack.XLSX_MIME,
        file_name=boardpack.file_name(pack_period, pack_areas, pack_role, ".xlsx"), on_click=_log_pack, args=("xlsx",),
    )
    right.download_button(
        "Board pack (HTML, prints to PDF)", _pack_html, key="dl-boardpack-html", mime="text/html",
        file_name=boardpack.file_name(pack_period, pack_areas, pack_role, ".html"), on_click=_log_pack, args=("html",),
    )

"""Overview: the action plan at a glance — are we on track?"""

import pandas as pd
import streamlit as st

from csc import kpis, spc, ui

v = ui.require("overview")
sel = st.session_state["_selection"]
st.title("Are we on track?")
ui.empty_state_if_no_data()
ui.log_view(v, "overview", sel)
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
        st.subheader(f"{action.id} · {action.title}")
        st.caption(f"Owner: {action.owner} · due {action.due} · status: **{action.status}**")
        table = pd.DataFrame({
            "Measure": part["title"],
            "Latest": [fmt(r, "value") for r in part.to_dict("records")],
            "Target": [fmt({**r, "value": r["target"], "suppressed": False}, "value") for r in part.to_dict("records")],
            "RAG": part["rag"].map(ui.RAG_WORDS),
            "Variation (SPC)": [spc.variation_label(t, registry[k].improvement) if isinstance(t, str) else "–"
                                for t, k in zip(part["variation"], part["kpi"])],
            "Assurance": [spc.assurance_label(a) if isinstance(a, str) else "–" for a in part["assurance"]],
            "Since last month": [change(r, "change_month") for r in part.to_dict("records")],
            "Since the action started": [change(r, "change_since_start") for r in part.to_dict("records")],
            "Will it be met?": part["trajectory"].fillna("–"),
            "Last 12 months": part["sparkline"],
        })
        st.dataframe(
            table, hide_index=True, width="stretch",
            column_config={"Last 12 months": st.column_config.LineChartColumn("Last 12 months", width="small")},
            alt=f"Measures of action {action.id} with latest value, target and ratings",
        )
        if st.button(f"Open {action.id} in depth", key=f"open-{action.id}"):
            st.query_params["action"] = action.id
            st.switch_page("pages/action.py", query_params={"action": action.id})

ui.download(df.drop(columns=["sparkline"]), f"overview-{sel.period_to}", key="dl-overview", v=v,
            label="Download this overview (CSV)")

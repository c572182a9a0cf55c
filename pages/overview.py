"""Overview: the action plan at a glance — are we on track?"""

import pandas as pd
import streamlit as st

from csc import boardpack, breakdowns, charts, kpis, revisions, sparkline, spc, ui, verdict

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


@st.cache_data(show_spinner=False, max_entries=64)
def revised_figures(data_version: str, role: str, sel) -> tuple[str, pd.DataFrame]:
    """The data version, and the figures of this page's months revised since first shown."""
    cur = ui.cursor()
    if not sel.period_to:
        return revisions.version_words(cur), pd.DataFrame()
    return revisions.version_words(cur), revisions.for_report(cur, list(registry), sel.period_to, sel.areas,
                                                              suppress=role == "board")


version_words, revised = revised_figures(ver, v.role, sel)
st.caption(version_words)
revised_keys = {(r["kpi"], r["period"]): r for r in revised.to_dict("records")
                if r["area"] == "All areas" or not sel.areas}


def fmt(row, col):
    value = row[col]
    if row.get("no_value") and col == "value":  # never an older month's value as the latest
        return f"no value for {spc.period_label(row['period'])}"
    if row.get("too_small") and col == "value":
        return "c (numbers too small to publish)"
    if row.get("suppressed") and col == "value":
        return "c" + _revised(row, col)
    if value is None or pd.isna(value):
        return "–"
    small = " (small base)" if col == "value" and row.get("small_base") else ""
    return registry[row["kpi"]].format(value) + small + _earlier(row, col) + _revised(row, col)


def _earlier(row, col) -> str:
    """A latest figure from before the last month shown says its month (e.g. no child_seen this month)."""
    month = row.get("period") if col == "value" else None
    return f" ({spc.period_label(month)})" if isinstance(month, str) and sel.period_to and month != sel.period_to else ""


def _revised(row, col) -> str:
    rev = revised_keys.get((row["kpi"], row.get("period"))) if col == "value" else None
    return f" (revised: was {rev['was'] or '–'})" if rev else ""


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
            "Last 12 months": [sparkline.data_url(v) for v in part["sparkline"]],
            "Will it be met?": part["trajectory"].fillna("–"),
            "Since last month": [change(r, "change_month") for r in part.to_dict("records")],
            "Since the action started": [change(r, "change_since_start") for r in part.to_dict("records")],
            "Variation (SPC)": [spc.variation_label(t, registry[k].improvement) if isinstance(t, str) else "–"
                                for t, k in zip(part["variation"], part["kpi"])],
            "Assurance (SPC)": [spc.assurance_label(a) if isinstance(a, str) else "–" for a in part["assurance"]],
            "In words": part["verdict"].fillna("–"),
        })
        st.dataframe(
            table, hide_index=True, width="stretch",
            column_config={"Last 12 months": st.column_config.ImageColumn(
                "Last 12 months", width="small", help="A gap is a month with no published value (c or none).")},
            alt=f"Measures of action {action.id} with latest value, target and ratings",
        )
        if st.toggle("Show the SPC charts", key=f"spc-{action.id}",
                     help="XmR charts: is the change real or noise? Limits from the months before the action, "
                          "recalculated once a new level has held for 7 months."):
            source = breakdowns.extract_source(ui.cursor())
            for name in action.kpis:
                kpi = registry.get(name)
                series = ui.series(ver, v.role, name, sel) if kpi else None
                if series is None or series["value"].dropna().empty:
                    continue
                target = action.target(name)
                true_series = ui.series(ver, "director", name, sel) if v.is_board else series  # ratings only
                assessed = verdict.assess(kpi, true_series, target, action.start, action.due_period,
                                          shown=series if v.is_board else None)
                result, vd = assessed.result, assessed.verdict
                fig = charts.xmr_chart(list(series["period"]), list(series["value"]), result, vd.headline,
                                       target=target, unit=kpi.unit_suffix, source=source,
                                       due_period=action.due_period, verdict=vd,
                                       small_base=verdict.small_base_flags(kpi, series))
                ui.chart(breakdowns.fit_figure(fig), f"overview-xmr-{name}",
                         breakdowns.xmr_table(series, result, kpi.improvement),
                         f"{name}-xmr-{sel.period_from}-{sel.period_to}", v)
        if st.button(f"Open {action.id} in depth", key=f"open-{action.id}"):
            st.query_params["action"] = action.id
            st.switch_page("pages/action.py", query_params={"action": action.id})

ui.download(df.drop(columns=["sparkline"]), f"overview-{sel.period_to}", key="dl-overview", v=v,
            label="Download this overview (CSV)")

if not revised.empty:
    with st.expander(f"{len(revised)} figure(s) revised since first shown", expanded=False):
        st.write("A later extract changed the records behind these figures (or an import was rolled back): "
                 "what each was, what it is now, and the import that changed it.")
        st.dataframe(revised[["title", "period", "area", "was", "now", "changed", "file_name"]].fillna("–"),
                     hide_index=True, width="stretch", key="revised-table",
                     column_config={"title": "Measure", "period": "Month", "area": "Area", "was": "Was",
                                    "now": "Now", "changed": "Changed by", "file_name": "File"})

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

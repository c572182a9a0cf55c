"""Workforce: is the strength sustained — a stable, qualified, supervised workforce — in every
area office and team?"""

import streamlit as st

from csc import breakdowns, census, kpis, privacy, report, spc, ui

KPIS = tuple(k.name for section in kpis.on_page("workforce").values() for k in section)  # from the KPIs' headers

v, sel = ui.open_page("workforce", "Workforce")
ver = ui.version()
plan = ui.current_plan(ver)
registry = kpis.registry()
source = breakdowns.extract_source(ui.cursor())
st.caption(f"A stable, appropriately qualified, well-supervised workforce · {sel.label}"
           + (" · numbers from 1 to 5 are suppressed (shown as c)" if v.is_board else ""))
if note := census.census_note(ui.cursor()):  # which workforce census the figures come from
    st.caption(note)


@st.cache_data(show_spinner=False, max_entries=64)
def team_table(data_version: str, role: str, period: str, areas: tuple[str, ...] | None):
    return breakdowns.team_table(ui.cursor(), KPIS, period, areas, suppress=role == "board")


# The latest month at a glance: value, change on the month, RAG in words.
cols = st.columns(len(KPIS))
for col, name in zip(cols, KPIS):
    kpi = registry[name]
    df = ui.series(ver, v.role, name, sel)
    target = plan.target(name)
    if df.empty:
        col.metric(breakdowns.short_title(name), "–", help=breakdowns.empty_message(kpi))
        continue
    latest = df.iloc[-1]
    if sel.period_to and latest["period"] != sel.period_to:  # never an older month's value as the latest
        col.metric(breakdowns.short_title(name), "–", help=f"{kpi.title}. {kpi.description}")
        col.caption(f"no value for {spc.period_label(sel.period_to)}")
        continue
    suppressed = bool(latest.get("suppressed", False))
    previous = df[df["period"] == report.previous_period(latest["period"])]
    delta = None
    if not suppressed and len(previous) and previous["value"].notna().iloc[0]:
        change = float(latest["value"]) - float(previous["value"].iloc[0])
        delta = f"{change:+.1f}{' pts' if kpi.unit == 'pct' else kpi.unit_suffix}"
    true_latest = ui.series(ver, "director", name, sel).iloc[-1] if v.is_board else latest  # ratings: true figures
    rag = spc.rag(true_latest["value"], target, kpi.direction)
    col.metric(
        breakdowns.short_title(name),
        privacy.SUPPRESSED if suppressed else kpi.format(latest["value"]).replace(" per FTE", ""),
        delta=delta,
        delta_color="normal" if kpi.higher_is_better else "inverse",
        help=f"{kpi.title}, {spc.period_label(latest['period'])}. {kpi.description}",
    )
    col.caption(f"{spc.period_label(latest['period'])} · target {kpi.format(target)} · "
                f"{ui.RAG_WORDS.get(rag, '–')}")

st.subheader("By area office")
for name in KPIS:
    kpi = registry[name]
    df = ui.by_area(ver, v.role, name, sel)
    fig = breakdowns.area_figure(kpi, df, plan.target(name), source)
    if fig is None:
        st.markdown(f"**{kpi.title}**")
        st.info(breakdowns.empty_message(kpi, df))
    else:
        ui.chart(fig, f"wf-{name}", breakdowns.for_download(df), f"{name}-by-area-{sel.period_from}-{sel.period_to}", v)

st.subheader("By team")
if not sel.period_to:
    st.info("No months to show yet.")
    st.stop()
month = spc.period_label(sel.period_to)
st.write(f"Each team in {month} (the last month chosen), worked out from the same records as the figures above. "
         "Vacancy uses the team's funded posts; the other measures count the team's own workers.")
long = team_table(ver, v.role, sel.period_to, sel.areas)
if long.empty:
    st.info(f"No workers or funded posts are recorded for {month}: load an extract with the workforce and "
            "establishment sheets.")
    st.stop()
wide = breakdowns.team_table_wide(long, KPIS)
st.dataframe(wide, hide_index=True, width="stretch", key="team-table",
             alt=f"Workforce measures by team in {month}",
             column_config={"Area office": st.column_config.TextColumn(width=140),
                            "Team": st.column_config.TextColumn(width=170),
                            **{breakdowns.short_title(k): st.column_config.TextColumn(
                                registry[k].label, width=110, help=f"{registry[k].title}: {registry[k].description}")
                               for k in KPIS}})
if v.is_board:
    st.caption("c: 5 or fewer workers, cases or FTE behind the figure, so it is suppressed.")
ui.download(breakdowns.for_download(long), f"workforce-by-team-{sel.period_to}", key="dl-team-table", v=v,
            label="Download the table (CSV)")

"""Workforce: is the strength sustained — a stable, qualified, supervised workforce — in every
area office and team?"""

import pyarrow as pa
import streamlit as st

from csc import breakdowns, census, kpis, privacy, report, spc, text, ui, viewcache

KPIS = tuple(k.name for section in kpis.on_page("workforce").values() for k in section)  # from the KPIs' headers

v, sel = ui.open_page("workforce", "Workforce")
ver = ui.version()
plan = ui.current_plan(ver)
registry = kpis.registry()
st.caption(f"A stable, appropriately qualified, well-supervised workforce · {text.md(sel.label)}"
           + (" · numbers from 1 to 5 are suppressed (shown as c)" if v.is_board else ""))
if note := viewcache.shared("census-note", (ver, v.is_board),
                            lambda: census.census_note(ui.cursor(), board=v.is_board)):  # which census
    st.caption(note)


def metric(name: str) -> dict:
    """One measure's latest month at a glance (value, change on the month, month, target and RAG
    in words), a tile for `ui.tiles`; shared by every session (`csc.viewcache`)."""
    kpi = registry[name]
    df = ui.series(ver, v.role, name, sel)
    target = plan.target(name)
    if df.empty:
        return dict(label=breakdowns.short_title(name), value="–", help=breakdowns.empty_message(kpi))
    latest = df.iloc[-1]
    if sel.period_to and latest["period"] != sel.period_to:  # never an older month's value as the latest
        return dict(label=breakdowns.short_title(name), value="–", help=f"{kpi.title}. {kpi.description}",
                    note=f"no value for {spc.period_label(sel.period_to)}")
    suppressed = bool(latest.get("suppressed", False))
    previous = df[df["period"] == report.previous_period(latest["period"])]
    delta = good = None
    if not suppressed and len(previous) and previous["value"].notna().iloc[0]:
        change = float(latest["value"]) - float(previous["value"].iloc[0])
        delta = f"{change:+.1f}{' pts' if kpi.unit == 'pct' else kpi.unit_suffix}"
        good = None if round(change, 1) == 0 else (change > 0) == kpi.higher_is_better
    true_latest = ui.series(ver, "director", name, sel).iloc[-1] if v.is_board else latest  # ratings: true figures
    # a month the board may not see is not rated for it: a hidden figure rated against its target is
    # pinned by the rating (docs/decisions.md), as on the Overview and the Action pages
    rating = ("not rated (suppressed to protect small numbers)" if suppressed
              else ui.RAG_WORDS.get(spc.rag(true_latest["value"], target, kpi.direction), "–"))
    return dict(
        label=breakdowns.short_title(name),
        value=privacy.SUPPRESSED if suppressed else kpi.format(latest["value"]).replace(" per FTE", ""),
        delta=delta, delta_good=good,
        help=f"{kpi.title}, {spc.period_label(latest['period'])}. {kpi.description}",
        note=f"{spc.period_label(latest['period'])} · target {kpi.format(target)} · {rating}")


# The latest month at a glance: value, change on the month, RAG in words; one HTML element (five
# st.metric in columns, with their captions, were 16 elements and blocks)
st.html(viewcache.html("workforce-tiles", (ver, v.role, sel), lambda: ui.tiles(
    [viewcache.shared("workforce-metric", (ver, v.role, sel, name), metric, name) for name in KPIS])))

st.subheader("By area office")
behind = {}  # the data behind each chart drawn, by measure: one download (a workbook) for them all
for name in KPIS:
    kpi = registry[name]
    chart, message = ui.area_chart(ver, v.role, name, sel, plan.target(name))
    if chart is None:
        st.markdown(f"**{kpi.title}**")
        st.info(message)
    else:
        ui.chart(chart, f"wf-{name}", v=v, with_download=False)
        if chart.data is not None and not chart.data.empty:
            behind[breakdowns.short_title(name)] = chart.data
if behind:
    ui.download(behind, f"workforce-by-area-{sel.period_from}-{sel.period_to}", key="dl-wf-areas", v=v,
                label="Download the data behind these charts (Excel)", excel=True)

st.subheader("By team")
if not sel.period_to:
    st.info("No months to show yet.")
    st.stop()
month = spc.period_label(sel.period_to)
st.write(f"Each team in {month} (the last month chosen), worked out from the same records as the figures above. "
         "Vacancy uses the team's funded posts; the other measures count the team's own workers.")


def teams():
    # built once per (data version, role, month, areas) by `viewcache.shared` below (a cache of its
    # own, defined in this script, was made again on every run: ~0.3 ms a view)
    long = breakdowns.team_table(ui.cursor(), KPIS, sel.period_to, sel.areas, suppress=v.is_board)
    # the table shown as Arrow: a view does not convert it again
    return long, None if long.empty else pa.Table.from_pandas(breakdowns.team_table_wide(long, KPIS),
                                                                preserve_index=False)


long, wide = viewcache.shared("workforce-teams", (ver, v.role, sel.period_to, sel.areas), teams)
if long.empty:
    st.info(f"No workers or funded posts are recorded for {month}: load an extract with the workforce and "
            "establishment sheets.")
    st.stop()
st.dataframe(wide, hide_index=True, width="stretch", key="team-table",
             alt=f"Workforce measures by team in {month}",
             column_config={"Area office": st.column_config.TextColumn(width=140),
                            "Team": st.column_config.TextColumn(width=170),
                            **{breakdowns.short_title(k): st.column_config.TextColumn(
                                registry[k].label, width=110, help=f"{registry[k].title}: {registry[k].description}")
                               for k in KPIS}})
if v.is_board:
    st.caption("c: suppressed, as 5 or fewer workers, cases or FTE are behind the figure, or as it would let such "
               "a figure be worked out from the others.")
ui.download(lambda: breakdowns.for_download(long), f"workforce-by-team-{sel.period_to}", key="dl-team-table", v=v,
            label="Download the table (CSV)")

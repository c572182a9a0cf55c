"""Practice: referrals, assessments, child protection and transfers — is practice that met
statutory guidance being kept, in every area office?"""

import streamlit as st

from csc import breakdowns, charts, kpis, text, ui, viewcache

v, sel = ui.open_page("practice", "Practice")
ver = ui.version()
plan = ui.current_plan(ver)
registry = kpis.registry()
source = ui.extract_source(ver)
st.caption(text.md(sel.label) + (" · numbers from 1 to 5 are suppressed (shown as c)" if v.is_board else ""))


def kpi_by_area(name: str) -> None:
    """One KPI: all areas beside each area office, or what to do when there is nothing."""
    kpi = registry[name]
    chart, message = ui.area_chart(ver, v.role, name, sel, plan.target(name))
    if chart is None:
        st.markdown(f"**{kpi.title}**")
        st.info(message)
        return
    ui.chart(chart, f"pr-{name}", filename=f"{name}-by-area-{sel.period_from}-{sel.period_to}", v=v)


# The charts below are built once per (data version, role, selection) by `viewcache.shared`: their
# frames are read there (caches of their own, defined in this script, were made again on every run)
def referrals_chart():
    df = breakdowns.referrals_by_month(ui.cursor(), sel.period_from, sel.period_to, sel.areas, suppress=v.is_board)
    if df.empty or df["value"].isna().all():
        return None, df.empty
    fig = charts.line_chart(df, "period", "value", "area", breakdowns.referrals_title(df), unit="", source=source,
                            period=sel.period_to)
    fig.update_yaxes(rangemode="tozero")
    return viewcache.make_chart(breakdowns.fit_figure(fig), breakdowns.for_download(df)), False


def timeliness_chart():
    df = breakdowns.assessment_timeliness(ui.cursor(), sel.period_from, sel.period_to, sel.areas,
                                          suppress=v.is_board)
    if df.empty or df["value"].isna().all():
        return None, df.empty
    fig = charts.line_chart(df, "period", "value", "label", breakdowns.timeliness_title(df),
                            target=plan.target("assessments_timely_pct"), unit="%", source=source, period=sel.period_to)
    breakdowns.hover_counts(fig, df, registry["assessments_timely_pct"], color="label")
    return viewcache.make_chart(breakdowns.fit_figure(fig), breakdowns.for_download(df)), False


def stack(names) -> None:
    for name in names:
        kpi_by_area(name)


# The KPIs of each tab come from their headers (page: practice, section: <tab>); a section no tab
# names gets a tab of its own after these.
sections = {name: [k.name for k in ks] for name, ks in kpis.on_page("practice").items()}
TABS = ["Referrals", "Assessments", "Child protection", "Transfers"]
# Only the open tab's content is drawn and sent (`on_change="rerun"`: choosing a tab runs the page
# again, all of it shared, and draws that tab): a view sends the charts of one tab, not of four.
tabs = st.tabs(TABS + [name for name in sections if name not in TABS], key="practice-tab", on_change="rerun")


def referrals_tab() -> None:
    st.subheader("Referrals")
    chart, empty = viewcache.shared("practice-referrals", (ver, v.role, sel), referrals_chart)
    if chart is None:
        st.markdown("**Referrals received**")
        st.info("No referrals were received in these months." if empty else breakdowns.ALL_SUPPRESSED)
    else:
        ui.chart(chart, "pr-referrals", filename=f"referrals-by-area-{sel.period_from}-{sel.period_to}", v=v)
    stack(sections.get("Referrals", []))


def assessments_tab() -> None:
    st.subheader("Assessments")
    chart, empty = viewcache.shared("practice-timeliness", (ver, v.role, sel), timeliness_chart)
    if chart is None:
        st.markdown("**Assessments completed within timescale, by type**")
        st.info("By type for all area offices together only, for the board: small numbers of chosen offices "
                "could otherwise be worked out." if v.is_board and sel.areas else
                "No assessments were completed in these months." if empty else breakdowns.ALL_SUPPRESSED)
    else:
        ui.chart(chart, "pr-timeliness-by-type", filename=f"assessment-timeliness-by-type-{sel.period_from}-"
                 f"{sel.period_to}", v=v)
        st.caption("Timescales in working days from the start: Initial 7, Core 35, Single 45 "
                   f"(England and Wales bank holidays excluded). {text.md(sel.label)}.")
    stack(sections.get("Assessments", []))


def child_protection_tab() -> None:
    st.subheader("Child protection")
    if inferred := [n for n in sections.get("Child protection", []) if registry[n].reads_inferred]:
        ui.inferred_note(inferred[0])  # once for the tab
    stack(sections.get("Child protection", []))


def transfers_tab() -> None:
    st.subheader("Transfers from intake to the area teams")
    stack(sections.get("Transfers", []))


def section_tab(name: str):
    def draw() -> None:
        st.subheader(name)
        stack(sections[name])
    return draw


drawers = [referrals_tab, assessments_tab, child_protection_tab, transfers_tab] + [
    section_tab(name) for name in sections if name not in TABS]
for tab, draw in zip(tabs, drawers):
    if tab.open:
        with tab:
            draw()

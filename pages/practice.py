"""Practice: referrals, assessments, child protection and transfers — is practice that met
statutory guidance being kept, in every area office?"""

import streamlit as st

from csc import breakdowns, charts, kpis, ui

v, sel = ui.open_page("practice", "Practice")
ver = ui.version()
plan = ui.current_plan(ver)
registry = kpis.registry()
source = breakdowns.extract_source(ui.cursor())
st.caption(f"{sel.label}" + (" · numbers from 1 to 5 are suppressed (shown as c)" if v.is_board else ""))


@st.cache_data(show_spinner=False, max_entries=64)
def referrals(data_version: str, role: str, sel):
    return breakdowns.referrals_by_month(ui.cursor(), sel.period_from, sel.period_to, sel.areas,
                                         suppress=role == "board")


@st.cache_data(show_spinner=False, max_entries=64)
def timeliness(data_version: str, role: str, sel):
    return breakdowns.assessment_timeliness(ui.cursor(), sel.period_from, sel.period_to, sel.areas,
                                            suppress=role == "board")


def kpi_by_area(name: str) -> None:
    """One KPI: all areas beside each area office, or what to do when there is nothing."""
    kpi = registry[name]
    df = ui.by_area(ver, v.role, name, sel)
    fig = breakdowns.area_figure(kpi, df, plan.target(name), source)
    if fig is None:
        st.markdown(f"**{kpi.title}**")
        st.info(breakdowns.empty_message(kpi, df))
        return
    ui.chart(fig, f"pr-{name}", breakdowns.for_download(df), f"{name}-by-area-{sel.period_from}-{sel.period_to}", v)


def stack(names) -> None:
    for name in names:
        kpi_by_area(name)


# The KPIs of each tab come from their headers (page: practice, section: <tab>); a section no tab
# names gets a tab of its own after these.
sections = {name: [k.name for k in ks] for name, ks in kpis.on_page("practice").items()}
TABS = ["Referrals", "Assessments", "Child protection", "Transfers"]
tabs = st.tabs(TABS + [name for name in sections if name not in TABS])
tab_ref, tab_ass, tab_cp, tab_tr = tabs[:4]

with tab_ref:
    st.subheader("Referrals")
    df = referrals(ver, v.role, sel)
    if df.empty or df["value"].isna().all():
        st.markdown("**Referrals received**")
        st.info("No referrals were received in these months." if df.empty else breakdowns.ALL_SUPPRESSED)
    else:
        fig = charts.line_chart(df, "period", "value", "area", breakdowns.referrals_title(df), unit="", source=source)
        fig.update_yaxes(rangemode="tozero")
        ui.chart(breakdowns.fit_figure(fig), "pr-referrals", breakdowns.for_download(df),
                 f"referrals-by-area-{sel.period_from}-{sel.period_to}", v)
    stack(sections.get("Referrals", []))

with tab_ass:
    st.subheader("Assessments")
    df = timeliness(ver, v.role, sel)
    if df.empty or df["value"].isna().all():
        st.markdown("**Assessments completed within timescale, by type**")
        st.info("By type for all area offices together only, for the board: small numbers of chosen offices "
                "could otherwise be worked out." if v.is_board and sel.areas else
                "No assessments were completed in these months." if df.empty else breakdowns.ALL_SUPPRESSED)
    else:
        fig = charts.line_chart(df, "period", "value", "label", breakdowns.timeliness_title(df),
                                target=plan.target("assessments_timely_pct"), unit="%", source=source)
        breakdowns.hover_counts(fig, df, registry["assessments_timely_pct"], color="label")
        ui.chart(breakdowns.fit_figure(fig), "pr-timeliness-by-type", breakdowns.for_download(df),
                 f"assessment-timeliness-by-type-{sel.period_from}-{sel.period_to}", v)
        st.caption("Timescales in working days from the start: Initial 7, Core 35, Single 45 "
                   f"(England and Wales bank holidays excluded). {sel.label}.")
    stack(sections.get("Assessments", []))

with tab_cp:
    st.subheader("Child protection")
    if inferred := [n for n in sections.get("Child protection", []) if registry[n].reads_inferred]:
        ui.inferred_note(inferred[0])  # once for the tab
    stack(sections.get("Child protection", []))

with tab_tr:
    st.subheader("Transfers from intake to the area teams")
    stack(sections.get("Transfers", []))

for tab, name in zip(tabs[4:], [name for name in sections if name not in TABS]):
    with tab:
        st.subheader(name)
        stack(sections[name])

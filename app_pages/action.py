"""Action: one action of the plan in depth — is the change real (SPC), which area office is
behind, will the target be met by the due date, and what the owners say about it."""

from types import SimpleNamespace

import pandas as pd
import streamlit as st

from csc import breakdowns, charts, kpis, pages, report, spc, status, text, ui, verdict, viewcache, wording

v, sel = ui.open_page("action", "Action in depth")
ver = ui.version()
plan = ui.current_plan(ver)
registry = kpis.registry()
ids = [a.id for a in plan.actions]

# The action is kept in the URL (?action=A3): the Overview's buttons and shared links open it.
from_url = st.query_params.get("action")
if from_url in ids and from_url != st.session_state.get("_action_in_url"):
    st.session_state["action_pick"] = from_url
elif st.session_state.get("action_pick") not in ids:
    st.session_state["action_pick"] = st.session_state.get("_action_in_url") if st.session_state.get(
        "_action_in_url") in ids else ids[0]
chosen = st.selectbox("Action", ids, key="action_pick", format_func=lambda i: f"{i} · {plan.action(i).title}")
if st.query_params.get("action") != chosen:
    st.query_params["action"] = chosen
st.session_state["_action_in_url"] = chosen
action = plan.action(chosen)

st.header(f"{action.id} · {text.md(action.title)}")
start_words = spc.period_label(action.start) if action.start else "–"
overview_rows = ui.overview_rows(ver, v.role, sel)
derived = viewcache.shared("action-derived", (ver, v.role, sel, action.id), lambda: status.from_overview(
    overview_rows[overview_rows["action"] == action.id].to_dict("records") if not overview_rows.empty else [],
    action.due_period))
st.markdown(
    f"{wording.chip(derived.status.capitalize(), derived.status, title=derived.reason)} &nbsp;"
    f"Owner: {text.md(action.owner)} · started {start_words} · due {wording.due_words(action.due)} · "
    + status.comparison(action.status, derived, mark=lambda s: f"**{text.md(s)}**")
    + f" · {text.md(sel.label)}" + (" · numbers from 1 to 5 are suppressed (shown as c)" if v.is_board else ""),
    unsafe_allow_html=True,
    help="The first status is worked out from the measures (docs/action-status.md); the owner's is typed on the "
         "Action plan page.",
)
rebase = st.toggle(
    f"Judge the change against the months before the action ({start_words})", value=True, key="rebase",
    disabled=not action.start,
    help="On: the limits come from the months before the action started and are extended forward, so the change "
         "is judged against the old process; they are recalculated from a new level only once 7 steady months show "
         "it (docs/spc.md). Off: one set of limits for every month shown.",
)
source = ui.extract_source(ver)
# What is drawn under each measure's SPC chart: one choice for the page (choosing runs the page
# again and draws that view only): one control instead of a set of tabs a measure, whose blocks
# were sent with every view (issue 17).
VIEWS = ["Area offices", "Funnel plot (latest month)", "Trajectory to the due date"]
view = st.segmented_control("Under each measure's SPC chart", VIEWS, default=VIEWS[0], required=True,
                            key="tab-action")


def measure(name: str, kpi, target):
    """Everything drawn for one measure of this action, built once per (data version, role,
    selection, rebase) for every session (`csc.viewcache`): the verdict, the XmR chart, the area
    offices, the funnel and the trajectory."""
    # a series ending before the month chosen gets an empty month for it (`report.through`): "no value
    # for August 2011", never July's value judged as if it were August's
    df = report.through(ui.series(ver, v.role, name, sel), sel.period_to)
    true_df = report.through(ui.series(ver, "director", name, sel), sel.period_to) if v.is_board else df
    out = SimpleNamespace(df=df, hidden_months="suppressed" in df and bool(df["suppressed"].any()),
                          message=breakdowns.empty_message(kpi, df), assessed=None, xmr=None, areas=None,
                          areas_message=None, funnel=None, why_not=None, trajectory=None,
                          latest_period=df["period"].iloc[-1] if not df.empty else None)
    # the one verdict, from the true figures; for the board in words that name no hidden figure
    out.assessed = (verdict.assess(kpi, true_df, target, action.start, action.due_period, rebase=rebase,
                                   shown=df if v.is_board else None) if not true_df.empty else None)
    # the measure's heading, what it measures (small, grey) and its one verdict: one element, not three;
    # with no figures to show, the board still gets the rating, never the figures
    sentence = (out.assessed.verdict.sentence if out.assessed is not None and (not out.message or v.is_board)
                else None)
    out.heading = (f"### {wording.measure_title(kpi, sel.areas)}\n\n:gray[:small[{text.md(kpi.description)} "
                   f"{'Higher' if kpi.higher_is_better else 'Lower'} is better.]]"
                   + (f"\n\n**{sentence}**" if sentence else ""))
    if out.message:
        return out
    result, traj, vd = out.assessed.result, out.assessed.trajectory, out.assessed.verdict
    periods, values = list(df["period"]), list(df["value"])
    fig = charts.xmr_chart(periods, values, result, vd.headline, target=target, unit=kpi.unit_suffix, source=source,
                           due_period=action.due_period, verdict=vd, small_base=verdict.small_base_flags(kpi, df))
    out.xmr = viewcache.make_chart(breakdowns.fit_figure(fig), breakdowns.xmr_table(df, result, kpi.improvement))
    if not kpi.all_areas_only:
        areas_df = ui.by_area(ver, v.role, name, sel)
        has_funnel = kpi.is_count_proportion and not v.is_board  # the view "Funnel plot" is offered (below)
        out.areas = viewcache.make_chart(breakdowns.area_figure(kpi, areas_df, target, source, period=sel.period_to,
                                                                funnel=has_funnel),
                                         breakdowns.for_download(areas_df))
        out.areas_message = None if out.areas else breakdowns.empty_message(kpi, areas_df)
        if has_funnel:
            funnel, points, out.why_not = breakdowns.funnel_figure(kpi, areas_df, df["period"].iloc[-1], source)
            out.funnel = viewcache.make_chart(funnel, points)
    if traj is not None and not out.hidden_months:
        fig = charts.trajectory_chart(periods, values, traj, breakdowns.trajectory_title(kpi, traj, sel.period_to),
                                      unit=kpi.unit_suffix, source=source)
        out.trajectory = viewcache.make_chart(breakdowns.fit_figure(fig), breakdowns.for_download(df))
    # the data behind the measure's charts, whichever view is open, by sheet of the action's download
    out.behind = [(sheet, c.data) for sheet, c in (("Monthly figures and SPC", out.xmr), ("Area offices", out.areas),
                                                   ("Funnel plot", out.funnel))
                  if c is not None and c.data is not None and not c.data.empty]
    return out


behind: dict[str, list[tuple]] = {}  # the data behind the charts drawn, by kind of chart: (kpi, title, data)
for name in action.kpis:
    kpi = registry.get(name)
    if kpi is None:
        continue
    target = action.target(name)
    m = viewcache.shared("action-measure", (ver, v.role, sel, action.id, name, rebase), measure, name, kpi, target)
    df, hidden_months, message, assessed = m.df, m.hidden_months, m.message, m.assessed
    st.markdown(m.heading)
    ui.inferred_note(name)
    if message:
        st.info(message)
        continue

    traj, vd = assessed.trajectory, assessed.verdict
    if hidden_months:
        st.caption("Some months are suppressed to protect small numbers (c): the chart shows the published months with gaps, "
                   "without the mean, limits or any rating of change, assurance or trend, which would give the hidden "
                   "months away. Choose months without them to see those.")
    latest_period = m.latest_period  # (read once per measure: pandas' indexing cost ~0.3 ms a view)
    if vd.rag == "red" and latest_period not in action.commentary:
        # (the board has no Action plan page: it is not sent to one)
        st.warning(f"Red in {spc.period_label(latest_period)}, and no commentary yet: the owner is asked what we "
                   "did, what changed and what next" + (" (on the Action plan page)." if v.may(pages.get("plan")) else "."))

    ui.chart(m.xmr, f"xmr-{name}", v=v, with_download=False)
    if view == VIEWS[0]:
        if kpi.all_areas_only:
            st.caption("Measured for all areas together only, so there is no comparison of area offices.")
        elif m.areas is None:
            st.info(m.areas_message)
        else:
            ui.chart(m.areas, f"areas-{name}", v=v, with_download=False)
    elif view == VIEWS[1]:
        if kpi.all_areas_only:
            st.caption("Measured for all areas together only, so there is no comparison of area offices.")
        elif not kpi.is_count_proportion:
            st.caption("No funnel plot: this measure is not a share of counted cases, and funnel plots compare "
                       "proportions of cases.")
        elif v.is_board:
            st.caption(breakdowns.BOARD_NO_FUNNEL)
        elif m.funnel is None:
            st.caption(m.why_not)
        else:
            st.caption("Each area office's rate against its number of cases: an office outside the funnel "
                       "differs from all areas together by more than chance would explain.")
            ui.chart(m.funnel, f"funnel-{name}", v=v, with_download=False)
    elif traj is None:
        st.caption("An ongoing action has no due date, so there is no trajectory to one.")
    elif hidden_months:
        # the verdict's word, not the trajectory's own: the board gets no projection of a series with a
        # hidden month (fitted through it, its words changed with it: a red-team review), only a met or
        # missed target past the due month judged on a month it sees (`verdict.assess`)
        said = (wording.trajectory_label(vd.trajectory, traj.latest_period, action.due_period) if vd.trajectory
                else "not said")
        st.caption(f"Will it be met by the due date? {said}. Neither the trend line nor its projection is given: some "
                   "months are suppressed to protect small numbers, and they would give them back.")
    else:
        st.caption(traj.sentence)
        ui.chart(m.trajectory, f"trajectory-{name}", v=v, with_download=False)
    # the data behind the measure's charts, whichever view is open: one download for the action, below
    for sheet, data in m.behind:
        behind.setdefault(sheet, []).append((name, kpi.title, data))


def behind_sheets() -> dict[str, pd.DataFrame]:
    """A sheet a kind of chart, every measure's rows in it, its id and title first (made on the press)."""
    return {sheet: pd.concat([df.assign(kpi=name, measure=title) for name, title, df in parts], ignore_index=True)
            .pipe(lambda df: df[["kpi", "measure", *[c for c in df.columns if c not in ("kpi", "measure")]]])
            for sheet, parts in behind.items()}


if behind:
    ui.download(behind_sheets, f"action-{action.id}-{sel.period_from}-{sel.period_to}", key="dl-action", v=v,
                label="Download the data behind this action's charts (Excel)", excel=True)

st.subheader("Commentary")
notes = {p: c for p, c in action.commentary.items()
         if (not sel.period_from or p >= sel.period_from) and (not sel.period_to or p <= sel.period_to)}
if not notes:
    st.info("No commentary for these months yet. Directors and analysts add it on the Action plan page.")
for period in sorted(notes, reverse=True):
    note = notes[period]
    st.markdown(
        f"**{spc.period_label(period)}** — *What we did:* {text.md(note.get('did')) or '–'} · "
        f"*What changed:* {text.md(note.get('changed')) or '–'} · *What next:* {text.md(note.get('next')) or '–'}"
    )

if not v.is_board:
    # drawn only when opened (on_change="rerun"): its three choices and the toggle are not sent
    # with every view of the page
    records_box = st.expander("Records behind this figure", key="records-box", on_change="rerun")
    with records_box:
        if records_box.open:
            st.write("The records that make up one month's figure: each row is one record, with what it adds to the "
                     "numerator and the denominator. Child ids are pseudonymised.")
            names = [k for k in action.kpis if k in registry]
            all_periods = ui.filter_options(ver)[1]
            months = [p for p in all_periods if (not sel.period_from or p >= sel.period_from)
                      and (not sel.period_to or p <= sel.period_to)] or all_periods
            everywhere = "All areas" if not sel.areas else "All chosen area offices"
            area_options = [everywhere, *(sel.areas or ui.filter_options(ver)[0])]
            c1, c2, c3 = st.columns(3)
            rec_kpi = c1.selectbox("Measure", names, format_func=lambda k: registry[k].title, key="rec_kpi")
            rec_month = c2.selectbox("Month", list(reversed(months)), key="rec_month")
            rec_area = c3.selectbox("Area office", area_options, key="rec_area")
            if st.toggle("Show the records", key="rec_show"):
                ui.log_view(v, f"records {rec_kpi} {rec_month} {rec_area}")

                def records_behind() -> pd.DataFrame:
                    records = kpis.records(ui.cursor(), registry[rec_kpi], rec_month,
                                           None if rec_area == everywhere else rec_area)
                    return records[records["area"].isin(sel.areas)] if sel.areas and rec_area == everywhere else records

                records = viewcache.shared("action-records", (ver, v.role, sel.areas, rec_kpi, rec_month, rec_area),
                                           records_behind)
                if records.empty:
                    st.info(f"No records behind {registry[rec_kpi].title} in {spc.period_label(rec_month)} for {text.md(rec_area)}.")
                else:
                    st.caption(f"{len(records):,} records; numerator {records['numerator'].sum():,.1f}, "
                               f"denominator {records['denominator'].sum():,.1f}.")
                    st.dataframe(records, hide_index=True, width="stretch", key="records-table",
                                 column_config=ui.fitted_columns(records))
                    ui.download(records, f"records-{rec_kpi}-{rec_month}-{rec_area}", key="dl-records", v=v,
                                label="Download these records (CSV)")

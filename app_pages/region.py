"""Region: the councils of a region side by side, from pooled KPI results computed on Spark
(`python -m csc spark-kpis`), read only. Registered only when $CSC_REGION_DIR names the folder."""

import streamlit as st

from csc import breakdowns, config, kpis, region, spc, ui, viewcache

v = ui.require("region")
st.title("Region: councils compared")
folder = config.region_dir()
ui.log_view(v, "region")
if folder is None or not region.results_files(folder):
    st.info(f"No pooled KPI results in {folder or '$CSC_REGION_DIR (not set)'}: run `python -m csc spark-kpis "
            "PARQUET_DIR OUT_DIR` over the councils' exports and set CSC_REGION_DIR to OUT_DIR.")
    st.stop()


@st.cache_data(show_spinner=False, max_entries=8)
def pooled(path: str, stamp: str):
    return region.load(path)


stamp = region.stamp(folder)
df = pooled(str(folder), stamp)
all_councils, months = region.councils(df), region.periods(df)
st.caption(f"{len(all_councils)} councils' figures for all their area offices together, read only, from {folder}"
           + (" · numbers from 1 to 5 are suppressed (shown as c)" if v.is_board else ""))
registry = kpis.registry()
names = [n for n in registry if n in set(df["kpi"])]
name = st.selectbox("Measure", names, format_func=lambda n: registry[n].title, key="region_kpi")
chosen = st.multiselect("Councils", all_councils, default=all_councils, key="region_councils")
sel = st.session_state.get("_selection")  # the sidebar's months, where the pooled results have them
rng = region.default_months(months, sel.period_from if sel else None, sel.period_to if sel else None)
if len(months) >= 2:
    # the sidebar's months to begin with, and again whenever the sidebar's change: a slider keyed
    # once would keep its own choice (the browser sends it back) while the other pages moved on
    rng = st.select_slider("Months", options=months, value=rng, key=f"region_months {rng[0]} {rng[1]}",
                           help="The sidebar's months to begin with, and again when they change")
kpi = registry[name]
source = f"pooled KPI results of {len(chosen)} councils"
# once for every view of these files, data version, role and choices (issue 17): the board's own
# council's denied months are read from the stored decision, which only an import moves
key = (str(folder), stamp, ui.version(), config.council() if v.is_board else None, v.is_board, name, tuple(chosen),
       tuple(rng))
if v.is_board and (undecided := viewcache.shared("region-undecided", key, lambda: region.undecided(df, kpi, chosen, *rng))):
    st.warning(f"Some figures of {', '.join(undecided)} for this measure are not shown to the board: it is not known "
               "whether their own dashboards show them to their boards. Their results were pooled from an export "
               "that does not say, or that holds other figures for those months (an older version, or an export "
               "not finished). Pooling their latest exports again (`python -m csc export-parquet`, then "
               "`python -m csc spark-kpis`) shows them.")
data = viewcache.shared("region-series", key, lambda: region.series(
    df, kpi, chosen, rng[0], rng[1], suppress=v.is_board,
    denied=region.own_denied(ui.cursor(), kpi) if v.is_board else None))
trend = viewcache.chart("region-trend", key, lambda: (region.trend_figure(kpi, data, source, rng[1]),
                                                       breakdowns.for_download(data)))

if trend is None:
    st.info("No figures for these councils and months.")
else:
    ui.chart(trend, f"region-trend-{name}", filename=f"{name}-region-{rng[0]}-{rng[1]}", v=v)

st.subheader("Funnel plot")
if not kpi.is_count_proportion:
    st.caption("No funnel plot: this measure is not a share of counted cases, and funnel plots compare proportions "
               "of cases.")
elif trend is not None:
    def funnel_chart():
        latest = data[data["value"].notna() | data.get("suppressed", False)]["period"].max()
        funnel, points, why_not = region.funnel_figure(kpi, data, latest, source)
        return latest, viewcache.make_chart(funnel, points), why_not

    latest, funnel, why_not = viewcache.shared("region-funnel", key, funnel_chart)
    if funnel is None:
        st.caption(why_not)
    else:
        st.caption(f"Each council's rate in {spc.period_label(latest)} against its number of cases: a council outside "
                   "the funnel differs from the councils together by more than chance would explain.")
        ui.chart(funnel, f"region-funnel-{name}", filename=f"{name}-region-funnel-{latest}", v=v)

"""Overview: the action plan at a glance — are we on track?

At the top, one row per action (its status worked out from the figures beside the owner's, how
many measures are green, amber and red, the one most off target, the due date), each a link to
the action in depth; below, each action's measures: a table at laptop width, a card per measure
on a phone."""

import html

import pandas as pd
import streamlit as st

from csc import boardpack, breakdowns, charts, kpis, months, report, revisions, spc, status, text, ui, verdict, viewcache, wording
from csc import plan as action_plan

v, sel = ui.open_page("overview", "Are we on track?")
ver = ui.version()
plan = ui.current_plan(ver)
df = ui.overview_rows(ver, v.role, sel)
heading = (f"{text.md(plan.title)} · {text.md(sel.label)} · latest month "
           f"{spc.period_label(sel.period_to) if sel.period_to else '–'}"
           + (" · numbers from 1 to 5 are suppressed (shown as c)" if v.is_board else ""))

# (worked out once per selection: pandas' own overhead made this check ~0.4 ms a view)
if viewcache.shared("overview-nothing", (ver, v.role, sel),
                    lambda: bool(df.empty or df["value"].isna().all() and not df["suppressed"].any())):
    st.caption(heading)
    st.info("No KPI values for this selection yet. Widen the months or choose other area offices.")
    st.stop()

registry = kpis.registry()


def revised_figures(data_version: str, role: str, sel) -> tuple[str, pd.DataFrame]:
    """The data version, and the figures of this page's months revised since first shown."""
    cur = ui.cursor()
    if not sel.period_to:
        return revisions.version_words(cur), pd.DataFrame()
    return revisions.version_words(cur), revisions.for_report(cur, list(registry), sel.period_to, sel.areas,
                                                              suppress=role == "board")


version_words, revised = viewcache.shared("overview-revised", (ver, v.role, sel), revised_figures, ver, v.role, sel)
st.caption(f"{heading}  \n{version_words}")  # one element, two lines
revised_keys = viewcache.shared("overview-revised-keys", (ver, v.role, sel), lambda: {
    (r["kpi"], r["period"]): r for r in revised.to_dict("records") if r["area"] == "All areas" or not sel.areas})


def fmt(row, col):
    value = row[col]
    if row.get("no_value") and col == "value":  # never an older month's value as the latest
        return f"no value for {spc.period_label(row['period'])}"
    if row.get("too_small") and col == "value":
        return "c (suppressed to protect small numbers)" + _revised(row, col)
    if row.get("suppressed") and col == "value":
        return "c" + _revised(row, col)
    if value is None or pd.isna(value):
        return "–"
    small = " (small base)" if col == "value" and row.get("small_base") else ""
    # never "95.0% against 95.0%" (`Kpi.format_against`), but the board's rates as published: to one place
    target = row.get("target") if col == "value" and v.role in ("director", "analyst") else None
    shown = registry[row["kpi"]].format_against(value, None if target is None or pd.isna(target) else target)
    return shown + small + _earlier(row, col) + _revised(row, col)


def target_text(row) -> str:
    """The measure's target, in its unit: the plan's figure, never marked as the latest figure is
    (with its month, a small base, a revision, or c)."""
    target = row["target"]
    return "–" if target is None or pd.isna(target) else registry[row["kpi"]].format(target)


def _earlier(row, col) -> str:
    """A latest figure from before the last month shown says its month (e.g. no child_seen this month)."""
    month = row.get("period") if col == "value" else None
    return f" ({spc.period_label(month)})" if isinstance(month, str) and sel.period_to and month != sel.period_to else ""


def _revised(row, col) -> str:
    rev = revised_keys.get((row["kpi"], row.get("period"))) if col == "value" else None
    return f" (revised: was {rev['was'] or '–'})" if rev else ""


def change(row, col):
    return wording.change_words(row[col], row["unit"], registry[row["kpi"]].unit_suffix)


def measure_verdict(row) -> str:
    """The card's one line: the one verdict (`csc.verdict`), as the table and the Action page say it."""
    return row.get("verdict") if isinstance(row.get("verdict"), str) else "No value yet"


parts = viewcache.shared("overview-parts", (ver, v.role, sel), lambda: {a.id: df[df["action"] == a.id]
                                                                         for a in plan.actions})


def measure_name(row) -> str:
    """The measure's name (`wording.measure_title`: with offices chosen, an all-areas measure says so)."""
    kpi = registry.get(row["kpi"])
    return wording.measure_title(kpi, sel.areas) if kpi else row["title"]


def worst_words(part: pd.DataFrame, d) -> str:
    """The measure most off target, its latest figure and its target (HTML, every part escaped)."""
    w = part[part["title"] == d.worst].iloc[0].to_dict()
    return (f"Most off target: <b>{html.escape(measure_name(w))}</b>, {html.escape(fmt(w, 'value'))} against "
            f"{html.escape(target_text(w))}")


derived = viewcache.shared("overview-derived", (ver, v.role, sel), lambda: {
    a.id: status.from_overview(parts[a.id].to_dict("records"), a.due_period) for a in plan.actions})

# --- the five-second summary: one row per action, and the page's four counts -----------------
# One HTML element for all of it (Streamlit spends ~0.16 ms of server CPU on every element and
# layout block a view sends; the rows as bordered rows of five columns were ~60 of them). Every
# piece of user text in it is HTML-escaped; each row links to its action with this view's
# selection (`ui.page_href`); at phone width each row becomes a card (RESPONSIVE_CSS).


def summary_html(link_query: str) -> str:
    rows = []
    for action in plan.actions:
        part = parts[action.id]
        if part.empty:
            continue
        d = derived[action.id]
        owner = (f'<div class="csc-sum-owner">owner says {html.escape(action.status)}</div>'
                 if status.differs(action.status, d) else "")
        counts = " ".join(wording.chip(f"{d.counts[k]} {k}", k) for k in ("green", "amber", "red") if d.counts[k])
        if d.worst:
            worst = worst_words(part, d)
        else:
            missing = status.unrated(part.to_dict("records"))
            worst = ("–" if not d.counts["green"] else "Every measure meets its target" if not missing
                     else f"Every measure with a rating meets its target; {html.escape(missing)}")
        due = "Ongoing" if not action.due_period else f"Due {wording.due_words(action.due, short=True)}"
        tip = html.escape(f"Open {action.id} in depth. {d.reason.capitalize()}.")
        rows.append(
            f'<div class="csc-sum-row csc-summary-{ui.css_name(action.id)}">'
            f'<div class="csc-sum-status">{wording.chip(d.status.capitalize(), d.status, title=d.reason)}{owner}</div>'
            f'<div class="csc-sum-action"><a href="{html.escape(ui.page_href("action", link_query, action=action.id))}" '
            f'target="_self" title="{tip}"><b>{html.escape(action.id)}</b> · {html.escape(action.title)}</a></div>'
            f'<div class="csc-sum-rag">{counts or "no ratings"}</div>'
            f'<div class="csc-sum-worst">{worst}</div>'
            f'<div class="csc-sum-due">{html.escape(due)}</div>'
            "</div>")
    greens = int((df["rag"] == "green").sum())
    rated = int(df["rag"].isin(["green", "amber", "red"]).sum())
    not_rated = status.unrated(df.to_dict("records"))
    reds = int((df["rag"] == "red").sum())
    improving = int(df["improved"].fillna(False).astype(bool).sum())  # as the verdicts say it (`Verdict.improved`)
    # the SPC column shows this month's signal only; the count is what the verdicts say (a review
    # read 12 here against 4 "Improving" in the column): the tile says which
    improving_help = ("Measures whose verdict says \"a real improvement\": a signal this month, or a new level "
                      "held since the action started (the SPC column shows this month's signal only).")
    tiles = ui.tiles([{"label": label, "value": value, **({"help": tip, "note": note} if tip else {})}
                      for label, value, tip, note in (
        ("Measures meeting target", f"{greens} of {rated}" if rated else "–", *(
            (f"Of the measures with a RAG rating (a value and a target); {not_rated}.", status.no_rating(len(df) - rated))
            if not_rated else (None, None))), ("Measures red", reds, None, None),
        ("Showing real improvement (SPC)", improving, improving_help, "this month or since the action"),
        ("Actions", len(plan.actions), None, None))])
    return f'<h3 class="csc-h">Each action at a glance</h3><div class="csc-summary">{"".join(rows)}</div>{tiles}'



link_query = ui.link_query()
st.html(viewcache.html("overview-summary", (ver, v.role, sel, link_query), summary_html, link_query))

#: The measures table's columns: (heading, what it says when hovered).
COLUMNS = (
    ("Measure", "The measure (KPI)"),
    ("Latest", "The latest month's value"),
    ("Target", "The target set in the action plan"),
    ("RAG", "Green: meets the target; amber: misses it by no more than 10%; red: misses by more"),
    ("Trend", "The last 12 months; a gap is a month with no value or suppressed"),
    ("By due", "Will the target be met by the due date, on the trend since the action started? From the due "
               "month on: whether the month named met it"),
    ("Δ month", "Change since last month (pts: percentage points)"),
    ("Δ start", "Change since the action started"),
    ("SPC", "Variation (is the change real?) · assurance (will the target be met reliably?), "
            "Making Data Count's icons in words"),
)


PER_FTE = " per FTE"  # said once, in the measure's name, not in every narrow cell


def spc_words(row) -> str:
    variation = wording.variation_short(row["variation"], registry[row["kpi"]].improvement)
    assurance = wording.assurance_short(row["assurance"])
    return variation if assurance == "–" else f"{variation} · {assurance}"


def card(row) -> str:
    """A phone-width card for one measure: name, latest, target, RAG and a one-line verdict."""
    rag = wording.rag_word(row["rag"])
    return (
        '<div class="csc-card">'
        f'<div class="csc-card-name">{html.escape(measure_name(row))}</div>'
        f'<div class="csc-card-figures">Latest <b>{html.escape(fmt(row, "value"))}</b> · target '
        f'{html.escape(target_text(row))} '
        f'{wording.chip(rag, row["rag"]) if rag != "–" else ""}</div>'
        f'<div class="csc-card-verdict">{html.escape(measure_verdict(row))}</div>'
        "</div>"
    )


def measure_row(r: dict) -> str:
    """One measure's row of the laptop table (HTML, every cell escaped; the RAG a chip with its word)."""
    rag = wording.rag_word(r["rag"])
    trajectory = wording.trajectory_label(r["trajectory"], r.get("period"), short=True) or "–"
    cells = [
        ("name", html.escape(measure_name(r))),
        ("latest", html.escape(fmt(r, "value").replace(PER_FTE, ""))),
        ("target", html.escape(target_text(r).replace(PER_FTE, ""))),
        ("rag", wording.chip(rag, r["rag"] if isinstance(r["rag"], str) else None)),
        ("trend", f'<img src="{charts.sparkline_svg(r["sparkline"])}" width="80" height="24" '
                  'alt="The last 12 months as a line; a gap is a month with no value or suppressed">'),
        ("due", html.escape(trajectory)),
        ("month", html.escape(change(r, "change_month").replace(PER_FTE, ""))),
        ("start", html.escape(change(r, "change_since_start").replace(PER_FTE, ""))),
        ("spc", html.escape(spc_words(r))),
    ]
    return "<tr>" + "".join(f'<td class="csc-m-{name}">{cell}</td>' for name, cell in cells) + "</tr>"


def action_html(action, part: pd.DataFrame, link_query: str) -> str:
    """All of one action's measures in one HTML block (`.csc-action`): its heading and status line
    with the link to it in depth, the laptop table and the verdicts under it, and the phone's card
    per measure (RESPONSIVE_CSS shows one or the other). Every piece of user text is escaped."""
    d = derived[action.id]
    owner_words = status.comparison(action.status, d, mark=lambda s: f"<b>{html.escape(s)}</b>", esc=html.escape)
    href = html.escape(ui.page_href("action", link_query, action=action.id))
    records = part.to_dict("records")
    head = "".join(f'<th title="{html.escape(tip)}">{html.escape(name)}</th>' for name, tip in COLUMNS)
    bullets = "".join(f"<li><b>{html.escape(r['title'])}:</b> {html.escape(measure_verdict(r))}</li>"
                      for r in records)
    return (
        '<div class="csc-action">'
        f'<h3 class="csc-h csc-action-h">{html.escape(action.id)} · {html.escape(action.title)}</h3>'
        f'<p>{wording.chip(d.status.capitalize(), d.status)} &nbsp;Owner: {html.escape(action.owner)} · due '
        f'{html.escape(wording.due_words(action.due))} · {owner_words} · '
        f'<a href="{href}" target="_self" class="csc-open-{ui.css_name(action.id)}">Open {html.escape(action.id)} '
        "in depth</a></p>"
        f'<div class="csc-wide"><table class="csc-measures" '
        f'aria-label="Measures of action {html.escape(action.id)} with latest value, target and ratings">'
        f'<thead><tr>{head}</tr></thead><tbody>{"".join(measure_row(r) for r in records)}</tbody></table>'
        f'<ul class="csc-verdicts">{bullets}</ul></div>'
        f'<div class="csc-narrow">{"".join(card(r) for r in records)}</div>'
        "</div>"
    )


def actions_html(actions: list, link_query: str) -> str:
    """Actions drawn one after another, one HTML element for them all (spaced as separate elements
    were: RESPONSIVE_CSS, .csc-action), built once per (data version, role, selection) for every
    session."""
    return "".join(action_html(action, parts[action.id], link_query) for action in actions)


def xmr(action, name: str):
    """One measure's XmR chart with the data behind it (None: no figures), shared by every session."""
    kpi = registry.get(name)
    series = ui.series(ver, v.role, name, sel) if kpi else None
    if series is None or series["value"].dropna().empty:
        return None
    target = action.target(name)
    # a series ending before the month chosen is judged "no value for" it, as the row above says
    series = report.through(series, sel.period_to)
    true_series = report.through(ui.series(ver, "director", name, sel), sel.period_to) if v.is_board else series
    assessed = verdict.assess(kpi, true_series, target, action.start, action.due_period,
                              shown=series if v.is_board else None)
    result, vd = assessed.result, assessed.verdict
    fig = charts.xmr_chart(list(series["period"]), list(series["value"]), result, vd.headline,
                           target=target, unit=kpi.unit_suffix, source=ui.extract_source(ver),
                           due_period=action.due_period, verdict=vd,
                           small_base=verdict.small_base_flags(kpi, series))
    return viewcache.make_chart(fig, breakdowns.xmr_table(series, result, kpi.improvement))


# Each action's measures: an HTML block (its heading with the link to it, its table at laptop
# width with the verdicts under it, its cards at phone width), and under it its SPC charts when
# chosen above the list: one control for every action (a toggle under each was 7 widgets a view).
# The actions between two sets of open charts are one element (an element costs ~0.2 ms of
# server CPU a view: one an action was 7).
# (Its table was an st.dataframe: with the containers, columns and captions around it, ~20
# elements an action, and a dataframe's column configuration costs ~0.5 ms a view.)
with_measures = [a.id for a in plan.actions if not parts[a.id].empty]
spc_for = st.pills("Show the SPC charts under", with_measures, selection_mode="multi", key="spc-actions",
                   help="XmR charts: is the change real or noise? Limits from the months before the action, "
                        "recalculated once a new level has held for 7 months.") if with_measures else []


def draw_actions(actions: list) -> None:
    if actions:
        st.html(viewcache.html("overview-actions", (ver, v.role, sel, tuple(a.id for a in actions), link_query),
                               actions_html, actions, link_query))


drawn: list = []  # actions not yet sent, drawn together before the next open charts
for action in plan.actions:
    if parts[action.id].empty:
        continue
    drawn.append(action)
    if action.id in spc_for:
        draw_actions(drawn)
        drawn = []
        for name in action.kpis:
            chart = viewcache.shared("overview-xmr", (ver, v.role, sel, action.id, name), xmr, action, name)
            if chart is not None:
                ui.chart(chart, f"overview-xmr-{name}", filename=f"{name}-xmr-{sel.period_from}-{sel.period_to}",
                         v=v)
draw_actions(drawn)


def download():
    # the months of `previous` and `at_start` named beside them (a review could not tell which they were)
    starts = {a.id: months.previous_period(a.start) if a.start else None for a in plan.actions}
    out = df.drop(columns=["sparkline"]).assign(
        derived_status=df["action"].map(lambda a: derived[a].status),
        derived_status_reason=df["action"].map(lambda a: derived[a].reason),
    )
    if "previous" in out:
        out.insert(out.columns.get_loc("previous") + 1, "previous_period",
                   df["period"].map(lambda p: months.previous_period(p) if isinstance(p, str) else None))
    if "at_start" in out:
        out.insert(out.columns.get_loc("at_start") + 1, "at_start_period", df["action"].map(starts))
    return wording.with_labels(out)


ui.download(download, f"overview-{sel.period_to}", key="dl-overview", v=v,
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
    f"Every action and measure for {spc.period_label(pack_period) if pack_period else '–'} ({text.md(sel.label)}): "
    "summary with RAG and SPC in words, the monthly figures and a chart per measure, the commentary and notes. "
    + ("Small numbers are suppressed (shown as c), as on this page." if pack_role == "board"
       else f"Not suppressed ({ui.ROLE_LABELS.get(pack_role, pack_role)} version): a board member's pack shows c "
            "for small numbers.")
    + " The file is made when you press a button."
)
if pack_period:
    pack_store = ui.store()  # captured: the file is made on another thread, on the press
    pack_args = (pack_period, pack_areas, pack_role)  # bound now: this run's selection and role
    pack_from = sel.period_from  # and its months: the pack's verdicts are this page's

    def _pack(build, store=pack_store, args=pack_args, period_from=pack_from):
        """The pack of the figures and the plan (targets, owners, commentary) as they stand when
        the button is pressed, read in one transaction: never a plan of one moment beside the
        figures of another."""
        cur = store.cursor()
        cur.execute("begin transaction")
        try:
            return build(cur, action_plan.current(cur), *args, period_from=period_from)
        finally:
            cur.execute("rollback")
            cur.close()

    def pack_detail(fmt: str) -> dict:  # what the audit log says was taken
        return {"what": "board pack", "format": fmt, "period": pack_period, "areas": pack_areas,
                "suppressed": pack_role == "board"}

    def _pack_excel() -> bytes:
        return _pack(boardpack.build_excel)

    def _pack_html() -> str:
        return _pack(boardpack.build_html)

    row = st.container(horizontal=True)  # one layout block (two columns were three)
    ui.download_file("Board pack (Excel)", _pack_excel, boardpack.file_name(pack_period, pack_areas, pack_role, ".xlsx"),
                     "dl-boardpack-xlsx", v, pack_detail("xlsx"), mime=boardpack.XLSX_MIME, where=row)
    ui.download_file("Board pack (HTML, prints to PDF)", _pack_html,
                     boardpack.file_name(pack_period, pack_areas, pack_role, ".html"), "dl-boardpack-html", v,
                     pack_detail("html"), mime="text/html", where=row)

"""Streamlit glue shared by every page: the store, sign-in, the sidebar filters kept in the URL,
cached reads keyed by data version, filters and role, and small drawing helpers. Only this
module, dashboard.py and `app_pages/` import streamlit (the pages and who may use them are data,
in csc.pages and csc.access)."""

from __future__ import annotations

import copy
import html
import os
import re
import threading
from collections.abc import Callable
from urllib.parse import urlencode

import pandas as pd
import pyarrow as pa
import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from csc import access, breakdowns, config, exports, kpis, pages, plan, quality, report, spc, text, viewcache, wording
from csc.access import ROLE_LABELS, ROLES, STABLE_CLAIMS, Viewer, identity
from csc.store import Store

EMPTY_DATA = "No extract loaded yet — upload one on the Upload page (analysts), or run `python -m csc demo` for the demo council."


# --- the store -------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def get_store(path: str) -> Store:
    """One DuckDB connection for the whole server: this process is the only writer."""
    return Store.open(path)


def store() -> Store:
    # a dictionary first, by $CSC_DB as set (a page asks ~15 times a view: a hit through
    # st.cache_resource costs ~70 µs, making the path a few more)
    found = _STORES.get(os.environ.get("CSC_DB"))
    if found is None:
        found = _STORES[os.environ.get("CSC_DB")] = get_store(str(config.db_path()))
    return found


_STORES: dict[str | None, Store] = {}


def cursor():
    """A cursor for this script run: readers never block the writer and see committed data.

    In a run begun by `begin_run`, one cursor for the whole run, in a read transaction begun the
    first time it is asked for (a run whose figures are all shared asks for none), holding the
    data of the run's data version (`version`): whatever a run builds and shares under that
    version is that version's data, though an import commits while it builds (DuckDB keeps the
    transaction's snapshot), so no session is handed figures of two versions side by side. If the
    data moved between the run's start and that first read, the run starts again; after a write in
    the run, a new transaction sees it. Closed at the run's end (`end_run`)."""
    s = store()
    token = _run_token()
    if token is None:
        return s.cursor()
    held = getattr(_run, "cursor", None)
    if held is not None and held[0] is token and held[1] is s and held[2] == s.writes_here():
        return held[3]
    _close_run_cursor()
    cur = s.cursor()
    cur.execute("begin transaction")
    if _version_of(s, s.version_seen_by(cur)) != version():
        cur.execute("rollback")
        cur.close()
        st.rerun()  # an import committed (or the plan file changed) since the run read its version: start again
        return s.cursor()  # (st.rerun returns only outside Streamlit's script runner)
    _run.cursor = (token, s, s.writes_here(), cur)
    return cur


def end_run() -> None:
    """Called last by every run of dashboard.py, whatever ends it: the run's read transaction
    (`cursor`) is closed."""
    _close_run_cursor()


def _close_run_cursor() -> None:
    held = getattr(_run, "cursor", None)
    _run.cursor = None
    if held is not None:
        try:
            held[3].execute("rollback")  # it only read
            held[3].close()
        except Exception:  # noqa: BLE001 - a connection already closed (the store was): nothing to end
            pass


def version() -> str:
    """The data version every cache keys on: changes with each import, rollback, refresh, plan
    change and team mapping (`Store.data_version`), and with the plan file (`plan.file_stamp`: the
    plan as Cabinet agreed it, under the changes kept in the database), and names the database, so
    that two databases in one process (the tests) never share a cached result.

    Read once per script run (`begin_run`), and again in the same run after a write the run made
    itself (`Store.writes_here`), so that a page that changes the data sees it; another session's
    import does not move a run's version in the middle of it (`cursor`)."""
    s = store()
    token = _run_token()
    if token is not None:
        memo = getattr(_run, "version", None)
        if memo is not None and memo[0] is token and memo[1] is s and memo[2] == s.writes_here():
            return memo[3]
    value = _version_of(s, s.data_version())
    if token is not None:
        _run.version = (token, s, s.writes_here(), value)
    return value


def _version_of(s: Store, n: int) -> str:
    return f"{s.path}@{n}#{plan.file_stamp()}"


# --- one script run ------------------------------------------------------------------------

_run = threading.local()  # the script run on this thread: its context, a token, what it read once


def begin_run() -> None:
    """Called first by every run of dashboard.py: what a run needs once (the data version) is read
    once in it, not on every call, and the KPI definitions' files once per data version. Outside
    a run begun here (a page script run on its own by the tests) everything is read on every call."""
    _run.ctx = get_script_run_ctx(suppress_warning=True)
    _run.token = object()
    _run.version = None
    kpis.files_key = _run_version


def _run_version() -> str | None:
    """The data version, in a run begun by `begin_run` (what the KPI files are read against)."""
    return version() if _run_token() is not None else None


def _run_token() -> object | None:
    ctx = getattr(_run, "ctx", None)
    if ctx is None or ctx is not get_script_run_ctx(suppress_warning=True):
        return None
    return _run.token


# --- sign-in and roles -------------------------------------------------------------------


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: local mode
        return False


def viewer() -> Viewer:
    """Who is looking, and as what. Stops the script with a polite page when they may not."""
    if auth_configured():
        if not st.user.get("is_logged_in", False):
            st.title("Children's Social Care performance")
            st.write("This dashboard holds information about children. Please sign in with your council account.")
            st.button("Sign in", type="primary", on_click=st.login)
            st.stop()
        claims = {k: st.user.get(k) for k in ("email", "email_verified", *STABLE_CLAIMS)}
        role, who, why = identity(claims)
        if role is None:
            st.title("No access")
            if why == "unverified":
                st.write(f"You are signed in as {text.md(who)}, but your identity provider has not verified this "
                         "e-mail address, so it cannot be used to give access. Ask the performance team.")
            else:
                st.write(
                    f"You are signed in as {text.md(who)}, but this account has not been given access to the "
                    "dashboard. Ask the performance team to add you."
                )
            st.button("Sign out", on_click=st.logout)
            st.stop()
        return Viewer(who, role, False)
    if not access.is_local_address(st.get_option("server.address") or ""):
        st.error(
            "This dashboard is running without sign-in and is not bound to this computer only. "
            "Configure sign-in (see docs/deployment.md) or start it with --server.address 127.0.0.1."
        )
        st.stop()
    if "preview_role" not in st.session_state and st.query_params.get("preview") in ROLES:
        st.session_state["preview_role"] = st.query_params["preview"]  # a link from a page previewed as this role
    return Viewer("local user", access.local_role(st.session_state.get("preview_role")), True)


def local_banner(v: Viewer) -> None:
    if v.local:
        st.sidebar.info("Local mode: no sign-in, this computer only. Preview what each role sees:")
        st.sidebar.selectbox(
            "Preview as", ROLES, index=ROLES.index(v.role), format_func=ROLE_LABELS.get, key="preview_role_select",
            on_change=_set_preview_role,
        )
    else:
        st.sidebar.caption(f"Signed in as {text.md(v.user)} ({ROLE_LABELS[v.role]})")
        st.sidebar.button("Sign out", on_click=st.logout)


def navigation(role: str | None) -> dict[str, list]:
    """The navigation of one role (`csc.pages.for_role`) as Streamlit pages: made once per role
    and copied for each run (st.navigation marks the page it returns as the one to run, so two
    sessions must never share one object; making them anew resolves and checks every file)."""
    shown = pages.for_role(role)
    ctx = get_script_run_ctx(suppress_warning=True)
    key = (str(ctx.pages_manager.main_script_parent) if ctx else None, role,
           tuple((section, tuple(p.key for p in ps)) for section, ps in shown.items()))
    made = _NAVIGATION.get(key)
    if made is None:
        made = {section: [page for p in ps for page in _nav_pages(p)] for section, ps in shown.items()}
        if made:  # the other pages' addresses, hidden: a link to one says whom it is for, not "Page not found"
            mine = {p.key for ps in shown.values() for p in ps}
            first = next(iter(made))
            made[first] += [st.Page(_not_for_role(p), title=p.title, url_path=p.url_path, visibility="hidden")
                            for p in pages.offered() if p.key not in mine]
        _NAVIGATION[key] = made
    return {section: [copy.copy(page) for page in ps] for section, ps in made.items()}


_NAVIGATION: dict[tuple, dict[str, list]] = {}


def _nav_pages(p: pages.Page) -> list:
    if not p.default:
        return [st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path)]
    # Streamlit serves the default page at / only (a visit to /overview would say "page not
    # found"): the same script is registered again, hidden from the menu, at its own address.
    return [st.Page(p.file, title=p.title, icon=p.icon, url_path="", default=True),
            st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path, visibility="hidden")]


def _not_for_role(p: pages.Page) -> Callable[[], None]:
    """A page at `p`'s address for a role that may not use it (a link shared by a colleague, a
    bookmark from another role): whom the page is for and where this viewer's pages are; nothing
    of the page itself is run. The visit is in the audit log."""

    def page() -> None:
        v = st.session_state.get("_viewer") or viewer()
        whom = " and ".join(f"{ROLE_LABELS[r].lower()}s" for r in p.roles)
        st.title(p.title)
        st.info(f"The {p.title} page is for {whom}. You are signed in as "
                f"{ROLE_LABELS.get(v.role, 'a viewer without a role').lower()}: the pages you may use "
                "are in the menu.")
        home = next(q for q in pages.offered() if q.default)
        st.page_link(home.file, label=f"Go to the {home.title}")
        if not st.session_state.get(f"_refused_{p.key}"):  # once a session, not on every rerun
            store().audit_soon(v.user, v.role, "page_refused", {"page": p.key})
            st.session_state[f"_refused_{p.key}"] = True

    page.__name__ = f"not_for_role_{p.key}"
    return page


def link_query() -> str:
    """This view's selection as a URL query string (area offices, months, and in local mode the
    role previewed), for links to another page that open it with the same selection: a plain
    link loads the page afresh, in a new session."""
    qp = st.query_params
    params = [("area", a) for a in qp.get_all("area")] + [(k, qp[k]) for k in ("from", "to") if k in qp]
    viewer = st.session_state.get("_viewer")
    if viewer is not None and viewer.local and st.session_state.get("preview_role") in ROLES:
        params.append(("preview", st.session_state["preview_role"]))
    return urlencode(params)


def page_href(url_path: str, query: str, **params: str) -> str:
    """A relative link to a page (its URL path, csc.pages) with `params` and the selection `query`
    (`link_query`): not yet HTML-escaped."""
    first = urlencode(params)
    return f"{url_path}?{first}&{query}" if first and query else f"{url_path}?{first or query}"


def css_name(value: str) -> str:
    """`value` made safe for a CSS class name (letters, digits, - and _ only)."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(value))


def _set_preview_role() -> None:
    st.session_state["preview_role"] = st.session_state["preview_role_select"]


def require(page: str) -> Viewer:
    """Check again, where the page is drawn, that this viewer may use it (csc.pages, csc.access)."""
    v = st.session_state.get("_viewer") or viewer()
    if not v.may(pages.get(page)):
        st.error("You do not have access to this page.")
        st.stop()
    return v


def open_page(page: str, title: str) -> tuple[Viewer, report.Selection]:
    """The start of every page that shows figures: the role checked again, the sidebar's
    selection, the title, the empty state when nothing is loaded, what is incomplete about the
    months chosen (`incomplete_history`), and the view logged."""
    v = require(page)
    sel = st.session_state.get("_selection") or sidebar_filters()  # set by dashboard.py on every run
    st.title(title)
    empty_state_if_no_data()
    if note := incomplete_history(sel):
        st.warning(note)
    log_view(v, page, sel)
    return v, sel


# --- filters kept in the URL ---------------------------------------------------------------


def _periods(cur) -> list[str]:
    rows = cur.execute("select distinct period from kpi_results order by period").fetchall()
    return [r[0] for r in rows]


def filter_options(data_version: str) -> tuple[list[str], list[str]]:
    """The area offices and months on offer (shared: never changed by a caller)."""
    def build():
        cur = cursor()
        return kpis.areas(cur), _periods(cur)

    return viewcache.shared("filter-options", (data_version,), build)


def first_extract(data_version: str) -> str | None:
    """The month of the earliest extract loaded. The months before it are in the series (the
    spec: from the first month with data) from the history that extract carried, so what looks
    back over months (re-referrals within 12 months, 12-month turnover, supervision) is
    incomplete there: not chosen by default, and said when chosen."""
    def build():
        rows = cursor().execute("select min(period) from imports where status = 'loaded'").fetchall()
        return rows[0][0] if rows else None

    return viewcache.shared("first-extract", (data_version,), build)


def sidebar_filters() -> report.Selection:
    """Area offices and period range; read from and written back to the URL so a link opens
    the same view, and kept in the session across pages.

    The choice lives in `sel_areas`/`sel_range`; the widgets (`w_areas`/`w_range`) are seeded
    from it on every run, because Streamlit drops a widget's state when the page changes."""
    areas, periods = filter_options(version())
    first = first_extract(version())
    qp, ss = st.query_params, st.session_state
    # the last 24 months, none before the first extract loaded (see `first_extract`)
    default_range = (max(report.default_start(periods[-1], first if first in periods else periods[0]), periods[0]),
                     periods[-1]) if periods else None  # (the months of the series run on without a gap)
    if "sel_areas" not in ss:
        ss["sel_areas"] = [a for a in qp.get_all("area") if a in areas]
        p_from = qp.get("from") if qp.get("from") in periods else (default_range or (None,))[0]
        p_to = qp.get("to") if qp.get("to") in periods else (default_range or (None, None))[1]
        ss["sel_range"] = (min(p_from, p_to), max(p_from, p_to)) if periods else None
    ss["sel_areas"] = [a for a in ss["sel_areas"] if a in areas]
    if periods and (not ss.get("sel_range") or not set(ss["sel_range"]) <= set(periods)):
        ss["sel_range"] = default_range
    ss["w_areas"] = list(ss["sel_areas"])
    st.sidebar.multiselect("Area office", areas, key="w_areas", placeholder="All areas",
                           on_change=_keep, args=("w_areas", "sel_areas"),
                           help="Leave empty for all areas together; pick one or more to compare.")
    if len(periods) >= 2:
        ss["w_range"] = tuple(ss["sel_range"])
        st.sidebar.select_slider("Months", options=periods, key="w_range", on_change=_keep, args=("w_range", "sel_range"))
    sel_areas = tuple(ss["sel_areas"]) or None
    rng = ss.get("sel_range") or (None, None)
    # keep the URL in step, so the address bar is always a link to this view
    new = {"area": list(sel_areas or []), "from": rng[0], "to": rng[1]}
    changed = {}
    for k, val in new.items():
        if val in (None, []):
            if k in qp:
                del qp[k]
        elif (qp.get_all(k) if isinstance(val, list) else qp.get(k)) != val:
            changed[k] = val
    if changed:
        qp.update(changed)  # one message to the browser (each qp[k] = … sends one)
    return report.Selection(sel_areas, rng[0], rng[1])


def incomplete_history(sel: report.Selection) -> str | None:
    """What to say when the months chosen start before the first extract loaded: those months
    come from the history it carried, and measures that look back over months are incomplete
    there (their ratings too). Said on the page, above its figures: in the sidebar alone, a
    review read the Overview rate 2009's 0% supervision red without a word."""
    first = first_extract(version())
    said = wording.incomplete_history(first, sel.period_from)
    return f"{said} Choose months from {spc.period_label(first)} for figures to rely on." if said else None


def _keep(widget_key: str, state_key: str) -> None:
    value = st.session_state[widget_key]
    if state_key == "sel_range":
        if isinstance(value, (list, tuple)) and len(value) == 2:  # a range; ignore anything else
            st.session_state[state_key] = tuple(value)
    else:
        st.session_state[state_key] = list(value)


def reset_filters() -> None:
    """After an import or rollback the months on offer change: start from the defaults."""
    for key in ("sel_areas", "sel_range"):
        st.session_state.pop(key, None)


# --- cached reads (keyed by data version, filters and role) ---------------------------------


def current_plan(data_version: str) -> plan.Plan:
    """The action plan as it stands (shared: never changed by a caller). A plan file that cannot
    be read stops the page with what is wrong with it (`plan.PlanFileError`); it is read again on
    the next view (a failed build is not kept), and once mended the pages follow it
    (`plan.file_stamp`)."""
    try:
        return _plan(data_version)
    except plan.PlanFileError as exc:
        st.error(f"{exc} The pages that follow the action plan cannot be shown until it is put right "
                 "(docs/contributing.md); the others, such as Upload and Imports, work as usual.")
        st.stop()


def _plan(data_version: str) -> plan.Plan:
    """`current_plan` without its stop, for builds (a page asks `current_plan` first, so a build
    finds the plan already made under the same version)."""
    return viewcache.shared("plan", (data_version,), lambda: plan.current(cursor()))


def overview_rows(data_version: str, role: str, sel: report.Selection) -> pd.DataFrame:
    """`overview`, shared by every session without a copy: never changed by a caller."""
    return viewcache.shared("overview", (data_version, role, sel), overview, data_version, role, sel)


@st.cache_data(show_spinner=False, max_entries=256)
def overview(data_version: str, role: str, sel: report.Selection) -> pd.DataFrame:
    return report.overview(cursor(), _plan(data_version), sel, suppress=role == "board")


@st.cache_data(show_spinner=False, max_entries=512)
def series(data_version: str, role: str, kpi_name: str, sel: report.Selection) -> pd.DataFrame:
    return report.series(cursor(), kpis.get(kpi_name), sel, suppress=role == "board")


@st.cache_data(show_spinner=False, max_entries=512)
def by_area(data_version: str, role: str, kpi_name: str, sel: report.Selection) -> pd.DataFrame:
    kpi = kpis.get(kpi_name)
    return report.by_area(cursor(), kpi, sel.period_from, sel.period_to, sel.areas, suppress=role == "board")


@st.cache_data(show_spinner=False, max_entries=32)
def quality_counts(data_version: str, areas: tuple[str, ...] | None) -> pd.DataFrame:
    """The Data quality page's counts of each check by month (for any months chosen). Defined here,
    once, not in the page's script, where it was made again on every run."""
    return quality.counts(cursor(), areas=areas)


def audit_state() -> str | None:
    """The audit log as it stands, "<database>@<entries>:<the newest entry>" (`Store.audit_state`;
    None: nothing logged yet): the key of what the Audit log page reads, until more is logged."""
    s = store()
    n, newest = s.audit_state()
    return None if newest is None else f"{s.path}@{n}:{newest}"


@st.cache_resource(show_spinner=False, max_entries=4)
def audit_choices(state: str) -> tuple[list[str], list[str]]:
    """The Audit log page's choices (`Store.audit_choices`) as the log stood at `state`
    (`audit_state`): found once for every view until more is logged."""
    return store().audit_choices()


@st.cache_resource(show_spinner=False, max_entries=16)
def audit_entries(state: str, actions: tuple[str, ...], users: tuple[str, ...], shown: int) -> pa.Table:
    """The Audit log page's table, in words (`wording.audit_in_words`), as the log stood at
    `state` (`audit_state`): made once for every view until more is logged. A few are kept (on a
    busy server the log moves on with every view), never edited: shared."""
    return wording.audit_in_words(store().audit_entries(list(actions), list(users), shown))


def extract_source(data_version: str) -> str:
    """The charts' source line (which extracts), worked out once per data version."""
    return viewcache.shared("extract-source", (data_version,), lambda: breakdowns.extract_source(cursor()))


def area_chart(data_version: str, role: str, kpi_name: str, sel: report.Selection,
               target: float | None) -> tuple[viewcache.Chart | None, str | None]:
    """One KPI's area offices beside all areas (`breakdowns.area_figure`) with the data behind it,
    or why there is none; built once for every session (`csc.viewcache`)."""
    def build():
        kpi = kpis.get(kpi_name)
        df = by_area(data_version, role, kpi_name, sel)
        fig = breakdowns.area_figure(kpi, df, target, extract_source(data_version), period=sel.period_to)
        if fig is None:
            return None, breakdowns.empty_message(kpi, df)
        return viewcache.make_chart(fig, breakdowns.for_download(df)), None

    return viewcache.shared("area-chart", (data_version, role, kpi_name, sel, target), build)


def involvements_inferred(data_version: str) -> bool:
    from csc import annexa

    return viewcache.shared("involvements-inferred", (data_version,), lambda: annexa.involvements_inferred(cursor()))


def inferred_note(kpi_name: str) -> None:
    """Say so when a changes-of-worker figure is inferred from Annex A lists, not involvements."""
    if kpis.get(kpi_name).reads_inferred and involvements_inferred(version()):
        st.info("Inferred: no involvements sheet has been loaded, so changes of worker are inferred from the "
                "Allocated Worker in successive monthly Annex A lists (see docs/annex-a.md).")


def clear_caches() -> None:
    st.cache_data.clear()
    viewcache.clear()
    _run.version = None


# --- drawing helpers -------------------------------------------------------------------------


def empty_state_if_no_data() -> None:
    if not viewcache.shared("has-data", (version(),), lambda: store().has_data(cursor())):
        st.info(EMPTY_DATA)
        st.stop()


def chart(fig, key: str, data: pd.DataFrame | None = None, filename: str | None = None, v: Viewer | None = None,
          with_download: bool = True) -> None:
    """A plotly figure (or a shared `viewcache.Chart`, already made safe, with its data) with its
    alt text, and a download of the data behind it (unless the page offers one for several charts)."""
    if not isinstance(fig, viewcache.Chart):  # names from uploads and users made text, never links, once
        fig = viewcache.make_chart(fig)
    alt, data = fig.alt, fig.data if data is None else data
    fig = fig.figure
    # in a column narrower than 640 px (a phone, a small laptop) it keeps that width, scrolling
    # sideways in its own element (RESPONSIVE_CSS; by CSS alone: two containers around it cost two
    # layout blocks a chart, ~20 on a page)
    st.plotly_chart(fig, key=key, alt=alt, theme=None, config={"displaylogo": False})
    if with_download and data is not None and not data.empty:
        download(data, filename or key, key=f"dl-{key}", v=v, label="Download the data behind this chart (CSV)")


def fitted_columns(df: pd.DataFrame, total: int = 900) -> dict:
    """Column widths that share ``total`` pixels by how long each column's header and values
    are, so that a table of many columns fits a laptop screen without scrolling sideways."""
    if df.empty or not len(df.columns):
        return {}
    sample = df.head(200)
    lengths = {}
    for col in df.columns:
        values = sample[col].astype(str).str.len()
        typical = float(values.quantile(0.9)) if len(values) else 0.0
        lengths[col] = min(40.0, max(4.0, len(str(col)) * 0.8, typical))
    scale = total / sum(lengths.values())
    return {col: st.column_config.Column(width=max(48, int(n * scale))) for col, n in lengths.items()}


def download(df, name: str, key: str, v: Viewer | None = None, label: str = "Download (CSV)",
             excel: bool = False) -> None:
    """Downloads are safe against formula injection and logged; the file (and `df` itself, when
    it is a callable that returns the frame) is made only when the button is pressed, not on
    every view. With `excel`, `df` may also be a dict of frames: a workbook with a sheet each."""
    def frame():
        return df() if callable(df) else df

    def workbook() -> bytes:
        found = frame()
        return exports.to_excel_sheets(found) if isinstance(found, dict) else exports.to_excel_bytes(found)

    if excel:
        download_file(label, workbook, f"{name}.xlsx", key, v, {"what": name}, mime=exports.XLSX_MIME)
    else:
        download_file(label, lambda: exports.to_csv_bytes(frame()), f"{name}.csv", key, v, {"what": name},
                      mime="text/csv")


def download_file(label: str, make: Callable[[], bytes | str], file_name: str, key: str, v: Viewer | None,
                  detail: dict, mime: str, where=st) -> None:
    """A button whose file `make` builds when it is pressed, on Streamlit's worker thread, and the
    export written to the audit log (`detail`: what was taken) once the file is made. The press
    does not run the page again (`on_click="ignore"`): with a rerun, Streamlit 1.67 could drop the
    reply carrying the file's address when the run started, and the button span with no file
    (tests/browser/test_downloads.py)."""
    s, user, role = store(), (v.user if v is not None else "unknown"), (v.role if v is not None else None)

    def made() -> bytes | str:
        data = make()
        s.audit(user, role, "export", detail)
        return data

    where.download_button(label, made, file_name=file_name, mime=mime, key=key, on_click="ignore")


def log_view(v: Viewer, page: str, sel: report.Selection | None = None) -> None:
    detail = {"page": page}
    if sel is not None:
        detail.update(areas=list(sel.areas or []), period_from=sel.period_from, period_to=sel.period_to)
    key = f"_logged_{page}_{detail}"
    if not st.session_state.get(key):
        # written by the store's background writer: the view neither waits for nor pays for a
        # DuckDB insert and commit of its own (`Store.audit_soon`)
        store().audit_soon(v.user, v.role, "view", detail)
        st.session_state[key] = True


#: RAG in words (no emoji: they render as empty boxes where no emoji font is installed); on the
#: Overview they are coloured chips (`wording.chip`), the word always inside.
RAG_WORDS = {"green": "Green", "amber": "Amber", "red": "Red", None: "–"}

#: Laptop and phone from the same page: at 640 px and below the Overview's measure tables and the
#: verdicts under them (.csc-wide) give way to a card per measure
#: (.csc-narrow), its summary rows become cards, chart titles get smaller and a chart keeps a
#: readable width, scrolling sideways inside its own box. The Overview draws its summary, headings
#: and cards as HTML (one element where Streamlit's columns and containers were dozens): their
#: look is here too. Sent once a view, with the sign-in and filters (dashboard.py).
RESPONSIVE_CSS = """
<style>
.csc-narrow { display: none; }
.csc-card { border: 1px solid #d8dadc; border-radius: 0.5rem; padding: 0.5rem 0.75rem; margin: 0 0 0.5rem 0; }
.csc-card-name { font-weight: 600; }
.csc-card-verdict { color: #505a5f; font-size: 0.9rem; }
.csc-h { font-size: 1.5rem; font-weight: 600; margin: 1rem 0 0.5rem 0; padding: 0; }
.csc-action-h { border-top: 1px solid #d8dadc; padding-top: 1rem; margin-top: 0.5rem; }
.csc-action { display: flow-root; container-type: inline-size; }  /* the Overview's actions, one element */
/* its measures' table gives way to cards in a column too narrow for it, whatever the window (a small
   laptop with the sidebar open: a 737 px table in a 564 px column pushed the whole page sideways) */
@container (max-width: 760px) {
  .csc-wide { display: none; }
  .csc-narrow { display: block; }
}
.csc-action + .csc-action { margin-top: 1rem; }
.csc-summary { display: flex; flex-direction: column; gap: 0.5rem; }
.csc-sum-row { display: grid; grid-template-columns: 1.3fr 3.4fr 1.6fr 2.8fr 1.1fr; gap: 1rem; align-items: center;
  border: 1px solid #d8dadc; border-radius: 0.5rem; padding: 0.6rem 1rem; }
.csc-sum-owner { color: #505a5f; font-size: 0.85rem; margin-top: 0.2rem; }
.csc-sum-action a { color: inherit; text-decoration: none; }
.csc-sum-action a:hover, .csc-sum-action a:focus { text-decoration: underline; }
.csc-tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: 1rem;
  margin: 1rem 0 0.5rem 0; }
.csc-tile-label { font-size: 0.875rem; }
.csc-tile-value { font-size: 2.25rem; line-height: 1.2; }
.csc-tile[title] .csc-tile-label { text-decoration: underline dotted #8a9095; cursor: help; }
.csc-tile-delta { display: inline-block; font-size: 0.875rem; border-radius: 0.75rem; padding: 0.05rem 0.5rem; }
.csc-tile-note { color: #505a5f; font-size: 0.875rem; margin-top: 0.25rem; }
.csc-verdicts { margin: 0.75rem 0 0 0; }
.csc-measures { border-collapse: collapse; width: 100%; font-size: 0.875rem; margin: 0.5rem 0 0 0; }
.csc-measures th { font-weight: 400; color: #505a5f; text-align: left; background: #f8f9fb; cursor: help; }
.csc-measures th, .csc-measures td { border: 1px solid #e6e7ea; padding: 0.3rem 0.5rem; vertical-align: middle; }
.csc-measures td.csc-m-trend { padding: 0 0.25rem; line-height: 0; }
.csc-m-name { min-width: 14rem; }
@media (max-width: 640px) {
  .csc-wide { display: none; }
  .csc-narrow { display: block; }
  .csc-sum-row { grid-template-columns: 1fr; gap: 0.35rem; }
  .csc-tile-value { font-size: 1.75rem; }
}
/* a chart is never narrower than the 640 px its words are laid out for (csc.charts.layout): in a
   narrower column (a phone, a small laptop with the sidebar open) it scrolls sideways in its own element */
[data-testid="stElementContainer"]:has(> [data-testid="stFullScreenFrame"] [data-testid="stPlotlyChart"]) {
  overflow-x: auto; }
[data-testid="stFullScreenFrame"]:has([data-testid="stPlotlyChart"]) { min-width: 640px; }
</style>
"""


def tiles(items: list[dict]) -> str:
    """Figures at a glance as one HTML element (what `st.metric` in columns drew as ~3 elements
    and blocks each): each item's `label` and `value`, and when given its `delta` (coloured by
    `delta_good`: True green, False red, None grey, with an arrow), a `note` under it and `help`
    on hover. Every text is HTML-escaped here."""
    out = []
    for t in items:
        tip = f' title="{html.escape(t["help"])}"' if t.get("help") else ""
        delta = ""
        if t.get("delta"):
            fg, bg = wording.CHIP_COLOURS.get({True: "green", False: "red"}.get(t.get("delta_good"), ""),
                                              wording.GREY_CHIP)
            arrow = "↓ " if str(t["delta"]).startswith("-") else "↑ " if not str(t["delta"]).lstrip("+").startswith(
                ("0.0", "0 ")) else ""
            delta = f'<div class="csc-tile-delta" style="color:{fg};background:{bg}">{arrow}{html.escape(str(t["delta"]))}</div>'
        note = f'<div class="csc-tile-note">{html.escape(t["note"])}</div>' if t.get("note") else ""
        out.append(f'<div class="csc-tile"{tip}><div class="csc-tile-label">{html.escape(str(t["label"]))}</div>'
                   f'<div class="csc-tile-value">{html.escape(str(t["value"]))}</div>{delta}{note}</div>')
    return f'<div class="csc-tiles">{"".join(out)}</div>'


_RESPONSIVE = viewcache.Html(RESPONSIVE_CSS)  # cleaned once (viewcache.Html)


def responsive_styles() -> None:
    st.html(_RESPONSIVE)

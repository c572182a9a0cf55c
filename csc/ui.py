"""Streamlit glue shared by every page: the store, sign-in and roles, the sidebar filters kept in
the URL, cached reads keyed by data version, filters and role, and small drawing helpers.
Only this module and `pages/` import streamlit."""

from __future__ import annotations

import ipaddress
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import streamlit as st

from csc import config, exports, kpis, plan, report, text
from csc.store import Store

ROLES = ("director", "board", "analyst")
ROLE_LABELS = {"director": "Director", "board": "Board member", "analyst": "Performance analyst"}
# Pages each role may use; a page not listed for a role is never registered for it.
PAGE_ROLES = {
    "overview": ROLES,
    "action": ROLES,
    "workforce": ROLES,
    "practice": ROLES,
    "region": ROLES,  # registered only when $CSC_REGION_DIR names pooled results (dashboard.py)
    "plan": ("director", "analyst"),
    "data_quality": ("director", "analyst"),
    "imports": ("director", "analyst"),
    "upload": ("analyst",),
    "teams": ("analyst",),
    "audit": ("analyst",),
}
EMPTY_DATA = "No extract loaded yet — upload one on the Upload page (analysts), or run `python -m csc demo` for the demo council."


# --- the store -------------------------------------------------------------------------


@st.cache_resource(show_spinner=False)
def get_store(path: str) -> Store:
    """One DuckDB connection for the whole server: this process is the only writer."""
    return Store.open(path)


def store() -> Store:
    return get_store(str(config.db_path()))


def cursor():
    """A cursor for this script run: readers never block the writer and see committed data."""
    return store().cursor()


def version() -> str:
    return report.data_version(cursor())


# --- sign-in and roles -------------------------------------------------------------------


@dataclass(frozen=True)
class Viewer:
    user: str
    role: str | None
    local: bool

    @property
    def is_board(self) -> bool:
        return self.role == "board"

    def may(self, page: str) -> bool:
        return self.role in PAGE_ROLES.get(page, ())


def auth_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: local mode
        return False


def roles_file() -> Path:
    return Path(os.environ.get("CSC_ROLES", config.ROOT / "data" / "roles.toml"))


def _roles(roles: dict | None) -> dict:
    if roles is None:
        path = roles_file()
        roles = tomllib.loads(path.read_text()) if path.exists() else {}
    return roles


def role_for(email: str | None, roles: dict | None = None) -> str | None:
    """The role mapped to an e-mail address, else to its domain; None means no access."""
    if not email:
        return None
    roles = _roles(roles)
    email = email.strip().lower()
    users = {k.lower(): v for k, v in roles.get("users", {}).items()}
    domains = {k.lower(): v for k, v in roles.get("domains", {}).items()}
    role = users.get(email) or domains.get(email.rsplit("@", 1)[-1])
    return role if role in ROLES else None


STABLE_CLAIMS = ("oid", "sub")  # Entra ID's object id; any provider's subject


def identity(claims: dict, roles: dict | None = None) -> tuple[str | None, str, str | None]:
    """(role, who, why not) for a signed-in account's claims.

    A stable claim listed in the roles file's `[subjects]` (`oid`, then `sub`: ids the identity
    provider never reassigns) gives its role. Otherwise the e-mail address (`[users]`, then
    `[domains]`) does, but only when the provider has not said it is unverified: a token with
    `email_verified = false` is refused, and with `require_verified_email = true` in the roles file
    so is one that does not say (see docs/deployment.md)."""
    roles = _roles(roles)
    email = claims.get("email")
    who = email or claims.get("sub") or claims.get("oid") or "unknown"
    subjects = {str(k).strip().lower(): v for k, v in roles.get("subjects", {}).items()}
    for claim in STABLE_CLAIMS:
        value = claims.get(claim)
        if value and subjects.get(str(value).strip().lower()) in ROLES:
            return subjects[str(value).strip().lower()], who, None
    verified = claims.get("email_verified")
    if isinstance(verified, str):
        verified = verified.strip().lower() == "true"
    if email and (verified is False or (verified is None and roles.get("require_verified_email"))):
        return None, who, "unverified"
    role = role_for(email, roles)
    return role, who, None if role else "not mapped"


def _address_is_local() -> bool:
    address = st.get_option("server.address") or ""
    if address in ("localhost", ""):
        return address == "localhost"
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
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
    if not _address_is_local():
        st.error(
            "This dashboard is running without sign-in and is not bound to this computer only. "
            "Configure sign-in (see docs/deployment.md) or start it with --server.address 127.0.0.1."
        )
        st.stop()
    role = st.session_state.get("preview_role", os.environ.get("CSC_LOCAL_ROLE", "analyst"))
    if role not in ROLES:
        role = "analyst"
    return Viewer("local user", role, True)


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


def _set_preview_role() -> None:
    st.session_state["preview_role"] = st.session_state["preview_role_select"]


def _ensure_entry_point() -> None:
    """With a `pages/` folder beside dashboard.py, a freshly started server routes requests in
    Streamlit's legacy multipage mode until st.navigation has run once: a deep link
    (/action?action=A3) would run the page alone, without sign-in, navigation or filters. Several
    first visits at once can each be routed that way before the switch flips. So whenever a page
    runs without the entry point having run in this session, switch to st.navigation routing and
    rerun once, so dashboard.py handles the same URL."""
    from streamlit.runtime.pages_manager import PagesManager

    legacy = PagesManager.uses_pages_directory
    if legacy or "_selection" not in st.session_state:
        PagesManager.uses_pages_directory = False
        if not st.session_state.get("_entry_rerun"):
            st.session_state["_entry_rerun"] = True
            st.rerun()


def require(page: str) -> Viewer:
    """Check again, where the page is drawn, that this viewer may use it."""
    _ensure_entry_point()
    v = st.session_state.get("_viewer") or viewer()
    if not v.may(page):
        st.error("You do not have access to this page.")
        st.stop()
    return v


def open_page(page: str, title: str) -> tuple[Viewer, report.Selection]:
    """The start of every page that shows figures: the role checked again, the sidebar's
    selection, the title, the empty state when nothing is loaded, and the view logged."""
    v = require(page)
    sel = st.session_state.get("_selection") or sidebar_filters()  # set by dashboard.py on every run
    st.title(title)
    empty_state_if_no_data()
    log_view(v, page, sel)
    return v, sel


# --- filters kept in the URL ---------------------------------------------------------------


def _periods(cur) -> list[str]:
    rows = cur.execute("select distinct period from kpi_results order by period").fetchall()
    return [r[0] for r in rows]


@st.cache_data(show_spinner=False)
def filter_options(data_version: str) -> tuple[list[str], list[str]]:
    cur = cursor()
    return kpis.areas(cur), _periods(cur)


def sidebar_filters() -> report.Selection:
    """Area offices and period range; read from and written back to the URL so a link opens
    the same view, and kept in the session across pages.

    The choice lives in `sel_areas`/`sel_range`; the widgets (`w_areas`/`w_range`) are seeded
    from it on every run, because Streamlit drops a widget's state when the page changes."""
    areas, periods = filter_options(version())
    qp, ss = st.query_params, st.session_state
    default_range = (periods[max(0, len(periods) - 24)], periods[-1]) if periods else None
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
    for k, val in new.items():
        if val in (None, []):
            if k in qp:
                del qp[k]
        elif (qp.get_all(k) if isinstance(val, list) else qp.get(k)) != val:
            qp[k] = val
    return report.Selection(sel_areas, rng[0], rng[1])


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


@st.cache_data(show_spinner=False, max_entries=64)
def current_plan(data_version: str) -> plan.Plan:
    return plan.current(cursor())


@st.cache_data(show_spinner=False, max_entries=256)
def overview(data_version: str, role: str, sel: report.Selection) -> pd.DataFrame:
    return report.overview(cursor(), current_plan(data_version), sel, suppress=role == "board")


@st.cache_data(show_spinner=False, max_entries=512)
def series(data_version: str, role: str, kpi_name: str, sel: report.Selection) -> pd.DataFrame:
    return report.series(cursor(), kpis.get(kpi_name), sel, suppress=role == "board")


@st.cache_data(show_spinner=False, max_entries=512)
def by_area(data_version: str, role: str, kpi_name: str, sel: report.Selection) -> pd.DataFrame:
    kpi = kpis.get(kpi_name)
    return report.by_area(cursor(), kpi, sel.period_from, sel.period_to, sel.areas, suppress=role == "board")


@st.cache_data(show_spinner=False)
def involvements_inferred(data_version: str) -> bool:
    from csc import annexa

    return annexa.involvements_inferred(cursor())


def inferred_note(kpi_name: str) -> None:
    """Say so when a changes-of-worker figure is inferred from Annex A lists, not involvements."""
    if kpis.get(kpi_name).reads_inferred and involvements_inferred(version()):
        st.info("Inferred: no involvements sheet has been loaded, so changes of worker are inferred from the "
                "Allocated Worker in successive monthly Annex A lists (see docs/annex-a.md).")


def clear_caches() -> None:
    st.cache_data.clear()


# --- drawing helpers -------------------------------------------------------------------------


def empty_state_if_no_data() -> None:
    if not store().has_data():
        st.info(EMPTY_DATA)
        st.stop()


def chart(fig, key: str, data: pd.DataFrame | None = None, filename: str | None = None, v: Viewer | None = None) -> None:
    """A plotly figure with its alt text, and a download of the data behind it."""
    alt = (fig.layout.meta or {}).get("alt") if isinstance(fig.layout.meta, dict) else None
    text.safe_figure(fig)  # names from uploads and users are text in plotly's labels, never links
    # in a box that keeps a readable width on a phone, scrolling sideways (RESPONSIVE_CSS)
    with st.container(key=f"chartscroll-{key}"), st.container(key=f"chartbox-{key}"):
        st.plotly_chart(fig, key=key, alt=alt, theme=None, config={"displaylogo": False})
    if data is not None and not data.empty:
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


def download(df: pd.DataFrame, name: str, key: str, v: Viewer | None = None, label: str = "Download (CSV)",
             excel: bool = False) -> None:
    """Downloads are safe against formula injection and logged."""
    if excel:
        data = exports.to_excel_bytes(df)
        st.download_button(label, data, file_name=f"{name}.xlsx", key=key,
                           mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           on_click=_log_export, args=(v, name))
    else:
        st.download_button(label, exports.to_csv_bytes(df), file_name=f"{name}.csv", mime="text/csv", key=key,
                           on_click=_log_export, args=(v, name))


def _log_export(v: Viewer | None, name: str) -> None:
    store().audit(v.user if v is not None else "unknown", v.role if v is not None else None, "export", {"what": name})


def log_view(v: Viewer, page: str, sel: report.Selection | None = None) -> None:
    detail = {"page": page}
    if sel is not None:
        detail.update(areas=list(sel.areas or []), period_from=sel.period_from, period_to=sel.period_to)
    key = f"_logged_{page}_{detail}"
    if not st.session_state.get(key):
        store().audit(v.user, v.role, "view", detail)
        st.session_state[key] = True


#: RAG in words (no emoji: they render as empty boxes where no emoji font is installed); on the
#: Overview they are coloured chips (`wording.chip`), the word always inside.
RAG_WORDS = {"green": "Green", "amber": "Amber", "red": "Red", None: "–"}

#: Laptop and phone from the same page: at 640 px and below the Overview's measure tables give
#: way to a card per measure (containers keyed wide-… and narrow-…), chart titles get smaller
#: and a chart keeps a readable width, scrolling sideways inside its own box.
RESPONSIVE_CSS = """
<style>
[class*="st-key-narrow-"] { display: none; }
.csc-card { border: 1px solid #d8dadc; border-radius: 0.5rem; padding: 0.5rem 0.75rem; margin: 0 0 0.5rem 0; }
.csc-card-name { font-weight: 600; }
.csc-card-verdict { color: #505a5f; font-size: 0.9rem; }
[class*="st-key-summary-"] [data-testid="stPageLink"] * { white-space: normal !important; overflow: visible !important;
  text-overflow: clip !important; height: auto !important; }
@media (max-width: 640px) {
  [class*="st-key-wide-"] { display: none; }
  [class*="st-key-narrow-"] { display: block; }
  [class*="st-key-chartscroll-"] { overflow-x: auto; }
  [class*="st-key-chartbox-"] { min-width: 640px; }
}
</style>
"""


def responsive_styles() -> None:
    st.html(RESPONSIVE_CSS)

"""Entry point: page config, sign-in and role, the pages that role may use, shared filters."""

import streamlit as st

from csc import config, ui

# No :material/…: icons, for the app or its pages: Streamlit makes the running page's icon the tab's
# favicon and fetches it from fonts.gstatic.com (a council network may have no internet, and it tells a
# third party who is looking). Every request the browser makes goes to this server.
st.set_page_config(page_title="Children's Social Care performance", layout="wide")

viewer = ui.viewer()
st.session_state["_viewer"] = viewer

PAGES = {
    "overview": st.Page("pages/overview.py", title="Overview", url_path="overview", default=True),
    "action": st.Page("pages/action.py", title="Action", url_path="action"),
    "workforce": st.Page("pages/workforce.py", title="Workforce", url_path="workforce"),
    "practice": st.Page("pages/practice.py", title="Practice", url_path="practice"),
    "plan": st.Page("pages/plan.py", title="Action plan", url_path="plan"),
    "upload": st.Page("pages/upload.py", title="Upload", url_path="upload"),
    "imports": st.Page("pages/imports.py", title="Imports", url_path="imports"),
    "teams": st.Page("pages/teams.py", title="Teams", url_path="teams"),
    "data_quality": st.Page("pages/data_quality.py", title="Data quality", url_path="data-quality"),
    "audit": st.Page("pages/audit.py", title="Audit log", url_path="audit"),
}
SECTIONS = {
    "Progress": ["overview", "action", "workforce", "practice"],
    "Manage": ["plan", "upload", "imports", "teams", "data_quality", "audit"],
}
if config.region_dir():  # pooled KPI results of several councils (python -m csc spark-kpis)
    PAGES["region"] = st.Page("pages/region.py", title="Region", url_path="region")
    SECTIONS["Progress"].append("region")
nav = st.navigation(
    {section: [PAGES[p] for p in names if viewer.may(p)] for section, names in SECTIONS.items()
     if any(viewer.may(p) for p in names)}
)
ui.local_banner(viewer)
ui.responsive_styles()  # laptop and phone: tables give way to cards, charts keep a readable width
st.session_state["_selection"] = ui.sidebar_filters()
nav.run()

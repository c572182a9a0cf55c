"""Entry point: page config, sign-in and role, the pages that role may use, shared filters."""

import streamlit as st

from csc import config, ui

st.set_page_config(page_title="Children's Social Care performance", page_icon=":material/monitoring:", layout="wide")

viewer = ui.viewer()
st.session_state["_viewer"] = viewer

PAGES = {
    "overview": st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", url_path="overview", default=True),
    "action": st.Page("pages/action.py", title="Action", icon=":material/flag:", url_path="action"),
    "workforce": st.Page("pages/workforce.py", title="Workforce", icon=":material/groups:", url_path="workforce"),
    "practice": st.Page("pages/practice.py", title="Practice", icon=":material/assignment:", url_path="practice"),
    "plan": st.Page("pages/plan.py", title="Action plan", icon=":material/edit_note:", url_path="plan"),
    "upload": st.Page("pages/upload.py", title="Upload", icon=":material/upload_file:", url_path="upload"),
    "imports": st.Page("pages/imports.py", title="Imports", icon=":material/history:", url_path="imports"),
    "teams": st.Page("pages/teams.py", title="Teams", icon=":material/apartment:", url_path="teams"),
    "data_quality": st.Page("pages/data_quality.py", title="Data quality", icon=":material/fact_check:", url_path="data-quality"),
    "audit": st.Page("pages/audit.py", title="Audit log", icon=":material/policy:", url_path="audit"),
}
SECTIONS = {
    "Progress": ["overview", "action", "workforce", "practice"],
    "Manage": ["plan", "upload", "imports", "teams", "data_quality", "audit"],
}
if config.region_dir():  # pooled KPI results of several councils (python -m csc spark-kpis)
    PAGES["region"] = st.Page("pages/region.py", title="Region", icon=":material/compare_arrows:", url_path="region")
    SECTIONS["Progress"].append("region")
nav = st.navigation(
    {section: [PAGES[p] for p in names if viewer.may(p)] for section, names in SECTIONS.items()
     if any(viewer.may(p) for p in names)}
)
ui.local_banner(viewer)
st.session_state["_selection"] = ui.sidebar_filters()
nav.run()

"""Entry point: page config, sign-in and role, the pages that role may use, shared filters."""

import streamlit as st

from csc import ui

st.set_page_config(page_title="Children's Social Care performance", page_icon="📊", layout="wide")

viewer = ui.viewer()
st.session_state["_viewer"] = viewer

PAGES = {
    "overview": st.Page("pages/overview.py", title="Overview", icon="🧭", url_path="overview", default=True),
    "action": st.Page("pages/action.py", title="Action", icon="🎯", url_path="action"),
    "workforce": st.Page("pages/workforce.py", title="Workforce", icon="👥", url_path="workforce"),
    "practice": st.Page("pages/practice.py", title="Practice", icon="📋", url_path="practice"),
    "plan": st.Page("pages/plan.py", title="Action plan", icon="✏️", url_path="plan"),
    "upload": st.Page("pages/upload.py", title="Upload", icon="⬆️", url_path="upload"),
    "imports": st.Page("pages/imports.py", title="Imports", icon="🗂️", url_path="imports"),
    "data_quality": st.Page("pages/data_quality.py", title="Data quality", icon="🔎", url_path="data-quality"),
    "audit": st.Page("pages/audit.py", title="Audit log", icon="📜", url_path="audit"),
}
SECTIONS = {
    "Progress": ["overview", "action", "workforce", "practice"],
    "Manage": ["plan", "upload", "imports", "data_quality", "audit"],
}
nav = st.navigation(
    {section: [PAGES[p] for p in names if viewer.may(p)] for section, names in SECTIONS.items()
     if any(viewer.may(p) for p in names)}
)
ui.local_banner(viewer)
st.session_state["_selection"] = ui.sidebar_filters()
nav.run()

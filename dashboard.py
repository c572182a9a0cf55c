"""Entry point: page config, sign-in and role, the pages that role may use, shared filters.

The pages are data (csc/pages.py: script, title, icon, section, URL path, roles); their scripts
are in app_pages/, not pages/ (docs/decisions.md)."""

import streamlit as st

from csc import ui

# No :material/…: icons, for the app or its pages (see csc/pages.py): every request the browser
# makes goes to this server.
st.set_page_config(page_title="Children's Social Care performance", layout="wide")


ui.begin_run()  # the data version and the KPI definitions: read once in this run
try:
    viewer = ui.viewer()
    st.session_state["_viewer"] = viewer
    nav = st.navigation(ui.navigation(viewer.role))
    ui.local_banner(viewer)
    ui.responsive_styles()  # laptop and phone: tables give way to cards, charts keep a readable width
    st.session_state["_selection"] = ui.sidebar_filters()
    nav.run()
finally:
    ui.end_run()  # the run's read transaction, if it read (ui.cursor), ends with it (a stop or rerun too)

"""Entry point: page config, sign-in and role, the pages that role may use, shared filters.

The pages are data (csc/pages.py: script, title, icon, section, URL path, roles); their scripts
are in app_pages/, not pages/ (docs/decisions.md)."""

import streamlit as st

from csc import pages, ui

# No :material/…: icons, for the app or its pages (see csc/pages.py): every request the browser
# makes goes to this server.
st.set_page_config(page_title="Children's Social Care performance", layout="wide")


def nav_pages(p: pages.Page) -> list:
    if not p.default:
        return [st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path)]
    # Streamlit serves the default page at / only (a visit to /overview would say "page not
    # found"): the same script is registered again, hidden from the menu, at its own address.
    return [st.Page(p.file, title=p.title, icon=p.icon, url_path="", default=True),
            st.Page(p.file, title=p.title, icon=p.icon, url_path=p.url_path, visibility="hidden")]


viewer = ui.viewer()
st.session_state["_viewer"] = viewer
nav = st.navigation({section: [page for p in shown for page in nav_pages(p)]
                     for section, shown in pages.for_role(viewer.role).items()})
ui.local_banner(viewer)
ui.responsive_styles()  # laptop and phone: tables give way to cards, charts keep a readable width
st.session_state["_selection"] = ui.sidebar_filters()
nav.run()

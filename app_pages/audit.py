"""Audit log: who viewed, imported, rolled back, exported or changed the plan, and when."""

import streamlit as st

from csc import ui, wording

#: The newest entries drawn (every view is logged, so a year's log runs to hundreds of thousands:
#: drawing them all cost each view of this page time in proportion); the download has every one.
SHOWN = 200

v = ui.require("audit")
ui.log_view(v, "audit")
st.title("Audit log")
st.write("Every view, import, rollback, export and change to the action plan, newest first. The log is append-only; "
         "a page view reaches it within a second.")
state = ui.audit_state()  # what is read below is shared by every view until more is logged
if state is None:
    st.info("Nothing logged yet.")
    st.stop()
logged, users = ui.audit_choices(state)
codes: dict[str, list[str]] = {}  # what is shown -> the actions logged under it
for action in logged:
    codes.setdefault(wording.AUDIT_ACTIONS.get(action, action), []).append(action)
actions = sorted(codes)
# none chosen: every action, as with the people (an action first logged after the page was opened
# shows, where a default of every action then known would have left it out)
chosen = st.multiselect("Show", actions, placeholder="Every action", key="audit_actions")
who = st.multiselect("People", users, placeholder="Everyone", key="audit_users")
wanted = [code for label in chosen or actions for code in codes[label]]
log = ui.audit_entries(state, tuple(wanted), tuple(who), SHOWN)  # Arrow, drawn as it is
if not log.num_rows:
    st.info("No entry is of the actions and people chosen.")
    st.stop()
matching = log["matching"][0].as_py()
if matching > log.num_rows:
    st.caption(f"The newest {log.num_rows:,} of the {matching:,} entries chosen: choose actions or people to narrow "
               "them, or download them all.")
st.dataframe(log.select(["when_words", "user_name", "role_label", "what", "detail_label"]), hide_index=True,
             width="stretch", key="audit-table",
             column_config={"when_words": st.column_config.TextColumn("When", width=150),
                            "user_name": st.column_config.TextColumn("Who", width=110),
                            "role_label": st.column_config.TextColumn("Role", width=120),
                            "what": st.column_config.TextColumn("What", width=130),
                            "detail_label": st.column_config.TextColumn("Detail", width="large",
                                                                        help="What was viewed, loaded or changed")})
ui.download(lambda: wording.audit_in_words(ui.store().audit_entries(wanted, who, None)).select(
    ["logged_at", "user_name", "role", "role_label", "action", "what", "detail", "detail_label"])
    .rename_columns(["logged_at", "user_name", "role", "role_label", "action", "action_label", "detail", "detail_label"])
    .to_pandas(), "audit-log", key="dl-audit", v=v)

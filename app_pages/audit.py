"""Audit log: who viewed, imported, rolled back, exported or changed the plan, and when."""

import streamlit as st

from csc import ui, wording

v = ui.require("audit")
ui.log_view(v, "audit")
st.title("Audit log")
st.write("Every view, import, rollback, export and change to the action plan, newest first. The log is append-only.")
log = ui.store().audit_log()
if log.empty:
    st.info("Nothing logged yet.")
    st.stop()
log = log.assign(what=log["action"].map(lambda a: wording.AUDIT_ACTIONS.get(a, a)),
                 role_label=log["role"].map(lambda r: wording.ROLES.get(r, r or "–")))
actions = sorted(log["what"].unique())
chosen = st.multiselect("Show", actions, default=actions, key="audit_actions")
users = sorted(log["user_name"].unique())
who = st.multiselect("People", users, placeholder="Everyone", key="audit_users")
view = log[log["what"].isin(chosen)]
if who:
    view = view[view["user_name"].isin(who)]
view = view.sort_values("audit_id", ascending=False).assign(
    when=lambda d: d["logged_at"].map(wording.date_words),
    detail_label=lambda d: d["detail"].map(wording.audit_detail),
)
st.dataframe(view[["when", "user_name", "role_label", "what", "detail_label"]], hide_index=True, width="stretch",
             key="audit-table",
             column_config={"when": st.column_config.TextColumn("When", width=150),
                            "user_name": st.column_config.TextColumn("Who", width=110),
                            "role_label": st.column_config.TextColumn("Role", width=120),
                            "what": st.column_config.TextColumn("What", width=130),
                            "detail_label": st.column_config.TextColumn("Detail", width="large",
                                                                        help="What was viewed, loaded or changed")})
ui.download(view[["logged_at", "user_name", "role", "role_label", "action", "what", "detail", "detail_label"]]
            .rename(columns={"what": "action_label"}), "audit-log", key="dl-audit", v=v)

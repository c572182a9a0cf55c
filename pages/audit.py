"""Audit log: who viewed, imported, rolled back, exported or changed the plan, and when."""

import json

import streamlit as st

from csc import ui

v = ui.require("audit")
ui.log_view(v, "audit")
st.title("Audit log")
st.write("Every view, import, rollback, export and change to the action plan, newest first. The log is append-only.")
log = ui.store().audit_log()
if log.empty:
    st.info("Nothing logged yet.")
    st.stop()
actions = sorted(log["action"].unique())
chosen = st.multiselect("Show", actions, default=actions, key="audit_actions")
users = sorted(log["user_name"].unique())
who = st.multiselect("People", users, placeholder="Everyone", key="audit_users")
view = log[log["action"].isin(chosen)]
if who:
    view = view[view["user_name"].isin(who)]
view = view.sort_values("audit_id", ascending=False).assign(
    detail=lambda d: d["detail"].map(lambda s: ", ".join(f"{k}: {v}" for k, v in json.loads(s or "{}").items()))
)
st.dataframe(view[["logged_at", "user_name", "role", "action", "detail"]], hide_index=True, width="stretch",
             key="audit-table",
             column_config={"logged_at": st.column_config.DatetimeColumn("When"), "user_name": "Who", "role": "Role",
                            "action": "What", "detail": "Detail"})
ui.download(view, "audit-log", key="dl-audit", v=v)

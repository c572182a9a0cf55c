"""Action plan: owners, due dates, status, targets and the monthly commentary, with every change kept."""

import json

import pandas as pd
import pyarrow as pa
import streamlit as st

from csc import kpis, plan, text, ui, viewcache, wording

v = ui.require("plan")
ui.log_view(v, "plan")
st.title("The action plan")
ver = ui.version()
current = ui.current_plan(ver)
st.caption(current.title)
ids = [a.id for a in current.actions]
chosen = st.selectbox("Action", ids, key="plan_action",
                      format_func=lambda i: f"{i} · {current.action(i).title}")
action = current.action(chosen)
registry = kpis.registry()

with st.form(f"plan-{action.id}"):
    st.subheader(f"{action.id} · {text.md(action.title)}")
    owner = st.text_input("Owner", action.owner)
    due = st.text_input("Due (YYYY-MM-DD or ongoing)", action.due)
    status = st.selectbox("Status", plan.STATUSES, index=plan.STATUSES.index(action.status)
                          if action.status in plan.STATUSES else 0)
    targets = {}
    for name in action.kpis:
        kpi = registry[name]
        t = action.target(name)
        targets[name] = st.text_input(f"Target: {kpi.title} ({'higher' if kpi.higher_is_better else 'lower'} is better)",
                                      "" if t is None else f"{t:g}", key=f"target-{action.id}-{name}")
    submitted = st.form_submit_button("Save changes", type="primary")

if submitted:
    changes = [("owner", owner, action.owner), ("due", due, action.due), ("status", status, action.status)]
    changes += [(f"target:{k}", val, "" if action.target(k) is None else f"{action.target(k):g}") for k, val in targets.items()]
    problems = [p for fld, new, _ in changes if (p := plan.validate_change(current, action.id, fld, new))]
    if problems:
        for p in problems:
            st.error(p)
    else:
        n = 0
        for fld, new, old in changes:
            if str(new).strip() != str(old):
                plan.record_change(ui.store(), action.id, fld, str(new).strip(), v.user, v.role)
                n += 1
        ui.clear_caches()
        st.success(f"Saved {n} change(s). Ratings use the new targets at once." if n else "Nothing had changed.")

st.subheader("Commentary")
st.write("What we did, what changed, what next — asked for on every red measure.")
periods = ui.filter_options(ver)[1]
period = st.selectbox("Month", list(reversed(periods)), key="plan_period") if periods else None
if period:
    existing = action.commentary.get(period, {})
    with st.form(f"comment-{action.id}"):
        did = st.text_area("What we did", existing.get("did", ""))
        changed = st.text_area("What changed", existing.get("changed", ""))
        nxt = st.text_area("What next", existing.get("next", ""))
        if st.form_submit_button("Save commentary"):
            plan.record_change(ui.store(), action.id, f"commentary:{period}",
                               json.dumps({"did": did, "changed": changed, "next": nxt}), v.user, v.role)
            ui.clear_caches()
            st.success(f"Commentary for {action.id}, {period} saved.")

st.subheader("History of changes")


def history_words(action_id: str) -> pa.Table:
    """The action's changes in words, newest first; shared by every session until the next change."""
    hist = plan.history(ui.cursor(), action_id)
    return pa.Table.from_pandas(pd.DataFrame({  # as Arrow: a view does not convert it again
        "When": hist["changed_at"].map(wording.date_words),
        "Who": hist["changed_by"],
        "Role": hist["role"].map(lambda r: wording.ROLES.get(r, r or "–")),
        "What": hist["field"].map(wording.field_words),
        "Changed to": [wording.value_words(f, val) for f, val in zip(hist["field"], hist["value"])],
    }), preserve_index=False)


# ui.version() again, not `ver`: a change saved above, in this run, moved it
words = viewcache.shared("plan-history", (ui.version(), action.id), history_words, action.id)
if not words.num_rows:
    st.caption("No changes yet: this is the plan Cabinet agreed.")
else:
    st.dataframe(words, hide_index=True, width="stretch", key="plan-history",
                 column_config={"When": st.column_config.TextColumn(width=150),
                                "Who": st.column_config.TextColumn(width=110),
                                "Role": st.column_config.TextColumn(width=120),
                                "What": st.column_config.TextColumn(width=200),
                                "Changed to": st.column_config.TextColumn(width=360)})

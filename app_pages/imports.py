"""Imports: the history of every extract loaded, and rolling a bad one back."""

import json

import pyarrow as pa
import streamlit as st

from csc import ui, viewcache, wording
from csc.store import StoreError

v = ui.require("imports")
ui.log_view(v, "imports")
st.title("Import history")
done = st.session_state.pop("rollback_done", None)  # what the last click did, shown after the page redraws
if done:
    st.success(done)


def history():
    """The import history, the table shown and the rollback choice's labels (the imports still
    loaded, newest first), once per data version for every session."""
    df = ui.store().imports(ui.cursor())  # the run's version: the one it is shared under
    if df.empty:
        return df, df, {}
    df = df.assign(rows=df["row_counts"].map(lambda s: sum(json.loads(s).values())),
                   warnings=df["warnings"].map(lambda s: len(json.loads(s))),
                   status_label=df["status"].map(lambda s: wording.IMPORT_STATUS.get(s, s)),
                   loaded_on=df["imported_at"].map(wording.date_words),
                   rolled_back_on=df["rolled_back_at"].map(lambda t: wording.date_words(t) if t is not None and t == t
                                                           else ""),
                   rolled_back_by=df["rolled_back_by"].fillna(""))
    show = df[["import_id", "period", "status_label", "file_name", "user_name", "loaded_on", "rows", "warnings",
               "rolled_back_by", "rolled_back_on"]].sort_values("import_id", ascending=False)
    loaded = df[df["status"] == "loaded"].sort_values("import_id", ascending=False)
    labels = {int(i): f"{i} · {p} · {f}" for i, p, f in zip(loaded["import_id"], loaded["period"], loaded["file_name"])}
    return df, pa.Table.from_pandas(show, preserve_index=False), labels  # as Arrow: a view does not convert it again


df, show, loaded = viewcache.shared("imports-history", (ui.version(),), history)
if df.empty:
    st.info("No imports yet. Analysts load the monthly extract on the Upload page.")
    st.stop()
st.dataframe(show, hide_index=True, width="stretch", key="imports-table",
             column_config={"import_id": st.column_config.NumberColumn("Import", width=60),
                            "period": st.column_config.TextColumn("Month", width=70),
                            "status_label": st.column_config.TextColumn("Status", width=85),
                            "file_name": st.column_config.TextColumn("File", width=160),
                            "user_name": st.column_config.TextColumn("Loaded by", width=90),
                            "loaded_on": st.column_config.TextColumn("When", width=135),
                            "rows": st.column_config.NumberColumn("Rows", width=60),
                            "warnings": st.column_config.NumberColumn("Warnings", width=70),
                            "rolled_back_by": st.column_config.TextColumn("Rolled back by", width=100),
                            "rolled_back_on": st.column_config.TextColumn("Rolled back", width=125)})
ui.download(lambda: wording.with_labels(df[["import_id", "period", "status", "file_name", "user_name", "imported_at",
                                            "rows", "warnings", "rolled_back_by", "rolled_back_at"]]), "imports",
            key="dl-imports", v=v)

if v.role != "analyst":
    st.caption("Analysts can roll an import back.")
    st.stop()

st.subheader("Roll an import back")
st.write("Its records stop counting and the earlier versions become current again. Nothing is deleted; "
         "the file stays in the history.")
if not loaded:
    st.info("Every import is already rolled back.")
    st.stop()
# A new widget after each rollback (its key counts them): popping the old key made the page work
# with the newest loaded import while the browser kept showing the one just rolled back, so the
# confirmation named an import the analyst had not chosen (found by a review)
generation = st.session_state.get("rollback_generation", 0)
choice = st.selectbox("Import", list(loaded), key=f"rollback_choice_{generation}", format_func=loaded.get)
# one confirmation per import: choosing another import (or a rollback moving the choice on) starts unticked
confirm = st.checkbox(f"Yes, roll back import {choice}", key=f"rollback_confirm_{choice}")
if st.button("Roll back", type="primary", disabled=not confirm, key="rollback"):
    user = ui.require("imports")
    if user.role != "analyst":  # checked again where it is done
        st.error("Only analysts can roll imports back.")
        st.stop()
    try:
        # seconds on a busy server: the KPIs of every month its records touch are recomputed
        with st.spinner(f"Rolling back import {choice} and recomputing the figures..."):
            message = ui.store().rollback(int(choice), user=user.user, role=user.role)
    except StoreError as exc:
        st.error(str(exc))
    else:
        ui.clear_caches()
        ui.reset_filters()
        # draw the page again so the history, the choice, the checkbox and the button show the new state
        st.session_state.pop(f"rollback_confirm_{choice}", None)
        st.session_state.pop(f"rollback_choice_{generation}", None)
        st.session_state["rollback_generation"] = generation + 1
        st.session_state["rollback_done"] = message
        st.rerun()

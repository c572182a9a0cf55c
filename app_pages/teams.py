"""Teams: which area office each Allocated Team of Ofsted's Annex A belongs to (analysts)."""

import pandas as pd
import streamlit as st

from csc import annexa, text, ui, viewcache

v = ui.require("teams")
ui.log_view(v, "teams")
st.title("Teams and area offices")
st.write(
    "Ofsted's Annex A lists give each child's **Allocated Team**, not the area office. Annex A uploads take the "
    "area office from this table. A file naming a team that is not mapped here is refused, and the team is "
    "added below with a blank area office: fill it in, save, then upload the file again. Rows with no "
    f"Allocated Team count under \"{annexa.NO_TEAM_AREA}\"."
)
st.caption(
    "A change applies to files loaded from then on; a record already loaded keeps its area office until a later "
    "Annex A that lists it is loaded (or its import is rolled back and the file loaded again)."
)

saved = st.session_state.pop("teams_saved", None)
if saved:
    st.success(saved)


def mapping():
    """The mapping as the page shows it and edits it, what was read (`annexa.mapping_seen`) and the
    inferred involvements' summary (None: an involvements sheet is loaded): once per data version."""
    cur = ui.cursor()  # the run's version: the one it is shared under
    found = annexa.team_table(cur)
    return (found, found.assign(changed_at=pd.to_datetime(found["changed_at"])), annexa.mapping_seen(found),
            annexa.inferred_summary(cur) if annexa.involvements_inferred(cur) else None)


table, editable, seen, inferred = viewcache.shared("teams-mapping", (ui.version(),), mapping)  # never changed here
pending = table.loc[table["area_office"].isna(), "team"].tolist()
if pending:
    shown = ", ".join(f'"{text.md(t)}"' for t in pending[:20]) + (f" and {len(pending) - 20} more" if len(pending) > 20 else "")
    st.warning(f"{len(pending)} team(s) seen in Annex A uploads have no area office yet: {shown}.")
elif table.empty:
    st.info("No teams yet. Add each Allocated Team and its area office below, or upload an Annex A workbook: the "
            "teams it names are listed here for mapping.")

areas = sorted({a for a in table["area_office"].dropna()} | set(ui.filter_options(ui.version())[0]))
if areas:
    st.caption("Area offices already in use: " + ", ".join(text.md(a) for a in areas) + ". Spell them the same way, so that figures "
               "add up under one area.")

version = st.session_state.setdefault("teams_version", 0)
# Another analyst's save while this one edits changes the table under the editor, and the editor
# starts again from the new table: say so, rather than "Nothing to save" when the edits are gone
waiting = st.session_state.get(f"teams_editor_{version}") or {}
had_edits = any(waiting.get(k) for k in ("edited_rows", "added_rows", "deleted_rows"))
before = st.session_state.get("teams_table")  # the mapping the editor's edits were made on
changed_under = had_edits and before not in (None, seen)
st.session_state["teams_table"] = seen
overtaken = st.session_state.pop("teams_overtaken", None)  # a save refused: changed between this read and it
if changed_under or overtaken:
    st.warning(overtaken or f"The mapping was changed{text.md(annexa.last_change(table))} while you were editing: "
               "your unsaved changes were not kept. The table below is the mapping as it now stands; make your "
               "changes again and save.")
    version += 1
    st.session_state["teams_version"] = version  # a fresh editor over the table as it now stands
edited = st.data_editor(
    editable,  # the editor edits a copy
    key=f"teams_editor_{version}",
    num_rows="dynamic",
    hide_index=True,
    width="stretch",
    column_config={
        "team": st.column_config.TextColumn("Allocated Team", required=True,
                                            help="As written in Annex A; case and spaces do not matter."),
        "area_office": st.column_config.TextColumn("Area office", help="Blank: not mapped yet."),
        "changed_by": st.column_config.TextColumn("Set by", disabled=True),
        "changed_at": st.column_config.DatetimeColumn("When", disabled=True, format="D MMM YYYY, HH:mm"),
    },
)

if st.button("Save the mapping", type="primary", key="teams_save") and not changed_under:
    who = ui.require("teams")  # checked again where it is done
    try:
        # saved only if the mapping is still the one this run read (and the edits were made on)
        message = annexa.save_team_areas(ui.store(), edited, who.user, who.role, based_on=seen)
    except annexa.MappingChanged as exc:
        st.session_state["teams_overtaken"] = text.md(str(exc))
        st.rerun()  # the mapping as it now stands, in a fresh editor, with the reason
    except annexa.MappingError as exc:
        st.error(text.md(str(exc)))
    else:
        st.session_state["teams_saved"] = message
        st.session_state["teams_version"] = version + 1  # a fresh editor over the saved table
        st.rerun()

ui.download(table, "team-areas", key="dl-teams", v=v, label="Download the mapping (CSV)")

st.subheader("Changes of social worker")
if inferred:
    st.info(
        f"No involvements sheet is loaded, so the changes-of-worker figures are **inferred** from the Allocated "
        f"Worker on Annex A Lists 4 and 7 across {inferred['imports']} monthly Annex A import(s): "
        f"{inferred['involvements']:,} inferred involvement(s) for {inferred['children']:,} child(ren). A child whose "
        "Allocated Worker differs from the previous import's counts as having a new worker from that month. Load an "
        "involvements sheet in the monthly extract for exact figures."
    )
else:
    st.write("The changes-of-worker figures come from the involvements sheet of the monthly extract"
             " (or there is no Annex A import to infer them from).")

"""Upload: check the month's extract, see exactly what is wrong, then load it."""

import datetime as dt
from pathlib import Path

import pandas as pd
import streamlit as st

from csc import template, text, ui, uploads
from csc.store import check_period

v = ui.require("upload")
ui.log_view(v, "upload")
st.title("Upload the month's extract")
st.write("Drag in the workbook. It is checked against the extract format before anything is stored; "
         "a file with problems is never loaded.")
st.download_button("Download a blank extract template (.xlsx)", template.template_bytes(),
                   file_name="csc-extract-template.xlsx", key="dl-template")

today = dt.date.today()
last_month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
months = [(today.replace(day=1) - dt.timedelta(days=28 * i)).strftime("%Y-%m") for i in range(0, 400)]
months = sorted(set(months), reverse=True)
c1, c2 = st.columns([1, 2])
period = c1.text_input("Reporting month (YYYY-MM)", value=last_month, key="upload_period",
                       help="The month the extract reports on; defaults to last month.")
uploaded = c2.file_uploader("Extract workbook (.xlsx or .xlsm)", type=["xlsx", "xlsm", "xls", "csv"], key="upload_file")

if uploaded is None:
    st.info("No file chosen yet. Choose the month, then drag the workbook here.")
    st.stop()
try:
    check_period(period)
except Exception as exc:
    st.error(str(exc))
    st.stop()

# The bytes stay in memory; check and load each copy them into a private folder of their own,
# removed afterwards (csc.uploads). The digest shown here is the one the load insists on.
data = uploaded.getvalue()
store = ui.store()
checked_key = f"_checked_{uploaded.file_id}_{ui.version()}"
if checked_key not in st.session_state:  # checked once per file (and data version): plain values kept
    with st.spinner("Checking every sheet..."):
        checked = uploads.check(store, data, uploaded.name, v.user, v.role)
    st.session_state[checked_key] = {
        "sha256": checked.sha256, "ok": checked.ok, "row_counts": dict(checked.extract.row_counts),
        "errors": [p.as_dict() for p in checked.extract.errors],
        "warnings": [p.as_dict() for p in checked.extract.warnings]}
checked = st.session_state[checked_key]
st.caption(f"SHA-256 of the file checked: `{checked['sha256']}`")

errors = pd.DataFrame(checked["errors"])
warnings = pd.DataFrame(checked["warnings"])
if not checked["ok"]:
    st.error(f"**{text.md(uploaded.name)}** cannot be loaded: {len(errors):,} problem(s) to fix. Nothing was stored.")
    show = errors.rename(columns={"sheet": "Sheet", "row": "Row", "column": "Column", "value": "Value found",
                                  "expected": "Expected", "message": "Problem"})
    st.dataframe(show[["Sheet", "Row", "Column", "Value found", "Expected", "Problem"]], hide_index=True,
                 width="stretch", key="errors-table")
    ui.download(errors.drop(columns=["severity"]), f"problems-{Path(uploaded.name).stem}", key="dl-errors", v=v,
                label="Download the list of problems (CSV)")
    st.stop()

st.success(f"**{text.md(uploaded.name)}** passed every check: "
           + ", ".join(f"{n:,} {s}" for s, n in checked["row_counts"].items()) + ".")
if not warnings.empty:
    with st.expander(f"{len(warnings)} warning(s) — the file can still be loaded", expanded=True):
        for msg in warnings["message"]:
            st.warning(text.md(msg))

if st.button(f"Load it as the extract for {period}", type="primary", key="load"):
    bar = st.progress(0, text="Loading...")

    def progress(done, total, message):
        bar.progress(done / max(total, 1), text=message)

    result = uploads.load(store, uploaded.getvalue(), uploaded.name, period, v.user, v.role, checked["sha256"],
                          progress=progress)
    ui.clear_caches()
    if result.status == "loaded":
        st.success(text.md(result.message) + " The dashboard now shows it.")
        ui.reset_filters()
    elif result.status == "unchanged":
        st.info(result.message)
    else:
        st.error(text.md(result.message))

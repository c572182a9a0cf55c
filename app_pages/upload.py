"""Upload: check the month's extract, see exactly what is wrong, then load it."""

import datetime as dt
import json
from pathlib import Path

import pyarrow as pa
import streamlit as st

from csc import config, crypto, guardrails, readbox, template, text, ui, uploads, viewcache, wording
from csc.extract import Problem
from csc.store import check_period, load_refusals

v = ui.require("upload")
ui.log_view(v, "upload")
readbox.start()  # the reader's processes, started while the file is chosen (once: a later call does nothing)
st.title("Upload the month's extract")
st.write("Drag in the workbook. It is checked against the extract format before anything is stored; "
         "a file with problems is never loaded.")
st.download_button("Download a blank extract template (.xlsx)", template.template_bytes,  # made on the press
                   file_name="csc-extract-template.xlsx", key="dl-template", on_click="ignore")

store = ui.store()
try:  # checking and loading both need the deployment's key: a key kept wrongly is said here, before any file
    config.id_key(store.path)
except crypto.KeyError_ as exc:
    st.error(f"No file can be checked or loaded until the key is put right: {text.md(str(exc))}")
    st.stop()
done = st.session_state.pop("upload_done", None)  # what the last click did, shown after the page redraws
if done:
    getattr(st, done["kind"])(done["message"])


def latest_imports():
    """The latest five imports as the page shows them (Arrow), or None: once per data version."""
    df = store.imports(ui.cursor())  # the run's version: the one it is shared under
    if df.empty:
        return None
    df = df.sort_values("import_id", ascending=False).head(5)
    df = df.assign(rows=df["row_counts"].map(lambda s: sum(json.loads(s).values())),
                   warnings=df["warnings"].map(lambda s: len(json.loads(s))),
                   status=df["status"].map(lambda s: wording.IMPORT_STATUS.get(s, s)))  # in words
    return pa.Table.from_pandas(df[["import_id", "period", "status", "file_name", "user_name", "imported_at", "rows",
                                    "warnings"]], preserve_index=False)


def recent_imports() -> None:
    """The latest imports, so the page shows at once what a load changed."""
    latest = viewcache.shared("upload-latest-imports", (ui.version(),), latest_imports)
    if latest is None:
        return
    st.caption("Latest imports (the Imports page has them all)")
    st.dataframe(latest, hide_index=True, width="stretch", key="upload-imports-table",
                 column_config={"import_id": "Import", "period": "Period", "status": "Status", "file_name": "File",
                                "user_name": "Loaded by",
                                "imported_at": st.column_config.DatetimeColumn("When"),
                                "rows": "Rows", "warnings": "Warnings"})


def problems(dicts: list[dict]) -> list[Problem]:
    return [Problem(**d) for d in dicts]


nonce = st.session_state.setdefault("upload_nonce", 0)  # a new uploader (empty) after each load
c1, c2 = st.columns([1, 2])
# the label names what the box takes (it said ".xlsx or .xlsm" over a box listing six kinds: a review)
uploaded = c2.file_uploader("Extract workbook (.xlsx, .xlsm), or an Annex A, SSD or census file",
                            type=["xlsx", "xlsm", "xls", "csv", "zip", "xml"],
                            key=f"upload_file_{nonce}",
                            help="Also accepted: Ofsted's Annex A workbook; Standard Safeguarding Dataset (SSD) tables, "
                                 "one sheet per ssd_* table or a .zip of one CSV per table (the extract's own sheets "
                                 "can sit beside them in the workbook); the DfE workforce census (.xml), loaded as the month of "
                                 "its census date.")

# The bytes stay in memory; check and load each copy them into a private folder of their own,
# removed afterwards (csc.uploads). The digest shown here is the one the load insists on. The
# check runs once per file and data version, and only plain values of it are kept in the session;
# the file's read itself is kept by the store (`Store.validate`), so the month's warnings and the
# load do not read the file again.
checked = None
if uploaded is not None:
    checked_key = f"_checked_{uploaded.file_id}_{ui.version()}"
    if checked_key not in st.session_state:
        with st.spinner("Checking every sheet..."):
            result = uploads.check(store, uploaded.getvalue(), uploaded.name, v.user, v.role)
        st.session_state[checked_key] = {
            "sha256": result.sha256, "ok": result.ok, "row_counts": dict(result.extract.row_counts),
            "errors": [p.as_dict() for p in result.extract.errors],
            "warnings": [p.as_dict() for p in result.extract.warnings],
            "auto": guardrails.default_period(store.cursor(), result.extract if result.ok else None, uploaded.name),
            # a file that fixes its own month (a workforce census: its census date's) loads as that month
            "fixed": (getattr(result.extract, "period", None) or None) if result.ok else None,
            "guardrails": {},  # period -> the warnings on loading it as that month
        }
    checked = st.session_state[checked_key]

# The reporting month: where the file's dates point, else the month after the latest loaded; never
# the clock's. A month typed by the analyst is kept; one the page chose follows the file.
auto = (checked["auto"] if checked else viewcache.shared(  # with no file: the month after the latest loaded
    "upload-next-month", (ui.version(),), lambda: guardrails.default_period(ui.cursor(), None, None))) or ""
fixed = checked.get("fixed") if checked else None
if fixed or st.session_state.get("upload_period") in (None, st.session_state.get("upload_period_auto")):
    st.session_state["upload_period"] = auto
st.session_state["upload_period_auto"] = auto
period = c1.text_input("Reporting month (YYYY-MM)", key="upload_period", disabled=bool(fixed),
                       help=(f"A workforce census loads as the month of its census date: {fixed}." if fixed else
                             "The month the extract reports on: by default the month the file's dates point to, "
                             "else the month after the latest one loaded."))

if uploaded is None:
    st.info("No file chosen yet. Check the month, then drag the workbook here.")
    recent_imports()
    st.stop()

st.caption(f"SHA-256 of the file checked: `{checked['sha256']}`")
if not checked["ok"]:
    errors = problems(checked["errors"])
    st.error(f"**{text.md(uploaded.name)}** cannot be loaded: {len(errors):,} problem(s) to fix. Nothing was stored.")
    show = guardrails.problems_table(errors)
    st.dataframe(show, hide_index=True, width="stretch", key="errors-table",
                 column_config={"Problem": st.column_config.TextColumn("Problem", width="large")})
    ui.download(show, f"problems-{Path(uploaded.name).stem}", key="dl-errors", v=v,
                label="Download the list of problems (CSV)")
    recent_imports()
    st.stop()

try:
    check_period(period)
except Exception as exc:
    st.error(str(exc))
    st.stop()
refusals = load_refusals(checked["row_counts"], period, dt.date.today())  # no records; a month not begun
if refusals:
    st.error(f"**{text.md(uploaded.name)}** cannot be loaded as {period}: "
             + " ".join(text.message(p.message) for p in refusals))
    recent_imports()
    st.stop()

if period not in checked["guardrails"]:  # the month-dependent warnings need the file's records (the read kept)
    with st.spinner(f"Comparing the file with what is loaded for {period}..."):
        again = uploads.check(store, uploaded.getvalue(), uploaded.name, v.user, v.role)
        checked["guardrails"][period] = [p.as_dict() for p in
                                         store.guardrail_warnings(again.extract, period, uploaded.name)]
warnings = problems(checked["warnings"]) + problems(checked["guardrails"][period])
st.success(f"**{text.md(uploaded.name)}** passed every check: "
           + ", ".join(f"{n:,} {s}" for s, n in checked["row_counts"].items()) + ".")
if warnings:
    with st.expander(f"{len(warnings)} warning(s) — the file can still be loaded", expanded=True):
        for w in warnings:
            st.warning(text.message(w.message))
        ui.download(guardrails.problems_table(warnings).assign(Code=[w.code or "" for w in warnings]),
                    f"warnings-{Path(uploaded.name).stem}", key="dl-warnings", v=v,
                    label="Download the warnings (CSV)")

replacing = any(w.code == "period_loaded" for w in warnings)
# "Update", not "Replace": records missing from the new file stay current (a review read "Replace" as
# removing them; the warning above says how many, and how to remove them)
label = f"Update the extract for {period}" if replacing else f"Load it as the extract for {period}"


def _start_load() -> None:
    st.session_state["upload_loading"] = True


# The click is remembered before the run that loads, so that run draws the button disabled: a
# second click on it mid-load started another run, which stopped the load at its next progress
# update (undone: nothing stored) and left the bar frozen (found by a review)
loading = bool(st.session_state.get("upload_loading"))
st.session_state["upload_loading"] = False
st.button(label, type="primary", key="load", disabled=loading, on_click=_start_load,
          help="Loading: wait for it to finish." if loading else None)
if loading:
    bar = st.progress(0, text="Loading...")

    def progress(done, total, message):
        bar.progress(done / max(total, 1), text=message)

    result = uploads.load(store, uploaded.getvalue(), uploaded.name, period, v.user, v.role, checked["sha256"],
                          progress=progress)
    ui.clear_caches()
    if result.status == "loaded":
        ui.reset_filters()
        # start again from an empty uploader and the next month due, with every table redrawn
        st.session_state["upload_nonce"] = nonce + 1
        for key in ("upload_period", "upload_period_auto"):
            st.session_state.pop(key, None)
        st.session_state["upload_done"] = {"kind": "success",
                                           "message": text.message(result.message) + " The dashboard now shows it."}
        st.rerun()
    elif result.status == "unchanged":
        st.info(text.message(result.message))
    else:
        st.error(text.message(result.message))
        st.dataframe(guardrails.problems_table(result.errors), hide_index=True, width="stretch", key="load-errors")

recent_imports()

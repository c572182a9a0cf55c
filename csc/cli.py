"""The command line: `python -m csc <command>`. Every command takes --db PATH (default
data/csc.duckdb, overridden by $CSC_DB).

Every command that shows or moves data is audit-logged like the dashboard's pages, with the
role `operator` (whoever has a shell on the server) and the user given by --user (default
`cli:<login name>`). While the dashboard runs it holds DuckDB's single-writer lock: a command
then stops with a message saying so (exit status 3), never a traceback."""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import json
import math
import sys
from pathlib import Path

from csc import config


CLI_ROLE = "operator"
BUSY = 3  # exit status: the database is in use by another process (the dashboard)


def _db_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", help="database file (default: $CSC_DB or data/csc.duckdb)")


def _default_user() -> str:
    try:
        return "cli:" + getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name (a container): still say it was the command line
        return "cli"


def _user_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--user", default=None, help="who runs the command, for the audit log (default: cli:<login name>)")


def _who(args) -> str:
    return getattr(args, "user", None) or _default_user()


def _is_lock_error(exc: BaseException) -> bool:
    import duckdb

    text = str(exc).lower()
    return isinstance(exc, duckdb.Error) and ("lock" in text or "conflicting" in text or "being used" in text)


BUSY_MESSAGE = ("Error: the database {db} is in use by another process (the dashboard holds it while it runs), "
                "so this command cannot open it. Run it when the dashboard is stopped, or do it in the dashboard "
                "(Upload, Imports, the board pack on the Overview page). Nothing was changed.")


def _progress_bar(done: int, total: int, message: str) -> None:
    if not sys.stderr.isatty():
        return
    width = 30
    filled = int(width * done / max(total, 1))
    sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {message[:50]:<50}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _print_problems(problems, out=sys.stdout, limit: int = 200) -> None:
    for p in problems[:limit]:
        out.write(f"  {p.severity.upper()}: {p.message}\n")
    if len(problems) > limit:
        out.write(f"  ... and {len(problems) - limit:,} more ({len(problems):,} in all)\n")


def _no_file(path: str) -> str | None:
    """Why `path` is not a file to read, in words (a red-team review met a traceback for a mistyped
    name, and "damaged or incomplete" for a file that is not there); None when it is one."""
    p = Path(path)
    if p.is_dir():
        return f"{path} is a folder, not a file: name the extract's file."
    if not p.exists():
        return f"There is no file {path}: check the name and the folder."
    return None


def cmd_import(args) -> int:
    from csc.store import Store, StoreError

    if why := _no_file(args.file):
        print(f"Error: {why} Nothing was stored.", file=sys.stderr)
        return 2
    try:
        with Store.open(args.db) as store:
            result = store.import_file(Path(args.file), args.period, user=_who(args), role=CLI_ROLE,
                                       progress=_progress_bar)
    except StoreError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        _print_json(result.as_dict(), default=str)
        return 0 if result.status != "refused" else 1
    print(result.message)
    if result.status == "loaded":
        for sheet, n in result.row_counts.items():
            print(f"  {sheet}: {n:,} rows")
    if result.problems:
        _print_problems(result.errors + result.warnings)
    return 0 if result.status != "refused" else 1


def cmd_validate(args) -> int:
    from csc.store import StoreError, check_period

    if args.period:
        try:
            check_period(args.period)
        except StoreError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 2
    if why := _no_file(args.file):
        print(f"Error: {why}", file=sys.stderr)
        return 2
    extract, period = _validate_file(Path(args.file), args.db, args.period)
    if args.json:
        _print_json({"ok": extract.ok, "period": period, "row_counts": extract.row_counts,
                     "errors": [p.as_dict() for p in extract.errors],
                     "warnings": [p.as_dict() for p in extract.warnings]})
        return 0 if extract.ok else 1
    if extract.ok:
        total = sum(extract.row_counts.values())
        print(f"The file is valid: {total:,} rows in {len(extract.sheets)} sheet(s). Nothing was stored.")
        if period:
            print(f"Checked as the extract for {period}" + ("" if args.period else " (the month it points to; "
                  "say another with --period)") + ".")
        for sheet, n in extract.row_counts.items():
            print(f"  {sheet}: {n:,} rows")
    else:
        print(f"The file has {len(extract.errors):,} problem(s) to fix. Nothing was stored.")
    _print_problems(extract.errors + extract.warnings)
    return 0 if extract.ok else 1


def _validate_file(path: Path, db: str | None, period: str | None = None):
    """The import's checks, storing nothing, as the extract for `period` (default: the month the
    file's dates point to, else the month after the latest loaded): against the database
    read-only when it can be opened (so Annex A team mappings, known workers and the guardrails on
    the month count), else the file alone. Returns (extract, the period checked)."""
    from csc import guardrails
    from csc.extract import Problem, read_workbook
    from csc.store import Store, load_refusals

    typed = period

    def fixed_month(extract) -> str | None:
        """A workforce census loads as its census date's month whatever month is typed (as
        `import` does): checked as that month, and said so (a review: `validate` said the typed
        month, `import` then loaded 2022-09 with warnings `validate` had not shown)."""
        census_period = getattr(extract, "period", None) if extract.ok else None
        if census_period and typed and census_period != typed:
            extract.problems.append(Problem("warning", f"Checked as {census_period}, the month of the census date, not "
                                                       f"{typed}: it loads as {census_period}.", code="census_period"))
        return census_period or None

    def refusals(extract, period) -> None:
        """With a month named, what a load for it would refuse (without one, the blank template checks)."""
        if extract.ok and typed and period:
            extract.problems.extend(load_refusals(extract.row_counts, period, dt.date.today()))

    def alone():
        """No database (or a locked one): an Annex A workbook is still read as Annex A, its teams
        unchecked and its ids hashed with a throw-away key (nothing is stored)."""
        from csc import annexa, census, ssd

        if annexa.is_annex_a(path):
            import secrets

            return annexa.read(path, None, id_key=secrets.token_bytes(32))
        if ssd.is_ssd(path):
            return ssd.read(path, None)
        if census.is_census(path):
            return census.read(path)
        return read_workbook(path)

    db_file = config.db_path(db)
    if db_file.exists():
        try:
            store = Store.open(db_file, read_only=True)
        except Exception:  # the dashboard holds the write lock: check the file on its own
            store = None
        if store is not None:
            with store:
                extract = store.validate(path)
                if not extract.ok:  # read-only: says the unmapped teams were not added to the Teams page
                    from csc import annexa

                    annexa.record_unmapped(store, extract)
                if extract.ok:
                    period = fixed_month(extract) or period or guardrails.default_period(store.cursor(), extract,
                                                                                         path.name)
                    extract.problems.extend(store.guardrail_warnings(extract, period, path.name))
                    refusals(extract, period)
                return extract, period
    extract = alone()
    if extract.ok:
        period = (fixed_month(extract) or period or guardrails.dates_month(extract)[0]
                  or guardrails.file_name_month(path.name))
        extract.problems.extend(guardrails.missing_columns(extract, period or "the month"))
        refusals(extract, period)
    return extract, period


def cmd_imports(args) -> int:
    from csc.store import Store

    with Store.open(args.db) as store:
        df = store.imports()
        store.audit(_who(args), CLI_ROLE, "view", {"command": "imports"})
    if args.json:
        records = []
        for row in df.to_dict("records"):
            row["row_counts"] = json.loads(row["row_counts"])
            row["warnings"] = json.loads(row["warnings"])
            records.append({k: (None if _isna(v) else v) for k, v in row.items()})
        _print_json(records, default=str)
        return 0
    if df.empty:
        print("No imports yet. Load one with: python -m csc import FILE --period YYYY-MM")
        return 0
    cols = ["import_id", "period", "status", "file_name", "user_name", "imported_at"]
    print(df[cols].to_string(index=False))
    return 0


def _finite(obj):
    """`obj` with every number that is not finite (infinity, NaN) made None, through lists and
    dictionaries: JSON has no such numbers, and Python's `json` writes `Infinity` and `NaN`, which
    JSON readers refuse (a funded FTE of 1e308 on two rows overflows the vacancy rate's sums)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_finite(v) for v in obj]
    return obj


def _print_json(obj, default=None) -> None:
    """`--json` output: valid JSON whatever the figures (`_finite`)."""
    print(json.dumps(_finite(obj), indent=2, default=default, allow_nan=False))


def _isna(v) -> bool:
    try:
        import pandas as pd

        return v is None or (not isinstance(v, (list, dict, str)) and bool(pd.isna(v)))
    except (TypeError, ValueError):
        return False


def cmd_rollback(args) -> int:
    from csc.store import Store, StoreError

    try:
        with Store.open(args.db) as store:
            print(store.rollback(args.import_id, user=_who(args), role=CLI_ROLE))
    except StoreError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_template(args) -> int:
    from csc.template import write_template

    write_template(Path(args.out))
    print(f"Wrote a blank extract template to {args.out}")
    return 0


def cmd_kpis(args) -> int:
    from csc import kpis
    from csc.store import Store

    with Store.open(args.db) as store:
        cur = store.cursor()
        if args.kpi:
            try:
                kpis.get(args.kpi)
            except KeyError as exc:
                print(f"Error: {exc.args[0]}", file=sys.stderr)
                return 2
        board = args.role == "board"
        if args.by == "team":
            df = kpis.team_results(cur, kpi=args.kpi, period=args.period, board=board,
                                   areas=[args.area] if args.area and args.area.lower() != "all" else None)
            if not board:
                df = df.drop(columns=["suppressed"])
        elif args.area and args.area.lower() == "all":
            df = kpis.results(cur, kpi=args.kpi, period=args.period, board=board)
            df = df[df["area"].isna()]
        else:
            df = kpis.results(cur, kpi=args.kpi, period=args.period, area=args.area, board=board)
        store.audit(_who(args), CLI_ROLE, "view", {"command": "kpis", "kpi": args.kpi, "period": args.period,
                                                    "area": args.area, "rows": len(df)})
    if args.json:
        out = []
        for row in df.itertuples(index=False):
            item = {
                "kpi": row.kpi,
                "period": row.period,
                "area": None if _isna(row.area) else row.area,
                **({"team": row.team} if args.by == "team" else {}),
                "numerator": None if _isna(row.numerator) else float(row.numerator),
                "denominator": None if _isna(row.denominator) else float(row.denominator),
                "value": None if _isna(row.value) else float(row.value),
            }
            if board:
                item["suppressed"] = bool(row.suppressed)
            out.append(item)
        _print_json(out)
        return 0
    if df.empty:
        print("No KPI values for that selection.")
        return 0
    df = df.assign(area=df["area"].fillna("All areas"))
    if board:  # hidden figures as c, as the board sees them
        for col in ("numerator", "denominator", "value"):
            df[col] = df[col].map(lambda v: "" if _isna(v) else f"{v:.2f}").where(~df["suppressed"].astype(bool), "c")
        df = df.drop(columns=["suppressed"])
    print(df.to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    return 0


def cmd_refresh(args) -> int:
    """Recompute the current tables, every KPI and the data-quality counts of an existing
    database, e.g. after a KPI's `.sql` file was added or changed."""
    from csc import kpis, quality
    from csc.store import Store

    db = config.db_path(args.db)
    if not db.exists():
        print(f"Error: there is no database at {db}.", file=sys.stderr)
        return 2

    def summary(cur) -> dict:
        rows = cur.execute("select count(*), count(distinct kpi), max(period) from kpi_results").fetchall()[0]
        checks = quality.counts(cur)
        return {"kpis": len(kpis.registry()), "kpis_with_values": int(rows[1]), "kpi_rows": int(rows[0]),
                "latest_period": rows[2], "checks": len(quality.registry()),
                "check_rows": int(checks["count"].sum()) if len(checks) else 0}

    with Store.open(db) as store:
        result = store.refresh(_who(args), CLI_ROLE, summary)  # audited with its counts
    if args.json:
        _print_json(result)
        return 0
    print(f"Recomputed {result['kpis']} KPIs ({result['kpi_rows']:,} figures, {result['kpis_with_values']} KPIs with "
          f"values, latest {result['latest_period'] or 'none'}) and {result['checks']} data-quality checks "
          f"({result['check_rows']:,} rows found).")
    return 0


def cmd_docs(args) -> int:
    """Write the generated parts of docs/kpis.md and docs/extract-format.md (or, with --check,
    say which are out of date)."""
    from csc import kpidocs

    changed = kpidocs.write(Path(args.docs) if args.docs else None, check=args.check)
    if args.json:
        _print_json({"changed" if not args.check else "out_of_date": changed})
    elif changed:
        print(("Out of date: " if args.check else "Regenerated: ") + ", ".join(changed))
    else:
        print("The generated documentation is up to date.")
    return 1 if args.check and changed else 0


def cmd_demo(args) -> int:
    from csc import demo

    first, _, last = args.months.partition(":")
    demo.run_demo(config.db_path(args.db), first=first, last=last or first,
                  out_dir=Path(args.out) if args.out else None, progress=_progress_bar, seed=args.seed)
    print(f"Demo council loaded into {config.db_path(args.db)} ({first} to {last or first}).")
    return 0


def cmd_boardpack(args) -> int:
    from csc import boardpack, kpis, plan, report
    from csc.store import Store

    out = Path(args.out)
    if out.suffix.lower() not in (".xlsx", ".html", ".htm"):
        print(f"Error: the board pack is written as .xlsx or .html, not {out.name}.", file=sys.stderr)
        return 2
    with Store.open(args.db) as store:
        cur = store.cursor()
        period = args.period or report.latest_period(cur)
        if period is None:
            print("Error: no extract is loaded yet, so there is nothing to report.", file=sys.stderr)
            return 2
        known = kpis.areas(cur)
        unknown = [a for a in args.area or [] if a not in known]
        if unknown:
            print(f"Error: unknown area office {', '.join(unknown)}; known: {', '.join(known) or 'none'}.", file=sys.stderr)
            return 2
        try:
            boardpack.write(out, cur, plan.current(cur), period, areas=args.area or None, role=args.role)
        except ValueError as exc:
            print(f"Error: {exc}", file=sys.stderr)
            return 2
        store.audit(_who(args), CLI_ROLE, "export", {"what": "board pack", "command": "boardpack", "file": str(out),
                                                      "period": period, "areas": args.area or [],
                                                      "suppressed": args.role == "board"})
    areas = ", ".join(args.area) if args.area else "all areas"
    print(f"Wrote the board pack ({args.role} version) for {period} ({areas}) to {out}")
    return 0


def cmd_rebuild(args) -> int:
    from csc import recovery

    try:
        report = recovery.rebuild(args.db, args.source, history=args.history, partial=args.partial,
                                  progress=_progress_bar)
    except recovery.RecoveryError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    print(report.summary())
    return 1 if report.problems else 0


def cmd_backup(args) -> int:
    import duckdb

    from csc import recovery
    from csc.store import Store

    try:
        with Store.open(args.db) as store:
            print(recovery.backup(store, Path(args.folder)).summary())
            store.audit(_who(args), CLI_ROLE, "export", {"what": "backup", "command": "backup", "folder": args.folder})
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        print("Error: the database is open in another process (the dashboard). A second process cannot open it "
              "while the dashboard runs: back up from the dashboard (recovery.backup), or stop it and run this again.",
              file=sys.stderr)
        return 2
    except recovery.RecoveryError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_export_parquet(args) -> int:
    import duckdb

    from csc import parquet
    from csc.store import Store

    try:
        with Store.open(args.db) as store:
            written = parquet.export_parquet(store, Path(args.folder), council=args.council)
            store.audit(_who(args), CLI_ROLE, "export", {"what": "records as Parquet", "command": "export-parquet",
                                                          "folder": args.folder})
    except config.ConfigError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except duckdb.IOException as exc:
        if "lock" not in str(exc).lower():
            raise
        print("Error: the database is open in another process (the dashboard): export from the dashboard "
              "(parquet.export_parquet), or stop it and run this again.", file=sys.stderr)
        return 2
    print(f"Wrote {written['records']} record file(s) ({written['kept']} already there) and "
          f"{written['tables']} table file(s) to {Path(args.folder) / config.council(args.council)}.")
    return 0


def cmd_spark_kpis(args) -> int:
    from csc import spark

    if not spark.java_available():
        print("Error: Spark needs Java (17 or later): install it, e.g. apt-get install default-jre-headless.",
              file=sys.stderr)
        return 2
    from pyspark.sql import SparkSession

    running = SparkSession.getActiveSession()  # called from a process that has one: use it, leave it
    session = running or spark.session(args.master, memory=args.memory)
    try:
        _, run = spark.run(session, Path(args.parquet_dir), Path(args.out_dir), councils=args.council or None)
    except FileNotFoundError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    finally:
        if running is None:
            session.stop()
    print(run.summary())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m csc", description="Children's Social Care performance dashboard")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("import", help="validate and load a monthly extract")
    p.add_argument("file")
    p.add_argument("--period", required=True, help="the reporting month, YYYY-MM")
    _user_arg(p)
    p.add_argument("--json", action="store_true")
    _db_arg(p)
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("validate", help="check a workbook, storing nothing")
    p.add_argument("file")
    p.add_argument("--period", help="the reporting month it would load as, YYYY-MM (default: the month its dates "
                                    "point to, else the month after the latest loaded)")
    p.add_argument("--json", action="store_true")
    _db_arg(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("imports", help="list the imports")
    p.add_argument("--json", action="store_true")
    _user_arg(p)
    _db_arg(p)
    p.set_defaults(func=cmd_imports)

    p = sub.add_parser("rollback", help="roll an import back")
    p.add_argument("import_id", type=int)
    _user_arg(p)
    _db_arg(p)
    p.set_defaults(func=cmd_rollback)

    p = sub.add_parser("template", help="write a blank extract workbook")
    p.add_argument("out")
    _db_arg(p)
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("kpis", help="print the KPIs")
    p.add_argument("--period")
    p.add_argument("--area", help='an area office, or "all" for the all-areas rows only')
    p.add_argument("--kpi")
    p.add_argument("--json", action="store_true")
    p.add_argument("--role", choices=("director", "board", "analyst"), default="director",
                   help="board: what a board member sees (hidden figures null, with \"suppressed\")")
    p.add_argument("--by", choices=("area", "team"), default="area",
                   help="team: one row per area office and team (for the board, none of the re-referral rate, "
                        "whose office counts it sees)")
    _user_arg(p)
    _db_arg(p)
    p.set_defaults(func=cmd_kpis)

    p = sub.add_parser("refresh", help="recompute every KPI and check for an existing database")
    p.add_argument("--json", action="store_true")
    _user_arg(p)
    _db_arg(p)
    p.set_defaults(func=cmd_refresh)

    p = sub.add_parser("docs", help="regenerate the KPI reference (docs/kpis.md) and sheet tables from the code")
    p.add_argument("--docs", help="the docs folder (default: docs/ of this checkout)")
    p.add_argument("--check", action="store_true", help="change nothing; exit 1 when a page is out of date")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_docs)

    p = sub.add_parser("demo", help="generate and load the demo council")
    p.add_argument("--months", default="2010-04:2012-03", help="FIRST:LAST, e.g. 2010-04:2012-03")
    p.add_argument("--out", help="where to write the monthly workbooks")
    p.add_argument("--seed", type=int, default=2011, help="the random seed: another seed, another council")
    _db_arg(p)
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("boardpack", help="write the board pack (.xlsx or .html) for a month")
    p.add_argument("out", help="the file to write: .xlsx (Excel) or .html (prints to PDF)")
    p.add_argument("--period", help="the month, YYYY-MM (default: the latest loaded)")
    p.add_argument("--area", action="append", help="an area office; repeat for several (default: all areas together)")
    p.add_argument("--role", choices=("board", "director", "analyst"), default="board",
                   help="board (default): small numbers suppressed as c; director/analyst: not suppressed")
    _user_arg(p)
    _db_arg(p)
    p.set_defaults(func=cmd_boardpack)
    p = sub.add_parser("rebuild", help="recreate the database from the kept upload files and the history")
    p.add_argument("--from", dest="source", metavar="DIR",
                   help="a data folder holding uploads/ (or an uploads folder); default: the database's folder")
    p.add_argument("--history", choices=("auto", "database", "manifest"), default="auto",
                   help="where the history comes from: the old database if readable, else uploads/manifest.jsonl")
    p.add_argument("--partial", action="store_true", help="put the result in place even if some imports cannot be replayed")
    _db_arg(p)
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("backup", help="copy the database, kept (encrypted) uploads and manifest to a new folder")
    p.add_argument("folder")
    _user_arg(p)
    _db_arg(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("export-parquet", help="write the records as Parquet, one file set per import")
    p.add_argument("folder")
    p.add_argument("--council", help="the council's code, naming its folder (default: $CSC_COUNCIL or demo)")
    _user_arg(p)
    _db_arg(p)
    p.set_defaults(func=cmd_export_parquet)

    p = sub.add_parser("spark-kpis", help="every KPI on Apache Spark over councils' Parquet exports, pooled")
    p.add_argument("parquet_dir", help="a folder of export-parquet council folders")
    p.add_argument("out_dir", help="where to write kpi_results/council=<code>/ (the regional view reads it)")
    p.add_argument("--master", help="the Spark master (default: $CSC_SPARK_MASTER or local[2])")
    p.add_argument("--memory", default="1g", help="driver and executor memory (default 1g)")
    p.add_argument("--council", action="append", help="only this council; repeat for several (default: all)")
    p.set_defaults(func=cmd_spark_kpis)
    return parser


#: Commands that read uploaded workbooks (`csc.readbox`).
READS_WORKBOOKS = {"import", "validate", "demo", "rebuild"}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from csc import crypto, plan, readbox

    if args.command in READS_WORKBOOKS:
        readbox.start()  # the reader's processes start on the other core while this one gets ready

    try:
        return args.func(args)
    except crypto.KeyError_ as exc:  # the key is missing, or kept where it must not be
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except plan.PlanFileError as exc:  # data/action_plan.toml, edited by hand
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not _is_lock_error(exc):
            raise
        print(BUSY_MESSAGE.format(db=config.db_path(getattr(args, "db", None))), file=sys.stderr)
        return BUSY

"""Benchmark: the server's CPU time per warm page view, for every page, as a ratio to a one-line
Streamlit page served the same way in the same run.

    python benchmarks/bench_page_cpu.py [--council demo|big|both] [--views 7] [--batch 5] [--role analyst]

For each council it starts two real servers on 127.0.0.1 with the project's `.streamlit`
configuration: `dashboard.py` on the council's database, and a one-line script (the baseline).
A page view is what a browser's first visit costs the server: a new websocket session
(`/_stcore/stream`) asking for the page (a `rerun_script` message with the page name and
query string), read until `script_finished`. Another session stays connected throughout, as
on a live server. The server's CPU for the view is read from `/proc/<pid>/stat` (user + system)
before and after. The kernel counts CPU in 10 ms ticks, so each sample is `--batch` views of
the same page back to back (each a new session), divided by `--batch`; the median of `--views`
samples (after one cold view per page) is reported, and its ratio to the baseline's median
measured interleaved with the pages.

`--browser` also loads each page in Chromium (a new context per view, so a new session), and
reports the server CPU per browser view beside the protocol figure.

`--elements` instead counts what each page sends on a first visit (the ForwardMsgs of the
protocol session): elements by kind and layout blocks (containers, columns, tabs, ...), as
Streamlit spends ~0.16 ms of server CPU on each one sent.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CSC_ID_KEY", "benchmark")

from benchmarks.bench_load import DONE_JS, ProtocolSession, cpu  # noqa: E402
from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS, Server  # noqa: E402

# name: (page key for the role rules, URL path)
ALL_PAGES = {
    "Overview": ("overview", ""),
    "Action A1": ("action", "action?action=A1"),
    "Workforce": ("workforce", "workforce"),
    "Practice": ("practice", "practice"),
    "Action plan": ("plan", "plan"),
    "Imports": ("imports", "imports"),
    "Data quality": ("data_quality", "data-quality"),
    "Upload": ("upload", "upload"),
    "Teams": ("teams", "teams"),
    "Audit log": ("audit", "audit"),
}
PAGES: dict[str, str] = {}
BASELINE = "import streamlit as st\nst.title('baseline')\n"


def build(council: str, folder: Path) -> Path:
    # each council in a data folder of its own: the folder's uploads/ and manifest belong to one database
    db = folder / council / f"{council}.duckdb"
    if db.exists():
        return db
    db.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    if council == "demo":
        subprocess.run([sys.executable, "-m", "csc", "demo", "--db", str(db), "--out", str(db.parent / "demo-in")],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    else:
        os.environ.setdefault("CSC_SERIES_START", "2012-04")
        from benchmarks import bigcouncil
        from csc.store import Store

        with Store.open(db) as store:
            bigcouncil.load(store, 1.0)
    print(f"built the {council} council in {time.perf_counter() - t0:.0f} s: {db}")
    return db


async def view(session: ProtocolSession, pid: int, path: str, batch: int = 1) -> float:
    """Server CPU seconds per page view over the websocket protocol: `batch` views back to back
    (each a new session), the total divided by `batch`."""
    before, _ = cpu(pid)
    for _ in range(batch):
        load = await session.load(path)
        if load.error:
            raise RuntimeError(f"/{path}: {load.error}")
    after, _ = cpu(pid)
    return (after - before) / batch


async def keep_connected(url: str, stop: asyncio.Event) -> None:
    """One session that stays open for the whole run, as on a live server."""
    import websockets

    ws_url = url.replace("http://", "ws://") + "/_stcore/stream"
    async with websockets.connect(ws_url, subprotocols=["streamlit"], origin=url, max_size=None):
        await stop.wait()


async def measure(app: Server, base: Server, views: int, batch: int = 1) -> dict[str, list[float]]:
    stop = asyncio.Event()
    keepers = [asyncio.create_task(keep_connected(s.url, stop)) for s in (app, base)]
    await asyncio.sleep(1.0)
    sa, sb = ProtocolSession(app.url, 0), ProtocolSession(base.url, 1)
    out: dict[str, list[float]] = {"baseline": []}
    cold = {"baseline": await view(sb, base.proc.pid, "")}
    for name, path in PAGES.items():  # cold: the first view of each page builds what later views reuse
        cold[name] = await view(sa, app.proc.pid, path)
    out["cold"] = cold  # type: ignore[assignment]
    for _ in range(views):
        out["baseline"].append(await view(sb, base.proc.pid, "", batch))
        for name, path in PAGES.items():
            out.setdefault(name, []).append(await view(sa, app.proc.pid, path, batch))
    stop.set()
    await asyncio.gather(*keepers, return_exceptions=True)
    return out


async def count_elements(url: str, path: str) -> dict[str, int]:
    """What one first visit to `path` sends: new elements by kind and layout blocks by kind."""
    from tests.browser.conftest import first_visit

    counts: dict[str, int] = {}
    async for fm in first_visit(url, path, 120):
        if fm.WhichOneof("type") != "delta":
            continue
        delta = fm.delta
        kind = delta.WhichOneof("type")
        if kind == "new_element":
            name = "element:" + delta.new_element.WhichOneof("type")
        elif kind == "add_block":
            name = "block:" + (delta.add_block.WhichOneof("type") or "container")
        else:
            name = kind
        counts[name] = counts.get(name, 0) + 1
    return counts


def elements(council: str, folder: Path, role: str) -> str:
    from csc import pages

    db = build(council, folder)
    env = {"CSC_ID_KEY": os.environ["CSC_ID_KEY"], "CSC_LOCAL_ROLE": role}
    app = Server(db, env=env).start()
    lines = [f"{council} council, role {role}: what a first visit sends"]
    try:
        for name, (key, path) in ALL_PAGES.items():
            if role not in pages.get(key).roles:
                continue
            counts = asyncio.run(count_elements(app.url, path))
            els = sum(n for k, n in counts.items() if k.startswith("element:"))
            blocks = sum(n for k, n in counts.items() if k.startswith("block:"))
            detail = ", ".join(f"{k.split(':')[-1]} {n}" for k, n in sorted(counts.items(), key=lambda kv: -kv[1]))
            lines.append(f"{name:<14} {els + blocks:4d} ({els} elements, {blocks} blocks): {detail}")
    finally:
        app.stop()
    return "\n".join(lines)


def browser_views(app: Server, base: Server, views: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    out: dict[str, list[float]] = {"baseline": []}
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)

        def one(server: Server, path: str) -> float:
            ctx = chromium.new_context(viewport={"width": 1440, "height": 900})
            page = ctx.new_page()
            before, _ = cpu(server.proc.pid)
            page.goto(f"{server.url}/{path}", wait_until="domcontentloaded")
            page.wait_for_function(DONE_JS, timeout=120_000, polling=50)
            page.wait_for_timeout(300)  # the front end's follow-up messages (widget states)
            after, _ = cpu(server.proc.pid)
            ctx.close()
            return after - before

        one(base, "")
        for path in PAGES.values():
            one(app, path)
        for _ in range(views):
            out["baseline"].append(one(base, ""))
            for name, path in PAGES.items():
                out.setdefault(name, []).append(one(app, path))
        chromium.close()
    return out


def table(title: str, protocol: dict, browser: dict | None) -> str:
    b = statistics.median(protocol["baseline"]) * 1000 or float("nan")  # 0: under one 10 ms tick
    cold = protocol.get("cold", {})
    lines = [title, f"{'page':<14} {'ms CPU/view':>12} {'ratio':>7} {'cold ms':>8}" + (f" {'browser ms':>11} {'ratio':>7}" if browser else "")]
    bb = statistics.median(browser["baseline"]) * 1000 if browser else None
    for name in ["baseline", *PAGES]:
        ms = statistics.median(protocol[name]) * 1000
        line = f"{name:<14} {ms:12.1f} {ms / b:6.1f}x {cold.get(name, float('nan')) * 1000:8.0f}"
        if browser:
            bms = statistics.median(browser[name]) * 1000
            line += f" {bms:11.0f} {bms / bb:6.1f}x"
        lines.append(line)
    worst = max(statistics.median(protocol[n]) for n in PAGES) * 1000 / b
    lines.append(f"worst page: {worst:.1f}x the one-line page (aim: at most 3x)")
    return "\n".join(lines)


def run(council: str, folder: Path, views: int, role: str, with_browser: bool, batch: int = 1) -> str:
    from streamlit import logger

    logger.set_log_level("error")  # csc.ui's cached functions, imported outside a server, warn
    from csc import pages

    PAGES.clear()
    PAGES.update({name: path for name, (key, path) in ALL_PAGES.items() if role in pages.get(key).roles})
    db = build(council, folder)
    script = folder / "baseline.py"
    script.write_text(BASELINE)
    env = {"CSC_ID_KEY": os.environ["CSC_ID_KEY"], "CSC_LOCAL_ROLE": role}
    app = Server(db, env=env).start()
    base = Server(db, env=env, script=script).start()
    try:
        protocol = asyncio.run(measure(app, base, views, batch))
        browser = browser_views(app, base, max(3, views // 2)) if with_browser else None
    finally:
        app.stop()
        base.stop()
    load = os.getloadavg()
    return table(f"{council} council, role {role}: server CPU per warm page view (median of {views} samples of "
                 f"{batch} views; load average {load[0]:.1f} {load[1]:.1f})",
                 protocol, browser)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--council", choices=["demo", "big", "both"], default="both")
    ap.add_argument("--views", type=int, default=7, help="samples per page")
    ap.add_argument("--batch", type=int, default=5, help="views back to back in one sample (10 ms CPU ticks)")
    ap.add_argument("--role", default="board", choices=["board", "director", "analyst"])
    ap.add_argument("--browser", action="store_true", help="also measure page views in Chromium")
    ap.add_argument("--elements", action="store_true", help="count what each page sends instead of timing it")
    ap.add_argument("--folder", help="keep the councils' databases here (reused when present)")
    args = ap.parse_args()
    folder = Path(args.folder or tempfile.mkdtemp(prefix="csc-pagecpu-"))
    folder.mkdir(parents=True, exist_ok=True)
    for council in (["demo", "big"] if args.council == "both" else [args.council]):
        if args.elements:
            print(elements(council, folder, args.role))
        else:
            print(run(council, folder, args.views, args.role, args.browser, args.batch))
        print()


if __name__ == "__main__":
    main()

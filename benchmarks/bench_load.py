"""Load test: 20+ simultaneous sessions on the real server while an analyst imports two extracts
and rolls one back through the pages, beside a baseline with no import, in one run.

    python benchmarks/bench_load.py [--sessions 20] [--browsers 2] [--rounds 3] [--scale 0.015]

It starts `streamlit run dashboard.py` on a free port of 127.0.0.1 with a temporary database
holding one month of a synthetic council (~16,000 records over ten years) and opens:

- `--sessions` protocol sessions: each page load opens Streamlit's websocket
  (`/_stcore/stream`), asks for the page as the browser does (a `rerun_script` message with the
  page name and query string) and reads the server's messages until `script_finished`. This is
  the server's whole work for a page view, without the cost of drawing it, so that the load
  generator does not eat the CPU the server needs on a small machine;
- `--browsers` Chromium sessions (headless, one context each) loading the same pages for real:
  timed from `page.goto` to the app reporting its script finished
  (`stApp[data-test-script-state=notRunning]` with the page's title drawn);
- one more Chromium session, the analyst, used only in the second phase.

Phases: (1) warm-up, every session opens a page once, not measured; (2) baseline: every
session loads pages in turn (overview, action, workforce, practice, imports, data quality) with
no import running, for `--steady` seconds (30 by default: the server under the same steady load
as in the next phase, which lasts ~40 s; with `--steady 0`, `--rounds` pages a session, which
measure the first seconds only and read lower); (3) the same while the analyst uploads an extract on the Upload
page, rolls it back on the Imports page and uploads another; readers keep loading pages until
the analyst is done (at least `--rounds` each).
The second phase's loads are also given apart: those that overlapped an import or rollback
running on the server, and of those, the ones that began during it and ended after it (they may
wait for the new data version's first views, built once by the first session that asks).

Errors counted: an exception element in the page (either client), a page the server says does
not exist, a browser console error, a timeout, and any traceback or lock message in the server
log. Bounded: each load times out after 120 s and the run after `--timeout` seconds; it stops by
itself and uses only 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CSC_ID_KEY", "load-test")

from csc.store import Store  # noqa: E402
from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS, OUT, Server, first_visit  # noqa: E402
from tests.reliability.support import write_council  # noqa: E402

PAGES = ["", "action?action=A1", "workforce", "practice", "imports", "data-quality"]  # "": the overview
LOAD_TIMEOUT = 120.0
DONE_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return app && app.dataset.testScriptState === 'notRunning' && document.querySelector('h1') !== null;
}"""
# Opened at /workforce, Streamlit's front end first looks for the server under that path
# (/workforce/_stcore/health, a 404) before the root: its way of finding a base path.
PROBE = re.compile(r"^/[^/]+/_stcore/(health|host-config)$")


def cpu(pid: int) -> tuple[float, float]:
    """(CPU seconds used by the process `pid`, CPU seconds used by the whole machine) so far (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        proc = (int(fields[11]) + int(fields[12])) / tick
        total = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
        busy = sum(int(x) for i, x in enumerate(total) if i not in (3, 4)) / tick  # all but idle and iowait
    except (OSError, IndexError, ValueError):
        return (float("nan"), float("nan"))
    return proc, busy


@dataclass
class Load:
    kind: str  # protocol | browser
    session: int
    path: str
    start: float
    seconds: float
    error: str | None = None


@dataclass
class Phase:
    name: str
    loads: list[Load] = field(default_factory=list)
    seconds: float = 0.0
    server_cpu: float = float("nan")
    machine_cpu: float = float("nan")

    def of(self, kind: str, name: str | None = None) -> Phase:
        return Phase(name or f"  {kind} sessions", [x for x in self.loads if x.kind == kind])

    @property
    def ok(self) -> list[float]:
        return sorted(x.seconds for x in self.loads if x.error is None)

    @property
    def errors(self) -> list[Load]:
        return [x for x in self.loads if x.error is not None]

    def pct(self, q: float) -> float:
        data = self.ok
        if not data:
            return float("nan")
        return data[min(len(data) - 1, max(0, round(q * (len(data) - 1))))]

    def row(self) -> str:
        ok = self.ok
        return (f"{self.name:<36} {len(self.loads):>6} {len(self.errors):>7} {self.pct(0.5):>7.2f} "
                f"{self.pct(0.95):>7.2f} {max(ok) if ok else float('nan'):>7.2f} "
                f"{statistics.fmean(ok) if ok else float('nan'):>7.2f}")


class Measure:
    """`with Measure(phase, pid):` records the wall time and the CPU used around a phase."""

    def __init__(self, phase: Phase, pid: int):
        self.phase, self.pid = phase, pid

    def __enter__(self):
        self.t, (self.s, self.m) = time.perf_counter(), cpu(self.pid)

    def __exit__(self, *exc):
        s, m = cpu(self.pid)
        self.phase.seconds = time.perf_counter() - self.t
        self.phase.server_cpu, self.phase.machine_cpu = s - self.s, m - self.m


# --- the two kinds of session ------------------------------------------------------------------


class ProtocolSession:
    """A page view over Streamlit's websocket protocol, as the browser's front end makes it."""

    kind = "protocol"

    def __init__(self, url: str, n: int):
        self.url = url
        self.n = n

    async def load(self, path: str) -> Load:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        t0 = time.perf_counter()
        error = None
        try:
            async with asyncio.timeout(LOAD_TIMEOUT):
                async for fm in first_visit(self.url, path, LOAD_TIMEOUT):
                    kind = fm.WhichOneof("type")
                    if kind == "delta" and fm.delta.WhichOneof("type") == "new_element" \
                            and fm.delta.new_element.WhichOneof("type") == "exception":
                        ex = fm.delta.new_element.exception
                        error = error or f"exception: {ex.type}: {ex.message[:200]}"
                    elif kind == "page_not_found":
                        error = error or f"page not found: {fm.page_not_found.page_name}"
                    elif kind == "script_finished" and \
                            fm.script_finished == ForwardMsg.ScriptFinishedStatus.FINISHED_WITH_COMPILE_ERROR:
                        error = error or "compile error"
        except Exception as exc:  # noqa: BLE001 - a timeout or a refusal is an error to count, not to stop on
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        return Load(self.kind, self.n, path, t0, time.perf_counter() - t0, error)


class BrowserSession:
    """A page view in Chromium: navigation until the script has finished and the page is drawn."""

    kind = "browser"

    def __init__(self, page, url: str, n: int):
        self.page, self.url, self.n = page, url, n
        page.console_errors, page.offline_misses, page.probes = [], [], []
        page.on("console", lambda m: self._console(m))

    def _console(self, message) -> None:
        """Noted apart, as they are not the app failing: a resource from the internet that cannot be
        fetched (this machine may be offline: Streamlit fetches Material icons from
        fonts.gstatic.com), and Streamlit's base-path probe."""
        if message.type != "error":
            return
        where = message.location.get("url", "") if message.location else ""
        text = f"{message.text} {where}".strip()
        if "net::ERR_" in message.text and where and not where.startswith(self.url):
            self.page.offline_misses.append(where)
        elif "404" in message.text and PROBE.match(where[len(self.url):]):
            self.page.probes.append(where)
        else:
            self.page.console_errors.append(text)

    async def load(self, path: str) -> Load:
        page = self.page
        errors_before = len(page.console_errors)
        t0 = time.perf_counter()
        error = None
        try:
            await page.goto(f"{self.url}/{path}", wait_until="domcontentloaded", timeout=LOAD_TIMEOUT * 1000)
            await page.wait_for_function(DONE_JS, timeout=LOAD_TIMEOUT * 1000, polling=50)
            seconds = time.perf_counter() - t0
            if await page.locator('[data-testid="stException"]').count():
                error = "exception: " + (await page.locator('[data-testid="stException"]').first.inner_text())[:200]
            elif len(page.console_errors) > errors_before:
                error = "console: " + page.console_errors[-1][:200]
        except Exception as exc:  # noqa: BLE001
            seconds = time.perf_counter() - t0
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
        return Load(self.kind, self.n, path, t0, seconds, error)


async def reader(session, rounds: int, phase: Phase, keep_going: asyncio.Event | None, think: float = 0.0) -> None:
    """Load pages in turn. With `think`, pause 0.5-1.5 x think seconds between pages (and up to
    `think` before the first), as people reading a page do, so sessions do not move in step."""
    rng = random.Random(session.n)
    i = session.n  # each session starts on a different page
    done = 0
    if think:
        await asyncio.sleep(rng.uniform(0, think))
    def more() -> bool:
        return done < rounds or (keep_going is not None and keep_going.is_set())

    while more():
        phase.loads.append(await session.load(PAGES[i % len(PAGES)]))
        i += 1
        done += 1
        if think and more():
            await asyncio.sleep(rng.uniform(0.5, 1.5) * think)


# --- the analyst: imports and a rollback through the pages ----------------------------------------


async def wait_done(page) -> None:
    await page.wait_for_function(DONE_JS, timeout=LOAD_TIMEOUT * 1000, polling=50)


async def analyst(page, url: str, uploads: list[tuple[Path, str]], log: list[tuple[str, float, float]],
                  errors: list[str]) -> None:
    """Upload the first extract, roll it back, upload the second: through the pages, as a person would."""
    async def upload(path: Path, period: str) -> None:
        t0 = time.perf_counter()
        await page.goto(f"{url}/upload")
        await wait_done(page)
        # the file first, then the month: each change reruns the page, and the button that
        # names the month shows that the rerun with both has finished
        await page.locator('input[type="file"]').set_input_files(str(path))
        await page.get_by_text("passed every check").wait_for()
        await page.get_by_role("textbox", name="Reporting month (YYYY-MM)").fill(period)
        await page.keyboard.press("Enter")
        button = page.get_by_role("button", name=f"Load it as the extract for {period}")
        await button.wait_for()
        await wait_done(page)
        t1 = time.perf_counter()
        await button.click()
        await page.get_by_text(re.compile(rf"Loaded import \d+ for {period}")).wait_for()
        log.append((f"upload {path.name}: check, then load", t0, time.perf_counter()))
        log.append((f"  the import itself ({period})", t1, time.perf_counter()))

    async def rollback() -> None:
        t0 = time.perf_counter()
        await page.goto(f"{url}/imports")
        await wait_done(page)
        await page.get_by_text(re.compile(r"Yes, roll back import \d+")).click()
        await wait_done(page)
        t1 = time.perf_counter()
        await page.get_by_role("button", name="Roll back").click()
        await page.get_by_text(re.compile(r"Import \d+ \(\d{4}-\d{2}\) was rolled back")).wait_for()
        log.append(("rollback on the Imports page", t0, time.perf_counter()))
        log.append(("  the rollback itself", t1, time.perf_counter()))

    try:
        await upload(*uploads[0])
        await rollback()
        for path, period in uploads[1:]:
            await upload(path, period)
        if await page.locator('[data-testid="stException"]').count():
            errors.append("the analyst's page shows an exception")
    except Exception as exc:  # noqa: BLE001
        errors.append(f"{type(exc).__name__}: {str(exc)[:300]}")
        OUT.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=str(OUT / "load-analyst-failure.png"), full_page=True)


def server_log_errors(text: str) -> list[str]:
    pattern = re.compile(r"Traceback|Could not set lock|Conflict|TransactionContext|IOException", re.I)
    return [line for line in text.splitlines() if pattern.search(line)]


async def drive(url: str, pid: int, sessions: int, browsers: int, rounds: int,
                uploads: list[tuple[Path, str]], think: float = 0.0, steady: float = 0.0) -> dict:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        pages = []
        for _ in range(browsers + 1):
            ctx = await chromium.new_context(viewport={"width": 1280, "height": 900})
            page = await ctx.new_page()
            page.set_default_timeout(LOAD_TIMEOUT * 1000)
            pages.append(page)
        readers = [ProtocolSession(url, n) for n in range(sessions)]
        readers += [BrowserSession(pg, url, sessions + n) for n, pg in enumerate(pages[:browsers])]
        writer_page = pages[browsers]
        BrowserSession(writer_page, url, -1)  # collects its console errors too

        # warm-up: the home page once, then one page per session, so that the phases measure a
        # server with its caches filled (a cold start is tests/browser/test_cold_start.py's test).
        warm = Phase("warm-up")
        warm.loads.append(await readers[0].load(""))
        await asyncio.gather(*(reader(s, 1, warm, None) for s in readers))

        baseline = Phase("baseline: no import")
        going = None
        if steady:  # every session loads for `steady` seconds (and `rounds` loads at least)
            going = asyncio.Event()
            going.set()
            asyncio.get_running_loop().call_later(steady, going.clear)
        with Measure(baseline, pid):
            await asyncio.gather(*(reader(s, rounds, baseline, going, think) for s in readers))

        during = Phase("with imports and a rollback")
        writing = asyncio.Event()
        writing.set()
        log: list[tuple[str, float, float]] = []
        writer_errors: list[str] = []

        async def write():
            try:
                await analyst(writer_page, url, uploads, log, writer_errors)
            finally:
                writing.clear()

        with Measure(during, pid):
            await asyncio.gather(write(), *(reader(s, rounds, during, writing, think) for s in readers))
        console = list(writer_page.console_errors)  # the readers' are counted with their page loads
        offline = sorted({m for pg in pages for m in pg.offline_misses})
        probes = sum(len(pg.probes) for pg in pages)
        await chromium.close()
    # the loads that overlapped an import or a rollback actually running on the server
    overlapping, spanning = against_writes(during.loads, [(a, b) for name, a, b in log if name.startswith("  ")])
    return {"warm": warm, "baseline": baseline, "during": during, "overlapping": overlapping, "spanning": spanning,
            "log": log,
            "writer_errors": writer_errors, "console": console, "offline": offline, "probes": probes}


def prepare(folder: Path, scale: float) -> tuple[Path, list[tuple[Path, str]]]:
    db = folder / "csc.duckdb"
    first = write_council(folder / "in" / "extract-2022-02.xlsx", seed=1, scale=scale)
    with Store.open(db) as store:
        result = store.import_file(first, "2022-02", user="setup")
        assert result.status == "loaded", result.message
    uploads = [(write_council(folder / "in" / "extract-2022-03.xlsx", seed=2, scale=scale), "2022-03"),
               (write_council(folder / "in" / "extract-2022-03-resent.xlsx", seed=3, scale=scale), "2022-03")]
    return db, uploads


def run(sessions: int = 20, browsers: int = 2, rounds: int = 3, scale: float = 0.015, timeout: float = 900,
        folder: Path | None = None, think: float = 0.0, imports: int = 2, say=print, steady: float = 0.0) -> dict:
    """One load test; `imports`: 2 = upload, roll back, upload again; 1 = upload and roll back.
    `steady`: the baseline lasts that many seconds (every session loading throughout), so that it
    measures the server under the same steady load as the phase with imports; 0: `rounds` loads a
    session, which measure the first seconds only."""
    folder = Path(folder or tempfile.mkdtemp(prefix="csc-load-"))
    t = time.perf_counter()
    db, uploads = prepare(folder, scale)
    say(f"prepared {db} and two extracts of the synthetic council in {time.perf_counter() - t:.1f} s")
    server = Server(db, env={"CSC_ID_KEY": os.environ["CSC_ID_KEY"]}).start()
    try:
        say(f"server {server.url} (log {server.log}); {sessions} protocol + {browsers} browser sessions, "
            f"{rounds} page loads each per phase")
        # in a thread of its own: a caller may already run an event loop (pytest with Playwright's
        # sync API alive in the same process), and asyncio.run() needs a thread without one
        coro = asyncio.wait_for(drive(server.url, server.proc.pid, sessions, browsers, rounds, uploads[:imports], think,
                                      steady), timeout)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            result = pool.submit(asyncio.run, coro).result()
    finally:
        server.stop()
    result["server_errors"] = server_log_errors(server.log.read_text())
    with Store.open(db, read_only=True) as store:
        imports = store.imports()
    result["imports"] = [(int(i), p, s) for i, p, s in zip(imports["import_id"], imports["period"], imports["status"])]
    result["sessions"], result["browsers"], result["think"], result["steady"] = sessions, browsers, think, steady
    return result


def errors(result: dict) -> list[str]:
    """Everything that counts as an error in a run."""
    out = [f"session {x.session} ({x.kind}) /{x.path}: {x.error}"
           for ph in ("warm", "baseline", "during") for x in result[ph].errors]
    out += [f"analyst: {e}" for e in result["writer_errors"]]
    out += [f"analyst's console: {e}" for e in result["console"]]
    out += [f"server log: {e}" for e in result["server_errors"]]
    return out


def against_writes(loads: list[Load], writes: list[tuple[float, float]]) -> tuple[Phase, Phase]:
    """(the loads that overlapped a write, and of those the ones that began during a write and
    ended after it), `writes` being (start, end) times of the imports and rollbacks themselves. The
    second may wait for the new data version's first views, each built once by the first session
    that asks."""
    overlapping = Phase("  of which overlapped a write",
                        [x for x in loads if any(x.start < b and x.start + x.seconds > a for a, b in writes)])
    spanning = Phase("  began in a write, ended after",
                     [x for x in overlapping.loads if any(a <= x.start < b < x.start + x.seconds for a, b in writes)])
    return overlapping, spanning


def report(result: dict) -> str:
    base, during, over = result["baseline"], result["during"], result["overlapping"]
    kinds = [k for k, n in (("protocol", result["sessions"]), ("browser", result["browsers"])) if n]
    lines = [
        f"{result['sessions']} protocol + {result['browsers']} browser sessions at once on 127.0.0.1; "
        "a page load = request until the page's script has finished"
        + (f"; {result['think']:g} s (± 50%) between a session's loads" if result["think"]
           else "; no pause between loads")
        + (f"; the baseline {result['steady']:g} s long" if result.get("steady") else ""),
        f"{'phase':<36} {'loads':>6} {'errors':>7} {'p50 s':>7} {'p95 s':>7} {'max s':>7} {'mean s':>7}",
    ]
    for ph in (base, during, over, result["spanning"]):
        lines.append(ph.row())
        if len(kinds) > 1:
            lines += [ph.of(k).row() for k in kinds]
    for k in kinds:
        b, d = base.of(k), during.of(k)
        lines.append(f"ratio with imports / baseline ({k}): p50 {d.pct(0.5) / b.pct(0.5):.2f}x, "
                     f"p95 {d.pct(0.95) / b.pct(0.95):.2f}x, max {max(d.ok) / max(b.ok):.2f}x")
    lines.append("the analyst's actions (through the pages, during the second phase):")
    lines += [f"  {name:<52} {b - a:6.2f} s" for name, a, b in result["log"]]
    lines.append(f"CPU: {os.cpu_count()} core(s), shared by the server, the load generator and Chromium")
    for ph in (base, during):
        if ph.loads and ph.seconds:
            lines.append(
                f"  {ph.name:<34} {ph.seconds:6.1f} s; server {ph.server_cpu:6.1f} CPU-s "
                f"({ph.server_cpu / len(ph.loads):.2f} per page load); machine "
                f"{ph.machine_cpu / ph.seconds / (os.cpu_count() or 1):.0%} busy")
    lines.append(f"imports at the end: {result['imports']}")
    errs = errors(result)
    lines.append(f"errors: {len(errs)}")
    lines += [f"  {e}" for e in errs[:15]]
    if result["offline"]:
        lines.append(f"not counted as errors: {len(result['offline'])} resource(s) from the internet this machine "
                     f"could not fetch, e.g. {result['offline'][0]}")
    if result["probes"]:
        lines.append(f"not counted as errors: {result['probes']} 404s of Streamlit's base-path probe "
                     "(/<page>/_stcore/health before /_stcore/health)")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=20, help="websocket-protocol sessions (default 20)")
    ap.add_argument("--browsers", type=int, default=2, help="Chromium sessions reading pages too (default 2)")
    ap.add_argument("--rounds", type=int, default=3, help="page loads per session in each phase (default 3)")
    ap.add_argument("--scale", type=float, default=0.015, help="size of the synthetic council (0.015: ~16,000 rows)")
    ap.add_argument("--timeout", type=float, default=900, help="stop after this many seconds (default 900)")
    ap.add_argument("--think", type=float, default=0.0,
                    help="seconds each session waits between page loads, ± 50%% (default 0: always loading)")
    ap.add_argument("--steady", type=float, default=30.0,
                    help="seconds the baseline lasts, every session loading throughout, as in the phase with imports "
                         "(default 30; 0: --rounds loads a session, the first seconds only)")
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        sys.exit(f"no Chromium at {CHROMIUM} (set CSC_CHROMIUM)")
    result = run(args.sessions, args.browsers, args.rounds, args.scale, args.timeout, think=args.think,
                 steady=args.steady)
    print(report(result))
    sys.exit(1 if errors(result) else 0)


if __name__ == "__main__":
    main()

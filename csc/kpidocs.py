"""The generated parts of the documentation: the KPI reference in `docs/kpis.md`, made from the
KPIs' `.sql` headers (`csc.kpis`), and the sheet tables in `docs/extract-format.md`, made from
`csc.spec`. `python -m csc docs` writes them between their markers; `--check` says whether the
pages are up to date (tests/unit/test_docs_kpis.py and test_docs_extract.py fail when not)."""

from __future__ import annotations

from pathlib import Path

from csc import config, kpis, plan, spec

START, END = "<!-- generated: {} -->", "<!-- end generated -->"
UNIT_WORDS = {"pct": "a percentage", "days": "working days", "count": "a count", "per_fte": "cases per FTE"}
AGGREGATE_WORDS = {"ratio": "numerators and denominators added up, then divided",
                   "median": "the median of the records' values", "sum": "the records' values added up"}
DENOMINATOR_WORDS = {"cases": "cases (records)", "fte": "full-time equivalents", "none": "none"}


def _target(kpi: kpis.Kpi) -> str:
    if kpi.target is None:
        return "no target"
    unit = {"pct": "%", "days": " working days", "count": "", "per_fte": " cases per FTE"}[kpi.unit]
    return f"target {kpi.target:g}{unit}"


def kpi_markdown(registry: dict[str, kpis.Kpi] | None = None, action_plan: plan.Plan | None = None) -> str:
    """The KPI reference: one paragraph per KPI, under its action, from the headers."""
    registry = kpis.registry() if registry is None else registry
    action_plan = plan.load_default() if action_plan is None else action_plan
    titles = {a.id: a.title for a in action_plan.actions}
    order = [a.id for a in action_plan.actions]
    actions = sorted({k.action for k in registry.values()}, key=lambda a: (order.index(a) if a in order else 99, a))
    lines = [f"The dashboard tracks {len(registry)} KPIs. Each paragraph below is generated from the header "
             "of the KPI's `.sql` file (`python -m csc docs`).", ""]
    for action in actions:
        lines += [f"### {action} — {titles.get(action, 'not in the action plan')}", ""]
        for kpi in (k for k in registry.values() if k.action == action):
            better = "Higher" if kpi.higher_is_better else "Lower"
            shown = (f"shown on the {kpi.page.capitalize()} page ({kpi.section})" if kpi.page
                     else "shown on its action's page")
            facts = [f"unit: {UNIT_WORDS[kpi.unit]}", f"aggregated: {AGGREGATE_WORDS[kpi.aggregate]}",
                     f"denominator: {DENOMINATOR_WORDS[kpi.denominator]}",
                     "all areas only" if kpi.all_areas_only else "all areas and each area office",
                     ("small numbers suppressed for the board"
                      + (", its complement too (the board sees the denominators as counts), and no team's figure" if kpi.denominator_shown else "")
                      if kpi.suppressible else "never suppressed (counts no people)"),
                     shown]
            if kpi.reads_inferred:
                facts.append("includes changes of worker inferred from Annex A lists when no involvements are loaded")
            lines += [f"**{kpi.name}** — *{kpi.title}.* {kpi.description} {better} is better; {_target(kpi)}.",
                      "", f"*{'; '.join(facts)}: `queries/kpis/{kpi.name}.sql`.*", ""]
    return "\n".join(lines).rstrip() + "\n"


def replace_block(text: str, name: str, block: str) -> str:
    """`text` with what stands between the markers of `name` replaced by `block`."""
    start, end = START.format(name), END
    if start not in text or end not in text.split(start, 1)[1]:
        raise ValueError(f"the page lacks the markers {start} … {end}")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    return f"{before}{start}\n{block.strip()}\n{end}{after}"


def block(text: str, name: str) -> str:
    return text.split(START.format(name), 1)[1].split(END, 1)[0].strip()


def pages() -> dict[str, tuple[str, str]]:
    """{file name in docs/: (marker name, generated text)}"""
    return {"kpis.md": ("kpis", kpi_markdown()), "extract-format.md": ("sheets", spec.render_markdown())}


def write(docs: Path | None = None, check: bool = False) -> list[str]:
    """Regenerate the blocks of each page in `docs` (default docs/); with `check`, change nothing.
    Returns the names of the pages that were (or, checking, would be) changed."""
    docs = docs or config.ROOT / "docs"
    changed = []
    for file_name, (name, generated) in pages().items():
        path = docs / file_name
        text = path.read_text()
        if block(text, name) != generated.strip():
            changed.append(file_name)
            if not check:
                path.write_text(replace_block(text, name, generated))
    return changed

"""Sparklines for table cells as small SVG images (a data URL for `st.column_config.ImageColumn`).

Streamlit's own LineChartColumn cannot draw a missing month: a list with a gap shows as raw text
with an error marker. Here a missing or hidden month is a gap in the line, and a month between
two gaps is a dot, so the line never joins across a month that has no published value."""

from __future__ import annotations

import math
from urllib.parse import quote

WIDTH, HEIGHT, PAD = 120, 32, 3
COLOUR = "#12436D"


def _clean(v) -> float | None:
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def runs(values) -> list[list[tuple[int, float]]]:
    """The stretches of consecutive months with a value: [(index, value), ...] each."""
    out, current = [], []
    for i, v in enumerate(values):
        v = _clean(v)
        if v is None:
            if current:
                out.append(current)
            current = []
        else:
            current.append((i, v))
    if current:
        out.append(current)
    return out


def svg(values) -> str:
    """The SVG text: one polyline per stretch, a dot for a month on its own, the latest dotted."""
    values = list(values or [])
    present = [v for v in (_clean(x) for x in values) if v is not None]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             f'viewBox="0 0 {WIDTH} {HEIGHT}">']
    if present:
        low, high = min(present), max(present)
        span = (high - low) or 1.0
        step = (WIDTH - 2 * PAD) / max(len(values) - 1, 1)

        def xy(i, v):
            return PAD + i * step, HEIGHT - PAD - (v - low) / span * (HEIGHT - 2 * PAD)

        for run in runs(values):
            pts = [xy(i, v) for i, v in run]
            if len(pts) == 1:
                x, y = pts[0]
                parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="1.6" fill="{COLOUR}"/>')
            else:
                coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)
                parts.append(f'<polyline points="{coords}" fill="none" stroke="{COLOUR}" stroke-width="1.5"/>')
        last = next(((i, v) for i, v in reversed(list(enumerate(_clean(x) for x in values))) if v is not None))
        x, y = xy(*last)
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{COLOUR}"/>')
    parts.append("</svg>")
    return "".join(parts)


def data_url(values) -> str:
    return "data:image/svg+xml;utf8," + quote(svg(values))

"""Line charts of several areas, and sparklines (plotly and SVG)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from csc import spc
from csc.charts.theme import PALETTE, TARGET_COLOUR, TEMPLATE
from csc.charts.layout import (
    _end_labels,
    _finish,
    _finite,
    _hover_suffix,
    _label,
    _set_alt,
    _source_line,
    _target_line,
    _x,
)


# --- several areas ---------------------------------------------------------------------------


def line_chart(
    df: pd.DataFrame,
    x: str,
    y: str,
    color: str,
    title: str,
    target: float | None = None,
    unit: str = "%",
    source: str | None = None,
    highlight: str | None = None,
    period: Any = None,
    note: str | None = None,
) -> go.Figure:
    """One line per ``color`` group (e.g. area office), each labelled at its end with its
    name and latest value (no legend). With ``highlight``, that group is drawn in colour and
    the others in grey. ``period``: the month the chart is for (the selection's last; by
    default the data's last): a line whose last value is from an earlier month names that month.
    ``note``: said under the plot, after the source line."""
    suffix = _hover_suffix(unit)
    fig = go.Figure()
    data = df.copy()
    data["_x"] = [_x(v) for v in data[x]]
    data = data.sort_values("_x")
    groups = [g for g in pd.unique(data[color].astype(object)) if g is not None and not (isinstance(g, float) and math.isnan(g))]
    labels: list[dict] = []
    latest_words: list[str] = []
    upto = _x(period) if period is not None else data["_x"].max()
    for i, group in enumerate(groups):
        rows = data[data[color] == group]
        colour = PALETTE[i % len(PALETTE)]
        if highlight is not None and group != highlight:
            colour = "#b1b4b6"
        fig.add_trace(
            go.Scatter(
                x=list(rows["_x"]),
                y=list(rows[y]),
                mode="lines+markers",
                name=str(group),
                line=dict(color=colour, width=3 if group == highlight else 2),
                marker=dict(size=5, color=colour),
                hovertemplate=f"{group}<br>" + "%{x|%B %Y}<br>%{y:,.1f}" + suffix + "<extra></extra>",
                showlegend=False,
                meta={"role": "series", "group": str(group)},
            )
        )
        present = rows[rows[y].notna()]
        if len(present):
            last = present.iloc[-1]
            value_words = spc.format_value(float(last[y]), unit)
            if last["_x"] != upto:  # an older month's value: name its month
                value_words += f" ({_label(last[x])})"
            labels.append(
                dict(x=last["_x"], y=float(last[y]), colour=colour, text=f"{group} {value_words}", name=f"label {group}")
            )
            latest_words.append(f"{group} {value_words}")
    x_values = list(data["_x"])
    if target is not None and x_values:
        fig.add_trace(_target_line(x_values[0], x_values[-1], target, unit))
        labels.append(
            dict(
                x=x_values[-1],
                y=target,
                colour=TARGET_COLOUR,
                text=f"Target {spc.format_value(target, unit)}",
                name="label target",
            )
        )
    finite = _finite(list(data[y])) + ([target] if target is not None else [])
    notes = _end_labels(labels, (max(finite) - min(finite)) if finite else 0.0)
    fig.update_yaxes(ticksuffix=unit if unit == "%" else "")
    fig.update_xaxes(tickformat="%b %Y")
    periods = list(data[x])
    span = f" from {_label(periods[0])} to {_label(periods[-1])}" if periods else ""
    alt = f"Line chart: {title}. {len(groups)} lines ({', '.join(map(str, groups))}){span}."
    if latest_words:
        alt += f" Latest: {', '.join(latest_words)}."
    if target is not None:
        alt += f" Target {spc.format_value(target, unit)}."
    return _finish(fig, title, alt, _source_line(source, periods) + (f". {note}" if note else ""), notes=notes)


def sparkline(
    values: Sequence[Any],
    periods: Sequence[Any] | None = None,
    colour: str = PALETTE[0],
    unit: str = "",
    height: int = 48,
    width: int = 160,
) -> go.Figure:
    """A tiny line with no axes, grid or margins; the latest point is marked."""
    ys = [spc.clean_value(v) for v in values]
    xs = [_x(p) for p in periods] if periods is not None else list(range(len(ys)))
    fig = go.Figure(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines",
            line=dict(color=colour, width=1.5),
            hoverinfo="skip",
            showlegend=False,
            meta={"role": "values"},
        )
    )
    last = next((i for i in range(len(ys) - 1, -1, -1) if ys[i] is not None), None)
    if last is not None:
        fig.add_trace(
            go.Scatter(
                x=[xs[last]],
                y=[ys[last]],
                mode="markers",
                marker=dict(color=colour, size=5),
                hoverinfo="skip",
                showlegend=False,
                meta={"role": "latest"},
            )
        )
    fig.update_layout(
        template=TEMPLATE,
        height=height,
        width=width,
        margin=dict(l=2, r=2, t=2, b=2),
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        showlegend=False,
    )
    finite = _finite(ys)
    if finite:
        alt = (
            f"Sparkline of {len(finite)} values from {spc.format_value(finite[0], unit)} "
            f"to {spc.format_value(finite[-1], unit)}, lowest {spc.format_value(min(finite), unit)}, "
            f"highest {spc.format_value(max(finite), unit)}."
        )
    else:
        alt = "Sparkline with no values."
    _set_alt(fig, alt)
    return fig


def sparkline_svg(values: Sequence[Any], width: int = 80, height: int = 24, colour: str = PALETTE[0]) -> str:
    """A sparkline as an SVG data URL for a table cell (`st.column_config.ImageColumn`): a month
    with no value (or suppressed) is a gap in the line, never text; the latest value is a dot."""
    import base64

    ys = [spc.clean_value(v) for v in values]
    finite = [y for y in ys if y is not None]
    parts: list[str] = []
    if finite:
        lo, hi = min(finite), max(finite)
        span = (hi - lo) or 1.0
        step = (width - 6) / max(len(ys) - 1, 1)

        def point(i: int, y: float) -> tuple[float, float]:
            return 3 + i * step, height - 3 - (y - lo) / span * (height - 6)

        run: list[tuple[float, float]] = []
        for i, y in enumerate(ys + [None]):
            if y is not None:
                run.append(point(i, y))
                continue
            if len(run) > 1:
                parts.append('<polyline fill="none" stroke="{}" stroke-width="1.5" points="{}"/>'.format(
                    colour, " ".join(f"{x:.1f},{y:.1f}" for x, y in run)))
            elif run:
                parts.append(f'<circle cx="{run[0][0]:.1f}" cy="{run[0][1]:.1f}" r="1.5" fill="{colour}"/>')
            run = []
        last = max(i for i, y in enumerate(ys) if y is not None)
        x, y = point(last, ys[last])
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.2" fill="{colour}"/>')
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}">{"".join(parts)}</svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()

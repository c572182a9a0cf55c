"""The trajectory chart: the trend since the action started, projected to the due month."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from csc import spc
from csc.charts.theme import BAND_FILL, MUTED_TEXT, PALETTE, TARGET_COLOUR, VALUE_LINE_COLOUR
from csc.charts.layout import (
    _end_labels,
    _finish,
    _finite,
    _hover_suffix,
    _label,
    _note_above,
    _source_line,
    _target_line,
    _vertical_marker,
    _wrap,
    _x,
)


# --- trajectory ------------------------------------------------------------------------------


def trajectory_chart(
    periods: Sequence[Any],
    values: Sequence[Any],
    result: spc.Trajectory,
    title: str,
    unit: str = "%",
    source: str | None = None,
) -> go.Figure:
    """The values, the straight-line trend since the action started, its projection to
    the due month with the prediction band, the target, and the status sentence."""
    suffix = _hover_suffix(unit)
    xs = [_x(p) for p in periods]
    ys = [spc.clean_value(v) for v in values]
    fig = go.Figure()

    if result.points:
        px = [_x(p.period) for p in result.points]
        fig.add_trace(
            go.Scatter(
                x=px,
                y=[p.upper for p in result.points],
                mode="lines",
                line=dict(width=0),
                hoverinfo="skip",
                showlegend=False,
                name="Prediction range (upper)",
                meta={"role": "band_upper"},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=px,
                y=[p.lower for p in result.points],
                mode="lines",
                line=dict(width=0),
                fill="tonexty",
                fillcolor=BAND_FILL,
                name=f"{round(result.level * 100)}% prediction range",
                customdata=[[p.upper] for p in result.points],
                hovertemplate=(
                    "%{x|%B %Y}<br>Range: %{y:,.1f}" + suffix + " to %{customdata[0]:,.1f}" + suffix + "<extra></extra>"
                ),
                showlegend=False,
                meta={"role": "band"},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=px,
                y=[p.projected for p in result.points],
                mode="lines",
                name="Projection",
                line=dict(color=PALETTE[0], width=2, dash="dash"),
                hovertemplate="%{x|%B %Y}<br>Projected: %{y:,.1f}" + suffix + "<extra></extra>",
                showlegend=False,
                meta={"role": "projection"},
            )
        )
    if result.slope is not None and result.intercept is not None:
        start_m = spc.month_index(result.start_period)
        fitted = [
            (x, result.intercept + result.slope * (spc.month_index(p) - start_m))
            for p, x, y in zip(periods, xs, ys)
            if y is not None and spc.month_index(p) >= start_m
        ]
        fig.add_trace(
            go.Scatter(
                x=[f[0] for f in fitted],
                y=[f[1] for f in fitted],
                mode="lines",
                name="Trend since the action started",
                line=dict(color=PALETTE[0], width=2),
                hoverinfo="skip",
                showlegend=False,
                meta={"role": "trend"},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines+markers",
            name="Monthly value",
            line=dict(color=VALUE_LINE_COLOUR, width=2),
            marker=dict(color=VALUE_LINE_COLOUR, size=7),
            hovertemplate="%{x|%B %Y}<br>Value: %{y:,.1f}" + suffix + "<extra></extra>",
            showlegend=False,
            meta={"role": "values"},
        )
    )
    due_x = _x(result.due_period)
    x_end = max([x for x in xs if x is not None] + [due_x]) if xs else due_x
    if result.target is not None and xs:
        fig.add_trace(_target_line(xs[0], x_end, result.target, unit))
    notes = [
        _vertical_marker(fig, _x(result.start_period), f"Action started {_label(result.start_period)}", label_side="right"),
        _vertical_marker(fig, due_x, f"Due {_label(result.due_period)}", label_side="left"),
    ]

    finite = _finite(ys) + _finite([result.target, result.lower, result.upper])
    y_span = (max(finite) - min(finite)) if finite else 0.0
    labels: list[dict] = []
    if result.points:
        end = result.points[-1]
        labels.append(
            dict(
                x=_x(end.period),
                y=end.projected,
                colour=PALETTE[0],
                text=(
                    f"Projected {spc.format_value(end.projected, unit)}<br>"
                    f"({spc.format_value(end.lower, unit)} to {spc.format_value(end.upper, unit)})"
                ),
                name="label projection",
            )
        )
    if result.target is not None:
        labels.append(
            dict(
                x=x_end,
                y=result.target,
                colour=TARGET_COLOUR,
                text=f"Target {spc.format_value(result.target, unit)}",
                name="label target",
            )
        )
    notes += _end_labels(labels, y_span)
    notes.append(_note_above(_wrap(result.sentence), MUTED_TEXT, "status"))
    fig.update_yaxes(ticksuffix=unit if unit == "%" else "")
    fig.update_xaxes(tickformat="%b %Y")
    alt = f"Trajectory chart: {title}. {result.sentence}"
    return _finish(fig, title, alt, _source_line(source, periods), notes=notes)

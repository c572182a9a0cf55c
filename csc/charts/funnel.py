"""The funnel plot of area offices' rates."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from csc import spc
from csc.charts.theme import FUNNEL_STYLE, LIMIT_COLOUR, MEAN_COLOUR
from csc.charts.layout import _end_labels, _finish, _hover_suffix, _label, _ym


# --- funnel plot -----------------------------------------------------------------------------


def funnel_chart(
    points: pd.DataFrame,
    title: str,
    unit: str = "%",
    source: str | None = None,
    period: Any = None,
    overall_label: str = "All areas",
    noun: str = "areas",
) -> go.Figure:
    """A funnel plot of ``points = spc.funnel_points(df)``: each area's rate against its
    number of cases, with 95% and 99.8% limits around the rate of all areas together
    (``overall_label`` and ``noun`` name them otherwise, e.g. "All councils" and "councils").

    With ``unit="%"`` rates are shown as percentages. Areas are labelled by name; colour
    and marker shape both show the band (circle within 95%, diamond between 95% and 99.8%,
    square beyond 99.8%).
    """
    scale = 100.0 if unit == "%" else 1.0
    suffix = _hover_suffix(unit)
    fig = go.Figure()
    valid = points[points["band"].notna()] if "band" in points else points.iloc[0:0]
    overall = float(points["overall_rate"].iloc[0]) if len(points) else float("nan")

    notes: list[dict] = []
    if len(valid) and not math.isnan(overall):
        n_max = float(valid["denominator"].max())
        n_min = max(1.0, float(valid["denominator"].min()) * 0.8)
        grid = np.linspace(n_min, n_max * 1.1, 120)
        limits = spc.funnel_limits(overall, grid)
        fig.add_trace(
            go.Scatter(
                x=[grid[0], grid[-1]],
                y=[overall * scale] * 2,
                mode="lines",
                name=overall_label,
                line=dict(color=MEAN_COLOUR, width=1.5),
                hoverinfo="skip",
                showlegend=False,
                meta={"role": "overall"},
            )
        )
        for col, name, dash in (
            ("upper_95", "95% limits", "dash"),
            ("lower_95", "95% limits", "dash"),
            ("upper_998", "99.8% limits", "dot"),
            ("lower_998", "99.8% limits", "dot"),
        ):
            fig.add_trace(
                go.Scatter(
                    x=grid,
                    y=limits[col] * scale,
                    mode="lines",
                    name=name,
                    line=dict(color=LIMIT_COLOUR, width=1.2, dash=dash),
                    hoverinfo="skip",
                    showlegend=False,
                    meta={"role": col},
                )
            )
        y_all = list(valid["rate"] * scale) + [overall * scale, float(limits["upper_998"].iloc[-1]) * scale]
        y_span = max(y_all) - min(y_all)
        notes = _end_labels(
            [
                dict(
                    x=grid[-1], y=overall * scale, colour=MEAN_COLOUR,
                    text=f"{overall_label} {spc.format_value(overall * scale, unit)}",
                ),
                dict(x=grid[-1], y=float(limits["upper_95"].iloc[-1]) * scale, colour=LIMIT_COLOUR, text="95% limit"),
                dict(x=grid[-1], y=float(limits["upper_998"].iloc[-1]) * scale, colour=LIMIT_COLOUR, text="99.8% limit"),
            ],
            y_span,
        )

    for band, (colour, symbol) in FUNNEL_STYLE.items():
        rows = valid[valid["band"] == band]
        if rows.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=rows["denominator"],
                y=rows["rate"] * scale,
                mode="markers+text",
                text=rows["area"].astype(str),
                textposition="top center",
                name={
                    spc.WITHIN_95: "Within 95% limits",
                    spc.BETWEEN_95_998: "Beyond 95% limits",
                    spc.BEYOND_998: "Beyond 99.8% limits",
                }[band],
                marker=dict(color=colour, symbol=symbol, size=12, line=dict(color="white", width=1)),
                customdata=np.column_stack([rows["numerator"], rows["label"]]),
                hovertemplate=(
                    "%{text}<br>Rate: %{y:,.1f}"
                    + suffix
                    + "<br>%{customdata[0]:,.0f} of %{x:,.0f}<br>%{customdata[1]}<extra></extra>"
                ),
                meta={"role": "areas", "band": band},
            )
        )
    fig.update_xaxes(title_text="Number of cases (denominator)", rangemode="tozero")
    fig.update_layout(legend=dict(y=-0.3), margin=dict(b=140))
    fig.update_yaxes(ticksuffix=unit if unit == "%" else "")

    when = f" in {_label(period)}" if period is not None else ""
    parts = [f"Funnel plot: {title}.", f"{len(valid)} {noun}{when}"]
    if not math.isnan(overall):
        parts[-1] += f"; all {noun} together {spc.format_value(overall * scale, unit)}."
    else:
        parts[-1] += "."
    for band, words in (
        (spc.BEYOND_998, "beyond the 99.8% limits"),
        (spc.BETWEEN_95_998, "beyond the 95% but within the 99.8% limits"),
    ):
        rows = valid[valid["band"] == band]
        if len(rows):
            names = ", ".join(f"{r.area} ({r.side}, {spc.format_value(r.rate * scale, unit)})" for r in rows.itertuples())
            parts.append(f"{words.capitalize()}: {names}.")
    within = valid[valid["band"] == spc.WITHIN_95]
    if len(within):
        parts.append(f"Within the 95% limits: {', '.join(map(str, within['area']))}.")
    src = f"Source: {source or 'monthly extract'}" + (f", period {_ym(period)}" if period is not None else "")
    return _finish(fig, title, " ".join(parts), src, source_shift=105, notes=notes)

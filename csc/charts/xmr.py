"""The XmR chart (Making Data Count style)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from csc import spc
from csc.charts.theme import LIMIT_COLOUR, MEAN_COLOUR, MUTED_TEXT, POINT_TYPE_NAMES, TARGET_COLOUR, VALUE_LINE_COLOUR
from csc.charts.layout import (
    _end_labels,
    _finish,
    _finite,
    _hover_suffix,
    _label,
    _note_above,
    _wrap,
    _source_line,
    _target_line,
    _vertical_marker,
    _x,
)


# --- XmR -------------------------------------------------------------------------------------


def _segment_line(xs: list[Any], result: spc.XmrResult, field: str) -> tuple[list, list]:
    """x and y for a step line of a segment statistic, broken between segments."""
    line_x: list[Any] = []
    line_y: list[Any] = []
    for seg in result.segments:
        level = getattr(seg, field)
        if level is None or seg.stop <= seg.start:
            continue
        if line_x:
            line_x.append(None)
            line_y.append(None)
        line_x += [xs[seg.start], xs[seg.stop - 1]]
        line_y += [level, level]
    return line_x, line_y


def xmr_chart(
    periods: Sequence[Any],
    values: Sequence[Any],
    result: spc.XmrResult,
    title: str,
    target: float | None = None,
    unit: str = "%",
    source: str | None = None,
    due_period: Any = None,
    verdict: Any = None,
    small_base: Sequence[bool] | None = None,
) -> go.Figure:
    """An XmR chart (Making Data Count style) of ``values`` with ``result = spc.xmr(values)``.

    ``verdict`` (a `csc.verdict.Verdict`): the icon words above the plot say what it says
    (its variation and the assurance it states) and add its notes (where the limits come
    from, the rebase, small bases). ``small_base``: months marked ◇ as small bases. The
    action's start and each rebase are marked on the chart.

    Draws the values (grey), special-cause points in Making Data Count colours, the mean,
    the process limits (dashed; "trial limits" when a segment has fewer than 12 points),
    the target (dash-dot) and the due month; labels the lines at their ends; says what the
    variation and assurance icons mean in words above the plot; puts a source line under it.
    """
    if len(periods) != len(values) or len(values) != len(result.points):
        raise ValueError("periods, values and result.points must be the same length")
    target = spc.clean_value(target) if target is not None else result.target
    xs = [_x(p) for p in periods]
    ys = [p.value for p in result.points]
    suffix = _hover_suffix(unit)
    fig = go.Figure()

    # Mean and limits (drawn first so the data sit on top).
    trial_words = " (trial limits)" if result.trial_limits else ""
    for field, name, dash, colour in (
        ("mean", "Mean", "solid", MEAN_COLOUR),
        ("upl", f"Upper process limit{trial_words}", "dash", LIMIT_COLOUR),
        ("lpl", f"Lower process limit{trial_words}", "dash", LIMIT_COLOUR),
    ):
        lx, ly = _segment_line(xs, result, field)
        if lx:
            fig.add_trace(
                go.Scatter(
                    x=lx,
                    y=ly,
                    mode="lines",
                    name=name,
                    line=dict(color=colour, width=1.5, dash=dash),
                    hoverinfo="skip",
                    showlegend=False,
                    meta={"role": field},
                )
            )

    x_end = xs[-1] if xs else None
    if due_period is not None:
        due_x = _x(due_period)
        if x_end is None or due_x > x_end:
            x_end = due_x
    if target is not None and xs:
        fig.add_trace(_target_line(xs[0], x_end, target, unit))

    labels = [spc.variation_label(p.point_type, result.improvement) if p.point_type else "No value" for p in result.points]
    custom = [
        [
            p.mean if p.mean is not None else float("nan"),
            p.lpl if p.lpl is not None else float("nan"),
            p.upl if p.upl is not None else float("nan"),
            label,
        ]
        for p, label in zip(result.points, labels)
    ]
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=ys,
            mode="lines+markers",
            name="Monthly value",
            line=dict(color=VALUE_LINE_COLOUR, width=2),
            marker=dict(color=[spc.point_colour(p.point_type) for p in result.points], size=7),
            customdata=custom,
            hovertemplate=(
                "%{x|%B %Y}<br>Value: %{y:,.1f}"
                + suffix
                + "<br>Mean: %{customdata[0]:,.1f}"
                + suffix
                + "<br>Process limits: %{customdata[1]:,.1f} to %{customdata[2]:,.1f}"
                + suffix
                + "<br>%{customdata[3]}<extra></extra>"
            ),
            showlegend=False,
            meta={"role": "values"},
        )
    )
    for point_type, name in POINT_TYPE_NAMES.items():
        flagged = [p for p in result.points if p.point_type == point_type]
        if not flagged:
            continue
        fig.add_trace(
            go.Scatter(
                x=[xs[p.index] for p in flagged],
                y=[p.value for p in flagged],
                mode="markers",
                name=name,
                marker=dict(color=spc.point_colour(point_type), size=11, line=dict(color="white", width=1)),
                hoverinfo="skip",
                meta={"role": "special_cause", "point_type": point_type},
            )
        )

    if small_base is not None and any(small_base):
        marked = [p for p, small in zip(result.points, small_base) if small and p.value is not None]
        fig.add_trace(
            go.Scatter(
                x=[xs[p.index] for p in marked],
                y=[p.value for p in marked],
                mode="markers",
                name=f"Small base (fewer than {spc.SMALL_BASE} cases)",
                marker=dict(symbol="diamond-open", color=MUTED_TEXT, size=15, line=dict(width=2)),
                hoverinfo="skip",
                meta={"role": "small_base"},
            )
        )

    # Direct labels at the line ends.
    finite = _finite(ys) + [v for v in (result.lpl, result.upl, target) if v is not None]
    y_span = (max(finite) - min(finite)) if finite else 0.0
    end_labels: list[dict] = []
    if result.mean is not None and xs:
        last_seg = result.segments[-1]
        seg_trial = " (trial limits)" if last_seg.trial else ""
        end_labels.append(
            dict(
                x=xs[-1], y=result.mean, colour=MEAN_COLOUR, text=f"Mean {spc.format_value(result.mean, unit)}", name="label mean"
            )
        )
        if result.upl is not None:
            end_labels.append(
                dict(
                    x=xs[-1],
                    y=result.upl,
                    colour=LIMIT_COLOUR,
                    text=f"Upper limit {spc.format_value(result.upl, unit)}{seg_trial}",
                    name="label upl",
                )
            )
            end_labels.append(
                dict(
                    x=xs[-1],
                    y=result.lpl,
                    colour=LIMIT_COLOUR,
                    text=f"Lower limit {spc.format_value(result.lpl, unit)}{seg_trial}",
                    name="label lpl",
                )
            )
    if target is not None and x_end is not None:
        end_labels.append(
            dict(x=x_end, y=target, colour=TARGET_COLOUR, text=f"Target {spc.format_value(target, unit)}", name="label target")
        )
    notes = _end_labels(end_labels, y_span)

    if due_period is not None:
        notes.append(_vertical_marker(fig, _x(due_period), f"Due {_label(due_period)}"))
    base = getattr(result, "baseline_months", None)
    rebases = [seg.start for seg in result.segments[1:] if not seg.carried and seg.start < len(xs)]
    if base and base < len(xs):
        notes.append(_vertical_marker(fig, xs[base], "Action started" + (" · new limits" if base in rebases else ""),
                                      label_side="right", at_bottom=True))
    for start in rebases:
        if start != base:
            notes.append(_vertical_marker(fig, xs[start], "New limits", label_side="right", at_bottom=True))

    # The icons' meaning in words (the verdict's, when there is one: it never contradicts the title).
    variation = verdict.variation if verdict is not None else result.variation
    assurance = verdict.assurance if verdict is not None else result.assurance
    v_icon = spc.variation_icon(variation, result.improvement)
    a_icon = spc.assurance_icon(assurance)
    if verdict is not None and verdict.not_rated:
        icon_words = [f"Variation and assurance: not rated, as {verdict.not_rated}"]
    elif verdict is not None and verdict.small_base:
        icon_words = [f"Variation: small base this month (fewer than {spc.SMALL_BASE} cases), too small to read"]
    elif v_icon:
        icon_words = [f"Variation: {v_icon.label} ({v_icon.short})"]
    elif verdict is not None and verdict.suppressed and verdict.value is None:
        icon_words = ["Variation: not rated, the latest month is suppressed to protect small numbers"]  # it has a value: hidden
    elif verdict is not None and verdict.value is None and verdict.period is not None:
        icon_words = [f"Variation: no value for {spc.period_label(verdict.period)}"]
    else:
        icon_words = ["Variation: no value yet"]
    if a_icon:
        icon_words.append(f"Assurance: {a_icon.label} ({a_icon.short})")
    elif verdict is not None and verdict.unjudged:
        icon_words.append(f"Assurance: not judged, {verdict.unjudged}")
    if verdict is not None:
        icon_words += list(verdict.notes)
    elif result.trial_limits:
        icon_words.append("Trial limits: fewer than 12 points since the limits were set")
    colour = v_icon.colour if v_icon and v_icon.code != "common_cause" else MUTED_TEXT
    notes.append(_note_above(_wrap("<br>".join(icon_words)), colour, "icons"))
    fig.update_yaxes(ticksuffix=unit if unit == "%" else "", rangemode="normal")
    fig.update_xaxes(tickformat="%b %Y")

    first = _label(periods[0]) if len(periods) else ""
    last = _label(periods[-1]) if len(periods) else ""
    latest = next((p for p in reversed(result.points) if p.value is not None), None)
    parts = [f"XmR chart: {title}.", f"{sum(p.value is not None for p in result.points)} monthly values from {first} to {last}."]
    if latest is not None:
        parts.append(f"Latest {spc.format_value(latest.value, unit)} in {_label(periods[latest.index])}.")
    if result.mean is not None:
        limits = ""
        if result.upl is not None:
            limits = f", process limits {spc.format_value(result.lpl, unit)} to {spc.format_value(result.upl, unit)}" + (
                " (trial limits)" if result.trial_limits else ""
            )
        parts.append(f"Mean {spc.format_value(result.mean, unit)}{limits}.")
    if target is not None:
        parts.append(f"Target {spc.format_value(target, unit)}.")
    flagged = len(result.special_cause_indexes)
    parts.append(f"{flagged} special-cause point{'s' if flagged != 1 else ''}.")
    parts.append(f"{v_icon.label if v_icon else 'No value yet'}.")
    if a_icon:
        parts.append(f"{a_icon.label}.")
    return _finish(fig, title, " ".join(parts), _source_line(source, periods), notes=notes)

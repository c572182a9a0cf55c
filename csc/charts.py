"""DataFrame and `csc.spc` results → plotly figures. No Streamlit here.

Every figure follows the Government Analysis Function's chart guidance: the title states
the finding (see `finding_title`), a source line under the chart says which extract, lines
are labelled directly at their ends, and alt text is set in ``fig.layout.meta["alt"]``
(read it with `alt_text`). All figures use the one app template, ``pio.templates["csc"]``.

With Streamlit, draw them with ``st.plotly_chart(fig, theme=None)`` so that Streamlit's own
theme does not replace the template.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import plotly.io as pio

from csc import spc

# --- the app template -----------------------------------------------------------------------

TEMPLATE = "csc"
FONT_FAMILY = "Arial, Helvetica, sans-serif"
TEXT_COLOUR = "#0b0c0c"
MUTED_TEXT = "#505a5f"
#: The Analysis Function's categorical palette, chosen to be distinguishable with the common
#: kinds of colour-blindness (dark blue, turquoise, dark pink, orange, dark grey, light purple).
PALETTE = ("#12436D", "#28A197", "#801650", "#F46A25", "#3D3D3D", "#A285D1")

MEAN_COLOUR = "#3D3D3D"
LIMIT_COLOUR = "#505a5f"
TARGET_COLOUR = "#0b0c0c"  # black dash-dot: distinct from every series colour
VALUE_LINE_COLOUR = spc.COLOUR_COMMON_CAUSE
BAND_FILL = "rgba(18, 67, 109, 0.15)"

#: Funnel plot: colour and marker symbol per band (the symbol repeats the colour's meaning).
FUNNEL_STYLE = {
    spc.WITHIN_95: ("#7B7D7D", "circle"),
    spc.BETWEEN_95_998: ("#F46A25", "diamond"),
    spc.BEYOND_998: ("#801650", "square"),
}

POINT_TYPE_NAMES = {
    spc.SPECIAL_CAUSE_IMPROVEMENT: "Special cause – improvement",
    spc.SPECIAL_CAUSE_CONCERN: "Special cause – concern",
    spc.SPECIAL_CAUSE_NEUTRAL_HIGH: "Special cause – neither (higher)",
    spc.SPECIAL_CAUSE_NEUTRAL_LOW: "Special cause – neither (lower)",
}


def _template() -> go.layout.Template:
    axis = dict(
        showgrid=False,
        showline=True,
        linecolor="#b1b4b6",
        ticks="outside",
        tickcolor="#b1b4b6",
        zeroline=False,
        title=dict(font=dict(size=14, color=MUTED_TEXT)),
        automargin=True,
    )
    return go.layout.Template(
        layout=go.Layout(
            font=dict(family=FONT_FAMILY, size=14, color=TEXT_COLOUR),
            colorway=list(PALETTE),
            title=dict(font=dict(size=18, color=TEXT_COLOUR), x=0, xanchor="left", xref="paper"),
            paper_bgcolor="white",
            plot_bgcolor="white",
            xaxis=axis,
            yaxis={**axis, "showgrid": True, "gridcolor": "#e5e6e7", "showline": False},
            legend=dict(orientation="h", x=0, y=-0.18, xanchor="left", yanchor="top"),
            hoverlabel=dict(font=dict(family=FONT_FAMILY, size=14), bgcolor="white"),
            hovermode="closest",
            margin=dict(l=60, r=170, t=110, b=110),
        )
    )


pio.templates[TEMPLATE] = _template()


# --- small helpers --------------------------------------------------------------------------


def alt_text(fig: go.Figure) -> str:
    """The alt text a builder set on ``fig`` (empty when there is none)."""
    meta = fig.layout.meta
    if isinstance(meta, (list, tuple)):
        meta = next((m for m in meta if isinstance(m, dict)), None)
    if isinstance(meta, dict):
        return str(meta.get("alt", ""))
    return ""


def _set_alt(fig: go.Figure, text: str) -> None:
    fig.update_layout(meta={"alt": text})


def _x(period: Any) -> Any:
    """A period as a first-of-month date (plotly cannot serialise pandas Periods)."""
    try:
        year, month0 = divmod(spc.month_index(period), 12)
    except TypeError:
        return period
    return _dt.date(year, month0 + 1, 1)


def _ym(period: Any) -> str:
    try:
        year, month0 = divmod(spc.month_index(period), 12)
    except TypeError:
        return str(period)
    return f"{year:04d}-{month0 + 1:02d}"


def _label(period: Any) -> str:
    try:
        return spc.period_label(period)
    except TypeError:
        return str(period)


def _hover_suffix(unit: str) -> str:
    if not unit:
        return ""
    return unit if unit.startswith(("%", " ")) else " " + unit


def _source_line(source: str | None, periods: Sequence[Any]) -> str:
    text = f"Source: {source or 'monthly extract'}"
    if len(periods):
        text += f", periods {_ym(periods[0])} to {_ym(periods[-1])}"
    return text


def _wrap(text: str, width: int = 110) -> str:
    """Break a long sentence into lines for an annotation (plotly does not wrap text)."""
    return "<br>".join(textwrap.wrap(text, width=width)) or text


#: Characters of an 18 px title that fit on one line of a chart 640 px wide (its narrowest: see ui.RESPONSIVE_CSS).
TITLE_CHARS = 66
TITLE_LINE_PX = 24
NOTE_LINE_PX = 17
#: Vertical space the template leaves for a plot: its height less its top and bottom margins.
_TEMPLATE_MARGINS = (110, 110)


def _finish(
    fig: go.Figure, title: str, alt: str, source_text: str | None, height: int = 460, source_shift: int = 75
) -> go.Figure:
    """What every builder ends with: the template, the title wrapped over lines (plotly does not
    wrap) with just the room it and the notes above the plot need, the axes fitted to the data,
    the source line under the plot and the legend under that, then `declutter` so no two
    labels overlap."""
    lines = textwrap.wrap(title, TITLE_CHARS) or [title]
    above = _note_lines_above_plot(fig)
    notes = 12 + NOTE_LINE_PX * above if above else 8  # the notes on top of the plot, under the title
    top = 14 + TITLE_LINE_PX * len(lines) + notes
    plot_height = height - sum(_TEMPLATE_MARGINS)
    fig.update_layout(
        template=TEMPLATE,
        # anchored on the plot: plotly places a title's first line at the anchor and lets the
        # others run down, so the padding lifts it by the lines after the first as well
        title=dict(text="<br>".join(lines), y=1, yref="paper", yanchor="bottom",
                   pad=dict(b=notes + TITLE_LINE_PX * (len(lines) - 1) + 4, t=0)),
        height=top + plot_height + _TEMPLATE_MARGINS[1],
        margin=dict(t=top, b=_TEMPLATE_MARGINS[1]),
    )
    if source_text:
        fig.add_annotation(
            text=source_text,
            xref="paper",
            yref="paper",
            x=0,
            y=0,
            yshift=-source_shift,  # moved under the axis by `declutter`
            xanchor="left",
            yanchor="top",
            showarrow=False,
            font=dict(size=12, color=MUTED_TEXT),
            name="source",
        )
    _set_alt(fig, alt)
    fit_axes(fig)
    return declutter(fig)


def _note_lines_above_plot(fig: go.Figure) -> int:
    """Lines of the notes sitting on top of the plot (paper y = 1, anchored at their bottom)."""
    lines = 0
    for a in fig.layout.annotations or ():
        if a.yref == "paper" and a.y is not None and a.y >= 1 and a.yanchor == "bottom":
            lines = max(lines, str(a.text or "").count("<br>") + 1)
    return lines


def _numbers(values) -> list[float]:
    out = []
    for v in values if values is not None else ():
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


def _dates(values) -> list[_dt.date]:
    return [v for v in (values if values is not None else ()) if isinstance(v, _dt.date)]


def fit_axes(fig: go.Figure) -> go.Figure:
    """Fix the axes to the data (traces and shapes; labels never stretch them): a date axis to
    the first and last month with a little room, a numeric one to its values with 8% either
    side, a percentage axis never beyond 0–100%. A y-axis already set to start at zero keeps 0."""
    xs_dates, xs_num, ys = [], [], []
    for trace in fig.data:
        x = getattr(trace, "x", None)
        y = getattr(trace, "y", None)
        xs_dates += _dates(x)
        xs_num += _numbers(x)
        ys += _numbers(y)
    for shape in fig.layout.shapes or ():
        xs_dates += _dates([shape.x0, shape.x1])
        if shape.yref in (None, "y"):
            ys += _numbers([shape.y0, shape.y1])
    if xs_dates and fig.layout.xaxis.range is None:
        pad = _dt.timedelta(days=20)
        fig.update_xaxes(range=[min(xs_dates) - pad, max(xs_dates) + pad])
    elif xs_num and fig.layout.xaxis.range is None:
        lo, hi = min(xs_num), max(xs_num)
        pad = (hi - lo) * 0.05 or 1.0
        fig.update_xaxes(range=[lo - pad, hi + pad], rangemode="normal")
    yr = fig.layout.yaxis.range
    if yr is not None and fig.layout.yaxis.rangemode == "tozero" and _numbers([yr[0]]) and yr[0] > 0:
        fig.update_yaxes(range=[0, yr[1]])  # set to start at zero after the builder fitted it
    if ys and fig.layout.yaxis.range is None:
        lo, hi = min(ys), max(ys)
        pad = (hi - lo) * 0.08 or max(abs(hi) * 0.1, 1.0)
        lo, hi = lo - pad, hi + pad
        if fig.layout.yaxis.rangemode == "tozero" or (min(ys) >= 0 and lo < 0):
            lo = 0.0
        if fig.layout.yaxis.ticksuffix == "%":
            lo, hi = max(lo, 0.0), min(hi, 100.0)
        fig.update_yaxes(range=[lo, hi])
    return fig


def _lay_out_bottom(fig: go.Figure) -> None:
    """Tick labels, axis title, source line and legend one under the other, keeping the plot's height."""
    box = _plot_box(fig)
    if box is None:
        return
    _, plot_h = box
    source = next((a for a in fig.layout.annotations or () if a.name == "source"), None)
    below = 34 + (24 if fig.layout.xaxis.title.text else 0)
    source_at = below if source is not None else below - 16
    legend_at = source_at + 20
    has_legend = any(t.showlegend is not False for t in fig.data) and fig.layout.showlegend is not False
    bottom = legend_at + (2 * 22 + 8 if has_legend else 0)
    if source is not None:
        source.yshift = -source_at
    fig.update_layout(height=fig.layout.height - (fig.layout.margin.b or 0) + bottom, margin=dict(b=bottom),
                      legend=dict(y=-legend_at / plot_h, yanchor="top"))


def _text_size(text: str, size: float) -> tuple[float, float]:
    """An estimate of a label's width and height in pixels (Arial: about 0.55 em a character)."""
    rows = str(text or "").split("<br>")
    plain = [re.sub(r"<[^>]+>", "", r) for r in rows]
    return max((len(r) for r in plain), default=0) * size * 0.55, len(rows) * size * 1.25


def _plot_box(fig: go.Figure) -> tuple[float, float] | None:
    """(top, height) of the plot area in pixels, from the figure's height and margins."""
    height = fig.layout.height
    if not height:
        return None
    t = fig.layout.margin.t if fig.layout.margin.t is not None else _TEMPLATE_MARGINS[0]
    b = fig.layout.margin.b if fig.layout.margin.b is not None else _TEMPLATE_MARGINS[1]
    return t, height - t - b


def _axis_value(v: Any) -> float | None:
    if isinstance(v, _dt.datetime):
        return v.timestamp() / 86400
    if isinstance(v, _dt.date):
        return _dt.datetime(v.year, v.month, v.day).timestamp() / 86400
    if isinstance(v, str):
        try:
            return _axis_value(_dt.datetime.fromisoformat(v))
        except ValueError:
            return None
    numbers = _numbers([v])
    return numbers[0] if numbers else None


#: Plot width assumed when placing labels whose overlap depends on it (a chart narrower than this
#: places its labels as at this width).
NOMINAL_PLOT_WIDTH = 600


def declutter(fig: go.Figure) -> go.Figure:
    """A last pass over a finished figure so that no two labels overlap, whatever drew them.

    - Labels of vertical markers along the top of the plot ("Action started", "Due") that could
      meet are stacked a line apart.
    - Labels placed at data points (line ends: values, mean, limits, target, projection) are
      measured in pixels from the y-axis range and nudged apart vertically (``yshift``; their
      y stays the value), kept below the markers' labels and within the plot.
    - Text drawn beside scatter points (office names on a funnel plot) takes, point by point,
      the first position of above / below / right / left that does not meet one already placed.
    - Under the plot: the tick labels, the axis title when there is one, the source line, then
      the legend (which may wrap onto more rows on a narrow screen: it has the room below).
    Needs a fixed y range (`fit_axes`); a figure without one is returned as it is."""
    _lay_out_bottom(fig)
    box = _plot_box(fig)
    yr = fig.layout.yaxis.range
    xr = fig.layout.xaxis.range
    if box is None or yr is None or xr is None:
        return fig
    top, plot_h = box
    y0, y1 = float(yr[0]), float(yr[1])
    x0, x1 = _axis_value(xr[0]), _axis_value(xr[1])
    if y1 <= y0 or x0 is None or x1 is None or x1 <= x0 or plot_h <= 0:
        return fig
    notes = list(fig.layout.annotations or ())

    # 1. marker labels along the top of the plot ("Due"), and along its foot ("Action started",
    # "New limits"): each row of labels stacked a line apart where two could meet
    def stack(markers, direction: int) -> int:
        markers.sort(key=lambda a: _axis_value(a.x) or 0)
        placed: list[tuple[float, float, int]] = []  # (left, right, row) in nominal pixels
        rows = 0
        for a in markers:
            w, _ = _text_size(a.text, a.font.size or 12)
            px = ((_axis_value(a.x) or x0) - x0) / (x1 - x0) * NOMINAL_PLOT_WIDTH
            left, right = (px - w, px) if a.xanchor == "right" else (px, px + w)
            row = 0
            while any(r == row and left < pr + 6 and right > pl - 6 for pl, pr, r in placed):
                row += 1
            placed.append((left, right, row))
            a.yshift = direction * row * NOTE_LINE_PX
            rows = max(rows, row + 1)
        return rows

    markers = [a for a in notes if a.yref == "paper" and a.y == 1 and a.yanchor == "top" and a.xref in (None, "x")]
    rows = stack(markers, -1)
    stack([a for a in notes if a.yref == "paper" and a.y == 0 and a.yanchor == "bottom" and a.xref in (None, "x")], 1)
    band = rows * NOTE_LINE_PX + 2 if markers else 0

    # 2. labels at data points, nudged apart vertically
    labels = [a for a in notes if a.xref in (None, "x") and a.yref in (None, "y") and not a.showarrow
              and _numbers([a.y])]
    boxes = []
    for a in labels:
        _, h = _text_size(a.text, a.font.size or 14)
        py = top + (y1 - float(a.y)) / (y1 - y0) * plot_h
        boxes.append([py - h / 2, h, a, py])
    boxes.sort(key=lambda b: b[0])
    floor = top + band
    for b in boxes:  # downwards: each below the one above
        b[0] = max(b[0], floor)
        floor = b[0] + b[1] + 1
    ceiling = top + plot_h + 4
    for b in reversed(boxes):  # back up where the stack runs out of the plot
        b[0] = min(b[0], ceiling - b[1])
        ceiling = b[0] - 1
    for new_top, h, a, py in boxes:
        shift = -((new_top + h / 2) - py)
        a.yshift = round(shift, 1) if abs(shift) > 0.5 else None

    # 3. text beside scatter points
    taken: list[tuple[float, float, float, float]] = []
    for trace in fig.data:
        if "text" not in (getattr(trace, "mode", "") or "") or trace.text is None:
            continue
        size = (trace.textfont.size if trace.textfont and trace.textfont.size else None) or 14
        positions = []
        xs, ys = list(trace.x), list(trace.y)
        for text, xv, yv in zip(trace.text, xs, ys):
            xv, yv = _axis_value(xv), _axis_value(yv)
            if xv is None or yv is None:
                positions.append("top center")
                continue
            px = (xv - x0) / (x1 - x0) * NOMINAL_PLOT_WIDTH
            py = (y1 - yv) / (y1 - y0) * plot_h
            w, h = _text_size(str(text), size)
            options = {
                "top center": (px - w / 2, py - 8 - h), "bottom center": (px - w / 2, py + 8),
                "middle right": (px + 9, py - h / 2), "middle left": (px - 9 - w, py - h / 2),
                "top right": (px + 4, py - 6 - h), "bottom left": (px - 4 - w, py + 6),
            }
            choice = "top center"
            for name, (left, upper) in options.items():
                cand = (left, upper, left + w, upper + h)
                if not any(cand[0] < o[2] and cand[2] > o[0] and cand[1] < o[3] and cand[3] > o[1] for o in taken):
                    choice = name
                    break
            left, upper = options[choice]
            taken.append((left, upper, left + w, upper + h))
            positions.append(choice)
        trace.textposition = positions
    return fig


def _spread_labels(labels: list[dict], y_span: float, min_gap_fraction: float = 0.07) -> list[dict]:
    """Nudge end-of-line labels apart so they do not overlap (in data units)."""
    if not labels or y_span <= 0:
        return labels
    gap = y_span * min_gap_fraction
    ordered = sorted(labels, key=lambda item: item["y"])
    for lower, upper in zip(ordered, ordered[1:]):
        if upper["y"] - lower["y"] < gap:
            upper["y"] = lower["y"] + gap
    return ordered


def _add_end_labels(fig: go.Figure, labels: list[dict], y_span: float) -> None:
    for item in _spread_labels(labels, y_span):
        fig.add_annotation(
            x=item["x"],
            y=item["y"],
            text=item["text"],
            xanchor="left",
            xshift=8,
            showarrow=False,
            font=dict(color=item["colour"], size=13),
            align="left",
            name=item.get("name", "line label"),
        )


def _vertical_marker(fig: go.Figure, x: Any, text: str, colour: str = MUTED_TEXT, label_side: str = "left",
                     at_bottom: bool = False) -> None:
    """A dotted vertical line at ``x`` with its label at the top (or the bottom), to the left or right."""
    fig.add_shape(
        type="line",
        x0=x,
        x1=x,
        xref="x",
        y0=0,
        y1=1,
        yref="paper",
        line=dict(color=colour, width=1, dash="dot"),
        name=text,
    )
    fig.add_annotation(
        x=x,
        y=0 if at_bottom else 1,
        xref="x",
        yref="paper",
        text=text,
        showarrow=False,
        xanchor="right" if label_side == "left" else "left",
        yanchor="bottom" if at_bottom else "top",
        xshift=-3 if label_side == "left" else 3,
        font=dict(size=12, color=colour),
        name=text,
    )


def _finite(values: Sequence[Any]) -> list[float]:
    return [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]


def finding_title(
    kpi_title: str,
    latest: float | None,
    previous: float | None,
    unit: str = "",
    direction: str | None = None,
    period: Any = None,
    target: float | None = None,
) -> str:
    """A title that states the finding.

    ``finding_title("Transfers accepted within 5 working days", 84, 80, "%", "higher",
    period="2012-03")`` → "Transfers accepted within 5 working days rose to 84% in March 2012".
    The verb (rose to / fell to / stayed at / was) is factual; a change too small to show at
    one decimal place "stayed at". With a ``target`` and a direction, the title adds whether
    the latest value meets it (", below the target of 90%").
    """
    when = f" in {_label(period)}" if period is not None else ""
    latest = spc.clean_value(latest)
    previous = spc.clean_value(previous)
    if latest is None:
        return f"{kpi_title}: no value{when}"
    shown = spc.format_value(latest, unit)
    if previous is None:
        verb = "was"
    elif spc.format_value(previous, unit) == shown:
        verb = "stayed at"
    else:
        verb = "rose to" if latest > previous else "fell to"
    title = f"{kpi_title} {verb} {shown}{when}"
    target = spc.clean_value(target)
    direction = spc.normalise_direction(direction)
    if target is not None and direction != spc.NEUTRAL:
        target_words = spc.format_value(target, unit)
        if spc.meets_target(latest, target, direction):
            title += f", meeting the target of {target_words}"
        elif direction == spc.INCREASE:
            title += f", below the target of {target_words}"
        else:
            title += f", above the target of {target_words}"
    return title


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
        fig.add_trace(
            go.Scatter(
                x=[xs[0], x_end],
                y=[target, target],
                mode="lines",
                name=f"Target {spc.format_value(target, unit)}",
                line=dict(color=TARGET_COLOUR, width=2, dash="dashdot"),
                hoverinfo="skip",
                showlegend=False,
                meta={"role": "target"},
            )
        )

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
    _add_end_labels(fig, end_labels, y_span)

    if due_period is not None:
        _vertical_marker(fig, _x(due_period), f"Due {_label(due_period)}")
    base = getattr(result, "baseline_months", None)
    rebases = [seg.start for seg in result.segments[1:] if not seg.carried and seg.start < len(xs)]
    if base and base < len(xs):
        _vertical_marker(fig, xs[base], "Action started" + (" · new limits" if base in rebases else ""),
                         label_side="right", at_bottom=True)
    for start in rebases:
        if start != base:
            _vertical_marker(fig, xs[start], "New limits", label_side="right", at_bottom=True)

    # The icons' meaning in words (the verdict's, when there is one: it never contradicts the title).
    variation = verdict.variation if verdict is not None else result.variation
    assurance = verdict.assurance if verdict is not None else result.assurance
    v_icon = spc.variation_icon(variation, result.improvement)
    a_icon = spc.assurance_icon(assurance)
    if verdict is not None and verdict.small_base:
        icon_words = [f"Variation: small base this month (fewer than {spc.SMALL_BASE} cases), too small to read"]
    else:
        icon_words = [f"Variation: {v_icon.label} ({v_icon.short})" if v_icon else "Variation: no value yet"]
    if a_icon:
        icon_words.append(f"Assurance: {a_icon.label} ({a_icon.short})")
    elif verdict is not None and verdict.meets_target is not None and not verdict.small_base:
        icon_words.append("Assurance: not judged, the latest month is beyond its limits")
    if verdict is not None:
        icon_words += list(verdict.notes)
    elif result.trial_limits:
        icon_words.append("Trial limits: fewer than 12 points since the limits were set")
    fig.add_annotation(
        text="<br>".join(icon_words),
        xref="paper",
        yref="paper",
        x=0,
        y=1,
        yshift=8,
        xanchor="left",
        yanchor="bottom",
        align="left",
        showarrow=False,
        font=dict(size=13, color=v_icon.colour if v_icon and v_icon.code != "common_cause" else MUTED_TEXT),
        name="icons",
    )
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
    return _finish(fig, title, " ".join(parts), _source_line(source, periods))


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
        _add_end_labels(
            fig,
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
    return _finish(fig, title, " ".join(parts), src, source_shift=105)


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
        fig.add_trace(
            go.Scatter(
                x=[xs[0], x_end],
                y=[result.target, result.target],
                mode="lines",
                name=f"Target {spc.format_value(result.target, unit)}",
                line=dict(color=TARGET_COLOUR, width=2, dash="dashdot"),
                hoverinfo="skip",
                showlegend=False,
                meta={"role": "target"},
            )
        )
    _vertical_marker(fig, _x(result.start_period), f"Action started {_label(result.start_period)}", label_side="right")
    _vertical_marker(fig, due_x, f"Due {_label(result.due_period)}", label_side="left")

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
    _add_end_labels(fig, labels, y_span)
    fig.add_annotation(
        text=_wrap(result.sentence),
        xref="paper",
        yref="paper",
        x=0,
        y=1,
        yshift=8,
        xanchor="left",
        yanchor="bottom",
        align="left",
        showarrow=False,
        font=dict(size=13, color=MUTED_TEXT),
        name="status",
    )
    fig.update_yaxes(ticksuffix=unit if unit == "%" else "")
    fig.update_xaxes(tickformat="%b %Y")
    alt = f"Trajectory chart: {title}. {result.sentence}"
    return _finish(fig, title, alt, _source_line(source, periods))


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
) -> go.Figure:
    """One line per ``color`` group (e.g. area office), each labelled at its end with its
    name and latest value (no legend). With ``highlight``, that group is drawn in colour and
    the others in grey."""
    suffix = _hover_suffix(unit)
    fig = go.Figure()
    data = df.copy()
    data["_x"] = [_x(v) for v in data[x]]
    data = data.sort_values("_x")
    groups = [g for g in pd.unique(data[color].astype(object)) if g is not None and not (isinstance(g, float) and math.isnan(g))]
    labels: list[dict] = []
    latest_words: list[str] = []
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
            if last["_x"] != data["_x"].max():  # an older month's value: name its month
                value_words += f" ({_label(last[x])})"
            labels.append(
                dict(x=last["_x"], y=float(last[y]), colour=colour, text=f"{group} {value_words}", name=f"label {group}")
            )
            latest_words.append(f"{group} {value_words}")
    x_values = list(data["_x"])
    if target is not None and x_values:
        fig.add_trace(
            go.Scatter(
                x=[x_values[0], x_values[-1]],
                y=[target, target],
                mode="lines",
                name=f"Target {spc.format_value(target, unit)}",
                line=dict(color=TARGET_COLOUR, width=2, dash="dashdot"),
                hoverinfo="skip",
                showlegend=False,
                meta={"role": "target"},
            )
        )
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
    _add_end_labels(fig, labels, (max(finite) - min(finite)) if finite else 0.0)
    fig.update_yaxes(ticksuffix=unit if unit == "%" else "")
    fig.update_xaxes(tickformat="%b %Y")
    periods = list(data[x])
    span = f" from {_label(periods[0])} to {_label(periods[-1])}" if periods else ""
    alt = f"Line chart: {title}. {len(groups)} lines ({', '.join(map(str, groups))}){span}."
    if latest_words:
        alt += f" Latest: {', '.join(latest_words)}."
    if target is not None:
        alt += f" Target {spc.format_value(target, unit)}."
    return _finish(fig, title, alt, _source_line(source, periods))


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

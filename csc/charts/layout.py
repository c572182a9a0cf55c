"""What every chart builder shares: periods as x values, alt text, the finish (title, source
line, fitted axes), `declutter`, end-of-line labels, vertical markers and `finding_title`."""

from __future__ import annotations

import datetime as _dt
import math
import re
import textwrap
from collections.abc import Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from csc import spc
from csc.charts.theme import MUTED_TEXT, TARGET_COLOUR, TEMPLATE


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


#: Characters of a 13 px note (12 px: SOURCE_CHARS) that fit on one line from the plot's left edge
#: to the right of a chart 640 px wide, its narrowest (ui.RESPONSIVE_CSS): 580 px, measured in
#: Chromium at about 5.8 px a character (5.2 at 12 px), with room to spare.
NOTE_CHARS = 95
SOURCE_CHARS = 105


def _wrap(text: str, width: int = NOTE_CHARS) -> str:
    """Break a long sentence into lines for an annotation (plotly does not wrap text); lines
    already broken (``<br>``) are each broken where too long."""
    return "<br>".join("<br>".join(textwrap.wrap(line, width=width)) or line for line in text.split("<br>")) or text


#: Characters of an 18 px title that fit on one line of a chart 640 px wide (its narrowest: see ui.RESPONSIVE_CSS).
TITLE_CHARS = 66
TITLE_LINE_PX = 24
NOTE_LINE_PX = 17
#: Vertical space the template leaves for a plot: its height less its top and bottom margins.
_TEMPLATE_MARGINS = (110, 110)


def _finish(
    fig: go.Figure, title: str, alt: str, source_text: str | None, height: int = 460, source_shift: int = 75,
    notes: Sequence[dict] = (),
) -> go.Figure:
    """What every builder ends with: the template, the title wrapped over lines (plotly does not
    wrap) with just the room it and the notes above the plot need, the axes fitted to the data,
    the source line under the plot and the legend under that, then `declutter` so no two
    labels overlap.

    ``notes``: the builder's annotations (labels, markers' labels, the words above the plot), set
    with the source line in one go: ``fig.add_annotation`` re-validates the figure's whole list
    of annotations on every call (about 2 ms a call on a busy chart)."""
    source = []
    if source_text:
        source.append(dict(
            text=_wrap(source_text, SOURCE_CHARS),
            xref="paper",
            yref="paper",
            x=0,
            y=0,
            yshift=-source_shift,  # moved under the axis by `declutter`
            xanchor="left",
            yanchor="top",
            align="left",
            showarrow=False,
            font=dict(size=12, color=MUTED_TEXT),
            name="source",
        ))
    right = _right_margin_for(notes)
    if notes or source:
        fig.layout.annotations = (*fig.layout.annotations, *notes, *source)
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
        margin=dict(t=top, b=_TEMPLATE_MARGINS[1], **({"r": right} if right else {})),
    )
    _set_alt(fig, alt)
    fit_axes(fig)
    return declutter(fig)


def _note_lines_above_plot(fig: go.Figure) -> int:
    """Lines of the notes sitting on top of the plot (paper y = 1, anchored at their bottom)."""
    lines = 0
    for a in fig.layout.to_plotly_json().get("annotations") or ():
        y = a.get("y")
        if a.get("yref") == "paper" and y is not None and y >= 1 and a.get("yanchor") == "bottom":
            lines = max(lines, str(a.get("text") or "").count("<br>") + 1)
    return lines


def _numbers(values) -> list[float]:
    out = []
    for v in values if values is not None else ():
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and math.isfinite(v):
            out.append(float(v))
    return out


def _dates(values) -> list[_dt.date]:
    return [v for v in (values if values is not None else ()) if isinstance(v, _dt.date)]


#: Months a date axis may span and still get a tick on every month (up to twice as many: every other
#: month; more: plotly's own, by quarters or years).
MONTHLY_TICKS = 6


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
    if xs_dates and fig.layout.xaxis.dtick is None:
        first, last = min(xs_dates), max(xs_dates)
        span = (last.year - first.year) * 12 + last.month - first.month
        if span <= MONTHLY_TICKS * 2:
            # left to itself, plotly ticked a short range every half month, each label twice ("Mar
            # 2009, Mar 2009, Apr 2009 …", April's point under a "Mar": a review): a tick on each
            # month, or every other month where 13 labels would crowd a 640 px chart
            fig.update_xaxes(dtick="M1" if span <= MONTHLY_TICKS else "M2")
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


def _get(d: Any, *path: str) -> Any:
    """A value of a figure's plain dictionary (`_Plain`), None where a step of ``path`` is missing."""
    for key in path:
        if not isinstance(d, dict):
            return None
        d = d.get(key)
    return d


class _Plain:
    """A figure's layout read and changed as plain dictionaries (a copy), then written back to the
    figure in one go (`write`). Reading a plotly figure property by property validates and wraps
    every value (the layout passes below read each label's dozen attributes: ~9 ms a chart, a
    fifth of a page's first view after an import); a dictionary lookup does none of that."""

    def __init__(self, fig: go.Figure):
        self.fig = fig
        self.layout = fig.layout.to_plotly_json()  # a deep copy
        self.notes: list[dict] = self.layout.get("annotations") or []
        self._notes_before = [dict(a) for a in self.notes]  # the passes change only a label's own keys
        self.changes: dict[str, Any] = {}

    def write(self) -> go.Figure:
        """Write back what changed (a second pass over a figure already laid out writes nothing:
        writing a list of labels validates every one of them again, ~0.2 ms a label)."""
        if self.notes != self._notes_before:
            self.fig.layout.annotations = self.notes  # replaced, so that a shift taken away is dropped
        if self.changes:
            self.fig.update_layout(**self.changes)
        return self.fig


def _lay_out_bottom(fig: go.Figure, lay: _Plain) -> None:
    """Tick labels, axis title, source line and legend one under the other, keeping the plot's
    height: changed in `lay`, written back by its `write`."""
    box = _plot_box(lay.layout)
    if box is None:
        return
    _, plot_h = box
    source = next((a for a in lay.notes if a.get("name") == "source"), None)
    below = 34 + (24 if _get(lay.layout, "xaxis", "title", "text") else 0)
    source_at = below if source is not None else below - 16
    source_lines = str(source.get("text") or "").count("<br>") + 1 if source is not None else 1
    legend_at = source_at + 20 + 15 * (source_lines - 1)
    has_legend = any(t.showlegend is not False for t in fig.data) and lay.layout.get("showlegend") is not False
    bottom = legend_at + (2 * 22 + 8 if has_legend else 0)
    if source is not None:
        source["yshift"] = -source_at
    height = lay.layout["height"] - (_get(lay.layout, "margin", "b") or 0) + bottom
    legend = dict(y=-legend_at / plot_h, yanchor="top")
    if (height, bottom, legend["y"], legend["yanchor"]) != (
            lay.layout["height"], _get(lay.layout, "margin", "b"), _get(lay.layout, "legend", "y"),
            _get(lay.layout, "legend", "yanchor")):
        lay.changes.update(height=height, margin=dict(b=bottom), legend=legend)
    lay.layout["height"] = height
    lay.layout.setdefault("margin", {})["b"] = bottom


def _text_size(text: str, size: float) -> tuple[float, float]:
    """An estimate of a label's width and height in pixels (Arial: about 0.55 em a character)."""
    rows = str(text or "").split("<br>")
    plain = [re.sub(r"<[^>]+>", "", r) for r in rows]
    return max((len(r) for r in plain), default=0) * size * 0.55, len(rows) * size * 1.25


def _plot_box(layout: dict) -> tuple[float, float] | None:
    """(top, height) of the plot area in pixels, from a layout's height and margins (`_Plain`)."""
    height = layout.get("height")
    if not height:
        return None
    t, b = _get(layout, "margin", "t"), _get(layout, "margin", "b")
    t = t if t is not None else _TEMPLATE_MARGINS[0]
    b = b if b is not None else _TEMPLATE_MARGINS[1]
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
    lay = _Plain(fig)
    _lay_out_bottom(fig, lay)
    box = _plot_box(lay.layout)
    yr = _get(lay.layout, "yaxis", "range")
    xr = _get(lay.layout, "xaxis", "range")
    if box is None or yr is None or xr is None:
        return lay.write()
    top, plot_h = box
    y0, y1 = float(yr[0]), float(yr[1])
    x0, x1 = _axis_value(xr[0]), _axis_value(xr[1])
    if y1 <= y0 or x0 is None or x1 is None or x1 <= x0 or plot_h <= 0:
        return lay.write()
    notes = lay.notes

    # 1. marker labels along the top of the plot ("Due"), and along its foot ("Action started",
    # "New limits"): each row of labels stacked a line apart where two could meet
    def stack(markers, direction: int) -> int:
        markers.sort(key=lambda a: _axis_value(a.get("x")) or 0)
        placed: list[tuple[float, float, int]] = []  # (left, right, row) in nominal pixels
        rows = 0
        for a in markers:
            w, _ = _text_size(a.get("text"), _get(a, "font", "size") or 12)
            px = ((_axis_value(a.get("x")) or x0) - x0) / (x1 - x0) * NOMINAL_PLOT_WIDTH
            left, right = (px - w, px) if a.get("xanchor") == "right" else (px, px + w)
            row = 0
            while any(r == row and left < pr + 6 and right > pl - 6 for pl, pr, r in placed):
                row += 1
            placed.append((left, right, row))
            a["yshift"] = direction * row * NOTE_LINE_PX
            rows = max(rows, row + 1)
        return rows

    def along(y: int, anchor: str) -> list[dict]:
        return [a for a in notes if a.get("yref") == "paper" and a.get("y") == y and a.get("yanchor") == anchor
                and a.get("xref") in (None, "x")]

    markers = along(1, "top")
    rows = stack(markers, -1)
    stack(along(0, "bottom"), 1)
    band = rows * NOTE_LINE_PX + 2 if markers else 0

    # 2. labels at data points, nudged apart vertically
    labels = [a for a in notes if a.get("xref") in (None, "x") and a.get("yref") in (None, "y") and not a.get("showarrow")
              and _numbers([a.get("y")])]
    boxes = []
    for a in labels:
        # a label pushed past the axis (two lines at 100% on an axis that stops at 100) is not drawn
        # at all by plotly: anchored at the axis' end instead, and moved apart from the others below
        y = min(max(float(a["y"]), y0), y1)
        if y != a["y"]:  # written only when it moves, as plotly's setter did (10 stays 10, not 10.0)
            a["y"] = y
        _, h = _text_size(a.get("text"), _get(a, "font", "size") or 14)
        py = top + (y1 - y) / (y1 - y0) * plot_h
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
        if abs(shift) > 0.5:
            a["yshift"] = round(shift, 1)
        else:
            a.pop("yshift", None)
    lay.write()

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


#: The right margin, where the labels at the lines' ends go, is the template's (170 px), widened
#: for a longer label up to END_LABEL_MAX_PX; a label wider than that is broken over lines.
END_LABEL_MAX_PX = 300
_END_LABEL_SIZE = 13
_END_LABEL_SHIFT = 8
_END_LABEL_PAD = 12  # room kept right of the longest label


def _end_label_text(text: str) -> str:
    """`text` broken over lines where one line would be wider than the most the right margin gives."""
    room = END_LABEL_MAX_PX - _END_LABEL_SHIFT - _END_LABEL_PAD
    if _text_size(text, _END_LABEL_SIZE)[0] <= room or "<br>" in text:
        return text
    return _wrap(text, max(8, int(room / (_END_LABEL_SIZE * 0.55))))


def _right_margin_for(notes: Sequence[dict]) -> int | None:
    """The right margin the labels at the lines' ends need (the widest, estimated, and its
    shift), when more than the template's; None otherwise."""
    widths = [_text_size(a.get("text", ""), _END_LABEL_SIZE)[0] + _END_LABEL_SHIFT + _END_LABEL_PAD
              for a in notes if str(a.get("name", "")).startswith(("line label", "label "))]
    need = math.ceil(max(widths, default=0))
    return min(need, END_LABEL_MAX_PX) if need > pio.templates[TEMPLATE].layout.margin.r else None


def _end_labels(labels: list[dict], y_span: float) -> list[dict]:
    """The annotations labelling lines at their ends (for `_finish`'s ``notes``: it widens the
    right margin for them)."""
    return [
        dict(
            x=item["x"],
            y=item["y"],
            text=_end_label_text(item["text"]),
            xanchor="left",
            xshift=_END_LABEL_SHIFT,
            showarrow=False,
            font=dict(color=item["colour"], size=_END_LABEL_SIZE),
            align="left",
            name=item.get("name", "line label"),  # "label ..." when the builder names it
        )
        for item in _spread_labels(labels, y_span)
    ]


def _vertical_marker(fig: go.Figure, x: Any, text: str, colour: str = MUTED_TEXT, label_side: str = "left",
                     at_bottom: bool = False) -> dict:
    """A dotted vertical line at ``x``; returns its label (for `_finish`'s ``notes``), at the top
    (or the bottom), to the left or right."""
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
    return dict(
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


def _target_line(x0: Any, x1: Any, target: float, unit: str) -> go.Scatter:
    """The target as a black dash-dot line from ``x0`` to ``x1`` (labelled at its end by the builder)."""
    return go.Scatter(
        x=[x0, x1],
        y=[target, target],
        mode="lines",
        name=f"Target {spc.format_value(target, unit)}",
        line=dict(color=TARGET_COLOUR, width=2, dash="dashdot"),
        hoverinfo="skip",
        showlegend=False,
        meta={"role": "target"},
    )


def _note_above(text: str, colour: str, name: str) -> dict:
    """Words on top of the plot, under the title (for `_finish`'s ``notes``), e.g. the SPC icons'."""
    return dict(
        text=text,
        xref="paper",
        yref="paper",
        x=0,
        y=1,
        yshift=8,
        xanchor="left",
        yanchor="bottom",
        align="left",
        showarrow=False,
        font=dict(size=13, color=colour),
        name=name,
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

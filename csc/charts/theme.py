"""The app's one plotly template, ``pio.templates["csc"]``, and its colours."""

from __future__ import annotations

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

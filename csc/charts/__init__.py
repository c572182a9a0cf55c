"""DataFrame and `csc.spc` results → plotly figures. No Streamlit here.

Every figure follows the Government Analysis Function's chart guidance: the title states
the finding (see `finding_title`), a source line under the chart says which extract, lines
are labelled directly at their ends, and alt text is set in ``fig.layout.meta["alt"]``
(read it with `alt_text`). All figures use the one app template, ``pio.templates["csc"]``.

With Streamlit, draw them with ``st.plotly_chart(fig, theme=None)`` so that Streamlit's own
theme does not replace the template.

The package's modules, one job each: `theme` (the template and colours), `layout` (what every
builder shares: the finish, `fit_axes`, `declutter`, labels, `finding_title`), `xmr`, `funnel`,
`trajectory` and `lines` (several areas, sparklines). Their public names are all here.
"""

from __future__ import annotations

from csc.charts.theme import (
    BAND_FILL,
    FONT_FAMILY,
    FUNNEL_STYLE,
    LIMIT_COLOUR,
    MEAN_COLOUR,
    MUTED_TEXT,
    PALETTE,
    POINT_TYPE_NAMES,
    TARGET_COLOUR,
    TEMPLATE,
    TEXT_COLOUR,
    VALUE_LINE_COLOUR,
)
from csc.charts.layout import (
    NOMINAL_PLOT_WIDTH,
    NOTE_LINE_PX,
    TITLE_CHARS,
    TITLE_LINE_PX,
    _finish,
    _x,
    alt_text,
    declutter,
    finding_title,
    fit_axes,
)
from csc.charts.xmr import (
    xmr_chart,
)
from csc.charts.funnel import (
    funnel_chart,
)
from csc.charts.trajectory import (
    trajectory_chart,
)
from csc.charts.lines import (
    line_chart,
    sparkline,
    sparkline_svg,
)

__all__ = [
    "BAND_FILL",
    "FONT_FAMILY",
    "FUNNEL_STYLE",
    "LIMIT_COLOUR",
    "MEAN_COLOUR",
    "MUTED_TEXT",
    "PALETTE",
    "POINT_TYPE_NAMES",
    "TARGET_COLOUR",
    "TEMPLATE",
    "TEXT_COLOUR",
    "VALUE_LINE_COLOUR",
    "NOMINAL_PLOT_WIDTH",
    "NOTE_LINE_PX",
    "TITLE_CHARS",
    "TITLE_LINE_PX",
    "_finish",
    "_x",
    "alt_text",
    "declutter",
    "finding_title",
    "fit_axes",
    "xmr_chart",
    "funnel_chart",
    "trajectory_chart",
    "line_chart",
    "sparkline",
    "sparkline_svg",
]

"""User text is text: what people type (commentary, owners, action titles) and what uploads name
(teams, area offices, file names) shown in Markdown or in a plotly chart, never as markup.

- `md(text)`: for `st.markdown`, `st.caption`, `st.write`, `st.info`... Every character Markdown
  acts on is backslash-escaped (CommonMark allows it for any ASCII punctuation), so no image
  (`![x](http://host/pixel)` would make every viewer's browser fetch it), link, emphasis, HTML,
  LaTeX (`$`) or Streamlit directive (`:red[...]`) can form; an autolink (`http://`, `www.`, an
  e-mail), which the renderer finds after reading the escapes, is broken by an invisible word joiner.
- `html(text)`: for plotly, whose labels (legend, ticks, hover, text) understand a little HTML
  (`<a href>`, `<b>`, `<br>`): `& < >` become entities, which plotly shows as the characters.
- `safe_figure(fig)`: the data-derived labels of a figure escaped with `html` (trace names, string
  x/y categories, text, hover text and custom data); the code's own templates are left alone.
"""

from __future__ import annotations

import html as _html
import re

# What Markdown (CommonMark, GFM and Streamlit's extensions) acts on anywhere in a line: emphasis,
# code, links and images, HTML and entities, autolinks (http://, www., e-mail), tables, LaTeX, directives.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]()!<>#|{}~$:&@.])")
_MD_START = re.compile(r"^(\s*)([-+=>])")  # a list, a heading underline or a quote at the start
# What GFM's autolink literals start from: a scheme before ":", "www" before ".", the "@" of an e-mail
_AUTOLINK = re.compile(r"(?i)(?:https?|ftp|mailto|xmpp)(?=:)|www(?=\.)|@")


def md(value) -> str:
    """Text for Markdown, shown as typed (on one paragraph: line breaks become spaces), with an
    invisible word joiner (U+2060) after a URL's scheme, a "www" and an "@": Streamlit's renderer
    makes GFM's autolinks (http://, www., e-mail) from the text after escapes and entities are
    read, so only text that no longer looks like a link stays text (seen in Chromium: an uploaded
    value "https://..." in a warning was a live link)."""
    if value is None:
        return ""
    text = _AUTOLINK.sub("\\g<0>\u2060", " ".join(str(value).splitlines()))
    return _MD_START.sub(r"\1\\\2", _MD_SPECIAL.sub(r"\\\1", text))


def message(value) -> str:
    """A message the code wrote, with names from a file in it (a sheet, a file name, a value), for
    Markdown: the code's own `code` and *emphasis* marks are dropped and the rest escaped as `md`,
    so it reads as plain words and nothing from the file can form markup."""
    return md(re.sub(r"[`*]", "", "" if value is None else str(value)))


def html(value) -> str:
    """Entities for & < > (no tag can form; idempotent: text already escaped is not escaped twice)."""
    return _html.escape(_html.unescape("" if value is None else str(value)), quote=False)


def _escape_values(values):
    if values is None or isinstance(values, (int, float)):
        return values
    if isinstance(values, str):
        return html(values)
    try:
        seq = list(values)
    except TypeError:
        return values
    if not any(isinstance(v, str) for v in _flat(seq)):
        return values
    return tuple(_escape_values(v) if isinstance(v, (list, tuple)) else html(v) if isinstance(v, str) else v
                 for v in seq)


def _flat(seq):
    for v in seq:
        if isinstance(v, (list, tuple)):
            yield from _flat(v)
        else:
            yield v


_KEEP = re.compile(r"&lt;(br ?/?|/?b|/?i|/?extra)&gt;")


def markup(value) -> str:
    """A label the code wrote and may have put names into (a title, an annotation): escaped, with
    the few tags the code itself uses (<br>, <b>, <i>, <extra>) kept. An `<a href>` stays text."""
    if value is None:
        return value
    return _KEEP.sub(lambda m: f"<{m.group(1)}>", html(_html.unescape(str(value))))


def safe_figure(fig):
    """Escape the labels a figure's data carries, and titles and annotations (keeping the code's
    own <br>, <b>, <i>), in place; returns the figure."""
    if fig.layout.title and fig.layout.title.text:
        fig.layout.title.text = markup(fig.layout.title.text)
    for ann in fig.layout.annotations or ():
        if ann.text:
            ann.text = markup(ann.text)
    for axis in [a for a in fig.layout if a.startswith(("xaxis", "yaxis"))]:
        ax = fig.layout[axis]
        if ax.title and ax.title.text:
            ax.title.text = markup(ax.title.text)
        for attr in ("categoryarray", "ticktext"):
            if ax[attr] is not None:
                ax[attr] = _escape_values(list(ax[attr]))
    if fig.layout.legend and fig.layout.legend.title and fig.layout.legend.title.text:
        fig.layout.legend.title.text = markup(fig.layout.legend.title.text)
    for trace in fig.data:
        for attr in ("hovertemplate", "texttemplate"):  # written by the code, names put into them
            if attr in trace and isinstance(trace[attr], str):
                trace[attr] = markup(trace[attr])
        for attr in ("name", "legendgroup", "x", "y", "text", "hovertext", "customdata", "labels", "ids"):
            if attr in trace and trace[attr] is not None:
                value = trace[attr]
                if hasattr(value, "tolist"):
                    value = value.tolist()
                escaped = _escape_values(value)
                if escaped is not value:
                    try:
                        trace[attr] = escaped
                    except (ValueError, TypeError):
                        pass
    return fig

"""Work once per import, not once per view: what a page shows for a (data version, role,
selection) is built by the first session that asks and reused by every other session.

`shared(kind, key, build)` runs `build()` once per `(kind, key)` for the whole server and hands
every later caller the same object (Streamlit's `st.cache_resource`: no copy per view, and a
lock per key, so that twenty sessions missing at once build it once while the others wait).
The key must hold everything the result depends on: the data version (`Store.data_version`,
bumped by every import, rollback, refresh, plan change and team mapping, from this process or
another), the role whenever the board's figures differ (suppression), and the selection.
Results are shared and so never changed by a page: a page that needs another shape makes a
copy.

`Html(body)` is HTML made once and drawn by every view with `st.html` (which, given a string,
dedents the whole of it again on every call).

`chart(build)` is `shared` for a plotly figure: its labels escaped once (`text.safe_figure`),
its alt text read once, and its dictionary made once (`Frozen`), so that a view pays only for
serialising it.

Only this module and `csc/ui.py` use Streamlit's caches (besides the pages' own small ones)."""

from __future__ import annotations

import textwrap
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from csc import text

T = TypeVar("T")

#: Entries kept for the whole server; old data versions fall out as new ones come in.
MAX_ENTRIES = 4096

#: How many times each kind was built in this process (tests and benchmarks read it).
BUILDS: Counter[str] = Counter()
_builds_lock = threading.Lock()


def shared(kind: str, key: tuple, build: Callable[..., T], *args: Any) -> T:
    """`build(*args)`'s result for `(kind, key)`, built once for the whole server and shared
    (`args` are not part of the key: `key` must determine them). The key is made of plain values
    (strings, numbers, tuples, `report.Selection`): its `repr` is what Streamlit hashes, a few
    microseconds where hashing the objects themselves took milliseconds a lookup.

    A result already built is found in a plain dictionary first (`_found`: a microsecond, where a
    hit through Streamlit's cache costs ~70 µs of argument inspection and hashing, and a page
    asks dozens of times a view); a miss goes through Streamlit's cache, which builds it once."""
    name = repr((kind, key))
    try:
        return _found[name]
    except KeyError:
        pass
    value = _shared(name, _kind=kind, _build=build, _args=args)
    if len(_found) >= MAX_ENTRIES:  # old data versions' results: dropped together
        _found.clear()
    _found[name] = value
    return value


#: What `shared` has handed out, by key: the same objects as Streamlit's cache holds.
_found: dict[str, Any] = {}


@st.cache_resource(show_spinner=False, max_entries=MAX_ENTRIES)
def _shared(key: str, _kind: str, _build: Callable[..., Any], _args: tuple) -> Any:
    with _builds_lock:
        BUILDS[_kind] += 1
    return _build(*_args)


def clear() -> None:
    """Drop every shared result (after an import the data version changes anyway: this frees memory)."""
    _found.clear()
    _shared.clear()


class Html:
    """HTML for `st.html`, cleaned once. Given a string, `st.html` dedents and strips all of it on
    every call (`textwrap.dedent` over an action's table: ~0.1 ms a view each); given an object
    with `_repr_html_`, it takes what that returns as it is. So this does the same cleaning once,
    when the page's HTML is built, and every view sends the same body as before."""

    __slots__ = ("body",)

    def __init__(self, body: str):
        self.body = textwrap.dedent(str(body)).strip()  # what st.html does to a string (clean_text)

    def _repr_html_(self) -> str:
        return self.body


def html(kind: str, key: tuple, build: Callable[..., str], *args: Any) -> Html:
    """`shared` for a piece of HTML: `build(*args)` made once into an `Html`."""
    return shared(kind, key, lambda: Html(build(*args)))


class FigureDict(dict):
    """A frozen figure's dictionary, its JSON made once: `st.plotly_chart` turns the dictionary
    into JSON on every view (`plotly.io.to_json`); with orjson (plotly's engine when installed)
    plotly first asks an object for `to_plotly_json()`, and this answers with the JSON made the
    first time, as an `orjson.Fragment` that orjson writes out as it is. The same text either
    way (with plotly's json engine this is never asked, and the dictionary is encoded as before)."""

    _json = None

    def to_plotly_json(self):
        found = self._json
        if found is None:  # made on the first view, after plotly.io.to_json has dropped trace uids
            import orjson
            import plotly.io

            found = self._json = orjson.Fragment(plotly.io.json.to_json_plotly(dict(self), engine="orjson").encode())
        return found

    def __reduce_ex__(self, protocol):  # a copy (or a pickle) is the dictionary alone, its JSON made anew
        return self.__class__, (dict(self),)


class Frozen(go.Figure):
    """A finished figure that is never changed again: `to_dict()` (what `st.plotly_chart`
    serialises) returns the dictionary made once, instead of deep-copying the figure (its
    template included) on every view, and its JSON is made once too (`FigureDict`)."""

    _csc_dict: dict

    def to_dict(self) -> dict:
        return self._csc_dict


def freeze(fig: go.Figure) -> go.Figure:
    """Escape the figure's labels (once: `text.safe_figure` is not idempotent) and freeze it."""
    text.safe_figure(fig)
    fig._csc_dict = FigureDict(go.Figure.to_dict(fig))
    fig.__class__ = Frozen
    return fig


@dataclass(frozen=True)
class Chart:
    """A figure ready to draw: labels escaped, frozen, with its alt text and the data behind it."""

    figure: go.Figure
    alt: str | None
    data: pd.DataFrame | None = None


def make_chart(fig: go.Figure | None, data: pd.DataFrame | None = None) -> Chart | None:
    if fig is None:
        return None
    meta = fig.layout.meta
    alt = meta.get("alt") if isinstance(meta, dict) else None
    return Chart(freeze(fig), alt, data)


def chart(kind: str, key: tuple, build: Callable[..., tuple[go.Figure | None, pd.DataFrame | None]],
          *args: Any) -> Chart | None:
    """`shared` for one chart: `build(*args)` returns (figure or None, the data behind it or None)."""
    return shared(kind, key, lambda: make_chart(*build(*args)))

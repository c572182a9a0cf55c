"""User text is text (issue 14): commentary, owners, team and area names reach Markdown and
plotly escaped, so an image never makes a viewer's browser fetch anything and an <a href> in an
area office's name never becomes a link in a chart."""

from __future__ import annotations

import json
import re

import pytest
import streamlit as st

from csc import plan, text, ui
from csc.store import Store
from tests.app.conftest import build_council
from tests.app.test_pages import ACTION, PRACTICE, app, figures, texts
from tests.conftest import write_xlsx

@pytest.fixture(autouse=True)
def _own_caches():
    """These councils are built here, and their data versions may equal another module's:
    Streamlit's caches (keyed by data version) must not carry figures between them."""
    st.cache_data.clear()
    yield
    st.cache_data.clear()


PIXEL = "![x](http://tracker.example/pixel.png)"
LINK = '<a href="http://evil.example/">North</a>'


def unescaped(markdown: str) -> list[str]:
    """Markdown constructs that would act: an image or link opener, a raw tag, an autolink."""
    return re.findall(r"(?<!\\)!(?<!\\)\[|(?<!\\)\]\(|(?<!\\)<[a-z/]|https?(?<!\\):", markdown)


def autolinks(markdown: str) -> list[str]:
    """What GFM's autolink literals would link in the text Markdown shows (escapes read): a URL
    scheme, www., an e-mail (its `\\w` is ASCII, as in the renderer's JavaScript)."""
    shown = re.sub(r"\\(.)", r"\1", markdown)
    return re.findall(r"(?ai)(?:https?|ftp)://|\bwww\.|[-.\w+]+@[-\w]+\.\w", shown)


def test_the_escaper_leaves_no_autolink():
    """Streamlit's renderer makes autolinks from the text after escapes are read (seen in Chromium:
    "https\\://evil\\.example" was a live link), so the escaper breaks them with a word joiner."""
    for value in ("see https://evil.example/x", "HTTP://evil.example", "www.evil.example", "me@evil.example",
                  "ftp://evil.example", 'Sheet "x": "https://evil.example"'):
        assert autolinks(value), value  # the check sees them unescaped
        assert autolinks(text.md(value)) == [], text.md(value)
        assert text.md(value).replace("\u2060", "").replace("\\", "") == value  # shown as typed, the joiner unseen


def test_the_escaper_leaves_nothing_markdown_acts_on():
    for value in (PIXEL, LINK, "[click](http://evil.example)", "www.evil.example", "<img src=x>", "$x$ :red[x]"):
        assert unescaped(text.md(value)) == [], value
    assert unescaped(PIXEL) and unescaped(LINK)  # the check would see them unescaped


def test_commentary_and_owner_are_shown_as_text(tmp_path):
    db = build_council(tmp_path)
    with Store.open(db) as store:
        plan.record_change(store, "A1", "owner", f"Head of Service {PIXEL}", "setup", "director")
        plan.record_change(store, "A1", "commentary:2011-07",
                           json.dumps({"did": PIXEL, "changed": "[click](http://evil.example)", "next": LINK}),
                           "setup", "director")
    at = app(db, "director")
    at.query_params["action"] = "A1"
    at.run()
    at.switch_page(ACTION).run()
    assert not at.exception, [e.value for e in at.exception]
    # the coloured chips are the code's own markup (their words HTML-escaped): the rest is user text
    shown = re.sub(r'<span class="csc-chip"[^>]*>[^<]*</span>', "", texts(at))
    assert "Head of Service" in shown and "tracker" in shown  # the text is there ...
    assert PIXEL not in shown and "](http" not in shown       # ... but never as an image or a link
    assert unescaped(shown) == [], unescaped(shown)


def test_an_area_office_named_with_a_link_is_text_in_every_chart(tmp_path):
    db = tmp_path / "csc.duckdb"
    header = ["referral_id", "child_id", "referral_date", "area_office", "team"]
    rows = [header] + [[f"R{i}", f"C{i}", f"2011-04-{4 + i:02d}", LINK if i % 2 else "South", "T"] for i in range(8)]
    with Store.open(db) as store:
        assert store.import_file(write_xlsx(tmp_path / "a.xlsx", {"Referrals": rows}), "2011-04").status == "loaded"
    at = app(db, "analyst")
    at.run()
    at.switch_page(PRACTICE).run()
    assert not at.exception, [e.value for e in at.exception]
    drawn = [(path, value) for f in figures(at) for path, value in strings(f)]
    assert any("North" in v for _, v in drawn)  # the area office is charted ...
    assert [(p, v) for p, v in drawn if "<a" in v] == []  # ... as text, never a link
    assert any('&lt;a href="http://evil.example/"&gt;North&lt;/a&gt;' in v for _, v in drawn)


def strings(o, path=""):
    """Every string plotly draws (not `meta`, data the chart carries for the page, nor an
    annotation's `name`, an identifier), with its path."""
    if isinstance(o, dict):
        for k, v in o.items():
            if k != "meta" and not (k == "name" and ".annotations" in path):
                yield from strings(v, f"{path}.{k}")
    elif isinstance(o, list):
        for i, v in enumerate(o):
            yield from strings(v, f"{path}[{i}]")
    elif isinstance(o, str):
        yield path, o


def test_an_action_s_title_and_owner_are_text_in_the_overview_s_html(tmp_path):
    # the Overview draws its summary rows, headings, verdicts and cards as HTML (issue 17): the
    # plan's text in them is escaped, so it is shown as typed and never becomes a tag
    db = build_council(tmp_path)
    with Store.open(db) as store:
        plan.record_change(store, "A1", "owner", f"Head of Service {PIXEL} <img src=x onerror=alert(1)>", "setup",
                           "director")
        plan.record_change(store, "A1", "title", f"Transfers {LINK} \"quoted\" & more", "setup", "director")
    at = app(db, "director")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    body = "\n".join(e.proto.body for e in at.get("html") if e.proto.body.strip() != ui.RESPONSIVE_CSS.strip())
    assert "Transfers &lt;a href=&quot;http://evil.example/&quot;&gt;North&lt;/a&gt; &quot;quoted&quot; &amp; more" \
        in body  # the summary row's link and the action's heading, as typed
    assert "Head of Service ![x](http://tracker.example/pixel.png) &lt;img src=x onerror=alert(1)&gt;" in body
    tags = {t.lower() for t in re.findall(r"<\s*([a-zA-Z][a-zA-Z0-9]*)", body)}
    assert tags <= {"h3", "div", "a", "b", "span", "p", "ul", "li", "table", "thead", "tbody", "tr", "th", "td",
                    "img"}, tags
    srcs = re.findall(r'<img src="([^"]*)"', body)
    assert srcs and all(s.startswith("data:image/svg+xml;base64,") for s in srcs)  # sparklines: nothing fetched
    hrefs = re.findall(r'href="([^"]*)"', body)
    assert hrefs and all(h.startswith("action?") for h in hrefs), hrefs  # links only to the Action page


def test_figures_at_a_glance_escape_every_text():
    shown = ui.tiles([{"label": "<b>North</b>", "value": "<img src=x onerror=alert(1)>", "delta": "+1.0 <i>pts</i>",
                       "delta_good": True, "help": '" onmouseover="alert(1)', "note": "A & B"}])
    assert "<b>" not in shown and "<img" not in shown and "<i>" not in shown
    assert 'title="&quot; onmouseover=&quot;alert(1)"' in shown  # the hover text stays inside its attribute
    assert "&lt;b&gt;North&lt;/b&gt;" in shown and "A &amp; B" in shown
    assert '<div class="csc-tile-delta" style="color:#005a30;background:#cce2d8">↑ +1.0 &lt;i&gt;pts&lt;/i&gt;</div>' in shown


@pytest.mark.parametrize("path", ["app_pages/overview.py", ACTION, PRACTICE, "app_pages/workforce.py", "app_pages/data_quality.py"])
def test_a_selected_area_office_named_with_markup_is_text_in_every_caption(tmp_path, path):
    """The selection's words (`Selection.label`: the area offices chosen) reach each page's caption as
    text: before, an area office named with Markdown or HTML became a link (on the Action page's
    status line, which allows the page's own chips, even a tag)."""
    db = tmp_path / "csc.duckdb"
    header = ["referral_id", "child_id", "referral_date", "area_office", "team"]
    rows = [header] + [[f"R{i}", f"C{i}", f"2011-04-{4 + i:02d}", LINK if i % 2 else "South", "T"] for i in range(8)]
    with Store.open(db) as store:
        assert store.import_file(write_xlsx(tmp_path / "a.xlsx", {"Referrals": rows}), "2011-04").status == "loaded"
    at = app(db, "director", area=LINK, action="A1")
    at.run()
    at.switch_page(path).run()
    assert not at.exception, [e.value for e in at.exception]
    shown = re.sub(r'<span class="csc-chip"[^>]*>[^<]*</span>', "", texts(at))
    assert 'a href="http://evil.example/"' in shown.replace("\\", "").replace("\u2060", "")  # the selection is named ...
    assert unescaped(shown) == [], unescaped(shown)  # ... as text

"""Values in words, for sentences (months are `csc.months`)."""

from __future__ import annotations

import math


def format_value(value: float | None, unit: str = "") -> str:
    """A number for a sentence: at most one decimal place, e.g. "84%", "5.5 days".

    ``unit`` is "%", a word ("days"), or a suffix with its own space (" days").
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no value"
    text = f"{value:,.1f}"
    if text.endswith(".0"):
        text = text[:-2]
    if text == "-0":
        text = "0"
    if not unit:
        return text
    # "%" and suffixes that bring their own space (" days") are appended as they are.
    return f"{text}{unit}" if unit.startswith(("%", " ")) else f"{text} {unit}"

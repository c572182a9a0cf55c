"""Values in words, for sentences (months are `csc.months`)."""

from __future__ import annotations

import math


def format_value(value: float | None, unit: str = "", places: int = 1) -> str:
    """A number for a sentence: at most one decimal place (``places``), e.g. "84%", "5.5 days".

    ``unit`` is "%", a word ("days"), or a suffix with its own space (" days").
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no value"
    text = f"{value:,.{places}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    if text == "-0":
        text = "0"
    if not unit:
        return text
    # "%" and suffixes that bring their own space (" days") are appended as they are.
    return f"{text}{unit}" if unit.startswith(("%", " ")) else f"{text} {unit}"


def apart(value: float | None, target: float | None, fmt) -> str:
    """`fmt(value)`, or with more decimal places (`fmt(value, places)`, up to 4) where it would read
    the same as `fmt(target)` though the two differ: a rating is of the value itself, so 94.96%
    misses a target of 95%, and "95.0% misses the target of 95.0%" reads as a mistake (a review)."""
    words = fmt(value)
    if value is None or target is None or value == target or words != fmt(target):
        return words
    for places in (2, 3, 4):
        finer = fmt(value, places)
        if finer != fmt(target, places):
            return finer
    return finer

"""RAG ratings: green, amber or red against a target."""

from __future__ import annotations

from typing import Any

from csc.spc.common import INCREASE, NEUTRAL, _tolerance, clean_value, normalise_direction

# --- RAG -----------------------------------------------------------------------------------

GREEN = "green"
AMBER = "amber"
RED = "red"
#: Amber: misses the target by no more than this fraction of the target.
AMBER_TOLERANCE = 0.10


def rag(value: Any, target: Any, direction: str | None) -> str | None:
    """Green when ``value`` meets ``target``; amber when it misses by no more than 10% of
    the target; red when it misses by more. Returns "green", "amber", "red", or None when
    the value or the target is missing, or the direction is neutral.

    Target 90, higher is better: green from 90, amber from 81 up to (not incl.) 90.
    Target 10, lower is better: green up to 10, amber above 10 up to 11.
    """
    value, target = clean_value(value), clean_value(target)
    direction = normalise_direction(direction)
    if value is None or target is None or direction == NEUTRAL:
        return None
    margin = AMBER_TOLERANCE * abs(target)
    tolerance = _tolerance(target)
    if direction == INCREASE:
        shortfall = target - value
    else:
        shortfall = value - target
    if shortfall <= tolerance:
        return GREEN
    if shortfall <= margin + tolerance:
        return AMBER
    return RED

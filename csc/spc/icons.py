"""Making Data Count's variation and assurance icons, in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from csc.spc.common import (
    COLOUR_COMMON_CAUSE,
    COLOUR_CONCERN,
    COLOUR_IMPROVEMENT,
    COLOUR_NEUTRAL,
    COMMON_CAUSE,
    CONSISTENT_FAIL,
    CONSISTENT_PASS,
    INCONSISTENT,
    INCREASE,
    NEUTRAL,
    POINT_COLOURS,
    SPECIAL_CAUSE_CONCERN,
    SPECIAL_CAUSE_IMPROVEMENT,
    SPECIAL_CAUSE_NEUTRAL_HIGH,
    SPECIAL_CAUSE_NEUTRAL_LOW,
    normalise_direction,
)

# --- icons in words ------------------------------------------------------------------------


@dataclass(frozen=True)
class Icon:
    """A Making Data Count icon in plain words.

    ``code`` names the icon (e.g. "improvement_high"), ``label`` says what it means,
    ``letter`` is the letter on the icon ("H", "L", "P", "F", "" for common cause, "?" for
    hit and miss), ``arrow`` an arrow for text ("↑", "↓" or ""), ``colour`` its colour.
    """

    code: str
    label: str
    letter: str
    arrow: str
    colour: str

    @property
    def short(self) -> str:
        """A short symbol usable in text, e.g. "↑H", "P" or "~" for common cause."""
        return (self.arrow + self.letter) or "~"


_VARIATION_ICONS = {
    "common_cause": ("Common cause – no significant change", "", "", COLOUR_COMMON_CAUSE),
    "improvement_high": (
        "Special cause of improving nature – higher values",
        "H",
        "↑",
        COLOUR_IMPROVEMENT,
    ),
    "improvement_low": (
        "Special cause of improving nature – lower values",
        "L",
        "↓",
        COLOUR_IMPROVEMENT,
    ),
    "concern_high": (
        "Special cause of concerning nature – higher values",
        "H",
        "↑",
        COLOUR_CONCERN,
    ),
    "concern_low": (
        "Special cause of concerning nature – lower values",
        "L",
        "↓",
        COLOUR_CONCERN,
    ),
    "neutral_high": (
        "Special cause of neither improving nor concerning nature – higher values",
        "H",
        "↑",
        COLOUR_NEUTRAL,
    ),
    "neutral_low": (
        "Special cause of neither improving nor concerning nature – lower values",
        "L",
        "↓",
        COLOUR_NEUTRAL,
    ),
}

_ASSURANCE_ICONS = {
    CONSISTENT_PASS: ("Variation indicates consistently passing the target", "P", COLOUR_IMPROVEMENT),
    CONSISTENT_FAIL: ("Variation indicates consistently failing the target", "F", COLOUR_CONCERN),
    INCONSISTENT: (
        "Variation indicates inconsistently hit and miss the target",
        "?",
        COLOUR_COMMON_CAUSE,
    ),
}


def variation_icon(point_type: str | None, improvement: str = INCREASE) -> Icon | None:
    """The variation icon for a point type (None when there is no value)."""
    if point_type is None:
        return None
    improvement = normalise_direction(improvement)
    if point_type == COMMON_CAUSE:
        code = "common_cause"
    elif point_type == SPECIAL_CAUSE_NEUTRAL_HIGH:
        code = "neutral_high"
    elif point_type == SPECIAL_CAUSE_NEUTRAL_LOW:
        code = "neutral_low"
    elif point_type in (SPECIAL_CAUSE_IMPROVEMENT, SPECIAL_CAUSE_CONCERN):
        if improvement == NEUTRAL:
            raise ValueError(f"{point_type} needs an improvement direction, not neutral")
        improving = point_type == SPECIAL_CAUSE_IMPROVEMENT
        high = (improvement == INCREASE) == improving
        code = ("improvement_" if improving else "concern_") + ("high" if high else "low")
    else:
        raise ValueError(f"unknown point type {point_type!r}")
    label, letter, arrow, colour = _VARIATION_ICONS[code]
    return Icon(code=code, label=label, letter=letter, arrow=arrow, colour=colour)


def assurance_icon(assurance: str | None) -> Icon | None:
    """The assurance icon (None when there is no assurance: no target or neutral)."""
    if assurance is None:
        return None
    if assurance not in _ASSURANCE_ICONS:
        raise ValueError(f"unknown assurance type {assurance!r}")
    label, letter, colour = _ASSURANCE_ICONS[assurance]
    return Icon(code=assurance, label=label, letter=letter, arrow="", colour=colour)


def variation_label(point_type: str | None, improvement: str = INCREASE) -> str:
    """Making Data Count's wording for a variation icon, e.g.
    "Special cause of improving nature – higher values"."""
    icon = variation_icon(point_type, improvement)
    return icon.label if icon else "No value for the latest month"


def assurance_label(assurance: str | None) -> str:
    """Making Data Count's wording for an assurance icon (empty without one)."""
    icon = assurance_icon(assurance)
    return icon.label if icon else ""


def point_colour(point_type: str | None) -> str:
    """The Making Data Count colour of a point (grey for common cause and no value)."""
    return POINT_COLOURS.get(point_type, COLOUR_COMMON_CAUSE)

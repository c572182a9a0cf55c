"""Shared workbooks for the reliability tests: written once per session (a few seconds)."""

from __future__ import annotations

import pytest

from tests.reliability.support import write_council

SCALE = 0.015  # about 16,000 rows in nine sheets: an import takes a second or two


@pytest.fixture(scope="session")
def workbooks(tmp_path_factory) -> dict[str, object]:
    """Three versions of the same council (seeds 1-3) and a small one (three sheets)."""
    d = tmp_path_factory.mktemp("workbooks")
    return {
        "feb": write_council(d / "extract-2022-02.xlsx", seed=1, scale=SCALE),
        "mar": write_council(d / "extract-2022-03.xlsx", seed=2, scale=SCALE),
        "mar-again": write_council(d / "extract-2022-03-resent.xlsx", seed=3, scale=SCALE),
        "small": write_council(d / "extract-small.xlsx", seed=4, scale=0.002, sheets=("workforce", "supervisions", "referrals")),
    }

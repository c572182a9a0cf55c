"""csc.spc against real data: NHS England A&E attendances 2016-04 to 2019-03 (NHSRdatasets'
`ae_attendances`, the data set NHSRplotthedots' own examples use; /work/shared/external-data)."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

import pandas as pd
import pytest

from csc import spc

AE = Path(os.environ.get("CSC_EXTERNAL_DATA", Path(__file__).resolve().parents[3] / "shared" / "external-data")) \
    / "spc" / "ae_attendances.csv"


@pytest.fixture(scope="module")
def ae():
    if not AE.exists():
        pytest.skip(f"no A&E data at {AE}")
    df = pd.read_csv(AE, dtype={"type": str})
    return df.sort_values("period")


def test_the_reference_example_rrk_type_1_breaches(ae):
    # NHSRplotthedots' README: ae_attendances, org_code "RRK", type 1, breaches, decrease is better.
    rrk = ae[(ae["org_code"] == "RRK") & (ae["type"] == "1")]
    assert len(rrk) == 36  # three years of months
    values = list(rrk["breaches"])
    result = spc.xmr(values, "decrease", bounds=spc.bounds_for_unit("count"))
    # the mean is the plain mean of the 36 months (statistics.fmean, not csc's code)
    assert result.mean == pytest.approx(statistics.fmean(values))
    assert result.lpl >= 0


def test_fix_after_12_points_on_real_data_uses_the_first_year_only(ae):
    rrk = ae[(ae["org_code"] == "RRK") & (ae["type"] == "1")]
    values = [float(v) for v in rrk["breaches"]]
    first = values[:12]
    ranges = [abs(b - a) for a, b in zip(first, first[1:])]
    mean_mr = statistics.fmean(ranges)
    kept = [r for r in ranges if r <= 3.267 * mean_mr]  # screening, as the docs say
    mean_mr = statistics.fmean(kept)
    result = spc.xmr(values, "decrease", fix_after_n_points=12)
    assert result.mean == pytest.approx(statistics.fmean(first))
    assert result.upl == pytest.approx(statistics.fmean(first) + 2.66 * mean_mr)
    assert len(result.points) == 36 and result.trial_limits is False


def test_four_hour_performance_limits_stay_in_0_to_100_for_every_provider(ae):
    truncated = 0
    series = 0
    for (_org, _kind), g in ae.groupby(["org_code", "type"]):
        g = g[g["attendances"] > 0]
        if len(g) < 12:
            continue
        pct = list(100 * (1 - g["breaches"] / g["attendances"]))
        result = spc.xmr(pct, "increase", target=95, bounds=(0, 100))
        series += 1
        for seg in result.segments:
            assert 0 <= seg.lpl <= seg.upl <= 100
            truncated += seg.raw_upl > 100
        assert result.assurance in spc.ASSURANCE_TYPES
    assert series > 300
    assert truncated > 0  # real series near 100% whose untruncated upper limit passes 100


def test_baseline_then_evidence_on_a_real_series(ae):
    # RRK type 1, four-hour performance, judged from April 2018 against the two years before.
    rrk = ae[(ae["org_code"] == "RRK") & (ae["type"] == "1")]
    pct = list(100 * (1 - rrk["breaches"] / rrk["attendances"]))
    start = list(rrk["period"]).index("2018-04-01")
    assert start == 24
    result = spc.baseline_xmr(pct, start, "increase", 95, bounds=(0, 100))
    assert result.baseline_months == 24
    assert result.segments[0].mean == pytest.approx(statistics.fmean(pct[:24]))
    if result.shift is not None:  # any shift found is 7 months on one side of the baseline mean
        run = pct[result.shift.index: result.shift.index + 7]
        base = statistics.fmean(pct[:24])
        assert all(v > base for v in run) or all(v < base for v in run)
        assert result.shift.index >= 24

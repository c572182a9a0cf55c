"""Month arithmetic (`csc.months`), worked by hand."""

import datetime as dt

from csc import months


def test_adding_months_crosses_years_both_ways():
    assert months.add_months("2011-11", 3) == "2012-02"
    assert months.add_months("2012-01", -1) == "2011-12"
    assert months.add_months("2012-01", -25) == "2009-12"
    assert months.previous_period("2011-04") == "2011-03"


def test_month_ends_and_starts():
    assert months.period_end("2012-02") == dt.date(2012, 2, 29)  # a leap year
    assert months.period_end("2011-02") == dt.date(2011, 2, 28)
    assert months.period_end("2011-12") == dt.date(2011, 12, 31)
    assert months.period_start("2011-12") == dt.date(2011, 12, 1)
    assert months.month_of(dt.date(2011, 4, 30)) == "2011-04"


def test_ranges_inclusive_and_strictly_between():
    assert months.month_range("2011-11", "2012-02") == ["2011-11", "2011-12", "2012-01", "2012-02"]
    assert months.month_range("2011-04", "2011-03") == []
    assert months.months_between("2011-11", "2012-02") == ["2011-12", "2012-01"]
    assert months.months_between("2011-11", "2011-12") == []

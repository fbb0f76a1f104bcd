"""When the pre-close worklist opens: the earlier of the 25th and 5 business days before the end."""

from __future__ import annotations

from datetime import date

import pytest

from careledger.lib.business_days import (
    last_business_day,
    pre_close_opens_on,
    us_federal_holidays,
)


def test_federal_holidays_of_2026_include_the_observed_independence_day() -> None:
    holidays = us_federal_holidays(2026)
    assert date(2026, 7, 3) in holidays  # July 4, 2026 is a Saturday
    assert date(2026, 11, 26) in holidays  # Thanksgiving
    assert date(2026, 1, 19) in holidays  # MLK Day
    assert len(holidays) == 11


def test_the_last_business_day_skips_weekends_and_holidays() -> None:
    holidays = us_federal_holidays(2026)
    assert last_business_day(2026, 5, holidays) == date(2026, 5, 29)  # May 31 is a Sunday
    assert last_business_day(2026, 12, holidays) == date(2026, 12, 31)


@pytest.mark.parametrize(
    ("year", "month", "opens"),
    [
        # April 2026: last business day Thu 30th; five business days before: Thu 23rd < 25th.
        (2026, 4, date(2026, 4, 23)),
        # October 2026: the 25th is a Sunday and does not move; the last business day is Fri
        # 30th, five business days before is Fri 23rd, the earlier of the two.
        (2026, 10, date(2026, 10, 23)),
        # November 2026: last business day Mon 30th; five before skips Thanksgiving: Fri 20th.
        (2026, 11, date(2026, 11, 20)),
        # January 2028: last business day Mon 31st; five before is Mon 24th, before the 25th.
        (2028, 1, date(2028, 1, 24)),
    ],
)
def test_the_worklist_opens_on_the_earlier_of_the_two_days(
    year: int, month: int, opens: date
) -> None:
    assert pre_close_opens_on(year, month, us_federal_holidays(year)) == opens


def test_a_weekend_25th_is_used_as_it_is_when_it_comes_first() -> None:
    # July 2027: the 25th is a Sunday; last business day Fri 30th, five before is Fri 23rd.
    assert pre_close_opens_on(2027, 7, us_federal_holidays(2027)) == date(2027, 7, 23)
    # With no holidays and a long month end, the 25th itself (a Saturday) can be the answer:
    # September 2027 ends on Thursday 30th; five business days before is Thursday 23rd.
    assert pre_close_opens_on(2027, 9, frozenset()) == date(2027, 9, 23)


def test_practice_holidays_push_the_opening_day_earlier() -> None:
    # December 2027 ends on Friday 31st; with the 27th-29th closed, five business days before
    # the 31st are the 30th, 24th, 23rd, 22nd and 21st.
    holidays = frozenset({date(2027, 12, 27), date(2027, 12, 28), date(2027, 12, 29)})
    assert pre_close_opens_on(2027, 12, holidays) == date(2027, 12, 21)
    assert pre_close_opens_on(2027, 12, frozenset()) == date(2027, 12, 24)


@pytest.mark.parametrize("month", range(1, 13))
def test_the_worklist_never_opens_after_the_25th(month: int) -> None:
    for year in (2026, 2027, 2028):
        opens = pre_close_opens_on(year, month, us_federal_holidays(year))
        assert opens <= date(year, month, 25)
        assert opens < last_business_day(year, month, us_federal_holidays(year))

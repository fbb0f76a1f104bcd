"""Business days: Monday to Friday less holidays (US federal holidays by default)."""

from __future__ import annotations

import calendar
from collections.abc import Collection
from datetime import date, timedelta


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """Return the n-th ``weekday`` (0 = Monday) of a month; n = -1 for the last one."""
    days = [
        date(year, month, d)
        for d in range(1, calendar.monthrange(year, month)[1] + 1)
        if date(year, month, d).weekday() == weekday
    ]
    return days[n if n < 0 else n - 1]


def _observed(day: date) -> date:
    # 5 U.S.C. 6103(b): a Saturday holiday is observed on Friday, a Sunday one on Monday.
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def us_federal_holidays(year: int) -> frozenset[date]:
    """Return the observed U.S. federal holidays of ``year`` (5 U.S.C. 6103)."""
    fixed = [
        date(year, 1, 1),
        date(year, 6, 19),
        date(year, 7, 4),
        date(year, 11, 11),
        date(year, 12, 25),
    ]
    floating = [
        _nth_weekday(year, 1, 0, 3),  # Birthday of Martin Luther King, Jr.
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _nth_weekday(year, 5, 0, -1),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 10, 0, 2),  # Columbus Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving Day
    ]
    observed = {_observed(d) for d in fixed} | set(floating)
    # New Year's Day of the next year may be observed on December 31 of this one.
    next_new_year = _observed(date(year + 1, 1, 1))
    if next_new_year.year == year:
        observed.add(next_new_year)
    return frozenset(d for d in observed if d.year == year)


def is_business_day(day: date, holidays: Collection[date]) -> bool:
    """Tell whether ``day`` is a weekday that is not a holiday."""
    return day.weekday() < 5 and day not in holidays


def last_business_day(year: int, month: int, holidays: Collection[date]) -> date:
    """Return the month's last business day."""
    day = date(year, month, calendar.monthrange(year, month)[1])
    while not is_business_day(day, holidays):
        day -= timedelta(days=1)
    return day


def business_days_before(day: date, count: int, holidays: Collection[date]) -> date:
    """Return the business day ``count`` business days before ``day``."""
    while count > 0:
        day -= timedelta(days=1)
        if is_business_day(day, holidays):
            count -= 1
    return day


def pre_close_opens_on(
    year: int,
    month: int,
    holidays: Collection[date],
    *,
    day_of_month: int = 25,
    business_days: int = 5,
) -> date:
    """Return the day the pre-close worklist opens (PRODUCT.md, step 3).

    The earlier of the 25th and the fifth business day before the month's last business day;
    a weekend 25th does not move it.
    """
    last = last_business_day(year, month, holidays)
    return min(date(year, month, day_of_month), business_days_before(last, business_days, holidays))

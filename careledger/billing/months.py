"""Calendar months in a practice's zone (P1, CAL-4): parsing and their UTC bounds."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class LocalMonth:
    """One calendar month in one time zone."""

    first_on: date
    last_on: date
    timezone: str

    @property
    def label(self) -> str:
        return f"{self.first_on:%Y-%m}"

    @property
    def starts_at(self) -> datetime:
        """Return the UTC instant the month starts in its zone."""
        return _local_midnight(self.first_on, self.timezone)

    @property
    def ends_at(self) -> datetime:
        """Return the UTC instant the month ends (the next month's first midnight)."""
        return _local_midnight(self.last_on + timedelta(days=1), self.timezone)


def _local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC)


def parse_month(value: str, tz: str) -> LocalMonth:
    """Parse ``YYYY-MM``; raise ValueError naming the expected shape."""
    match = _MONTH.match(value or "")
    if not match:
        raise ValueError(f"{value!r} is not a month; use YYYY-MM, e.g. 2026-04")
    year, month = int(match.group(1)), int(match.group(2))
    last = calendar.monthrange(year, month)[1]
    return LocalMonth(date(year, month, 1), date(year, month, last), tz)


def month_of(day: date, tz: str) -> LocalMonth:
    """Return the month containing ``day``."""
    return parse_month(f"{day:%Y-%m}", tz)

"""Place time entries and reading days on the practice's local calendar (P1, P5, CAL-4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from careledger.rules.facts import DevicePeriod, TimeEntry


@lru_cache(maxsize=128)
def practice_zone(name: str) -> ZoneInfo:
    """Return the IANA zone of the practice (cached; zone data is read once)."""
    return ZoneInfo(name)


def last_day_of_month(month_start_on: date) -> date:
    """Return the last day of the calendar month that starts on ``month_start_on``."""
    if month_start_on.month == 12:
        return date(month_start_on.year, 12, 31)
    return date(month_start_on.year, month_start_on.month + 1, 1) - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Segment:
    """The part of a time entry that falls on one local date."""

    entry: TimeEntry
    local_on: date
    started_at: datetime
    seconds: int


def _next_local_midnight(instant: datetime, zone: ZoneInfo) -> datetime:
    local_on = instant.astimezone(zone).date()
    midnight = datetime.combine(local_on + timedelta(days=1), time.min, tzinfo=zone)
    return midnight.astimezone(UTC)


def split_at_local_midnight(
    entry: TimeEntry, zone: ZoneInfo, *, split: bool = True
) -> tuple[Segment, ...]:
    """Split an entry at each local midnight it crosses (P1); keep it whole when ``split``
    is off."""
    started_at = entry.start_at.astimezone(UTC)
    if not split or entry.seconds <= 0:
        return (Segment(entry, started_at.astimezone(zone).date(), started_at, entry.seconds),)
    ends_at = started_at + timedelta(seconds=entry.seconds)
    segments: list[Segment] = []
    cursor = started_at
    remaining = entry.seconds
    while remaining > 0:
        boundary = _next_local_midnight(cursor, zone)
        if boundary >= ends_at or boundary <= cursor:
            seconds = remaining
        else:
            seconds = min(remaining, max(0, round((boundary - cursor).total_seconds())))
        if seconds > 0:
            segments.append(Segment(entry, cursor.astimezone(zone).date(), cursor, seconds))
        remaining -= seconds
        cursor = boundary if boundary < ends_at else ends_at
    return tuple(segments)


def reading_days(period: DevicePeriod, *, not_before: date | None, not_after: date | None) -> int:
    """Count distinct local reading dates inside the 30-day period (P5).

    ``not_before`` drops dates before consent (P12); ``not_after`` drops dates after ``as_of``.
    A bare day count cannot be filtered and is taken as recorded.
    """
    if period.reading_dates is None:
        return period.reading_day_count or 0
    first_on = period.period_start_on
    last_on = period.period_end_on
    if not_before is not None and not_before > first_on:
        first_on = not_before
    if not_after is not None and not_after < last_on:
        last_on = not_after
    return sum(1 for day in period.reading_dates if first_on <= day <= last_on)

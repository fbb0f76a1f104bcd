"""Place time entries and reading days on the practice's local calendar (P1, P5, CAL-4)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from careledger.rules.facts import DevicePeriod, TimeEntry
from careledger.rules.fastinit import fast_init


@lru_cache(maxsize=128)
def practice_zone(name: str) -> ZoneInfo:
    """Return the IANA zone of the practice (cached; zone data is read once)."""
    return ZoneInfo(name)


@lru_cache(maxsize=256)
def last_day_of_month(month_start_on: date) -> date:
    """Return the last day of the calendar month that starts on ``month_start_on``."""
    if month_start_on.month == 12:
        return date(month_start_on.year, 12, 31)
    return date(month_start_on.year, month_start_on.month + 1, 1) - timedelta(days=1)


@fast_init
@dataclass(frozen=True, slots=True)
class Segment:
    """The part of a time entry that falls on one local date."""

    entry: TimeEntry
    local_on: date
    started_at: datetime
    seconds: int


@lru_cache(maxsize=4096)
def _local_midnight_after(local_on: date, zone: ZoneInfo) -> datetime:
    """Return, in UTC, the local midnight that ends ``local_on`` in ``zone``.

    Cached: a month's entries fall on a few dozen local dates, and ZoneInfo and tzinfo are
    immutable, so the same (date, zone) always gives the same instant.
    """
    midnight = datetime.combine(local_on + timedelta(days=1), time.min, tzinfo=zone)
    return midnight.astimezone(UTC)


@lru_cache(maxsize=1024)
def _duration(seconds: int) -> timedelta:
    # Entry lengths repeat (5, 15, 30 minutes...); a timedelta is immutable, so share it.
    return timedelta(seconds=seconds)


def split_at_local_midnight(
    entry: TimeEntry, zone: ZoneInfo, *, split: bool = True
) -> tuple[Segment, ...]:
    """Split an entry at each local midnight it crosses (P1); keep it whole when ``split``
    is off."""
    started_at = entry.start_at.astimezone(UTC)
    if not split or entry.seconds <= 0:
        return (Segment(entry, started_at.astimezone(zone).date(), started_at, entry.seconds),)
    ends_at = started_at + _duration(entry.seconds)
    local_on = started_at.astimezone(zone).date()
    boundary = _local_midnight_after(local_on, zone)
    if boundary >= ends_at or boundary <= started_at:
        # Most entries end before the next local midnight: the loop below would take the
        # whole entry as one segment on its first pass, so return that directly.
        return (Segment(entry, local_on, started_at, entry.seconds),)
    segments: list[Segment] = []
    cursor = started_at
    remaining = entry.seconds
    while remaining > 0:
        local_on = cursor.astimezone(zone).date()
        boundary = _local_midnight_after(local_on, zone)
        if boundary >= ends_at or boundary <= cursor:
            seconds = remaining
        else:
            seconds = min(remaining, max(0, round((boundary - cursor).total_seconds())))
        if seconds > 0:
            segments.append(Segment(entry, local_on, cursor, seconds))
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
    dates = period.reading_dates
    if not dates:
        return 0
    # Same count as "first_on <= day <= last_on" over the set, done in C: when the whole set
    # lies in the window (the usual case) it is its size, else bisect a sorted copy. Dates are
    # totally ordered; a set mixing in non-dates raises TypeError, as the comparison would.
    if first_on <= min(dates) and max(dates) <= last_on:
        return len(dates)
    ordered = sorted(dates)
    return max(0, bisect_right(ordered, last_on) - bisect_left(ordered, first_on))

"""Local dates and months in a practice's time zone (CAL-4, P1); the clock is always an argument."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo


class HasTimezone(Protocol):
    timezone: str


def local_today(practice: HasTimezone, now: datetime) -> date:
    """Return the practice's local date at the instant ``now``."""
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    return now.astimezone(ZoneInfo(practice.timezone)).date()

"""The review clock, as a pure function over plain values (no database, no clock).

A plan is current on a date when its latest signed version was published and shared with the
patient within 12 months and nothing significant happened since (CCM-8 "requirements for
periodic review", CCM-9 copy to the patient).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime

REVIEW_MONTHS = 12
DUE_SOON_DAYS = 30


class State:
    MISSING = "missing"  # no signed version yet
    UNSHARED = "unshared"  # signed, never given to the patient
    CHANGED = "changed"  # a significant change since publication: review now
    OVERDUE = "overdue"  # more than 12 months since publication
    DUE_SOON = "due_soon"  # current, review due within 30 days
    CURRENT = "current"


STATE_LABELS = {
    State.MISSING: "Missing",
    State.UNSHARED: "Not shared with the patient",
    State.CHANGED: "Review needed: significant change",
    State.OVERDUE: "Review overdue",
    State.DUE_SOON: "Review due soon",
    State.CURRENT: "Current",
}
# The page's existing badge classes, so the panel looks right on the patient page too.
STATE_BADGES = {
    State.MISSING: "badge-outcome-denied",
    State.UNSHARED: "badge-pending",
    State.CHANGED: "badge-outcome-denied",
    State.OVERDUE: "badge-outcome-denied",
    State.DUE_SOON: "badge-pending",
    State.CURRENT: "badge-active",
}
CURRENT_STATES = frozenset({State.CURRENT, State.DUE_SOON})


def add_months(day: date, months: int) -> date:
    """Return the same day ``months`` later, clamped to the month's end (Feb 29 -> Feb 28)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class VersionFacts:
    number: int
    published_at: datetime
    published_on: date
    shared_on: tuple[date, ...]  # dates it was given to the patient


@dataclass(frozen=True)
class ChangeFacts:
    """Significant changes already filtered to those after the version and up to the date."""

    new_chronic_conditions: tuple[str, ...] = ()  # ICD-10-CM codes
    acute_events: tuple[str, ...] = ()  # "Hospital stay on 2026-03-02"
    goals_changed: tuple[str, ...] = ()  # goal names whose target a newer draft changed


@dataclass(frozen=True)
class ReviewStatus:
    state: str
    version_number: int | None = None
    published_on: date | None = None
    shared_on: date | None = None
    due_on: date | None = None
    reasons: tuple[str, ...] = ()

    @property
    def current(self) -> bool:
        return self.state in CURRENT_STATES

    @property
    def label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def badge(self) -> str:
        return STATE_BADGES[self.state]


def review_status(version: VersionFacts | None, changes: ChangeFacts, on: date) -> ReviewStatus:
    """Decide where a plan stands on ``on`` from its latest signed version and the changes."""
    if version is None:
        return ReviewStatus(State.MISSING, reasons=("No signed care plan.",))
    due_on = add_months(version.published_on, REVIEW_MONTHS)
    shared = [d for d in version.shared_on if d <= on]

    def status(state: str, *reasons: str) -> ReviewStatus:
        return ReviewStatus(
            state,
            version_number=version.number,
            published_on=version.published_on,
            shared_on=max(shared) if shared else None,
            due_on=due_on,
            reasons=reasons,
        )

    if not shared:
        return status(
            State.UNSHARED, f"Version {version.number} has not been given to the patient."
        )
    reasons = (
        *(f"New chronic condition {code}" for code in changes.new_chronic_conditions),
        *changes.acute_events,
        *(f"Goal target changed: {name}" for name in changes.goals_changed),
    )
    if reasons:
        return status(State.CHANGED, *reasons)
    if on >= due_on:
        return status(State.OVERDUE, f"Last published {version.published_on.isoformat()}.")
    if (due_on - on).days <= DUE_SOON_DAYS:
        return status(State.DUE_SOON, f"Review due {due_on.isoformat()}.")
    return status(State.CURRENT)

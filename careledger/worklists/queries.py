"""Reads for the dashboard, worklist and fee pages, on top of the selectors' rows.

Nothing here decides a code: minutes, codes, next thresholds and reading days come from
``panel_rows`` (the one facts builder and the engine). This module lays the rows out: the
progress bar's marks (read from the rule set in force), reachability of the reading-day bands,
totals, which worklist items were worked, and the fee table.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from careledger.accounts.models import Membership, Practice
from careledger.accounts.roles import CLINICAL_WRITERS
from careledger.billing.months import LocalMonth
from careledger.rules.codes import describe
from careledger.rules.schedules import DayBand, TimeFamily, rule_set_in_force
from careledger.timelog.models import TimeEntry
from careledger.worklists.fees import SCHEDULES, FeeSchedule
from careledger.worklists.models import PracticeFee
from careledger.worklists.selectors import PanelRow, WorklistItem, reading_days_left

# Which of the rule set's time families draws the progress bar's marks, per program. Display
# only: the marks are read from the dated rule set, and the next code and the minutes it needs
# always come from the engine. CoCM's midpoint table and APCM (no time) show no marks.
# (Same table and helper as careledger/web/views/months.py, which may import it from here:
# worklists sits below web, so it cannot import the page module.)
BAR_FAMILY = {
    "CCM": "ccm_staff",
    "PCM": "pcm_staff",
    "RPM": "rpm_treatment",
    "RTM": "rtm_treatment",
    "BHI": "bhi",
}


@dataclass(frozen=True)
class Mark:
    minutes: int
    code: str
    percent: float
    reached: bool


@dataclass(frozen=True)
class Bar:
    """A progress bar of countable minutes, marked at the thresholds of the program's codes."""

    minutes: int
    scale: int
    marks: tuple[Mark, ...]

    @property
    def percent(self) -> float:
        return min(100.0, 100.0 * self.minutes / self.scale) if self.scale else 0.0


def _family_marks(family: TimeFamily, up_to: int) -> list[tuple[int, str]]:
    marks = []
    if family.short_code and family.short_minutes:
        marks.append((family.short_minutes, family.short_code))
    marks.append((family.base_minutes, family.base_code))
    if family.addon_code and family.addon_minutes:
        reach = family.base_minutes + family.addon_minutes
        while reach <= up_to:
            marks.append((reach, family.addon_code))
            reach += family.addon_minutes
    return marks


def bar_for(program: str, minutes: int, month: LocalMonth, target: int | None) -> Bar | None:
    """Draw the bar from the rule set in force for the month; None when no family applies."""
    rule_set = rule_set_in_force(month.first_on)
    name = BAR_FAMILY.get(program)
    if rule_set is None or name is None:
        return None
    family: TimeFamily = getattr(rule_set, name)
    first_addon = family.base_minutes + (family.addon_minutes or 0)
    # Show the next mark beyond the minutes so far (at least the first add-on).
    horizon = max(first_addon, minutes + (family.addon_minutes or family.base_minutes))
    found = _family_marks(family, horizon)
    if target is not None and target not in {m for m, _ in found}:
        found.append((target, ""))
    beyond = [m for m, _ in found if m > minutes]
    scale = max(min(beyond) if beyond else minutes, first_addon)
    marks = tuple(
        Mark(m, code, 100.0 * m / scale, minutes >= m) for m, code in sorted(found) if m <= scale
    )
    return Bar(minutes=minutes, scale=scale, marks=marks)


@dataclass(frozen=True)
class DayBandReach:
    """Whether a device-supply band's reading days can still be met this month."""

    code: str
    min_days: int
    reached: bool
    reachable: bool
    every_remaining_day: bool


def supply_bands(program: str, month: LocalMonth) -> tuple[DayBand, ...]:
    """Return the device-supply bands of the rule set in force (RPM-4, RTM-1)."""
    rule_set = rule_set_in_force(month.first_on)
    if rule_set is None:
        return ()
    if program == "RPM":
        return tuple(rule_set.rpm_supply or ())
    if program == "RTM":
        # The RTM bands share their day counts across device types; show the first type's.
        families = rule_set.rtm_supply or {}
        return tuple(next(iter(families.values()), ()))
    return ()


def band_reach(row: PanelRow, month: LocalMonth, as_of: date) -> tuple[DayBandReach, ...]:
    """Say, per supply band (2 and 16 days for RPM), whether it is reached or still reachable
    in the device period containing ``as_of``."""
    program, reading_days = row.program, row.reading_days
    if reading_days is None:
        return ()
    left = reading_days_left(row, month, as_of)
    out = []
    for band in supply_bands(program, month):
        needed = max(band.min_days - reading_days, 0)
        out.append(
            DayBandReach(
                code=band.code,
                min_days=band.min_days,
                reached=needed == 0,
                reachable=needed <= left,
                every_remaining_day=0 < needed == left,
            )
        )
    return tuple(out)


class PanelBars:
    """A panel's bars by (program, minutes, target), each drawn once and on first use.

    A panel repeats the same few bars; and only the shown page's rows need theirs, while the
    filters and the sort read every row.
    """

    def __init__(self, month: LocalMonth) -> None:
        self.month = month
        self._drawn: dict[tuple[str, int, int | None], Bar | None] = {}

    def of(self, row: PanelRow) -> Bar | None:
        target = row.minutes + row.minutes_needed if row.minutes_needed else None
        key = (row.program, row.minutes, target)
        if key not in self._drawn:
            self._drawn[key] = bar_for(row.program, row.minutes, self.month, target)
        return self._drawn[key]


@dataclass(frozen=True)
class DashboardRow:
    """A panel row with what the page draws beside it."""

    row: PanelRow
    bands: tuple[DayBandReach, ...]
    bars: PanelBars = field(repr=False, compare=False)

    @property
    def bar(self) -> Bar | None:
        return self.bars.of(self.row)

    @property
    def value(self) -> Decimal:
        return self.row.projected_value or Decimal(0)

    @property
    def flag_labels(self) -> tuple[str, ...]:
        """Name the engine's flags in words (``NO_CARE_PLAN`` -> ``No care plan``)."""
        return tuple(code.replace("_", " ").capitalize() for code in self.row.flags)


def dashboard_rows(rows: Iterable[PanelRow], month: LocalMonth, as_of: date) -> list[DashboardRow]:
    """Attach the reading-day bands to each row, and the bar (drawn when first asked for)."""
    bars = PanelBars(month)
    return [DashboardRow(row=row, bands=band_reach(row, month, as_of), bars=bars) for row in rows]


def panel_totals(rows: Iterable[PanelRow]) -> dict[str, Any]:
    """Count patients at each code, minutes logged and the projected billing of the rows."""
    rows = list(rows)
    by_code: dict[str, int] = {}
    for row in rows:
        for code in row.codes:
            by_code[code] = by_code.get(code, 0) + 1
    return {
        "patients": len({r.patient_id for r in rows}),
        "rows": len(rows),
        "minutes": sum(r.minutes for r in rows),
        "with_live_contact": sum(1 for r in rows if r.interactive_contact),
        "without_code": sum(1 for r in rows if not r.codes),
        "codes": dict(sorted(by_code.items())),
        "projected_value": sum((r.projected_value or Decimal(0)) for r in rows),
    }


def local_midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


def worked_since(
    *, practice: Practice, items: Iterable[WorklistItem], month: LocalMonth, opens_on: date
) -> set[tuple[int, str]]:
    """Return the (patient, program) pairs with a countable entry since the worklist opened."""
    ids = {i.row.patient_id for i in items}
    if not ids:
        return set()
    since = max(local_midnight(opens_on, practice.timezone), month.starts_at)
    pairs = (
        TimeEntry.objects.filter(
            practice=practice,
            patient_id__in=ids,
            countable=True,
            voided_at__isnull=True,
            started_at__gte=since,
            started_at__lt=month.ends_at,
        )
        .values_list("patient_id", "program")
        .distinct()
    )
    return set(pairs)


def assignable_members(practice: Practice) -> list[tuple[int, str]]:
    """List the members who may be given outreach: active, and allowed to log time."""
    members = Membership.objects.filter(
        practice=practice, is_active=True, role__in=CLINICAL_WRITERS
    ).select_related("user")
    ordered = sorted(members, key=lambda m: (m.user.last_name, m.user.first_name, m.user_id))
    return [(m.user_id, _label(m)) for m in ordered]


def coordinators(practice: Practice) -> list[tuple[int, str]]:
    """List the practice's active care coordinators (the panels one may choose)."""
    members = Membership.objects.filter(
        practice=practice, is_active=True, role="coordinator"
    ).select_related("user")
    ordered = sorted(members, key=lambda m: (m.user.last_name, m.user.first_name, m.user_id))
    return [(m.user_id, _label(m)) for m in ordered]


def _label(membership: Membership) -> str:
    user = membership.user
    return f"{user.get_full_name() or user.get_username()}, {membership.credential}"


@dataclass(frozen=True)
class FeeLine:
    code: str
    description: str
    shipped: Decimal | None
    own: Decimal | None
    own_effective_on: date | None
    in_force: Decimal | None


def schedule_on(on: date) -> FeeSchedule | None:
    """Return the shipped fee schedule in force on ``on``."""
    found = [s for s in SCHEDULES if s.effective_on <= on]
    return max(found, key=lambda s: s.effective_on) if found else None


def fee_lines(practice: Practice, on: date) -> list[FeeLine]:
    """List every shipped code with its amount, and the practice's own amount in force on ``on``."""
    schedule = schedule_on(on)
    own: dict[str, PracticeFee] = {}
    for fee in PracticeFee.objects.filter(practice=practice, effective_on__lte=on).order_by(
        "code", "-effective_on", "-created_at", "-id"
    ):
        own.setdefault(fee.code, fee)
    codes = sorted(set(schedule.amounts if schedule else ()) | set(own))
    lines = []
    for code in codes:
        shipped = schedule.amounts.get(code) if schedule else None
        mine = own.get(code)
        lines.append(
            FeeLine(
                code=code,
                description=describe(code),
                shipped=shipped,
                own=mine.amount if mine else None,
                own_effective_on=mine.effective_on if mine else None,
                in_force=mine.amount if mine else shipped,
            )
        )
    return lines


def fee_history(practice: Practice, limit: int = 50) -> list[PracticeFee]:
    """Return the practice's fee rows, newest first (rows are added, never edited)."""
    return list(
        PracticeFee.objects.filter(practice=practice)
        .select_related("created_by")
        .order_by("-created_at", "-id")[:limit]
    )

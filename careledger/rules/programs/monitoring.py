"""Shared RPM/RTM logic: 30-day device periods (RPM-1, 2, 4, 5) and treatment time (RPM-3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from careledger.rules.calendar import reading_days
from careledger.rules.codes import DEVICE_SUPPLY_CODES, SETUP_CODES
from careledger.rules.context import MonthContext
from careledger.rules.facts import DevicePeriod
from careledger.rules.programs.common import (
    ProgramTime,
    below_threshold_flag,
    bill_time_family,
    time_evidence,
)
from careledger.rules.results import BillableLine, Flag, NextThreshold
from careledger.rules.schedules import DayBand, TimeFamily


@dataclass(frozen=True, slots=True)
class DevicePart:
    """Device lines of the month and the reading days of the period a dashboard shows."""

    lines: tuple[BillableLine, ...]
    flags: tuple[Flag, ...]
    reading_days: int | None
    next_threshold: NextThreshold | None


def device_part(
    ctx: MonthContext,
    program: str,
    bands: tuple[DayBand, ...] | None,
    *,
    setup_already_billed: bool,
) -> DevicePart:
    """Bill device supply and set-up for each period that ends in the month (RPM-4, P7)."""
    facts = ctx.facts
    policies = ctx.policies
    periods = sorted(
        (p for p in facts.device_periods if p.program == program),
        key=lambda p: (p.period_start_on, p.period_end_on, p.period_id),
    )
    consent_on = ctx.consent_for(program) if policies.exclude_readings_before_consent else None
    setup_code = SETUP_CODES[program]
    claims = facts.other_practitioner_claims
    setup_done = setup_already_billed or any(c.code == setup_code for c in claims)
    lines: list[BillableLine] = []
    flags: list[Flag] = []
    for index, period in enumerate(periods):
        if not ctx.month_start_on <= period.period_end_on <= ctx.month_end_on:
            continue
        label = period.period_id or f"{program} device period"
        span = f"{period.period_start_on}..{period.period_end_on}"
        if period.reading_day_count is None and period.reading_dates is None:
            flags.append(_flag("FACT_UNKNOWN", program, f"{label} has no reading days.", "P5"))
            continue
        days = _days(period, consent_on, ctx) or 0
        if period.length_days != policies.device_period_days:
            flags.append(
                _flag(
                    "DEVICE_PERIOD_NOT_30_DAYS",
                    program,
                    f"{label} ({span}) is {period.length_days} days long; device codes run "
                    "on 30-day periods. Held for review.",
                    "RPM-4",
                )
            )
            continue
        if any(period.overlaps(o.period_start_on, o.period_end_on) for o in periods[:index]):
            flags.append(
                _flag(
                    "DEVICE_PERIODS_OVERLAP",
                    program,
                    f"{label} ({span}) overlaps an earlier device period; only one device-supply "
                    "claim per 30-day period. Held for review.",
                    "RPM-5",
                )
            )
            continue
        taken = [
            c
            for c in claims
            if c.code in DEVICE_SUPPLY_CODES[program]
            and period.overlaps(c.period_start_on, c.period_end_on)
        ]
        if taken:
            claim = taken[0]
            flags.append(
                _flag(
                    "DEVICE_PERIOD_ALREADY_BILLED_BY_OTHER_PRACTITIONER",
                    program,
                    f"{claim.practitioner} billed {claim.code} for {claim.period_start_on}.."
                    f"{claim.period_end_on}, overlapping {label} ({span}); one practitioner per "
                    "30-day period. Held for review.",
                    "RPM-5",
                )
            )
            continue
        evidence = (f"{label} {span}: {days} automatic reading days",)
        if not setup_done and days >= ctx.rule_set.setup_min_days:
            # RPM-1, RPM-16: set-up once per episode, with the first billable period.
            lines.append(BillableLine(setup_code, 1, period.period_end_on, program, evidence))
            setup_done = True
        if bands is None:
            flags.append(
                _flag(
                    "FACT_UNKNOWN",
                    program,
                    "rtm_category is not recorded; the RTM device-supply code depends on it.",
                    "RTM-1",
                )
            )
            continue
        band = next((b for b in bands if b.min_days <= days <= b.max_days), None)
        if band is None:
            flags.append(
                _flag(
                    "DEVICE_DAYS_BELOW_MINIMUM",
                    program,
                    f"{label} ({span}) has {days} reading days; {bands[0].code} needs "
                    f"{bands[0].min_days}.",
                    "RPM-1",
                )
            )
            continue
        # RPM-2: one supply code per period, chosen by the day count; DOS = period end (P7).
        lines.append(BillableLine(band.code, 1, period.period_end_on, program, evidence))
    shown = _shown_period(ctx, periods)
    days_shown = _days(shown, consent_on, ctx) if shown is not None else None
    next_threshold = None
    if days_shown is not None and bands:
        following = next((b for b in bands if b.min_days > days_shown), None)
        if following is not None:
            next_threshold = NextThreshold(
                following.code, reading_days_needed=following.min_days - days_shown
            )
    return DevicePart(tuple(lines), tuple(flags), days_shown, next_threshold)


def treatment_part(
    ctx: MonthContext,
    program: str,
    family: TimeFamily,
    time: ProgramTime,
    *,
    requires_interactive: bool,
    interactive_rule: str,
) -> tuple[tuple[BillableLine, ...], tuple[Flag, ...]]:
    """Bill treatment-management time on the calendar month (RPM-3, RPM-4, RPM-7, RPM-15)."""
    flags: list[Flag] = []
    lowest = family.short_minutes or family.base_minutes
    if time.minutes < lowest:
        flags.append(below_threshold_flag(program, family, time.minutes, "RPM-8"))
    if requires_interactive and not time.interactive and time.minutes > 0:
        flags.append(
            _flag(
                "NO_INTERACTIVE_COMMUNICATION",
                program,
                f"{time.minutes} {program} minutes but no real-time interactive communication "
                "(a live call or video) this month; treatment-management codes need one. "
                "Voicemail and secure messages do not qualify.",
                interactive_rule,
            )
        )
        return (), tuple(flags)
    lines = bill_time_family(
        ctx,
        family,
        time.minutes,
        program=program,
        dos=ctx.month_end_on,  # CAL-2, P7: time codes on the last day of the month
        evidence=time_evidence(time.countable),
    )
    return lines, tuple(flags)


def _days(period: DevicePeriod, consent_on: date | None, ctx: MonthContext) -> int | None:
    if period.reading_day_count is None and period.reading_dates is None:
        return None
    return reading_days(period, not_before=consent_on, not_after=ctx.as_of)


def _shown_period(ctx: MonthContext, periods: list[DevicePeriod]) -> DevicePeriod | None:
    """Return the period a dashboard shows: the one containing ``as_of``, else the first
    one ending in the month (API.md month view)."""
    if ctx.as_of is not None:
        for period in periods:
            if period.overlaps(ctx.as_of, ctx.as_of):
                return period
    for period in periods:
        if ctx.month_start_on <= period.period_end_on <= ctx.month_end_on:
            return period
    return None


def _flag(code: str, program: str, message: str, rule_id: str) -> Flag:
    return Flag(code, program, message, rule_id)

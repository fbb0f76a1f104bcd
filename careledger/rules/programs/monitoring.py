"""Shared RPM/RTM logic: 30-day device periods (RPM-1, 2, 4, 5) and treatment time (RPM-3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from careledger.rules.calendar import reading_days
from careledger.rules.codes import DEVICE_SUPPLY_CODES, SETUP_CODES
from careledger.rules.context import MonthContext
from careledger.rules.facts import DevicePeriod
from careledger.rules.fastinit import fast_init
from careledger.rules.programs.common import (
    ProgramTime,
    below_threshold_flag,
    bill_time_family,
)
from careledger.rules.results import BillableLine, Flag, NextThreshold
from careledger.rules.schedules import DayBand, TimeFamily


@fast_init
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
    periods = [p for p in facts.device_periods if p.program == program]
    if len(periods) > 1:
        periods.sort(key=_period_order)
    consent_on = ctx.consent_for(program) if policies.exclude_readings_before_consent else None
    setup_code = SETUP_CODES[program]
    claims = facts.other_practitioner_claims
    setup_done = setup_already_billed
    if not setup_done and claims:  # (without claims the search below finds nothing)
        setup_done = any(c.code == setup_code for c in claims)
    month_start_on = ctx.month_start_on
    month_end_on = ctx.month_end_on
    as_of = ctx.as_of
    lines: list[BillableLine] = []
    flags: list[Flag] = []
    # Reading days by period position, so the period a dashboard shows is not counted twice.
    days_by_index: dict[int, int] = {}
    for index, period in enumerate(periods):
        period_end_on = period.period_end_on
        if not month_start_on <= period_end_on <= month_end_on:
            continue
        label = period.period_id or f"{program} device period"
        span = f"{period.period_start_on}..{period_end_on}"
        if period.reading_day_count is None and period.reading_dates is None:
            flags.append(_flag("FACT_UNKNOWN", program, f"{label} has no reading days.", "P5"))
            continue
        days = days_by_index[index] = reading_days(period, not_before=consent_on, not_after=as_of)
        length_days = period.length_days
        if length_days != policies.device_period_days:
            flags.append(
                _flag(
                    "DEVICE_PERIOD_NOT_30_DAYS",
                    program,
                    f"{label} ({span}) is {length_days} days long; device codes run "
                    "on 30-day periods. Held for review.",
                    "RPM-4",
                )
            )
            continue
        if index and any(
            period.overlaps(o.period_start_on, o.period_end_on) for o in periods[:index]
        ):
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
        taken = (
            [
                c
                for c in claims
                if c.code in DEVICE_SUPPLY_CODES[program]
                and period.overlaps(c.period_start_on, c.period_end_on)
            ]
            if claims
            else None
        )
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
            lines.append(BillableLine(setup_code, 1, period_end_on, program, evidence))
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
        band = None
        for candidate in bands:
            if candidate.min_days <= days <= candidate.max_days:
                band = candidate
                break
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
        lines.append(BillableLine(band.code, 1, period_end_on, program, evidence))
    shown = _shown_period(ctx, periods)
    days_shown: int | None = None
    if shown is not None:
        days_shown = days_by_index.get(shown)
        if days_shown is None:
            days_shown = _days(periods[shown], consent_on, ctx)
    next_threshold = None
    if days_shown is not None and bands:
        for following in bands:  # the first band not reached yet
            if following.min_days > days_shown:
                next_threshold = NextThreshold(
                    following.code, reading_days_needed=following.min_days - days_shown
                )
                break
    return DevicePart(tuple(lines), tuple(flags), days_shown, next_threshold)


def _period_order(period: DevicePeriod) -> tuple[date, date, str]:
    return (period.period_start_on, period.period_end_on, period.period_id)


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
        segments=time.countable,
    )
    return lines, tuple(flags)


def _days(period: DevicePeriod, consent_on: date | None, ctx: MonthContext) -> int | None:
    if period.reading_day_count is None and period.reading_dates is None:
        return None
    return reading_days(period, not_before=consent_on, not_after=ctx.as_of)


def _shown_period(ctx: MonthContext, periods: list[DevicePeriod]) -> int | None:
    """Return the position of the period a dashboard shows: the one containing ``as_of``,
    else the first one ending in the month (API.md month view)."""
    as_of = ctx.as_of
    if as_of is not None:
        for index, period in enumerate(periods):
            if period.overlaps(as_of, as_of):
                return index
    for index, period in enumerate(periods):
        if ctx.month_start_on <= period.period_end_on <= ctx.month_end_on:
            return index
    return None


def _flag(code: str, program: str, message: str, rule_id: str) -> Flag:
    return Flag(code, program, message, rule_id)

"""Psychiatric collaborative care: 99492/99493, 99494 and G2214 with midpoints (BHI-2, BHI-4)."""

from __future__ import annotations

from datetime import date

from careledger.rules.context import MonthContext
from careledger.rules.programs.common import Checks, ProgramOutcome, tally_time, time_evidence
from careledger.rules.results import BillableLine, Flag, NextThreshold, ProgramSummary
from careledger.rules.schedules import MidpointFamily, RuleSet

PROGRAM = "CoCM"


def evaluate(ctx: MonthContext) -> ProgramOutcome:
    """Decide the CoCM lines on the behavioral health care manager's minutes."""
    facts = ctx.facts
    checks = Checks(ctx, PROGRAM)
    checks.consent("BHI-2")
    month_index = facts.cocm_month_index
    if month_index is None or month_index < 1:
        checks.unknown("cocm_month_index (1 for the first month, 2+ after)", "BHI-2")
    time = tally_time(ctx, PROGRAM)
    minutes = time.minutes
    family = month_family(ctx.rule_set, month_index)
    evidence = time_evidence(time.countable)
    if consultant := facts.psychiatric_consultant:
        evidence = (*evidence, f"psychiatric consultant: {consultant}")
    lines = (
        midpoint_lines(ctx.rule_set, family, minutes, ctx.month_end_on, evidence)
        if family is not None
        else ()
    )
    flags: list[Flag] = [*checks.flags, *time.flags]
    if family is not None and not lines:
        flags.append(
            Flag(
                "BELOW_TIME_THRESHOLD",
                PROGRAM,
                f"{minutes} behavioral health care manager minutes; G2214 needs "
                f"{ctx.rule_set.cocm_short_midpoint_minutes}, {family.base_code} needs "
                f"{family.midpoint_minutes}.",
                "BHI-2",
            )
        )
    summary = ProgramSummary(
        PROGRAM,
        minutes=minutes,
        interactive_contact=time.interactive,
        next_threshold=next_threshold(ctx.rule_set, family, minutes),
    )
    return ProgramOutcome(
        PROGRAM, lines if checks.met else (), tuple(flags), summary, ready=checks.met
    )


def month_family(rule_set: RuleSet, month_index: int | None) -> MidpointFamily | None:
    """Return the first-month or later-month family, or None when the index is unknown."""
    if month_index is None or month_index < 1:
        return None
    return rule_set.cocm_initial if month_index == 1 else rule_set.cocm_subsequent


def midpoint_lines(
    rule_set: RuleSet,
    family: MidpointFamily,
    minutes: int,
    dos: date,
    evidence: tuple[str, ...],
) -> tuple[BillableLine, ...]:
    """Apply CPT's midpoint table (BHI-2) and prefer the month code over G2214 (BHI-4)."""
    if minutes >= family.midpoint_minutes:
        lines = [BillableLine(family.base_code, 1, dos, PROGRAM, evidence)]
        beyond = minutes - family.base_minutes
        if beyond >= family.addon_midpoint_minutes:
            units = (beyond - family.addon_midpoint_minutes) // family.addon_minutes + 1
            lines.append(BillableLine(family.addon_code, units, dos, PROGRAM, evidence))
        return tuple(lines)
    if minutes >= rule_set.cocm_short_midpoint_minutes:
        return (BillableLine(rule_set.cocm_short_code, 1, dos, PROGRAM, evidence),)
    return ()


def next_threshold(
    rule_set: RuleSet, family: MidpointFamily | None, minutes: int
) -> NextThreshold | None:
    """Return the next CoCM code and the minutes it still needs."""
    short = rule_set.cocm_short_midpoint_minutes
    if minutes < short:
        return NextThreshold(rule_set.cocm_short_code, minutes_needed=short - minutes)
    if family is None:
        return None
    if minutes < family.midpoint_minutes:
        return NextThreshold(family.base_code, minutes_needed=family.midpoint_minutes - minutes)
    beyond = minutes - family.base_minutes
    if beyond < family.addon_midpoint_minutes:
        reach = family.base_minutes + family.addon_midpoint_minutes
    else:
        units = (beyond - family.addon_midpoint_minutes) // family.addon_minutes + 1
        reach = family.base_minutes + family.addon_midpoint_minutes + units * family.addon_minutes
    return NextThreshold(family.addon_code, minutes_needed=reach - minutes)

"""Remote therapeutic monitoring: 98975, 98976-98978/98984-98986, 98979-98981 (RTM-1..RTM-4)."""

from __future__ import annotations

from careledger.rules.context import MonthContext
from careledger.rules.programs.common import (
    Checks,
    ProgramOutcome,
    family_next_threshold,
    tally_time,
)
from careledger.rules.programs.monitoring import device_part, treatment_part
from careledger.rules.results import ProgramSummary

PROGRAM = "RTM"


def evaluate(ctx: MonthContext) -> ProgramOutcome:
    """Decide the RTM lines of the month (RTM-3: no established-patient requirement)."""
    facts = ctx.facts
    checks = Checks(ctx, PROGRAM)
    checks.consent("P6")
    time = tally_time(ctx, PROGRAM)
    category = facts.rtm_category
    bands = ctx.rule_set.rtm_supply.get(category) if category else None
    devices = device_part(ctx, PROGRAM, bands, setup_already_billed=facts.rtm_setup_already_billed)
    treatment_lines, treatment_flags = treatment_part(
        ctx,
        PROGRAM,
        ctx.rule_set.rtm_treatment,
        time,
        requires_interactive=ctx.policies.rtm_requires_interactive,
        interactive_rule="P13",
    )
    summary = ProgramSummary(
        PROGRAM,
        minutes=time.minutes,
        interactive_contact=time.interactive,
        reading_days=devices.reading_days,
        next_threshold=family_next_threshold(ctx, ctx.rule_set.rtm_treatment, time.minutes),
        next_device_threshold=devices.next_threshold,
    )
    lines = (*devices.lines, *treatment_lines) if checks.met else ()
    flags = (*checks.flags, *time.flags, *devices.flags, *treatment_flags)
    return ProgramOutcome(PROGRAM, lines, flags, summary, ready=checks.met)

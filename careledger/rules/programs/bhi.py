"""General behavioral health integration: 99484 (BHI-1)."""

from __future__ import annotations

from careledger.rules.context import MonthContext
from careledger.rules.programs.common import (
    Checks,
    ProgramOutcome,
    below_threshold_flag,
    bill_time_family,
    family_next_threshold,
    tally_time,
)
from careledger.rules.results import ProgramSummary

PROGRAM = "BHI"


def evaluate(ctx: MonthContext) -> ProgramOutcome:
    """Decide the 99484 line: 20+ clinical minutes and consent (BHI-1)."""
    checks = Checks(ctx, PROGRAM)
    checks.consent("BHI-1")
    time = tally_time(ctx, PROGRAM)
    family = ctx.rule_set.bhi
    lines = bill_time_family(
        ctx,
        family,
        time.minutes,
        program=PROGRAM,
        dos=ctx.month_end_on,  # P7
        segments=time.countable,
    )
    flags = [*checks.flags, *time.flags]
    if not lines:
        flags.append(below_threshold_flag(PROGRAM, family, time.minutes, "BHI-1"))
    summary = ProgramSummary(
        PROGRAM,
        minutes=time.minutes,
        interactive_contact=time.interactive,
        next_threshold=family_next_threshold(ctx, family, time.minutes),
    )
    return ProgramOutcome(
        PROGRAM, lines if checks.met else (), tuple(flags), summary, ready=checks.met
    )

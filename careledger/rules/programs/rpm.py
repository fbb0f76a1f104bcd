"""Remote physiologic monitoring: 99453, 99445/99454, 99470, 99457/99458 (RPM-1..RPM-17)."""

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

PROGRAM = "RPM"


def evaluate(ctx: MonthContext) -> ProgramOutcome:
    """Decide the RPM lines of the month."""
    facts = ctx.facts
    checks = Checks(ctx, PROGRAM)
    checks.require(
        facts.patient.established_patient,
        fact="patient.established_patient",
        code="NOT_ESTABLISHED_PATIENT",
        message="RPM is limited to established patients; no RPM code is billed.",
        rule_id="RPM-10",
    )
    checks.consent("RPM-11")
    time = tally_time(ctx, PROGRAM)
    devices = device_part(
        ctx,
        PROGRAM,
        ctx.rule_set.rpm_supply,
        setup_already_billed=facts.rpm_setup_already_billed,
    )
    # RPM-15: treatment management does not depend on the device days.
    treatment_lines, treatment_flags = treatment_part(
        ctx,
        PROGRAM,
        ctx.rule_set.rpm_treatment,
        time,
        requires_interactive=True,
        interactive_rule="RPM-6",
    )
    summary = ProgramSummary(
        PROGRAM,
        minutes=time.minutes,
        interactive_contact=time.interactive,
        reading_days=devices.reading_days,
        next_threshold=family_next_threshold(ctx, ctx.rule_set.rpm_treatment, time.minutes),
        next_device_threshold=devices.next_threshold,
    )
    lines = (*devices.lines, *treatment_lines) if checks.met else ()
    flags = (*checks.flags, *time.flags, *devices.flags, *treatment_flags)
    return ProgramOutcome(PROGRAM, lines, flags, summary, ready=checks.met)

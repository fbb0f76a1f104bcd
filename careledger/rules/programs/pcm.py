"""Principal care management: 99424/99425 (physician/QHP) and 99426/99427 (staff), PCM-1..3."""

from __future__ import annotations

from careledger.rules.context import MonthContext
from careledger.rules.programs.common import (
    Checks,
    ProgramOutcome,
    below_threshold_flag,
    bill_time_family,
    family_next_threshold,
    lines_text,
    tally_time,
)
from careledger.rules.results import Flag, ProgramSummary

PROGRAM = "PCM"


def evaluate(ctx: MonthContext) -> ProgramOutcome:
    """Decide the PCM lines of the month."""
    facts = ctx.facts
    rule_set = ctx.rule_set
    checks = Checks(ctx, PROGRAM)
    checks.require(
        facts.patient.single_high_risk_condition,
        fact="patient.single_high_risk_condition",
        code="NOT_ELIGIBLE",
        message="PCM needs one complex, high-risk chronic condition lasting 3+ months.",
        rule_id="PCM-1",
    )
    checks.consent("PCM-3")
    if not facts.disease_specific_care_plan:
        checks.fail(
            "MISSING_CARE_PLAN",
            "No current disease-specific care plan shared with the patient.",
            "PCM-1",
        )
    checks.initiating_visit("PCM-3")

    time = tally_time(ctx, PROGRAM)
    physician_segments = tuple(s for s in time.countable if s.entry.role == "physician_qhp")
    dos = ctx.month_end_on  # P7
    staff_lines = bill_time_family(
        ctx,
        rule_set.pcm_staff,
        time.minutes,
        program=PROGRAM,
        dos=dos,
        segments=time.countable,
    )
    flags: list[Flag] = [*checks.flags, *time.flags]
    # P9: the physician family when the practitioner's own minutes reach its base.
    if (
        ctx.policies.physician_family_switch
        and time.physician_minutes >= rule_set.pcm_physician.base_minutes
    ):
        family, minutes = rule_set.pcm_physician, time.physician_minutes
        lines = bill_time_family(
            ctx,
            family,
            minutes,
            program=PROGRAM,
            dos=dos,
            segments=physician_segments,
        )
        flags.append(
            Flag(
                "CCM_ALTERNATIVE_FAMILY",
                PROGRAM,
                f"Billed the PCM physician/QHP family ({lines_text(lines)}); the clinical-staff "
                f"family would also bill {lines_text(staff_lines)} on {time.minutes} minutes. "
                "Only one family is billed per month.",
                "P9",
            )
        )
    else:
        family, minutes, lines = rule_set.pcm_staff, time.minutes, staff_lines
        if not lines:
            flags.append(below_threshold_flag(PROGRAM, family, minutes, "PCM-2"))
    summary = ProgramSummary(
        PROGRAM,
        minutes=time.minutes,
        interactive_contact=time.interactive,
        next_threshold=family_next_threshold(ctx, family, minutes),
    )
    return ProgramOutcome(
        PROGRAM, lines if checks.met else (), tuple(flags), summary, ready=checks.met
    )

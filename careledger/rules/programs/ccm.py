"""Chronic care management: 99490/99439, 99491/99437 and complex 99487/99489 (CCM-1..CCM-10)."""

from __future__ import annotations

from careledger.rules.calendar import Segment
from careledger.rules.context import MonthContext
from careledger.rules.programs.common import (
    Checks,
    ProgramOutcome,
    ProgramTime,
    below_threshold_flag,
    bill_time_family,
    family_next_threshold,
    lines_text,
    tally_time,
    threshold_met_on,
)
from careledger.rules.results import BillableLine, Flag, ProgramSummary
from careledger.rules.schedules import TimeFamily

PROGRAM = "CCM"


def evaluate(ctx: MonthContext) -> ProgramOutcome:
    """Decide the CCM lines of the month."""
    facts = ctx.facts
    rule_set = ctx.rule_set
    checks = Checks(ctx, PROGRAM)
    chronic = facts.patient.chronic_conditions
    # checks.require, with the message formatted only when the check fails.
    if chronic is None:
        checks.unknown("patient.chronic_conditions", "CCM-1")
    elif not chronic >= rule_set.ccm_min_chronic_conditions:
        checks.fail(
            "NOT_ELIGIBLE",
            f"CCM needs two or more chronic conditions; {chronic} recorded.",
            "CCM-1",
        )
    checks.consent("CCM-6")
    if not facts.comprehensive_care_plan:
        checks.fail(
            "MISSING_CARE_PLAN",
            "No current comprehensive care plan shared with the patient.",
            "CCM-8",
        )
    checks.initiating_visit("CCM-7")

    time = tally_time(ctx, PROGRAM)
    complex_month = facts.complex_ccm is not None and facts.complex_ccm.qualifies
    chosen, alternative = choose_families(ctx, time, complex_month=complex_month)
    flags: list[Flag] = [*checks.flags, *time.flags]
    lines: tuple[BillableLine, ...] = ()
    family, minutes, segments = chosen
    lines = _bill(ctx, family, minutes, segments)
    if not lines:
        flags.append(below_threshold_flag(PROGRAM, family, minutes, "CCM-5"))
    elif alternative is not None:
        alt_family, alt_minutes, alt_segments = alternative
        alt_lines = _bill(ctx, alt_family, alt_minutes, alt_segments)
        if alt_lines:
            # P9, CCM-3: never both families; name the other so a biller can choose.
            flags.append(
                Flag(
                    "CCM_ALTERNATIVE_FAMILY",
                    PROGRAM,
                    f"Billed the {family.name} family ({lines_text(lines)}); the "
                    f"{alt_family.name} family would also bill {lines_text(alt_lines)} on "
                    f"{alt_minutes} minutes. CCM-3 allows only one.",
                    "P9",
                )
            )
    summary = ProgramSummary(
        PROGRAM,
        minutes=time.minutes,
        interactive_contact=time.interactive,
        next_threshold=family_next_threshold(ctx, family, minutes),
    )
    return ProgramOutcome(
        PROGRAM, lines if checks.met else (), tuple(flags), summary, ready=checks.met
    )


Choice = tuple[TimeFamily, int, tuple[Segment, ...]]


def choose_families(
    ctx: MonthContext, time: ProgramTime, *, complex_month: bool
) -> tuple[Choice, Choice | None]:
    """Pick the CCM family to bill and the runner-up (P9, CCM-2, CCM-3, CCM-4)."""
    rule_set = ctx.rule_set
    minutes = time.minutes
    complex_: Choice = (rule_set.ccm_complex, minutes, time.countable)
    staff: Choice = (rule_set.ccm_staff, minutes, time.countable)
    complex_bills = complex_month and minutes >= rule_set.ccm_complex.base_minutes
    staff_side = complex_ if complex_bills else staff
    staff_alternative = staff if complex_bills else None
    if (
        ctx.policies.physician_family_switch
        and time.physician_minutes >= rule_set.ccm_physician.base_minutes
    ):
        # Only this branch needs the physician's own segments; select them here.
        physician_segments = tuple(s for s in time.countable if s.entry.role == "physician_qhp")
        physician: Choice = (rule_set.ccm_physician, time.physician_minutes, physician_segments)
        return physician, staff_side
    return staff_side, staff_alternative


def _bill(
    ctx: MonthContext, family: TimeFamily, minutes: int, segments: tuple[Segment, ...]
) -> tuple[BillableLine, ...]:
    dos = ctx.month_end_on  # P7: last local day of the month
    if ctx.policies.ccm_dos_on_threshold_day:
        dos = threshold_met_on(segments, family.base_minutes) or dos  # CAL-1
    return bill_time_family(ctx, family, minutes, program=PROGRAM, dos=dos, segments=segments)

"""Advanced primary care management: G0556/G0557/G0558, monthly, no time threshold (APCM-1)."""

from __future__ import annotations

from careledger.rules.context import MonthContext
from careledger.rules.programs.common import Checks, ProgramOutcome, tally_time
from careledger.rules.results import BillableLine, ProgramSummary

PROGRAM = "APCM"


def evaluate(ctx: MonthContext) -> ProgramOutcome:
    """Decide the APCM level code of the month."""
    facts = ctx.facts
    patient = facts.patient
    checks = Checks(ctx, PROGRAM)
    checks.consent("APCM-2")
    requirements = facts.apcm_requirements
    missing = (
        requirements.missing
        if requirements is not None
        else ("24_7_access", "continuity", "care_plan", "responsible_for_primary_care")
    )
    if missing:
        checks.fail(
            "APCM_REQUIREMENTS_NOT_MET",
            f"APCM practice requirements not recorded as met: {', '.join(missing)}.",
            "APCM-2",
        )
    if not facts.comprehensive_care_plan:
        checks.fail(
            "MISSING_CARE_PLAN",
            "No current patient-centered care plan shared with the patient.",
            "APCM-2",
        )
    checks.initiating_visit("APCM-2", new_patients_only=True)
    level_1, level_2, level_3 = ctx.rule_set.apcm_codes
    chronic = patient.chronic_conditions
    code: str | None = None
    if chronic is None:
        checks.unknown("patient.chronic_conditions", "APCM-1")
    elif chronic <= 1:
        code = level_1
    elif patient.qmb is None:
        checks.unknown("patient.qmb", "APCM-1")
    else:
        code = level_3 if patient.qmb else level_2
    time = tally_time(ctx, PROGRAM)
    lines: tuple[BillableLine, ...] = ()
    if code is not None and checks.met:
        evidence = (
            f"{chronic} chronic conditions; QMB: {'yes' if patient.qmb else 'no'}",
            f"consent documented {ctx.consent_for(PROGRAM)}",
        )
        lines = (BillableLine(code, 1, ctx.month_end_on, PROGRAM, evidence),)  # P7
    summary = ProgramSummary(PROGRAM, minutes=time.minutes, interactive_contact=time.interactive)
    return ProgramOutcome(PROGRAM, lines, (*checks.flags, *time.flags), summary, ready=checks.met)

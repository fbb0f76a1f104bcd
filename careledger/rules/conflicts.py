"""Cross-program rules for one patient-month (cms-rules-2026.md section 7, P10, P14, RTM-3).

Each program module decides its own candidate lines; this module applies, in order:
one practitioner per program (CCM-6), the APCM bundle (APCM-3), the APCM behavioral-health
add-ons (P10, APCM-4), BHI vs CoCM (BHI-3, P14), CCM vs PCM (P14) and RPM vs RTM (RTM-3).
"""

from __future__ import annotations

from collections.abc import Mapping

from careledger.rules.codes import program_of
from careledger.rules.context import MonthContext
from careledger.rules.facts import OtherClaim
from careledger.rules.programs.common import ProgramOutcome
from careledger.rules.results import BillableLine, Flag

Lines = dict[str, tuple[BillableLine, ...]]

# The only ways entries of one program may change another program's lines (documented in
# docs/billing-rules.md and checked by a property test).
CONFLICT_PARTNERS: Mapping[str, frozenset[str]] = {
    "CCM": frozenset({"PCM"}),
    "PCM": frozenset({"CCM"}),
    "BHI": frozenset({"CoCM"}),
    "CoCM": frozenset({"BHI"}),
    "RPM": frozenset({"RTM"}),
    "RTM": frozenset({"RPM"}),
    "APCM": frozenset(),
}

# CCM-6 (one CCM practitioner per calendar month), applied alike to PCM and APCM.
_ONE_PRACTITIONER_RULES = {"CCM": "CCM-6", "PCM": "PCM-3", "APCM": "APCM-2"}


def resolve_conflicts(
    ctx: MonthContext, outcomes: Mapping[str, ProgramOutcome]
) -> tuple[Lines, tuple[Flag, ...]]:
    """Apply the cross-program rules to the candidate lines of each program."""
    lines: Lines = {program: outcome.lines for program, outcome in outcomes.items()}
    flags: list[Flag] = []
    claims = _other_claims_this_month(ctx) if ctx.facts.other_practitioner_claims else []
    # The claim checks below find nothing without claims; skip their searches then.
    for program, rule_id in _ONE_PRACTITIONER_RULES.items() if claims else ():
        claim = next((c for c in claims if program_of(c.code) == program), None)
        if claim is not None and lines.get(program):
            lines[program] = ()
            flags.append(
                Flag(
                    f"{program}_BILLED_BY_OTHER_PRACTITIONER",
                    program,
                    f"{claim.practitioner} billed {claim.code} for this month; only one "
                    f"practitioner may bill {program} per calendar month. Held for review.",
                    rule_id,
                )
            )
    if lines.get("APCM"):
        _apply_apcm_bundle(lines, flags)
        _apply_apcm_bh_addons(ctx, outcomes, lines, flags)
    if ctx.policies.hold_bhi_cocm_same_month and lines.get("BHI") and lines.get("CoCM"):
        _hold(lines, flags, ("BHI", "CoCM"), "BHI_COCM_SAME_MONTH_CONFLICT", "BHI-3")
    if ctx.policies.hold_ccm_pcm_same_practitioner and lines.get("CCM") and lines.get("PCM"):
        _hold(lines, flags, ("CCM", "PCM"), "CCM_PCM_SAME_PRACTITIONER_CONFLICT", "P14")
    if claims:
        _flag_other_practitioner_ccm_pcm(lines, flags, claims)
    if ctx.policies.hold_rpm_rtm_same_period and lines.get("RPM") and lines.get("RTM"):
        _hold(lines, flags, ("RPM", "RTM"), "RPM_RTM_SAME_PERIOD_CONFLICT", "RTM-3")
    if claims:
        _hold_against_other_monitoring(lines, flags, claims)
    return lines, tuple(flags)


def _other_claims_this_month(ctx: MonthContext) -> list[OtherClaim]:
    return [
        claim
        for claim in ctx.facts.other_practitioner_claims
        if claim.practitioner != ctx.facts.billing_practitioner
        and claim.period_start_on <= ctx.month_end_on
        and ctx.month_start_on <= claim.period_end_on
    ]


def _hold(
    lines: Lines, flags: list[Flag], programs: tuple[str, str], code: str, rule_id: str
) -> None:
    held = ", ".join(f"{line.code} x{line.units}" for p in programs for line in lines[p])
    for program in programs:
        lines[program] = ()
    first, second = programs
    flags.append(
        Flag(
            code,
            first,
            f"{first} and {second} may not both be billed this month; both are held "
            f"({held}) for a person to choose.",
            rule_id,
        )
    )


def _apply_apcm_bundle(lines: Lines, flags: list[Flag]) -> None:
    # APCM-3: CCM and PCM are bundled into APCM for the same practitioner.
    for program in ("CCM", "PCM"):
        if lines.get(program):
            codes = ", ".join(line.code for line in lines[program])
            lines[program] = ()
            flags.append(
                Flag(
                    "CCM_BUNDLED_IN_APCM_SAME_PRACTITIONER",
                    program,
                    f"{program} ({codes}) is bundled into APCM for the same practitioner this "
                    "month; only the APCM code is billed.",
                    "APCM-3",
                )
            )


def _apply_apcm_bh_addons(
    ctx: MonthContext, outcomes: Mapping[str, ProgramOutcome], lines: Lines, flags: list[Flag]
) -> None:
    addons = ctx.rule_set.apcm_bh_addons
    if not addons or not ctx.policies.apcm_bh_addons_replace:
        return
    apcm_code = lines["APCM"][0].code
    dos = ctx.month_end_on
    bhi = outcomes.get("BHI")
    if bhi is not None and bhi.ready:
        elements = ctx.facts.bhi_service_elements
        if elements is not None and elements.all_recorded:
            # P10, APCM-4: G0570 (no minute threshold) replaces 99484.
            if lines.get("BHI"):
                flags.append(
                    Flag(
                        "99484_SUPPRESSED_BY_APCM_BH_ADDON",
                        "BHI",
                        f"99484 is replaced by the APCM add-on {addons['BHI']} (same "
                        "practitioner, same month, all four BHI service elements recorded).",
                        "P10",
                    )
                )
            evidence = (f"APCM {apcm_code} this month", "all four BHI service elements recorded")
            lines["BHI"] = (BillableLine(addons["BHI"], 1, dos, "BHI", evidence),)
        else:
            flags.append(
                Flag(
                    "APCM_BH_ADDON_ELEMENTS_MISSING",
                    "BHI",
                    f"{addons['BHI']} is not billed: the four BHI service elements are not all "
                    "recorded; 99484 follows its own minutes.",
                    "P10",
                )
            )
    cocm = outcomes.get("CoCM")
    month_index = ctx.facts.cocm_month_index
    if cocm is not None and cocm.ready and month_index is not None:
        code = addons["CoCM_initial"] if month_index == 1 else addons["CoCM_subsequent"]
        if lines.get("CoCM"):
            replaced = ", ".join(line.code for line in lines["CoCM"])
            flags.append(
                Flag(
                    "COCM_SUPPRESSED_BY_APCM_BH_ADDON",
                    "CoCM",
                    f"{replaced} replaced by the APCM add-on {code} (same practitioner, month).",
                    "P10",
                )
            )
        evidence = (f"APCM {apcm_code} this month", f"CoCM month {month_index}")
        lines["CoCM"] = (BillableLine(code, 1, dos, "CoCM", evidence),)


def _flag_other_practitioner_ccm_pcm(
    lines: Lines, flags: list[Flag], claims: list[OtherClaim]
) -> None:
    # Section 7, P14: CCM + PCM by different practitioners is flagged, not held.
    for ours, theirs in (("CCM", "PCM"), ("PCM", "CCM")):
        claim = next((c for c in claims if program_of(c.code) == theirs), None)
        if claim is not None and lines.get(ours):
            flags.append(
                Flag(
                    "CCM_PCM_SAME_PRACTITIONER_CONFLICT",
                    ours,
                    f"{claim.practitioner} (a different practitioner) billed {theirs} "
                    f"({claim.code}) this month; sources conflict on CCM with PCM. Review.",
                    "P14",
                )
            )


def _hold_against_other_monitoring(
    lines: Lines, flags: list[Flag], claims: list[OtherClaim]
) -> None:
    # RTM-3: RPM and RTM are never billed for the same patient in the same period.
    for ours, theirs in (("RPM", "RTM"), ("RTM", "RPM")):
        claim = next((c for c in claims if program_of(c.code) == theirs), None)
        if claim is not None and lines.get(ours):
            lines[ours] = ()
            flags.append(
                Flag(
                    "RPM_RTM_SAME_PERIOD_CONFLICT",
                    ours,
                    f"{claim.practitioner} billed {theirs} ({claim.code}) for "
                    f"{claim.period_start_on}..{claim.period_end_on}; RPM and RTM may not both "
                    f"be billed in the same period. {ours} is held for review.",
                    "RTM-3",
                )
            )

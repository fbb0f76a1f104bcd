"""Turn the engine's decisions into proposed billing lines, each saying whether a person must look.

Pure functions over plain values: no database, no clock. ``close.py`` loads the inputs and stores
the answer.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from careledger.rules import BillableLine, Flag, MonthFacts, MonthResult

# Flags that mean the engine withheld a code a person may still want to bill by hand.
WITHHOLDING_FLAGS = frozenset(
    {
        "BHI_COCM_SAME_MONTH_CONFLICT",
        "CCM_PCM_SAME_PRACTITIONER_CONFLICT",
        "RPM_RTM_SAME_PERIOD_CONFLICT",
        "CCM_BUNDLED_IN_APCM_SAME_PRACTITIONER",
        "COCM_SUPPRESSED_BY_APCM_BH_ADDON",
        "APCM_BH_ADDON_ELEMENTS_MISSING",
        "DEVICE_PERIOD_ALREADY_BILLED_BY_OTHER_PRACTITIONER",
        "DEVICE_PERIODS_OVERLAP",
        "CCM_BILLED_BY_OTHER_PRACTITIONER",
        "PCM_BILLED_BY_OTHER_PRACTITIONER",
        "APCM_BILLED_BY_OTHER_PRACTITIONER",
        "FACT_UNKNOWN",
    }
)
# Flags on a program that make each of its lines a judgement call.
JUDGEMENT_FLAGS = frozenset({"FACT_UNKNOWN", "DEVICE_PERIOD_NOT_30_DAYS"})
# CCM-2: complex CCM (99487) starts at 60 clinical minutes; below that, the unrecorded medical
# decision making cannot change the code, so it is not worth a person's look.
COMPLEX_CCM_FROM_MINUTES = 60
DEVICE_PROGRAMS = frozenset({"RPM", "RTM"})
MAX_DIAGNOSES = 12


@dataclass(frozen=True)
class LineContext:
    """What a line needs beyond the engine: diagnoses, order, identifiers."""

    diagnoses: tuple[str, ...]
    ordered: bool
    rendering_npi: str
    mbi: str


@dataclass(frozen=True)
class ProposedLine:
    patient_id: int
    practitioner_id: int
    line: BillableLine
    rule_set: str
    flags: tuple[dict[str, Any], ...]
    review_reasons: tuple[dict[str, Any], ...]
    diagnoses: tuple[str, ...]
    rendering_npi: str

    @property
    def key(self) -> tuple[int, int, str, str, str]:
        return (
            self.patient_id,
            self.practitioner_id,
            self.line.program,
            self.line.code,
            self.line.dos.isoformat(),
        )


def _reason(code: str, message: str, rule: str) -> dict[str, Any]:
    return {"code": code, "message": message, "rule": rule}


def review_reasons(
    *,
    line: BillableLine,
    result: MonthResult,
    notes: Iterable[Flag],
    context: LineContext,
) -> list[dict[str, Any]]:
    """List why a person must look at this line before it is billed (empty: nothing to judge)."""
    reasons: list[dict[str, Any]] = []
    for flag in result.flags:
        if flag.code in JUDGEMENT_FLAGS and flag.program in (None, line.program):
            reasons.append(flag.as_dict())
    minutes = result.minutes_by_program.get(line.program, 0)
    for note in notes:
        if note.code not in JUDGEMENT_FLAGS or note.program not in (None, line.program):
            continue
        # A note holds only the lines its missing fact could change. Unrecorded MDM can turn
        # 60+ CCM minutes into complex CCM (CCM-2). A missing set-up event (RPM-16) only keeps
        # 99453/98975 from being proposed, so it stays a flag on the month, not a hold.
        if note.rule_id == "CCM-2" and minutes >= COMPLEX_CCM_FROM_MINUTES:
            reasons.append(
                _reason(
                    note.code,
                    f"{minutes} CCM minutes: complex CCM (99487) may apply, but its medical "
                    "decision making is not recorded. Decide which family to bill.",
                    "CCM-2",
                )
            )
    if not context.diagnoses:
        reasons.append(
            _reason(
                "MISSING_DIAGNOSIS",
                "The patient has no diagnosis on the problem list for this month; a claim "
                "needs at least one ICD-10-CM code.",
                "837P",
            )
        )
    if line.program in DEVICE_PROGRAMS and not context.ordered:
        reasons.append(
            _reason(
                "MISSING_ORDER",
                f"No {line.program} order (date and ordering practitioner) is recorded.",
                "OIG OEI-02-23-00260",
            )
        )
    if not context.rendering_npi:
        reasons.append(
            _reason(
                "MISSING_RENDERING_NPI",
                "The billing practitioner has no individual NPI in this practice.",
                "837P",
            )
        )
    if not context.mbi:
        reasons.append(
            _reason("MISSING_MBI", "The patient has no Medicare Beneficiary Identifier.", "837P")
        )
    return reasons


def propose_lines(
    *,
    patient_id: int,
    practitioner_id: int,
    result: MonthResult,
    notes: Iterable[Flag],
    context: LineContext,
) -> list[ProposedLine]:
    """Turn one patient-month's result into proposed lines with their review reasons."""
    notes = tuple(notes)
    out = []
    for line in result.lines:
        flags = tuple(
            f.as_dict() for f in (*result.flags, *notes) if f.program in (None, line.program)
        )
        out.append(
            ProposedLine(
                patient_id=patient_id,
                practitioner_id=practitioner_id,
                line=line,
                rule_set=result.rule_set,
                flags=flags,
                review_reasons=tuple(
                    review_reasons(line=line, result=result, notes=notes, context=context)
                ),
                diagnoses=context.diagnoses,
                rendering_npi=context.rendering_npi,
            )
        )
    return out


def withheld(result: MonthResult) -> bool:
    """Tell whether the engine withheld a code a person may want to add by hand."""
    return any(flag.code in WITHHOLDING_FLAGS for flag in result.flags)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, frozenset | set):
        return sorted(_plain(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def facts_sha256(facts: Iterable[MonthFacts]) -> str:
    """Hash facts canonically: the same facts give the same hash whatever their order."""
    parts = sorted(json.dumps(_plain(f), sort_keys=True, separators=(",", ":")) for f in facts)
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode())
        digest.update(b"\n")
    return digest.hexdigest()

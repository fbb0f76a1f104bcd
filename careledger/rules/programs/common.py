"""Helpers every program module shares: preconditions, countable time and time families."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from careledger.rules.calendar import Segment
from careledger.rules.context import MonthContext
from careledger.rules.facts import INTERACTIVE_KINDS
from careledger.rules.fastinit import fast_init
from careledger.rules.results import BillableLine, Flag, NextThreshold, ProgramSummary
from careledger.rules.schedules import TimeFamily

# CCM-4: non-clinical time never counts; a practitioner doing staff work counts as staff.
CLINICAL_ROLES: frozenset[str] = frozenset({"clinical_staff", "physician_qhp", "bh_care_manager"})
# BHI-2: only the behavioral health care manager's time counts for CoCM.
COUNTABLE_ROLES: dict[str, frozenset[str]] = {"CoCM": frozenset({"bh_care_manager"})}


@fast_init
@dataclass(frozen=True, slots=True)
class ProgramOutcome:
    """One program's candidate lines, flags and summary, before cross-program conflicts."""

    program: str
    lines: tuple[BillableLine, ...]
    flags: tuple[Flag, ...]
    summary: ProgramSummary
    ready: bool


@fast_init
@dataclass(frozen=True, slots=True)
class ProgramTime:
    """The countable time of one program in the local month (P8: floor of summed seconds)."""

    program: str
    seconds: int = 0
    physician_seconds: int = 0
    interactive: bool = False
    countable: tuple[Segment, ...] = ()
    flags: tuple[Flag, ...] = field(default=())

    @property
    def minutes(self) -> int:
        """Return countable minutes, never rounded up (P8)."""
        return self.seconds // 60

    @property
    def physician_minutes(self) -> int:
        """Return the physician/QHP's personal countable minutes (P8, P9)."""
        return self.physician_seconds // 60


def tally_time(ctx: MonthContext, program: str) -> ProgramTime:
    """Add up a program's countable seconds under the role, kind and consent rules."""
    segments = ctx.segments_by_program.get(program)
    if not segments:
        # Nothing logged for the program: no seconds, no flags (what the loop below gives).
        return ProgramTime(program)
    roles = COUNTABLE_ROLES.get(program, CLINICAL_ROLES)
    policies = ctx.policies
    exclude_voicemail = policies.exclude_voicemail
    consent_on = ctx.consent_for(program) if policies.exclude_time_before_consent else None
    seconds = physician_seconds = voicemail = wrong_role = before_consent = 0
    interactive = False
    countable: list[Segment] = []
    for segment in segments:
        entry = segment.entry
        kind = entry.kind
        if kind == "voicemail" and exclude_voicemail:
            voicemail += segment.seconds  # P3
        elif entry.role not in roles:
            wrong_role += segment.seconds  # CCM-4, BHI-2
        elif consent_on is not None and segment.local_on < consent_on:
            before_consent += segment.seconds  # P12
        else:
            counted = segment.seconds
            seconds += counted
            if entry.role == "physician_qhp":
                physician_seconds += counted
            if kind in INTERACTIVE_KINDS and counted > 0:
                interactive = True  # RPM-6
            countable.append(segment)
    flags: list[Flag] = []
    if before_consent:
        flags.append(
            Flag(
                "TIME_BEFORE_CONSENT",
                program,
                f"{format_minutes(before_consent)} min logged before the {program} consent date "
                f"({consent_on}) do not count.",
                "P12",
            )
        )
    if wrong_role:
        who = "behavioral health care manager" if program == "CoCM" else "clinical"
        flags.append(
            Flag(
                "ROLE_TIME_NOT_COUNTABLE",
                program,
                f"{format_minutes(wrong_role)} min by staff whose role is not {who} do not count "
                f"for {program}.",
                "BHI-2" if program == "CoCM" else "CCM-4",
            )
        )
    if voicemail:
        flags.append(
            Flag(
                "VOICEMAIL_TIME_EXCLUDED",
                program,
                f"{format_minutes(voicemail)} min of voicemail or unanswered attempts "
                "do not count.",
                "P3",
            )
        )
    return ProgramTime(
        program, seconds, physician_seconds, interactive, tuple(countable), tuple(flags)
    )


def format_minutes(seconds: int) -> str:
    """Return seconds as minutes, with one decimal only when needed."""
    return str(seconds // 60) if seconds % 60 == 0 else f"{seconds / 60:.1f}"


def time_evidence(segments: tuple[Segment, ...] | list[Segment]) -> tuple[str, ...]:
    """Describe the entries behind a line, one string per entry, in time order."""
    # Per entry (by identity): its first segment and its counted seconds, in first-seen order.
    first: dict[int, Segment] = {}
    counted: dict[int, int] = {}
    for segment in segments:
        key = id(segment.entry)
        if key in counted:
            counted[key] += segment.seconds
        else:
            first[key] = segment
            counted[key] = segment.seconds
    out = []
    for key, segment in first.items():
        entry = segment.entry
        seconds = counted[key]
        part = "" if seconds == entry.seconds else f" of {format_minutes(entry.seconds)}"
        out.append(
            f"{entry.entry_id or 'time entry'}: {segment.local_on} {format_minutes(seconds)}{part}"
            f" min {entry.kind} by {entry.role}"
        )
    return tuple(out)


def threshold_met_on(segments: tuple[Segment, ...], minutes: int) -> date | None:
    """Return the local date on which the running total first reached ``minutes`` (CAL-1)."""
    total = 0
    for segment in segments:
        total += segment.seconds
        if total // 60 >= minutes:
            return segment.local_on
    return None


class Checks:
    """Collect failed preconditions of one program as flags (P6)."""

    def __init__(self, ctx: MonthContext, program: str) -> None:
        self.ctx = ctx
        self.program = program
        self.flags: list[Flag] = []

    @property
    def met(self) -> bool:
        """Return True when no precondition failed."""
        return not self.flags

    def fail(self, code: str, message: str, rule_id: str) -> None:
        """Record a failed precondition."""
        self.flags.append(Flag(code, self.program, message, rule_id))

    def unknown(self, fact: str, rule_id: str) -> None:
        """Record that a fact the program needs is not recorded (FACT_UNKNOWN)."""
        self.fail("FACT_UNKNOWN", f"{fact} is not recorded; {self.program} needs it.", rule_id)

    def require(
        self, value: bool | None, *, fact: str, code: str, message: str, rule_id: str
    ) -> None:
        """Fail with ``code`` when the fact is false, FACT_UNKNOWN when it is not recorded."""
        if value is None:
            self.unknown(fact, rule_id)
        elif not value:
            self.fail(code, message, rule_id)

    def consent(self, rule_id: str) -> None:
        """Require documented consent dated no later than the service month (P12)."""
        consent_on = self.ctx.consent_for(self.program)
        if consent_on is None:
            self.fail(
                "MISSING_CONSENT",
                f"No documented {self.program} consent; nothing is billed.",
                rule_id,
            )
        elif consent_on > self.ctx.last_counted_on:
            self.fail(
                "MISSING_CONSENT",
                f"{self.program} consent is dated {consent_on}, after the service month; "
                "it counts as missing.",
                "P12",
            )

    def initiating_visit(self, rule_id: str, *, new_patients_only: bool = False) -> None:
        """Require an initiating visit when the patient is new or not seen in 12 months
        (CCM-7); with ``new_patients_only`` only new patients need one (APCM-2)."""
        patient = self.ctx.facts.patient
        if new_patients_only and patient.established_patient:
            return
        # self.require, with the message formatted only when the check fails.
        seen = patient.seen_by_billing_practitioner_within_12_months
        if seen is None:
            self.unknown("patient.seen_by_billing_practitioner_within_12_months", rule_id)
        elif not seen:
            self.fail(
                "MISSING_INITIATING_VISIT",
                "The billing practitioner has not seen the patient in the past 12 months; "
                f"{self.program} needs an initiating visit (comprehensive E/M, AWV or IPPE).",
                rule_id,
            )


def bill_time_family(
    ctx: MonthContext,
    family: TimeFamily,
    minutes: int,
    *,
    program: str,
    dos: date,
    segments: tuple[Segment, ...],
) -> tuple[BillableLine, ...]:
    """Return the lines a time family earns on ``minutes`` (full thresholds only, P4), with
    the entries of ``segments`` as evidence."""
    in_short_band = (
        family.short_minutes is not None and family.short_minutes <= minutes < family.base_minutes
    )
    if family.short_code and in_short_band:
        return (BillableLine(family.short_code, 1, dos, program, time_evidence(segments)),)
    if minutes < family.base_minutes:
        return ()  # no line, so the evidence text is never built
    evidence = time_evidence(segments)
    lines = [BillableLine(family.base_code, 1, dos, program, evidence)]
    if family.addon_code and family.addon_minutes:
        units = (minutes - family.base_minutes) // family.addon_minutes
        cap = ctx.rule_set.unit_caps.get(family.addon_code)
        if cap is not None:
            units = min(units, cap)  # CCM-2: 99439 at most 2 units
        if units > 0:
            lines.append(BillableLine(family.addon_code, units, dos, program, evidence))
    return tuple(lines)


def family_next_threshold(
    ctx: MonthContext, family: TimeFamily, minutes: int
) -> NextThreshold | None:
    """Return the next code the family unlocks and the minutes still needed."""
    if family.short_code and family.short_minutes is not None and minutes < family.short_minutes:
        return NextThreshold(family.short_code, minutes_needed=family.short_minutes - minutes)
    if minutes < family.base_minutes:
        return NextThreshold(family.base_code, minutes_needed=family.base_minutes - minutes)
    if not family.addon_code or not family.addon_minutes:
        return None
    units = (minutes - family.base_minutes) // family.addon_minutes
    cap = ctx.rule_set.unit_caps.get(family.addon_code)
    if cap is not None and units >= cap:
        return None
    reach = family.base_minutes + family.addon_minutes * (units + 1)
    return NextThreshold(family.addon_code, minutes_needed=reach - minutes)


def lines_text(lines: tuple[BillableLine, ...]) -> str:
    """Return ``99490 x1 + 99439 x2`` for a biller."""
    return " + ".join(f"{line.code} x{line.units}" for line in lines)


def below_threshold_flag(program: str, family: TimeFamily, minutes: int, rule_id: str) -> Flag:
    """Return BELOW_TIME_THRESHOLD naming the first code and the minutes it needs."""
    first_code = family.short_code or family.base_code
    first_minutes = family.short_minutes or family.base_minutes
    return Flag(
        "BELOW_TIME_THRESHOLD",
        program,
        f"{minutes} countable {program} minutes; {first_code} needs {first_minutes}. "
        "Minutes do not carry over to the next month.",
        rule_id,
    )

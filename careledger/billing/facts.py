"""Build the engine's MonthFacts from stored records: the one facts builder (STYLE 2).

Selectors read; this module turns what they read into frozen ``careledger.rules`` values.
Where a fact the engine needs is not recorded anywhere yet, the builder says so with a flag
(``FACT_NOT_RECORDED``) instead of guessing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Q

from careledger.patients.models import Condition, Enrollment, Patient
from careledger.patients.selectors import is_established, needs_initiating_visit
from careledger.rules import (
    Flag,
    MonthFacts,
    MonthResult,
    PatientFacts,
    TimeEntry,
    evaluate_month,
)
from careledger.timelog.models import UNREACHED_OUTCOMES, NotCountable
from careledger.timelog.models import TimeEntry as StoredEntry

from .months import LocalMonth

# P3: attempts that did not reach the patient reach the engine as kind "voicemail".
VOICEMAIL = "voicemail"
NOT_RECORDED = "FACT_NOT_RECORDED"


@dataclass(frozen=True)
class PractitionerMonth:
    """The facts for one billing practitioner's programs, and the builder's own notes."""

    facts: MonthFacts
    notes: tuple[Flag, ...]


def enrollments_in_month(patient: Patient, month: LocalMonth) -> list[Enrollment]:
    """Return the patient's enrollments that overlap the month (any status)."""
    return list(
        patient.enrollments.filter(started_on__lte=month.last_on)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=month.first_on))
        .select_related("billing_practitioner")
        .order_by("program", "-started_on")
    )


def entries_near_month(patient: Patient, month: LocalMonth) -> list[StoredEntry]:
    """Return the patient's live entries that touch the month (the engine splits at midnight)."""
    return list(
        StoredEntry.objects.filter(
            patient=patient,
            voided_at__isnull=True,
            started_at__lt=month.ends_at,
            ended_at__gt=month.starts_at,
        ).order_by("started_at", "id")
    )


def engine_entry(entry: StoredEntry) -> TimeEntry | None:
    """Translate a stored entry for the engine; None when it must not reach it at all."""
    if entry.not_countable_code == NotCountable.OUTSIDE_ENROLLMENT:
        return None
    kind = VOICEMAIL if entry.outcome in UNREACHED_OUTCOMES else entry.kind
    role = entry.rule_class
    if entry.bh_care_manager and entry.program == "CoCM":
        # BHI-2: only the behavioral health care manager's time counts for CoCM.
        role = "bh_care_manager"
    return TimeEntry(
        start_at=entry.started_at,
        seconds=entry.seconds,
        kind=kind,
        role=role,
        program=entry.program,
        entry_id=str(entry.pk),
    )


def chronic_condition_count(conditions: Iterable[Condition], month: LocalMonth) -> int:
    """Count chronic conditions present during the month (CCM-1)."""
    return sum(
        1
        for c in conditions
        if c.chronic
        and (c.onset_on is None or c.onset_on <= month.last_on)
        and (c.resolved_on is None or c.resolved_on >= month.first_on)
    )


def build_patient_month(
    *, patient: Patient, month: LocalMonth, setting: str
) -> list[PractitionerMonth]:
    """Build one MonthFacts per billing practitioner with programs in the month."""
    enrollments = enrollments_in_month(patient, month)
    if not enrollments:
        return []
    by_practitioner: dict[int, list[Enrollment]] = defaultdict(list)
    for enrollment in enrollments:
        by_practitioner[enrollment.billing_practitioner_id].append(enrollment)
    entries = entries_near_month(patient, month)
    chronic = chronic_condition_count(patient.conditions.all(), month)
    out = []
    for practitioner_id, group in sorted(by_practitioner.items()):
        practitioner = group[0].billing_practitioner
        programs = tuple(sorted({e.program for e in group}))
        consent = {}
        for enrollment in group:
            if enrollment.consent_on is not None and enrollment.program not in consent:
                consent[enrollment.program] = enrollment.consent_on
        patient_facts = PatientFacts(
            medicare_ffs=patient.coverage == Patient.Coverage.MEDICARE_FFS,
            established_patient=is_established(
                patient=patient, practitioner_id=practitioner_id, on=month.last_on
            ),
            chronic_conditions=chronic,
            # Not recorded yet: PCM's single high-risk condition (engine: FACT_UNKNOWN).
            single_high_risk_condition=None,
            qmb=patient.qmb,
            seen_by_billing_practitioner_within_12_months=not needs_initiating_visit(
                patient=patient, practitioner_id=practitioner_id, on=month.last_on
            ),
        )
        time_entries = tuple(
            converted
            for entry in entries
            if entry.program in programs and (converted := engine_entry(entry)) is not None
        )
        first_started = {e.program: e.started_on for e in group}
        facts = MonthFacts(
            month_start_on=month.first_on,
            practice_timezone=month.timezone,
            billing_practitioner=practitioner.get_username(),
            setting=setting,
            patient=patient_facts,
            programs=programs,
            consent_on=consent,
            # RPM-16 interim: the set-up code belongs to the episode's first month; an enrollment
            # that started before this month is taken to have had its set-up billed.
            rpm_setup_already_billed=first_started.get("RPM", month.first_on) < month.first_on,
            rtm_setup_already_billed=first_started.get("RTM", month.first_on) < month.first_on,
            time_entries=time_entries,
        )
        notes = _unrecorded_facts(programs)
        out.append(PractitionerMonth(facts=facts, notes=notes))
    return out


def _unrecorded_facts(programs: tuple[str, ...]) -> tuple[Flag, ...]:
    notes = [
        Flag(
            NOT_RECORDED,
            None,
            "Other practitioners' claims are not recorded in careledger yet; the "
            "one-biller rules (RPM-5, CCM-6) assume there are none.",
            "RPM-5",
        )
    ]
    if "CCM" in programs:
        notes.append(
            Flag(
                NOT_RECORDED,
                "CCM",
                "Complex-CCM decision making is not recorded yet; complex codes are not "
                "considered.",
                "CCM-2",
            )
        )
    return tuple(notes)


@dataclass(frozen=True)
class MonthView:
    """The engine's decision for a patient-month, merged over billing practitioners."""

    month: LocalMonth
    as_of: date
    results: tuple[tuple[PractitionerMonth, MonthResult], ...]

    @property
    def programs(self) -> dict[str, dict[str, object]]:
        out: dict[str, dict[str, object]] = {}
        for _, result in self.results:
            for program, summary in result.programs.items():
                out[program] = summary.as_dict()
        return out

    @property
    def lines(self) -> list[dict[str, object]]:
        return [line.as_dict() for _, r in self.results for line in r.lines]

    @property
    def flags(self) -> list[dict[str, object]]:
        out: list[dict[str, object]] = []
        for built, result in self.results:
            out.extend(flag.as_dict() for flag in result.flags)
            out.extend(flag.as_dict() for flag in built.notes)
        return out

    @property
    def rule_sets(self) -> list[str]:
        return sorted({r.rule_set for _, r in self.results if r.rule_set})


def evaluate_patient_month(
    *, patient: Patient, month: LocalMonth, as_of: date, setting: str
) -> MonthView:
    """Evaluate a stored patient-month with the same engine as the month close."""
    built = build_patient_month(patient=patient, month=month, setting=setting)
    results = tuple((b, evaluate_month(b.facts, as_of=as_of)) for b in built)
    return MonthView(month=month, as_of=as_of, results=results)


def as_of_bounds(month: LocalMonth, as_of: date) -> date:
    """Clamp a live view's as_of into the month (a past month is seen as a whole)."""
    return min(max(as_of, month.first_on - timedelta(days=1)), month.last_on)

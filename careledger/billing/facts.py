"""Build the engine's MonthFacts from stored records: the one facts builder (STYLE 2).

The patient page, the dashboard, the pre-close worklist and the month close all call
``build_month_facts``: it reads a whole panel with a constant number of queries (no query per
patient), then assembles frozen ``careledger.rules`` values in plain Python. Where a fact the
engine needs is not recorded anywhere yet, it says so with a flag (``FACT_NOT_RECORDED``)
instead of guessing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Q

from careledger.accounts.models import Practice, User
from careledger.careplans.models import Kind
from careledger.careplans.selectors import current_plan_kinds
from careledger.devices.selectors import device_periods_by_patient
from careledger.patients.models import Condition, Enrollment, Patient, Visit
from careledger.rules import (
    DevicePeriod,
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
# CPT's established patient: seen by the same practitioner within three years (RPM-10).
ESTABLISHED_WITHIN = timedelta(days=3 * 365)
# CCM-7: an initiating visit is needed when the patient was not seen within 12 months.
INITIATING_WITHIN = timedelta(days=365)


@dataclass(frozen=True)
class PractitionerMonth:
    """The facts for one billing practitioner's programs, and the builder's own notes."""

    patient_id: int
    practitioner: User
    facts: MonthFacts
    notes: tuple[Flag, ...]
    entry_ids: dict[str, tuple[int, ...]] = field(default_factory=dict)


# The facts builder reads plain rows, not model instances: building 100,000 model objects for
# a panel cost most of its time (bench/panel_dashboard.py).
ENTRY_FIELDS = (
    "id",
    "patient_id",
    "program",
    "started_at",
    "seconds",
    "kind",
    "outcome",
    "rule_class",
    "bh_care_manager",
    "not_countable_code",
)
CONDITION_FIELDS = ("patient_id", "chronic", "onset_on", "resolved_on")
VISIT_FIELDS = ("patient_id", "practitioner_id", "visited_on")


@dataclass
class _PatientRecords:
    patient: Patient
    enrollments: list[Enrollment] = field(default_factory=list)
    entries: list[Any] = field(default_factory=list)
    conditions: list[Any] = field(default_factory=list)
    visits: list[Any] = field(default_factory=list)
    plan_kinds: frozenset[str] = frozenset()
    device_periods: tuple[DevicePeriod, ...] = ()


def build_month_facts(
    *,
    practice: Practice,
    month: LocalMonth,
    patient_ids: Iterable[int] | None = None,
    coordinator_id: int | None = None,
    as_of: date | None = None,
) -> dict[int, list[PractitionerMonth]]:
    """Build the month's facts for the practice's enrolled patients in a constant number of queries.

    Narrow the panel with ``patient_ids`` or ``coordinator_id``. Patients without an enrollment
    overlapping the month are absent from the answer. ``as_of`` (a live view) leaves out device
    periods that had not started by that local day.
    """
    enrollments = (
        Enrollment.objects.filter(patient__practice=practice, started_on__lte=month.last_on)
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gte=month.first_on))
        .select_related("patient", "billing_practitioner")
        .only(
            "id",
            "patient_id",
            "program",
            "started_on",
            "ended_on",
            "consent_on",
            "billing_practitioner_id",
            "patient__id",
            "patient__coverage",
            "patient__qmb",
            "billing_practitioner__id",
            "billing_practitioner__username",
        )
        .order_by("patient_id", "program", "-started_on", "-id")
    )
    if patient_ids is not None:
        enrollments = enrollments.filter(patient_id__in=list(patient_ids))
    if coordinator_id is not None:
        enrollments = enrollments.filter(patient__coordinator_id=coordinator_id)
    records: dict[int, _PatientRecords] = {}
    for enrollment in enrollments:
        record = records.setdefault(enrollment.patient_id, _PatientRecords(enrollment.patient))
        record.enrollments.append(enrollment)
    if not records:
        return {}
    ids = list(records)
    for entry in (
        StoredEntry.objects.filter(
            patient_id__in=ids,
            voided_at__isnull=True,
            started_at__lt=month.ends_at,
            ended_at__gt=month.starts_at,
        )
        .order_by("started_at", "id")
        .values_list(*ENTRY_FIELDS, named=True)
    ):
        records[entry.patient_id].entries.append(entry)
    for condition in Condition.objects.filter(patient_id__in=ids).values_list(
        *CONDITION_FIELDS, named=True
    ):
        records[condition.patient_id].conditions.append(condition)
    for visit in Visit.objects.filter(
        patient_id__in=ids,
        visited_on__lte=month.last_on,
        visited_on__gte=month.last_on - ESTABLISHED_WITHIN,
    ).values_list(*VISIT_FIELDS, named=True):
        records[visit.patient_id].visits.append(visit)
    # CCM-8, PCM-1: the care-plan fact is the plan's state at the end of the month's last day.
    plans = current_plan_kinds(practice=practice, patient_ids=ids, on=month.last_on)
    for pid, kinds in plans.items():
        records[pid].plan_kinds = kinds
    # RPM-4, P5: 30-day device periods with their automatic reading days.
    periods = device_periods_by_patient(
        patient_ids=ids, month_start=month.first_on, month_end=month.last_on, as_of=as_of
    )
    for pid, found in periods.items():
        records[pid].device_periods = tuple(found)
    return {pid: _assemble(record, month, practice.setting) for pid, record in records.items()}


def engine_entry(entry: Any) -> TimeEntry | None:
    """Translate a stored entry (a row with ``ENTRY_FIELDS``) for the engine.

    None when it must not reach the engine at all.
    """
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
        entry_id=str(entry.id),
    )


def chronic_condition_count(conditions: Iterable[Any], month: LocalMonth) -> int:
    """Count chronic conditions present during the month (CCM-1)."""
    return sum(
        1
        for c in conditions
        if c.chronic
        and (c.onset_on is None or c.onset_on <= month.last_on)
        and (c.resolved_on is None or c.resolved_on >= month.first_on)
    )


def _assemble(record: _PatientRecords, month: LocalMonth, setting: str) -> list[PractitionerMonth]:
    by_practitioner: dict[int, list[Enrollment]] = defaultdict(list)
    for enrollment in record.enrollments:
        by_practitioner[enrollment.billing_practitioner_id].append(enrollment)
    chronic = chronic_condition_count(record.conditions, month)
    patient = record.patient
    out = []
    for practitioner_id, group in sorted(by_practitioner.items()):
        programs = tuple(sorted({e.program for e in group}))
        consent: dict[str, date] = {}
        first_started: dict[str, date] = {}
        for enrollment in group:  # newest first within a program
            if enrollment.consent_on is not None and enrollment.program not in consent:
                consent[enrollment.program] = enrollment.consent_on
            first_started[enrollment.program] = enrollment.started_on
        seen = [v.visited_on for v in record.visits if v.practitioner_id == practitioner_id]
        patient_facts = PatientFacts(
            medicare_ffs=patient.coverage == Patient.Coverage.MEDICARE_FFS,
            established_patient=bool(seen),
            chronic_conditions=chronic,
            # Not recorded yet: PCM's single high-risk condition (engine: FACT_UNKNOWN).
            single_high_risk_condition=None,
            qmb=patient.qmb,
            seen_by_billing_practitioner_within_12_months=any(
                day >= month.last_on - INITIATING_WITHIN for day in seen
            ),
        )
        kept = [
            (entry, converted)
            for entry in record.entries
            if entry.program in programs and (converted := engine_entry(entry)) is not None
        ]
        entry_ids: dict[str, list[int]] = defaultdict(list)
        for entry, _ in kept:
            entry_ids[entry.program].append(entry.id)
        facts = MonthFacts(
            month_start_on=month.first_on,
            practice_timezone=month.timezone,
            billing_practitioner=group[0].billing_practitioner.get_username(),
            setting=setting,
            patient=patient_facts,
            programs=programs,
            consent_on=consent,
            comprehensive_care_plan=Kind.COMPREHENSIVE in record.plan_kinds,
            disease_specific_care_plan=Kind.DISEASE_SPECIFIC in record.plan_kinds,
            # RPM-16 interim: the set-up code belongs to the episode's first month; an enrollment
            # that started before this month is taken to have had its set-up billed.
            rpm_setup_already_billed=first_started.get("RPM", month.first_on) < month.first_on,
            rtm_setup_already_billed=first_started.get("RTM", month.first_on) < month.first_on,
            time_entries=tuple(converted for _, converted in kept),
            device_periods=tuple(p for p in record.device_periods if p.program in programs),
        )
        out.append(
            PractitionerMonth(
                patient_id=patient.pk,
                practitioner=group[0].billing_practitioner,
                facts=facts,
                notes=_unrecorded_facts(programs),
                entry_ids={k: tuple(v) for k, v in entry_ids.items()},
            )
        )
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
        for built, result in self.results:
            for program, summary in result.programs.items():
                out[program] = {**summary.as_dict(), "entry_ids": built.entry_ids.get(program, ())}
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


def evaluate_built(built: list[PractitionerMonth], month: LocalMonth, as_of: date) -> MonthView:
    """Run the engine over one patient's built facts."""
    results = tuple((b, evaluate_month(b.facts, as_of=as_of)) for b in built)
    return MonthView(month=month, as_of=as_of, results=results)


def evaluate_patient_month(
    *, patient: Patient, month: LocalMonth, as_of: date, setting: str | None = None
) -> MonthView:
    """Evaluate one stored patient-month with the same builder and engine as the close."""
    built = build_month_facts(
        practice=patient.practice, month=month, patient_ids=[patient.pk], as_of=as_of
    )
    return evaluate_built(built.get(patient.pk, []), month, as_of)

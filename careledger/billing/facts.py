"""Build the engine's MonthFacts from stored records: the one facts builder (STYLE 2).

The patient page, the dashboard, the pre-close worklist and the month close all call
``build_month_facts``: it reads a whole panel with a constant number of queries (no query per
patient), then assembles frozen ``careledger.rules`` values in plain Python. The program facts
(set-up events, other practitioners' claims, complex-CCM decision making, CoCM episodes, BHI
service elements, APCM attestations) come from ``careledger.programs``' bulk readers, each read
only when a patient of the panel is enrolled in a program that needs it. Where a fact a program
needs is not recorded, the builder adds a ``FACT_UNKNOWN`` note naming it instead of guessing
(the engine raises its own ``FACT_UNKNOWN`` for facts it receives as unknown).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.apps import apps
from django.db.models import BooleanField, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

from careledger.accounts.models import Practice, User
from careledger.careplans.models import Kind
from careledger.careplans.selectors import current_plan_kinds
from careledger.devices.selectors import device_periods_by_patient
from careledger.patients.models import Condition, Enrollment, Patient, Visit
from careledger.programs import selectors as program_facts
from careledger.rules import (
    ApcmRequirements,
    BhiServiceElements,
    ComplexCcm,
    DevicePeriod,
    Flag,
    MonthFacts,
    MonthResult,
    OtherClaim,
    PatientFacts,
    TimeEntry,
    evaluate_month,
)
from careledger.rules.schedules import rule_set_in_force
from careledger.timelog.models import UNREACHED_OUTCOMES, NotCountable
from careledger.timelog.models import TimeEntry as StoredEntry

from .months import LocalMonth

# P3: attempts that did not reach the patient reach the engine as kind "voicemail".
VOICEMAIL = "voicemail"
# A fact a program needs is not recorded (docs/billing-rules.md); the message names it.
FACT_UNKNOWN = "FACT_UNKNOWN"
# CCM-2: complex CCM (99487) starts at 60 clinical minutes; below that its decision making
# cannot change the code.
COMPLEX_CCM_FROM_SECONDS = 60 * 60
SETUP_CODES = {"RPM": "99453", "RTM": "98975"}
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
ENROLLMENT_FIELDS = (
    "id",
    "patient_id",
    "program",
    "started_on",
    "ended_on",
    "consent_on",
    "rtm_category",
    "billing_practitioner_id",
    "patient__coverage",
    "billing_practitioner__username",
    "qmb_then",
)


@dataclass
class _PatientRecords:
    patient_id: int
    coverage: str
    # Rows with ENROLLMENT_FIELDS, newest first within a program.
    enrollments: list[Any] = field(default_factory=list)
    entries: list[Any] = field(default_factory=list)
    conditions: list[Any] = field(default_factory=list)
    visits: list[Any] = field(default_factory=list)
    plan_kinds: frozenset[str] = frozenset()
    # Every device period up to the month's end: the set-up rule needs the episode's first.
    device_periods: tuple[DevicePeriod, ...] = ()
    other_claims: list[program_facts.ClaimRow] = field(default_factory=list)
    program_facts: program_facts.PatientMonthRow | None = None


@dataclass(frozen=True)
class _PanelFacts:
    """Practice-wide facts of the month."""

    month: LocalMonth
    setting: str
    attestations: dict[int | None, program_facts.AttestationRow]
    setup_min_days: int


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
        .annotate(qmb_then=qmb_as_of(month))
        .order_by("patient_id", "program", "-started_on", "-id")
    )
    if patient_ids is not None:
        enrollments = enrollments.filter(patient_id__in_ids=patient_ids)
    if coordinator_id is not None:
        enrollments = enrollments.filter(patient__coordinator_id=coordinator_id)
    records: dict[int, _PatientRecords] = {}
    # One User per billing practitioner, loaded with the same two fields ``only()`` loaded.
    practitioners: dict[int, User] = {}
    for enrollment in enrollments.values_list(*ENROLLMENT_FIELDS, named=True):
        record = records.get(enrollment.patient_id)
        if record is None:
            record = records[enrollment.patient_id] = _PatientRecords(
                enrollment.patient_id, enrollment.patient__coverage
            )
        if enrollment.billing_practitioner_id not in practitioners:
            practitioners[enrollment.billing_practitioner_id] = User.from_db(
                enrollments.db,
                ["id", "username"],
                [enrollment.billing_practitioner_id, enrollment.billing_practitioner__username],
            )
        record.enrollments.append(enrollment)
    if not records:
        return {}
    ids = list(records)
    for entry in (
        StoredEntry.objects.filter(
            patient_id__in_ids=ids,
            voided_at__isnull=True,
            started_at__lt=month.ends_at,
            ended_at__gt=month.starts_at,
        )
        .order_by("started_at", "id")
        .values_list(*ENTRY_FIELDS, named=True)
    ):
        records[entry.patient_id].entries.append(entry)
    # Ordered by the columns, not the models' Meta.ordering ("patient", ...): ordering by the
    # relation joins every patient of the database (a 100,000-row scan per panel on PostgreSQL).
    for condition in (
        Condition.objects.filter(patient_id__in_ids=ids)
        .order_by("patient_id", "id")
        .values_list(*CONDITION_FIELDS, named=True)
    ):
        records[condition.patient_id].conditions.append(condition)
    for visit in (
        Visit.objects.filter(
            patient_id__in_ids=ids,
            visited_on__lte=month.last_on,
            visited_on__gte=month.last_on - ESTABLISHED_WITHIN,
        )
        .order_by("patient_id", "-visited_on", "id")
        .values_list(*VISIT_FIELDS, named=True)
    ):
        records[visit.patient_id].visits.append(visit)
    # CCM-8, PCM-1: the care-plan fact is the plan's state at the end of the month's last day.
    plans = current_plan_kinds(practice=practice, patient_ids=ids, on=month.last_on)
    for pid, kinds in plans.items():
        records[pid].plan_kinds = kinds
    # RPM-4, P5: 30-day device periods with their automatic reading days, from the first one:
    # the set-up rule (RPM-16) needs the episode's first period; _assemble keeps the month's.
    periods = device_periods_by_patient(
        patient_ids=ids, month_start=date.min, month_end=month.last_on, as_of=as_of
    )
    for pid, found in periods.items():
        records[pid].device_periods = tuple(found)
    panel = _read_program_facts(practice, month, records)
    return {pid: _assemble(record, panel, practitioners) for pid, record in records.items()}


def _read_program_facts(
    practice: Practice, month: LocalMonth, records: dict[int, _PatientRecords]
) -> _PanelFacts:
    """Read the program facts of the panel."""
    # Three queries whatever the panel's size or mix of programs (the query count must not
    # depend on which programs the panel holds).
    ids = list(records)
    # RPM-5, CCM-6: claims by other practitioners matter to every program.
    for pid, claims in program_facts.other_claims_by_patient(patient_ids=ids, month=month).items():
        records[pid].other_claims = claims
    for pid, row in program_facts.patient_month_facts(patient_ids=ids, month=month).items():
        records[pid].program_facts = row
    attestations = program_facts.attestations_in_force(practice=practice, month=month)
    rule_set = rule_set_in_force(month.first_on)
    return _PanelFacts(
        month=month,
        setting=practice.setting,
        attestations=attestations,
        # RPM-16: the set-up code's day threshold is the rule set's setting.
        setup_min_days=rule_set.setup_min_days if rule_set is not None else 2,
    )


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


def qmb_as_of(month: LocalMonth) -> Coalesce:
    """Return the patient's QMB status at the month's end, for a query with ``patient_id``.

    APCM-1 (G0558) reads QMB as of the month: the last historical record before the month's
    end in the practice's zone; for a patient created after the month, the earliest record; for
    one without history (bulk-created), the current row. A subquery, so no query is added.
    """
    history = apps.get_model("patients", "HistoricalPatient").objects.filter(
        id=OuterRef("patient_id")
    )
    return Coalesce(
        Subquery(
            history.filter(history_date__lt=month.ends_at)
            .order_by("-history_date", "-history_id")
            .values("qmb")[:1]
        ),
        Subquery(history.order_by("history_date", "history_id").values("qmb")[:1]),
        F("patient__qmb"),
        output_field=BooleanField(),
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


def _assemble(
    record: _PatientRecords, panel: _PanelFacts, practitioners: dict[int, User]
) -> list[PractitionerMonth]:
    month = panel.month
    by_practitioner: dict[int, list[Any]] = defaultdict(list)
    for enrollment in record.enrollments:
        by_practitioner[enrollment.billing_practitioner_id].append(enrollment)
    chronic = chronic_condition_count(record.conditions, month)
    out = []
    for practitioner_id, group in sorted(by_practitioner.items()):
        programs = tuple(sorted({e.program for e in group}))
        consent: dict[str, date] = {}
        rtm_category: str | None = None
        for enrollment in group:  # newest first within a program
            if enrollment.consent_on is not None and enrollment.program not in consent:
                consent[enrollment.program] = enrollment.consent_on
            if enrollment.program == "RTM" and rtm_category is None:
                # RTM-1: blank is not recorded; the engine raises FACT_UNKNOWN for it.
                rtm_category = enrollment.rtm_category or None
        seen = [v.visited_on for v in record.visits if v.practitioner_id == practitioner_id]
        patient_facts = PatientFacts(
            medicare_ffs=record.coverage == Patient.Coverage.MEDICARE_FFS,
            established_patient=bool(seen),
            chronic_conditions=chronic,
            # Not recorded yet: PCM's single high-risk condition (engine: FACT_UNKNOWN).
            single_high_risk_condition=None,
            qmb=group[0].qmb_then,
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
        notes: list[Flag] = []
        setup_billed = {
            program: _setup_already_billed(record, program, panel, notes)
            for program in ("RPM", "RTM")
            if program in programs
        }
        complex_ccm = _complex_ccm(record, programs, kept, notes)
        stored = record.program_facts
        episode = stored.cocm_episode if stored is not None and "CoCM" in programs else None
        elements = (
            stored.bhi_elements if stored is not None and {"BHI", "APCM"} & set(programs) else None
        )
        facts = MonthFacts(
            month_start_on=month.first_on,
            practice_timezone=month.timezone,
            billing_practitioner=practitioners[practitioner_id].get_username(),
            setting=panel.setting,
            patient=patient_facts,
            programs=programs,
            consent_on=consent,
            comprehensive_care_plan=Kind.COMPREHENSIVE in record.plan_kinds,
            disease_specific_care_plan=Kind.DISEASE_SPECIFIC in record.plan_kinds,
            complex_ccm=complex_ccm,
            apcm_requirements=_apcm_requirements(record, programs, practitioner_id, panel),
            bhi_service_elements=(
                None
                if elements is None
                else BhiServiceElements(
                    validated_rating_scale=elements.validated_rating_scale,
                    bh_care_plan=elements.bh_care_plan,
                    treatment_coordination=elements.treatment_coordination,
                    continuity=elements.continuity,
                )
            ),
            # BHI-2: month 1 is the month the episode started; no episode = unknown.
            cocm_month_index=(
                None
                if episode is None
                else program_facts.cocm_month_index(episode.started_on, month)
            ),
            psychiatric_consultant=None if episode is None else episode.psychiatric_consultant,
            rpm_setup_already_billed=setup_billed.get("RPM", False),
            rtm_setup_already_billed=setup_billed.get("RTM", False),
            rtm_category=rtm_category,
            time_entries=tuple(converted for _, converted in kept),
            device_periods=tuple(
                p
                for p in record.device_periods
                if p.program in programs and p.overlaps(month.first_on, month.last_on)
            ),
            other_practitioner_claims=tuple(
                OtherClaim(c.practitioner, c.code, c.period_start_on, c.period_end_on)
                for c in record.other_claims
            ),
        )
        out.append(
            PractitionerMonth(
                patient_id=record.patient_id,
                practitioner=practitioners[practitioner_id],
                facts=facts,
                notes=tuple(notes),
                entry_ids={k: tuple(v) for k, v in entry_ids.items()},
            )
        )
    return out


def _setup_already_billed(
    record: _PatientRecords, program: str, panel: _PanelFacts, notes: list[Flag]
) -> bool:
    """Tell the engine whether the episode's set-up code has had its month (RPM-16, RTM-1).

    A set-up event opens an episode; 99453/98975 belongs to the episode's first device period
    that ends on or after the set-up day with the rule set's minimum reading days. It is
    "already billed" in any other month, and when no set-up was recorded at all.
    """
    month = panel.month
    periods = sorted(
        (p for p in record.device_periods if p.program == program),
        key=lambda p: (p.period_end_on, p.period_start_on),
    )
    opened_on = None if record.program_facts is None else record.program_facts.setup_on(program)
    if opened_on is None:
        first = periods[0] if periods else None
        if first is not None and month.first_on <= first.period_end_on <= month.last_on:
            # The patient's first device period ends now: set-up would bill, but nobody
            # recorded it.
            notes.append(
                Flag(
                    FACT_UNKNOWN,
                    program,
                    f"{program} set-up event is not recorded; {SETUP_CODES[program]} is not "
                    "billed until the set-up and education are recorded.",
                    "RPM-16",
                )
            )
        return True
    # The episode: the latest set-up by the month's end.
    first_billable = next(
        (
            p
            for p in periods
            if p.period_end_on >= opened_on and _reading_days(p) >= panel.setup_min_days
        ),
        None,
    )
    if first_billable is None:
        return True
    return not month.first_on <= first_billable.period_end_on <= month.last_on


def _reading_days(period: DevicePeriod) -> int:
    if period.reading_dates is not None:
        return len(period.reading_dates)
    return period.reading_day_count or 0


def _complex_ccm(
    record: _PatientRecords,
    programs: tuple[str, ...],
    kept: list[tuple[Any, TimeEntry]],
    notes: list[Flag],
) -> ComplexCcm | None:
    """Build CCM-2's complex facts: the recorded MDM and a plan established or revised.

    A comprehensive care-plan version published in the month is the plan established or
    substantially revised; so is the practitioner's own record of it.
    """
    if "CCM" not in programs:
        return None
    stored = record.program_facts
    mdm = None if stored is None else stored.mdm
    revised = (stored is not None and stored.plan_published) or (
        mdm is not None and mdm.care_plan_revised
    )
    if mdm is None:
        seconds = sum(
            converted.seconds
            for _, converted in kept
            if converted.program == "CCM" and converted.kind != VOICEMAIL
        )
        if seconds >= COMPLEX_CCM_FROM_SECONDS:
            # Only worth a person's look once complex CCM (99487) could apply.
            notes.append(
                Flag(
                    FACT_UNKNOWN,
                    "CCM",
                    "complex_ccm.mdm (the month's medical decision making) is not recorded; "
                    "complex CCM (99487) needs moderate or high MDM, so the non-complex family "
                    "is billed.",
                    "CCM-2",
                )
            )
        return ComplexCcm(mdm=None, care_plan_established_or_substantially_revised=revised)
    return ComplexCcm(mdm=mdm.mdm, care_plan_established_or_substantially_revised=revised)


def _apcm_requirements(
    record: _PatientRecords, programs: tuple[str, ...], practitioner_id: int, panel: _PanelFacts
) -> ApcmRequirements | None:
    """Build APCM-2's requirements from the attestation in force on the month's last day."""
    if "APCM" not in programs:
        return None
    attestation = program_facts.attestation_for(panel.attestations, practitioner_id)
    if attestation is None:
        return None  # the engine: APCM_REQUIREMENTS_NOT_MET, naming every requirement
    return ApcmRequirements(
        access_24_7=attestation.access_24_7,
        continuity=attestation.continuity,
        care_plan=Kind.COMPREHENSIVE in record.plan_kinds,
        responsible_for_primary_care=attestation.responsible_for_primary_care,
    )


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

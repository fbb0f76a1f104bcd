"""Write patients, conditions, visits and enrollments; each write leaves one audit event."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, User
from careledger.accounts.roles import RuleClass
from careledger.audit.services import record_event
from careledger.lib.identifiers import icd10_description, normalize_icd10, normalize_mbi
from careledger.lib.localtime import local_today
from careledger.patients.models import (
    DEVICE_PROGRAMS,
    Condition,
    Enrollment,
    Patient,
    Program,
    RtmCategory,
    Visit,
)

PATIENT_FIELDS = (
    "mrn",
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "address_line",
    "city",
    "state",
    "postal_code",
    "phone",
    "mbi",
    "coverage",
    "qmb",
)


def field_error(field: str, message: str) -> ValidationError:
    """Build a validation error that names its field."""
    return ValidationError({field: [message]})


def _clean(instance: Any, exclude: list[str] | None = None) -> None:
    # Model validators (NPI, MBI, ICD-10-CM, choices) run here; constraints are checked by the
    # services themselves so their messages name the field in words a user understands.
    instance.full_clean(exclude=exclude, validate_constraints=False)


def build_patient(*, ctx: PracticeContext, data: dict[str, Any], now: datetime) -> Patient:
    """Validate patient data for the caller's practice without saving it."""
    unknown = set(data) - set(PATIENT_FIELDS) - {"coordinator"}
    if unknown:
        raise field_error(sorted(unknown)[0], "This field is not accepted.")
    values = {k: v for k, v in data.items() if k in PATIENT_FIELDS}
    if values.get("mbi"):
        values["mbi"] = normalize_mbi(values["mbi"])
    if isinstance(values.get("state"), str):
        values["state"] = values["state"].upper()
    patient = Patient(practice=ctx.practice, created_at=now, **values)
    coordinator = data.get("coordinator")
    if coordinator is not None:
        patient.coordinator = _member_user(ctx, coordinator, "coordinator")
    _clean(patient, exclude=["practice", "coordinator"])
    if patient.birth_date and patient.birth_date > local_today(ctx.practice, now):
        raise field_error("birth_date", "The date of birth is in the future.")
    if Patient.objects.filter(practice=ctx.practice, mrn=patient.mrn).exists():
        raise field_error(
            "mrn", f"MRN {patient.mrn} is already used by a patient of this practice."
        )
    return patient


def create_patient(*, ctx: PracticeContext, data: dict[str, Any], now: datetime) -> Patient:
    """Create a patient in the caller's practice."""
    patient = build_patient(ctx=ctx, data=data, now=now)
    with transaction.atomic():
        try:
            with transaction.atomic():
                patient.save()
        except IntegrityError:
            raise field_error(
                "mrn", f"MRN {patient.mrn} is already used by a patient of this practice."
            ) from None
        record_event(
            "patient.created",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=patient.pk,
            obj=patient,
            source_ip=ctx.source_ip,
            now=now,
        )
    return patient


def _membership_of(ctx: PracticeContext, user: User | int, field: str) -> Membership:
    user_id = user.pk if isinstance(user, User) else user
    membership = (
        Membership.objects.filter(practice=ctx.practice, user_id=user_id, is_active=True)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise field_error(field, "This person is not a member of the practice.")
    return membership


def _member_user(ctx: PracticeContext, user: User | int, field: str) -> User:
    return _membership_of(ctx, user, field).user


def _billing_member(ctx: PracticeContext, user: User | int, field: str) -> Membership:
    membership = _membership_of(ctx, user, field)
    if membership.rule_class != RuleClass.PHYSICIAN_QHP or not membership.npi:
        raise field_error(
            field, "A billing practitioner must be a physician or QHP with an individual NPI."
        )
    return membership


def add_condition(
    *,
    ctx: PracticeContext,
    patient: Patient,
    icd10_code: str,
    now: datetime,
    chronic: bool = True,
    onset_on: date | None = None,
    description: str = "",
) -> Condition:
    """Add a diagnosis to the patient's problem list."""
    code = normalize_icd10(icd10_code)
    condition = Condition(
        patient=patient,
        icd10_code=code,
        chronic=chronic,
        onset_on=onset_on,
        description=description,
        created_at=now,
    )
    _clean(condition, exclude=["patient", "description"])
    if not condition.description:
        condition.description = icd10_description(code)[:255]
    if onset_on and onset_on > local_today(ctx.practice, now):
        raise field_error("onset_on", "The onset date is in the future.")
    with transaction.atomic():
        condition.save()
        record_event(
            "condition.added",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=patient.pk,
            obj=condition,
            source_ip=ctx.source_ip,
            details={"icd10_code": code},
            now=now,
        )
    return condition


def record_visit(
    *,
    ctx: PracticeContext,
    patient: Patient,
    practitioner: User | int,
    visited_on: date,
    kind: str,
    now: datetime,
    em_level: int | None = None,
) -> Visit:
    """Record a face-to-face visit with a practitioner of the practice."""
    member = _billing_member(ctx, practitioner, "practitioner")
    visit = Visit(
        patient=patient,
        practitioner=member.user,
        visited_on=visited_on,
        kind=kind,
        em_level=em_level,
        created_at=now,
    )
    _clean(visit, exclude=["patient", "practitioner"])
    if visited_on > local_today(ctx.practice, now):
        raise field_error("visited_on", "A visit cannot be recorded before it happens.")
    if kind == Visit.Kind.EM and em_level not in (1, 2, 3, 4, 5):
        raise field_error("em_level", "An E/M visit needs its level, 1 to 5.")
    with transaction.atomic():
        visit.save()
        record_event(
            "visit.recorded",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=patient.pk,
            obj=visit,
            source_ip=ctx.source_ip,
            details={"kind": kind, "visited_on": visited_on.isoformat()},
            now=now,
        )
    return visit


@dataclass(frozen=True)
class Consent:
    """What was documented when the patient agreed (CCM-6, BHI-1, RPM-11)."""

    consent_on: date
    method: str
    obtained_by: User | int | None = None
    told_cost_sharing: bool = False
    told_one_practitioner: bool = False
    told_right_to_stop: bool = False
    told_specialist_consultation: bool = False


@dataclass(frozen=True)
class Order:
    """An RPM/RTM order: when, by whom, for which indication."""

    ordered_on: date
    ordering_practitioner: User | int
    indication: str


def _apply_consent(
    ctx: PracticeContext, enrollment: Enrollment, consent: Consent, now: datetime
) -> None:
    if consent.method not in Enrollment.ConsentMethod.values:
        raise field_error("consent_method", "Choose verbal, written or electronic.")
    if consent.consent_on > local_today(ctx.practice, now):
        raise field_error("consent_on", "Consent cannot be dated in the future.")
    missing = [
        name
        for name, told in (
            ("told_cost_sharing", consent.told_cost_sharing),
            ("told_one_practitioner", consent.told_one_practitioner),
            ("told_right_to_stop", consent.told_right_to_stop),
        )
        if not told
    ]
    if missing:
        # CCM-6: the patient must be told about cost sharing, one practitioner a month and the
        # right to stop; consent without them is not documented consent.
        raise field_error(missing[0], "Record that the patient was told this before consenting.")
    if (
        enrollment.program in (Program.BHI, Program.COCM)
        and not consent.told_specialist_consultation
    ):
        # BHI-1: consent covers permission to consult specialists.
        raise field_error(
            "told_specialist_consultation",
            "Behavioral-health consent must cover consultation with specialists.",
        )
    obtained_by = consent.obtained_by if consent.obtained_by is not None else ctx.user
    enrollment.consent_obtained_by = _member_user(ctx, obtained_by, "consent_obtained_by")
    enrollment.consent_on = consent.consent_on
    enrollment.consent_method = consent.method
    enrollment.told_cost_sharing = consent.told_cost_sharing
    enrollment.told_one_practitioner = consent.told_one_practitioner
    enrollment.told_right_to_stop = consent.told_right_to_stop
    enrollment.told_specialist_consultation = consent.told_specialist_consultation
    enrollment.status = Enrollment.Status.ACTIVE


def _already_enrolled(patient: Patient, program: str) -> ValidationError:
    return field_error(
        "program", f"The patient already has an open {program} enrollment; end it first."
    )


def enroll(
    *,
    ctx: PracticeContext,
    patient: Patient,
    program: str,
    billing_practitioner: User | int,
    started_on: date,
    now: datetime,
    consent: Consent | None = None,
    order: Order | None = None,
    rtm_category: str = "",
) -> Enrollment:
    """Enroll a patient in a program; with consent the enrollment is active, else pending."""
    if program not in Program.values:
        raise field_error("program", f"{program!r} is not a program: {', '.join(Program.values)}.")
    if rtm_category and program != Program.RTM:
        raise field_error("rtm_category", "Only RTM enrollments carry an RTM category.")
    if rtm_category and rtm_category not in RtmCategory.values:
        raise field_error(
            "rtm_category", f"Choose one of: {', '.join(RtmCategory.values)} (RTM-1)."
        )
    member = _billing_member(ctx, billing_practitioner, "billing_practitioner")
    enrollment = Enrollment(
        patient=patient,
        program=program,
        billing_practitioner=member.user,
        started_on=started_on,
        rtm_category=rtm_category,
        created_at=now,
    )
    if order is not None:
        if program not in DEVICE_PROGRAMS:
            raise field_error("ordered_on", "Only RPM and RTM enrollments carry an order.")
        enrollment.ordered_on = order.ordered_on
        enrollment.ordering_practitioner = _billing_member(
            ctx, order.ordering_practitioner, "ordering_practitioner"
        ).user
        enrollment.order_indication = normalize_icd10(order.indication)
    if consent is not None:
        _apply_consent(ctx, enrollment, consent, now)
    _clean(
        enrollment,
        exclude=[
            "patient",
            "billing_practitioner",
            "ordering_practitioner",
            "consent_obtained_by",
            "consent_method",
        ],
    )
    open_statuses = (Enrollment.Status.PENDING, Enrollment.Status.ACTIVE)
    if Enrollment.objects.filter(
        patient=patient, program=program, status__in=open_statuses
    ).exists():
        raise _already_enrolled(patient, program)
    with transaction.atomic():
        try:
            with transaction.atomic():
                enrollment.save()
        except IntegrityError:
            raise _already_enrolled(patient, program) from None
        record_event(
            "enrollment.created",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=patient.pk,
            obj=enrollment,
            source_ip=ctx.source_ip,
            details={"program": program, "status": enrollment.status},
            now=now,
        )
    return enrollment


def record_consent(
    *, ctx: PracticeContext, enrollment: Enrollment, consent: Consent, now: datetime
) -> Enrollment:
    """Record consent on a pending enrollment, which makes it active."""
    if enrollment.status != Enrollment.Status.PENDING:
        raise field_error(
            "consent_on", "Consent can be recorded only on an enrollment awaiting it."
        )
    _apply_consent(ctx, enrollment, consent, now)
    with transaction.atomic():
        enrollment.save()
        record_event(
            "enrollment.consent_recorded",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=enrollment.patient_id,
            obj=enrollment,
            source_ip=ctx.source_ip,
            details={"program": enrollment.program, "method": consent.method},
            now=now,
        )
    return enrollment


def end_enrollment(
    *, ctx: PracticeContext, enrollment: Enrollment, ended_on: date, reason: str, now: datetime
) -> Enrollment:
    """End an enrollment with its reason (CCM-6: effective at the end of the month)."""
    if enrollment.status == Enrollment.Status.ENDED:
        raise field_error("ended_on", "This enrollment has already ended.")
    if not reason.strip():
        raise field_error("end_reason", "Say why the enrollment ends.")
    if ended_on < enrollment.started_on:
        raise field_error("ended_on", "An enrollment cannot end before it starts.")
    enrollment.status = Enrollment.Status.ENDED
    enrollment.ended_on = ended_on
    enrollment.end_reason = reason.strip()[:200]
    with transaction.atomic():
        enrollment.save()
        record_event(
            "enrollment.ended",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=enrollment.patient_id,
            obj=enrollment,
            source_ip=ctx.source_ip,
            details={"program": enrollment.program, "ended_on": ended_on.isoformat()},
            now=now,
        )
    return enrollment

"""Write program facts; each write stores its row and one audit event in one transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import transaction

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, User
from careledger.accounts.roles import RuleClass
from careledger.audit.services import record_event
from careledger.devices.models import Device
from careledger.lib.identifiers import npi_problem
from careledger.lib.localtime import local_today
from careledger.patients.models import Enrollment, Patient, Program, RtmCategory
from careledger.programs.models import (
    SCORE_RANGES,
    ApcmAttestation,
    BhiElementsRecord,
    CocmEpisode,
    ComplexCcmRecord,
    DeviceProgram,
    Instrument,
    MdmLevel,
    OtherClaim,
    RatingScale,
    SetupEvent,
)

# HCPCS Level I (five digits, or four and a letter) and Level II (a letter and four digits).
IMPORTED = "other_claim.imported"
_CODE_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def field_error(field: str, message: str) -> ValidationError:
    """Build a validation error that names its field."""
    return ValidationError({field: [message]})


def _not_future(ctx: PracticeContext, day: date, field: str, now: datetime) -> None:
    if day > local_today(ctx.practice, now):
        raise field_error(field, "This date is in the future.")


def _member(ctx: PracticeContext, user: User | int, field: str) -> Membership:
    user_id = user.pk if isinstance(user, User) else user
    membership = (
        Membership.objects.filter(practice=ctx.practice, user_id=user_id, is_active=True)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise field_error(field, "This person is not a member of the practice.")
    return membership


def _require_patient(ctx: PracticeContext, patient: Patient) -> None:
    # Views and the API load patients through patient_for; this guards every other caller.
    if patient.practice_id != ctx.practice.pk:
        raise field_error("patient_id", "No such patient in this practice.")


def month_start(day: date) -> date:
    """Return the first day of ``day``'s month."""
    return day.replace(day=1)


def _audit(
    ctx: PracticeContext,
    event: str,
    *,
    patient_id: int | None,
    obj: object,
    details: dict[str, object],
    now: datetime,
) -> None:
    record_event(
        event,
        actor=ctx.user,
        practice=ctx.practice,
        patient_id=patient_id,
        obj=obj,  # type: ignore[arg-type]
        source_ip=ctx.source_ip,
        details=details,
        now=now,
    )


def record_setup(
    *,
    ctx: PracticeContext,
    patient: Patient,
    program: str,
    performed_on: date,
    now: datetime,
    performed_by: User | int | None = None,
    device: Device | int | None = None,
    note: str = "",
) -> SetupEvent:
    """Record RPM/RTM set-up and education: it opens an episode (99453/98975 once, RPM-16)."""
    _require_patient(ctx, patient)
    if program not in DeviceProgram.values:
        raise field_error("program", "Set-up is recorded for RPM or RTM only.")
    _not_future(ctx, performed_on, "performed_on", now)
    who = _member(ctx, performed_by if performed_by is not None else ctx.user, "performed_by")
    found: Device | None = None
    if device is not None:
        device_id = device.pk if isinstance(device, Device) else device
        found = Device.objects.filter(pk=device_id, patient=patient).first()
        if found is None:
            raise field_error("device_id", "No such device assigned to this patient.")
        if found.program != program:
            raise field_error("device_id", f"This device is assigned for {found.program}.")
    event = SetupEvent(
        patient=patient,
        program=program,
        performed_on=performed_on,
        performed_by=who.user,
        device=found,
        note=note.strip()[:400],
        created_by=ctx.user,
        created_at=now,
    )
    with transaction.atomic():
        event.save()
        _audit(
            ctx,
            "setup.recorded",
            patient_id=patient.pk,
            obj=event,
            details={"program": program, "performed_on": performed_on.isoformat()},
            now=now,
        )
    return event


@dataclass(frozen=True)
class ClaimData:
    """Another practitioner's claim as entered or imported."""

    practitioner: str
    code: str
    period_start_on: date
    period_end_on: date
    practitioner_npi: str = ""


def check_claim(data: ClaimData) -> ClaimData:
    """Validate and normalise a claim; raise a ValidationError naming the field."""
    practitioner = data.practitioner.strip()
    if not practitioner:
        raise field_error("practitioner", "Name the practitioner who made the claim.")
    code = data.code.strip().upper()
    if len(code) != 5 or not set(code) <= _CODE_CHARS:
        raise field_error("code", f"{data.code!r} is not a CPT or HCPCS code (five characters).")
    npi = data.practitioner_npi.strip()
    if npi and (problem := npi_problem(npi)):
        raise field_error("practitioner_npi", problem)
    if data.period_end_on < data.period_start_on:
        raise field_error("period_end_on", "The period cannot end before it starts.")
    return ClaimData(practitioner[:200], code, data.period_start_on, data.period_end_on, npi)


def record_other_claim(
    *,
    ctx: PracticeContext,
    patient: Patient,
    data: ClaimData,
    now: datetime,
    source: str = OtherClaim.Source.ENTRY,
) -> OtherClaim:
    """Record a claim another practitioner made for this patient (RPM-5, CCM-6)."""
    _require_patient(ctx, patient)
    clean = check_claim(data)
    claim = OtherClaim(
        patient=patient,
        practitioner=clean.practitioner,
        practitioner_npi=clean.practitioner_npi,
        code=clean.code,
        period_start_on=clean.period_start_on,
        period_end_on=clean.period_end_on,
        source=source,
        created_by=ctx.user,
        created_at=now,
    )
    with transaction.atomic():
        claim.save()
        _audit(
            ctx,
            IMPORTED if source == OtherClaim.Source.IMPORT else "other_claim.recorded",
            patient_id=patient.pk,
            obj=claim,
            details={
                "code": clean.code,
                "period_start_on": clean.period_start_on.isoformat(),
                "period_end_on": clean.period_end_on.isoformat(),
            },
            now=now,
        )
    return claim


def record_complex_ccm(
    *,
    ctx: PracticeContext,
    patient: Patient,
    month_start_on: date,
    mdm: str,
    now: datetime,
    care_plan_revised: bool = False,
) -> ComplexCcmRecord:
    """Record the month's medical decision making (CCM-2); a second record replaces the first."""
    _require_patient(ctx, patient)
    if ctx.membership.rule_class != RuleClass.PHYSICIAN_QHP:
        raise field_error("mdm", "Only a physician or QHP records medical decision making.")
    if mdm not in MdmLevel.values:
        raise field_error("mdm", f"Choose one of: {', '.join(MdmLevel.values)}.")
    month = month_start(month_start_on)
    _not_future(ctx, month, "month", now)
    with transaction.atomic():
        record = (
            ComplexCcmRecord.objects.select_for_update()
            .filter(patient=patient, month_start_on=month)
            .first()
        )
        before = (
            None if record is None else {"mdm": record.mdm, "revised": record.care_plan_revised}
        )
        if record is None:
            record = ComplexCcmRecord(patient=patient, month_start_on=month)
        record.mdm = mdm
        record.care_plan_revised = care_plan_revised
        record.recorded_by = ctx.user
        record.recorded_at = now
        record.save()
        _audit(
            ctx,
            "mdm.recorded",
            patient_id=patient.pk,
            obj=record,
            details={
                "month": f"{month:%Y-%m}",
                "mdm": mdm,
                "care_plan_revised": care_plan_revised,
                "previous": before,
            },
            now=now,
        )
    return record


def start_cocm_episode(
    *,
    ctx: PracticeContext,
    patient: Patient,
    started_on: date,
    psychiatric_consultant: str,
    now: datetime,
    psychiatric_consultant_npi: str = "",
) -> CocmEpisode:
    """Start a collaborative-care episode; its first month is month 1 (BHI-2)."""
    _require_patient(ctx, patient)
    consultant = psychiatric_consultant.strip()
    if not consultant:
        raise field_error("psychiatric_consultant", "Name the psychiatric consultant (BHI-2).")
    npi = psychiatric_consultant_npi.strip()
    if npi and (problem := npi_problem(npi)):
        raise field_error("psychiatric_consultant_npi", problem)
    _not_future(ctx, started_on, "started_on", now)
    with transaction.atomic():
        # One episode at a time: a new one must start after the last one ended.
        latest = (
            CocmEpisode.objects.select_for_update()
            .filter(patient=patient)
            .order_by("-started_on", "-id")
            .first()
        )
        if latest is not None and (latest.ended_on is None or latest.ended_on >= started_on):
            raise field_error(
                "started_on", "The patient has a CoCM episode open then; end it first."
            )
        episode = CocmEpisode.objects.create(
            patient=patient,
            started_on=started_on,
            psychiatric_consultant=consultant[:200],
            psychiatric_consultant_npi=npi,
            created_by=ctx.user,
            created_at=now,
        )
        _audit(
            ctx,
            "cocm_episode.started",
            patient_id=patient.pk,
            obj=episode,
            details={"started_on": started_on.isoformat(), "consultant": consultant[:200]},
            now=now,
        )
    return episode


def end_cocm_episode(
    *, ctx: PracticeContext, episode: CocmEpisode, ended_on: date, now: datetime
) -> CocmEpisode:
    """End a collaborative-care episode."""
    _require_patient(ctx, episode.patient)
    if episode.ended_on is not None:
        raise field_error("ended_on", "This episode has already ended.")
    if ended_on < episode.started_on:
        raise field_error("ended_on", "An episode cannot end before it starts.")
    episode.ended_on = ended_on
    with transaction.atomic():
        episode.save(update_fields=["ended_on"])
        _audit(
            ctx,
            "cocm_episode.ended",
            patient_id=episode.patient_id,
            obj=episode,
            details={"ended_on": ended_on.isoformat()},
            now=now,
        )
    return episode


def record_rating_scale(
    *,
    ctx: PracticeContext,
    patient: Patient,
    instrument: str,
    administered_on: date,
    score: int,
    now: datetime,
) -> RatingScale:
    """Record a PHQ-9 or GAD-7 with its date and score."""
    _require_patient(ctx, patient)
    if instrument not in Instrument.values:
        raise field_error("instrument", f"Choose one of: {', '.join(Instrument.values)}.")
    low, high = SCORE_RANGES[instrument]
    if not low <= score <= high:
        raise field_error("score", f"A {instrument} score is {low} to {high}.")
    _not_future(ctx, administered_on, "administered_on", now)
    scale = RatingScale(
        patient=patient,
        instrument=instrument,
        administered_on=administered_on,
        score=score,
        recorded_by=ctx.user,
        recorded_at=now,
    )
    with transaction.atomic():
        scale.save()
        _audit(
            ctx,
            "rating_scale.recorded",
            patient_id=patient.pk,
            obj=scale,
            details={
                "instrument": instrument,
                "administered_on": administered_on.isoformat(),
                "score": score,
            },
            now=now,
        )
    return scale


@dataclass(frozen=True)
class BhiElements:
    validated_rating_scale: bool = False
    bh_care_plan: bool = False
    treatment_coordination: bool = False
    continuity: bool = False


def record_bhi_elements(
    *,
    ctx: PracticeContext,
    patient: Patient,
    month_start_on: date,
    elements: BhiElements,
    now: datetime,
) -> BhiElementsRecord:
    """Record the month's general-BHI service elements (P10); a second record replaces it."""
    _require_patient(ctx, patient)
    month = month_start(month_start_on)
    _not_future(ctx, month, "month", now)
    with transaction.atomic():
        record = (
            BhiElementsRecord.objects.select_for_update()
            .filter(patient=patient, month_start_on=month)
            .first()
        ) or BhiElementsRecord(patient=patient, month_start_on=month)
        record.validated_rating_scale = elements.validated_rating_scale
        record.bh_care_plan = elements.bh_care_plan
        record.treatment_coordination = elements.treatment_coordination
        record.continuity = elements.continuity
        record.recorded_by = ctx.user
        record.recorded_at = now
        record.save()
        _audit(
            ctx,
            "bhi_elements.recorded",
            patient_id=patient.pk,
            obj=record,
            details={"month": f"{month:%Y-%m}", **elements.__dict__},
            now=now,
        )
    return record


def record_apcm_attestation(
    *,
    ctx: PracticeContext,
    effective_on: date,
    now: datetime,
    practitioner: User | int | None = None,
    access_24_7: bool = False,
    continuity: bool = False,
    responsible_for_primary_care: bool = False,
) -> ApcmAttestation:
    """Record a dated APCM attestation (APCM-2) for the practice or one of its practitioners."""
    who: User | None = None
    if practitioner is not None:
        member = _member(ctx, practitioner, "practitioner_id")
        if member.rule_class != RuleClass.PHYSICIAN_QHP:
            raise field_error("practitioner_id", "APCM is billed by a physician or QHP.")
        who = member.user
    attestation = ApcmAttestation(
        practice=ctx.practice,
        practitioner=who,
        effective_on=effective_on,
        access_24_7=access_24_7,
        continuity=continuity,
        responsible_for_primary_care=responsible_for_primary_care,
        attested_by=ctx.user,
        attested_at=now,
    )
    with transaction.atomic():
        attestation.save()
        _audit(
            ctx,
            "apcm_attestation.recorded",
            patient_id=None,
            obj=attestation,
            details={
                "effective_on": effective_on.isoformat(),
                "practitioner": who.get_username() if who else None,
                "access_24_7": access_24_7,
                "continuity": continuity,
                "responsible_for_primary_care": responsible_for_primary_care,
            },
            now=now,
        )
    return attestation


def set_rtm_category(
    *, ctx: PracticeContext, enrollment: Enrollment, category: str, now: datetime
) -> Enrollment:
    """Set the RTM category on an RTM enrollment (RTM-1: it picks the device-supply code)."""
    _require_patient(ctx, enrollment.patient)
    if enrollment.program != Program.RTM:
        raise field_error("rtm_category", "Only RTM enrollments carry an RTM category.")
    if category not in RtmCategory.values:
        raise field_error("rtm_category", f"Choose one of: {', '.join(RtmCategory.values)}.")
    before = enrollment.rtm_category
    enrollment.rtm_category = category
    with transaction.atomic():
        enrollment.save(update_fields=["rtm_category"])
        _audit(
            ctx,
            "rtm_category.set",
            patient_id=enrollment.patient_id,
            obj=enrollment,
            details={"category": category, "previous": before},
            now=now,
        )
    return enrollment

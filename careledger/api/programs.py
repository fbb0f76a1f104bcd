"""Program facts: set-up events, other practitioners' claims, complex-CCM decision making, CoCM
episodes, rating scales, general-BHI service elements, APCM attestations and RTM categories."""

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from pydantic import Field

from careledger.accounts.access import ctx_of
from careledger.api.auth import api_permission
from careledger.api.patients import ERRORS
from careledger.billing.months import parse_month
from careledger.patients.access import patient_for
from careledger.patients.models import Enrollment, RtmCategory
from careledger.programs import selectors, services
from careledger.programs.models import (
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

router = Router(tags=["program facts"])


def _month_start(ctx: Any, month: str) -> date:
    try:
        return parse_month(month, ctx.practice.timezone).first_on
    except ValueError as exc:
        raise ValidationError({"month": [str(exc)]}) from None


class SetupIn(Schema):
    program: DeviceProgram
    performed_on: date
    performed_by_id: int | None = None
    device_id: int | None = None
    note: str = Field("", max_length=400)


class SetupOut(Schema):
    id: int
    patient_id: int
    program: str
    performed_on: date
    performed_by: str
    device_id: int | None
    note: str

    @staticmethod
    def resolve_performed_by(obj: SetupEvent) -> str:
        return obj.performed_by.get_username()


class SetupList(Schema):
    items: list[SetupOut]
    count: int


@router.get("/patients/{patient_id}/setup-events", response={200: SetupList, **ERRORS})
@api_permission("facts.view")
def list_setup_events(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """List the patient's RPM/RTM set-up events; each opens an episode (RPM-16)."""
    patient = patient_for(ctx_of(request), patient_id)
    items = list(selectors.setup_events_of(patient))
    return {"items": items, "count": len(items)}


@router.post("/patients/{patient_id}/setup-events", response={201: SetupOut, **ERRORS})
@api_permission("care_facts.edit")
def create_setup_event(request: HttpRequest, patient_id: int, payload: SetupIn) -> Status[Any]:
    """Record set-up and patient education (99453/98975 once per episode)."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    event = services.record_setup(
        ctx=ctx,
        patient=patient,
        program=payload.program,
        performed_on=payload.performed_on,
        performed_by=payload.performed_by_id,
        device=payload.device_id,
        note=payload.note,
        now=timezone.now(),
    )
    return Status(201, event)


class ClaimIn(Schema):
    practitioner: str = Field(min_length=1, max_length=200)
    practitioner_npi: str = Field("", max_length=10)
    code: str = Field(max_length=5)
    period_start_on: date
    period_end_on: date


class ClaimOut(Schema):
    id: int
    patient_id: int
    practitioner: str
    practitioner_npi: str
    code: str
    period_start_on: date
    period_end_on: date
    source: str


class ClaimList(Schema):
    items: list[ClaimOut]
    count: int


@router.get("/patients/{patient_id}/other-claims", response={200: ClaimList, **ERRORS})
@api_permission("facts.view")
def list_other_claims(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """List claims other practitioners made for the patient (RPM-5, CCM-6)."""
    patient = patient_for(ctx_of(request), patient_id)
    items = list(selectors.other_claims_of(patient))
    return {"items": items, "count": len(items)}


@router.post("/patients/{patient_id}/other-claims", response={201: ClaimOut, **ERRORS})
@api_permission("facts.edit")
def create_other_claim(request: HttpRequest, patient_id: int, payload: ClaimIn) -> Status[Any]:
    """Record another practitioner's claim for the patient."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    claim: OtherClaim = services.record_other_claim(
        ctx=ctx,
        patient=patient,
        data=services.ClaimData(
            practitioner=payload.practitioner,
            code=payload.code,
            period_start_on=payload.period_start_on,
            period_end_on=payload.period_end_on,
            practitioner_npi=payload.practitioner_npi,
        ),
        now=timezone.now(),
    )
    return Status(201, claim)


class ComplexCcmIn(Schema):
    mdm: MdmLevel
    care_plan_revised: bool = Field(
        False, description="established or substantially revised outside careledger"
    )


class ComplexCcmOut(Schema):
    id: int
    patient_id: int
    month: str
    mdm: str
    care_plan_revised: bool
    recorded_by: str
    recorded_at: datetime

    @staticmethod
    def resolve_month(obj: ComplexCcmRecord) -> str:
        return f"{obj.month_start_on:%Y-%m}"

    @staticmethod
    def resolve_recorded_by(obj: ComplexCcmRecord) -> str:
        return obj.recorded_by.get_username()


class ComplexCcmList(Schema):
    items: list[ComplexCcmOut]
    count: int


@router.get("/patients/{patient_id}/complex-ccm", response={200: ComplexCcmList, **ERRORS})
@api_permission("facts.view")
def list_complex_ccm(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """List the patient's monthly medical decision making (CCM-2)."""
    patient = patient_for(ctx_of(request), patient_id)
    items = list(selectors.complex_ccm_of(patient))
    return {"items": items, "count": len(items)}


@router.put("/patients/{patient_id}/complex-ccm/{month}", response={200: ComplexCcmOut, **ERRORS})
@api_permission("mdm.record")
def record_complex_ccm(
    request: HttpRequest, patient_id: int, month: str, payload: ComplexCcmIn
) -> ComplexCcmRecord:
    """Record the month's MDM (`YYYY-MM`); a second call replaces the first."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    return services.record_complex_ccm(
        ctx=ctx,
        patient=patient,
        month_start_on=_month_start(ctx, month),
        mdm=payload.mdm,
        care_plan_revised=payload.care_plan_revised,
        now=timezone.now(),
    )


class EpisodeIn(Schema):
    started_on: date
    psychiatric_consultant: str = Field(min_length=1, max_length=200)
    psychiatric_consultant_npi: str = Field("", max_length=10)


class EpisodeEndIn(Schema):
    ended_on: date


class EpisodeOut(Schema):
    id: int
    patient_id: int
    started_on: date
    ended_on: date | None
    psychiatric_consultant: str
    psychiatric_consultant_npi: str


class EpisodeList(Schema):
    items: list[EpisodeOut]
    count: int


@router.get("/patients/{patient_id}/cocm-episodes", response={200: EpisodeList, **ERRORS})
@api_permission("facts.view")
def list_cocm_episodes(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """List the patient's collaborative-care episodes (BHI-2)."""
    patient = patient_for(ctx_of(request), patient_id)
    items = list(selectors.cocm_episodes_of(patient))
    return {"items": items, "count": len(items)}


@router.post("/patients/{patient_id}/cocm-episodes", response={201: EpisodeOut, **ERRORS})
@api_permission("care_facts.edit")
def start_cocm_episode(request: HttpRequest, patient_id: int, payload: EpisodeIn) -> Status[Any]:
    """Start a CoCM episode; its first month is month 1 (99492), later months 99493."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    episode = services.start_cocm_episode(
        ctx=ctx,
        patient=patient,
        started_on=payload.started_on,
        psychiatric_consultant=payload.psychiatric_consultant,
        psychiatric_consultant_npi=payload.psychiatric_consultant_npi,
        now=timezone.now(),
    )
    return Status(201, episode)


@router.post(
    "/patients/{patient_id}/cocm-episodes/{episode_id}/end",
    response={200: EpisodeOut, **ERRORS},
)
@api_permission("care_facts.edit")
def end_cocm_episode(
    request: HttpRequest, patient_id: int, episode_id: int, payload: EpisodeEndIn
) -> CocmEpisode:
    """End a CoCM episode."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    episode = selectors.cocm_episodes_of(patient).filter(pk=episode_id).first()
    if episode is None:
        raise Http404("No such episode.")
    return services.end_cocm_episode(
        ctx=ctx, episode=episode, ended_on=payload.ended_on, now=timezone.now()
    )


class ScaleIn(Schema):
    instrument: Instrument
    administered_on: date
    score: int = Field(ge=0)


class ScaleOut(Schema):
    id: int
    patient_id: int
    instrument: str
    administered_on: date
    score: int


class ScaleList(Schema):
    items: list[ScaleOut]
    count: int


@router.get("/patients/{patient_id}/rating-scales", response={200: ScaleList, **ERRORS})
@api_permission("facts.view")
def list_rating_scales(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """List the patient's PHQ-9 and GAD-7 scores, newest first."""
    patient = patient_for(ctx_of(request), patient_id)
    items = list(selectors.rating_scales_of(patient))
    return {"items": items, "count": len(items)}


@router.post("/patients/{patient_id}/rating-scales", response={201: ScaleOut, **ERRORS})
@api_permission("care_facts.edit")
def create_rating_scale(request: HttpRequest, patient_id: int, payload: ScaleIn) -> Status[Any]:
    """Record a PHQ-9 (0-27) or GAD-7 (0-21) with its date."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    scale: RatingScale = services.record_rating_scale(
        ctx=ctx,
        patient=patient,
        instrument=payload.instrument,
        administered_on=payload.administered_on,
        score=payload.score,
        now=timezone.now(),
    )
    return Status(201, scale)


class ElementsIn(Schema):
    validated_rating_scale: bool = False
    bh_care_plan: bool = False
    treatment_coordination: bool = False
    continuity: bool = False


class ElementsOut(Schema):
    id: int
    patient_id: int
    month: str
    validated_rating_scale: bool
    bh_care_plan: bool
    treatment_coordination: bool
    continuity: bool

    @staticmethod
    def resolve_month(obj: BhiElementsRecord) -> str:
        return f"{obj.month_start_on:%Y-%m}"


class ElementsList(Schema):
    items: list[ElementsOut]
    count: int


@router.get("/patients/{patient_id}/bhi-elements", response={200: ElementsList, **ERRORS})
@api_permission("facts.view")
def list_bhi_elements(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """List the patient's monthly general-BHI service elements (P10)."""
    patient = patient_for(ctx_of(request), patient_id)
    items = list(selectors.bhi_elements_of(patient))
    return {"items": items, "count": len(items)}


@router.put("/patients/{patient_id}/bhi-elements/{month}", response={200: ElementsOut, **ERRORS})
@api_permission("care_facts.edit")
def record_bhi_elements(
    request: HttpRequest, patient_id: int, month: str, payload: ElementsIn
) -> BhiElementsRecord:
    """Record the month's general-BHI service elements (`YYYY-MM`); replaces an earlier record."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    return services.record_bhi_elements(
        ctx=ctx,
        patient=patient,
        month_start_on=_month_start(ctx, month),
        elements=services.BhiElements(**payload.dict()),
        now=timezone.now(),
    )


class AttestationIn(Schema):
    effective_on: date
    practitioner_id: int | None = Field(None, description="empty: the whole practice")
    access_24_7: bool = False
    continuity: bool = False
    responsible_for_primary_care: bool = False


class AttestationOut(Schema):
    id: int
    effective_on: date
    practitioner: str | None
    access_24_7: bool
    continuity: bool
    responsible_for_primary_care: bool

    @staticmethod
    def resolve_practitioner(obj: ApcmAttestation) -> str | None:
        return obj.practitioner.get_username() if obj.practitioner else None


class AttestationList(Schema):
    items: list[AttestationOut]
    count: int


@router.get("/apcm-attestations", response={200: AttestationList, **ERRORS})
@api_permission("facts.view")
def list_attestations(request: HttpRequest) -> dict[str, Any]:
    """List the practice's APCM attestations, newest first (APCM-2)."""
    items = list(selectors.attestations_of(ctx_of(request).practice))
    return {"items": items, "count": len(items)}


@router.post("/apcm-attestations", response={201: AttestationOut, **ERRORS})
@api_permission("facts.edit")
def create_attestation(request: HttpRequest, payload: AttestationIn) -> Status[Any]:
    """Record a dated APCM attestation; the latest one dated by a month's end is in force."""
    ctx = ctx_of(request)
    attestation = services.record_apcm_attestation(
        ctx=ctx,
        effective_on=payload.effective_on,
        practitioner=payload.practitioner_id,
        access_24_7=payload.access_24_7,
        continuity=payload.continuity,
        responsible_for_primary_care=payload.responsible_for_primary_care,
        now=timezone.now(),
    )
    return Status(201, attestation)


class RtmCategoryIn(Schema):
    rtm_category: RtmCategory


class RtmCategoryOut(Schema):
    id: int
    patient_id: int
    program: str
    rtm_category: str


@router.put(
    "/patients/{patient_id}/enrollments/{enrollment_id}/rtm-category",
    response={200: RtmCategoryOut, **ERRORS},
)
@api_permission("enrollment.edit")
def set_rtm_category(
    request: HttpRequest, patient_id: int, enrollment_id: int, payload: RtmCategoryIn
) -> Enrollment:
    """Set the RTM category of an RTM enrollment (RTM-1)."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    enrollment = Enrollment.objects.filter(patient=patient, pk=enrollment_id).first()
    if enrollment is None:
        raise Http404("No such enrollment.")
    return services.set_rtm_category(
        ctx=ctx, enrollment=enrollment, category=payload.rtm_category, now=timezone.now()
    )

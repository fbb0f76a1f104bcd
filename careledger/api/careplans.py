"""Care plans: current plan, versions, sharings, the patient PDF, FHIR export, and the writes."""

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from careledger.accounts.access import ctx_of
from careledger.api.auth import api_permission
from careledger.api.patients import ERRORS, ErrorItem
from careledger.careplans import services
from careledger.careplans.fhir import export_bundle
from careledger.careplans.models import CarePlan, CarePlanVersion, Kind, Sharing
from careledger.careplans.pdf import render_pdf
from careledger.careplans.selectors import plan_of, review_of, sharings_of, versions_of
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for
from careledger.patients.models import Patient

router = Router(tags=["care plans"])

KIND_HELP = "`comprehensive` (CCM, APCM; the default) or `disease_specific` (PCM)"


class ConflictOut(Schema):
    detail: str
    errors: list[ErrorItem] = []
    current_revision: int


WRITE_ERRORS: dict[int, Any] = {**ERRORS, 409: ConflictOut}


class SharingOut(Schema):
    id: int
    version_id: int
    version_number: int
    shared_on: date
    channel: str
    shared_by: str
    recipient: str
    recorded_at: datetime

    @staticmethod
    def resolve_version_number(obj: Sharing) -> int:
        return obj.version.number

    @staticmethod
    def resolve_shared_by(obj: Sharing) -> str:
        return obj.shared_by.get_username()


class SharingList(Schema):
    items: list[SharingOut]
    count: int


class VersionOut(Schema):
    id: int
    number: int
    kind: str
    published_at: datetime
    published_on: date
    author: str
    revision_reason: str
    signed_by: str | None
    signed_by_npi: str
    signed_at: datetime | None
    content: dict[str, Any]
    shared_on: list[date]

    @staticmethod
    def resolve_kind(obj: CarePlanVersion) -> str:
        return obj.plan.kind

    @staticmethod
    def resolve_author(obj: CarePlanVersion) -> str:
        return obj.author.get_username()

    @staticmethod
    def resolve_signed_by(obj: CarePlanVersion) -> str | None:
        return obj.signed_by.get_username() if obj.signed_by else None

    @staticmethod
    def resolve_shared_on(obj: CarePlanVersion) -> list[date]:
        return sorted(s.shared_on for s in obj.sharings.all())


class VersionList(Schema):
    items: list[VersionOut]
    count: int


class CarePlanOut(Schema):
    id: int
    patient_id: int
    kind: str
    state: str = Field(
        description="missing, unshared, changed, overdue, due_soon or current (review clock)"
    )
    current: bool = Field(description="current and shared with the patient today")
    reasons: list[str]
    review_due_on: date | None
    shared_on: date | None
    revision: int = Field(description="the draft's revision; send it back to save the draft")
    draft: dict[str, Any]
    draft_saved_at: datetime
    draft_saved_by: str
    latest_version: VersionOut | None


class KindQuery(Schema):
    kind: Kind = Field(Kind.COMPREHENSIVE, description=KIND_HELP)


def _plan(patient: Patient, kind: str) -> CarePlan:
    plan = plan_of(patient, kind)
    if plan is None:
        raise Http404("This patient has no care plan of this kind.")
    return plan


def _plan_out(plan: CarePlan, today: date) -> dict[str, Any]:
    status = review_of(plan, today)
    return {
        "id": plan.pk,
        "patient_id": plan.patient_id,
        "kind": plan.kind,
        "state": status.state,
        "current": status.current,
        "reasons": list(status.reasons),
        "review_due_on": status.due_on,
        "shared_on": status.shared_on,
        "revision": plan.revision,
        "draft": plan.draft,
        "draft_saved_at": plan.draft_saved_at,
        "draft_saved_by": plan.draft_saved_by.get_username(),
        "latest_version": versions_of(plan).first(),
    }


def _conflict(conflict: services.DraftConflict) -> Status[dict[str, Any]]:
    return Status(
        409,
        {
            "detail": conflict.message,
            "errors": [{"field": "revision", "message": conflict.message}],
            "current_revision": conflict.current_revision,
        },
    )


@router.get("/patients/{patient_id}/care-plan", response={200: CarePlanOut, **ERRORS})
@api_permission("patient.view")
def current_plan(request: HttpRequest, patient_id: int, kind: Kind = Kind.COMPREHENSIVE) -> Any:
    """Return the patient's plan of a kind: review state, draft and latest version.

    404 when the patient has no plan of that kind (or is not the caller's).
    """
    ctx = ctx_of(request)
    now = timezone.now()
    patient = patient_for(ctx, patient_id)
    plan = _plan(patient, kind)
    services.record_read("careplan.viewed", ctx=ctx, patient_id=patient.pk, obj=plan, now=now)
    return _plan_out(plan, local_today(ctx.practice, now))


@router.get("/patients/{patient_id}/care-plan/versions", response={200: VersionList, **ERRORS})
@api_permission("patient.view")
def list_versions(request: HttpRequest, patient_id: int, kind: Kind = Kind.COMPREHENSIVE) -> Any:
    """List the plan's published versions, newest first, with their content and sign-off."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id)
    plan = _plan(patient, kind)
    items = list(versions_of(plan))
    return {"items": items, "count": len(items)}


@router.get("/patients/{patient_id}/care-plan/sharings", response={200: SharingList, **ERRORS})
@api_permission("patient.view")
def list_sharings(request: HttpRequest, patient_id: int, kind: Kind = Kind.COMPREHENSIVE) -> Any:
    """List each time a version was given to the patient, newest first."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id)
    plan = _plan(patient, kind)
    items = list(sharings_of(plan))
    return {"items": items, "count": len(items)}


def _latest_version(patient: Patient, kind: str, number: int | None) -> CarePlanVersion:
    plan = _plan(patient, kind)
    qs = versions_of(plan)
    version = qs.filter(number=number).first() if number is not None else qs.first()
    if version is None:
        raise Http404("This plan has no published version.")
    return version


@router.get(
    "/patients/{patient_id}/care-plan/pdf",
    response=ERRORS,
    openapi_extra={
        "responses": {
            200: {
                "description": "The patient's copy of the latest published version",
                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
@api_permission("patient.view")
def pdf(request: HttpRequest, patient_id: int, kind: Kind = Kind.COMPREHENSIVE) -> HttpResponse:
    """Return the latest published version as the patient's PDF (large type, goals, 24/7 number)."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    version = _latest_version(patient, kind, None)
    services.record_read(
        "careplan.pdf_viewed",
        ctx=ctx,
        patient_id=patient.pk,
        obj=version,
        now=timezone.now(),
        details={"number": version.number, "via": "api"},
    )
    response = HttpResponse(render_pdf(version), content_type="application/pdf")
    response["Content-Disposition"] = (
        f'inline; filename="care-plan-{patient.pk}-v{version.number}.pdf"'
    )
    return response


@router.get("/patients/{patient_id}/care-plan/fhir", response={200: dict[str, Any], **ERRORS})
@api_permission("patient.view")
def fhir(
    request: HttpRequest,
    patient_id: int,
    kind: Kind = Kind.COMPREHENSIVE,
    version: int | None = None,
) -> Any:
    """Export a version (default: the latest) as a FHIR R4B Bundle: CarePlan, Goals, Conditions."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    found = _latest_version(patient, kind, version)
    services.record_read(
        "careplan.fhir_exported",
        ctx=ctx,
        patient_id=patient.pk,
        obj=found,
        now=timezone.now(),
        details={"number": found.number, "via": "api"},
    )
    return export_bundle(found)


class StartIn(Schema):
    kind: Kind = Kind.COMPREHENSIVE
    template: str = Field("", description="hypertension, type2_diabetes, heart_failure or copd")


@router.post("/patients/{patient_id}/care-plan", response={201: CarePlanOut, **ERRORS})
@api_permission("patient.edit")
def start_plan(request: HttpRequest, patient_id: int, payload: StartIn) -> Any:
    """Start the patient's plan of a kind, empty or pre-filled from a template."""
    ctx = ctx_of(request)
    now = timezone.now()
    patient = patient_for(ctx, patient_id, audit_view=False)
    plan = services.start_plan(
        ctx=ctx, patient=patient, kind=payload.kind, template=payload.template, now=now
    )
    return Status(201, _plan_out(plan, local_today(ctx.practice, now)))


class DraftIn(Schema):
    kind: Kind = Kind.COMPREHENSIVE
    revision: int = Field(description="the revision the edit started from")
    content: dict[str, Any] = Field(
        description="elements (by key: text, not_applicable, reason), problems "
        "(condition_id, note), goals (key, what, target, unit, due_on, thresholds: metric, "
        "comparator, warning, critical, unit), interventions (description, responsible, "
        "responsible_user_id)"
    )


@router.put("/patients/{patient_id}/care-plan/draft", response={200: CarePlanOut, **WRITE_ERRORS})
@api_permission("patient.edit")
def save_draft(request: HttpRequest, patient_id: int, payload: DraftIn) -> Any:
    """Replace the draft. 409 when someone saved it since `revision`: nothing is applied."""
    ctx = ctx_of(request)
    now = timezone.now()
    patient = patient_for(ctx, patient_id, audit_view=False)
    plan = _plan(patient, payload.kind)
    try:
        plan = services.save_draft(
            ctx=ctx, plan=plan, expected_revision=payload.revision, content=payload.content, now=now
        )
    except services.DraftConflict as conflict:
        return _conflict(conflict)
    return _plan_out(plan, local_today(ctx.practice, now))


class PublishIn(Schema):
    kind: Kind = Kind.COMPREHENSIVE
    revision: int
    revision_reason: str = Field("", max_length=400)
    sign: bool = Field(False, description="sign at once (physician or QHP with an NPI only)")


@router.post(
    "/patients/{patient_id}/care-plan/versions", response={201: VersionOut, **WRITE_ERRORS}
)
@api_permission("patient.edit")
def publish(request: HttpRequest, patient_id: int, payload: PublishIn) -> Any:
    """Publish the draft as the next version. 422 lists every missing CCM-8 element."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    plan = _plan(patient, payload.kind)
    try:
        version = services.publish_version(
            ctx=ctx,
            plan=plan,
            expected_revision=payload.revision,
            revision_reason=payload.revision_reason,
            sign=payload.sign,
            now=timezone.now(),
        )
    except services.DraftConflict as conflict:
        return _conflict(conflict)
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return Status(201, versions_of(plan).get(pk=version.pk))


@router.post(
    "/patients/{patient_id}/care-plan/versions/{number}/sign",
    response={200: VersionOut, **ERRORS},
)
@api_permission("patient.edit")
def sign(
    request: HttpRequest, patient_id: int, number: int, kind: Kind = Kind.COMPREHENSIVE
) -> Any:
    """Sign a published version (physician or QHP with an individual NPI; CCM-10)."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    version = _latest_version(patient, kind, number)
    try:
        services.sign_version(ctx=ctx, version=version, now=timezone.now())
    except PermissionDenied as exc:
        raise HttpError(403, str(exc)) from None
    return versions_of(version.plan).get(pk=version.pk)


class SharingIn(Schema):
    kind: Kind = Kind.COMPREHENSIVE
    version: int = Field(description="the version number given to the patient")
    shared_on: date
    channel: Sharing.Channel
    recipient: str = Field("", max_length=100)


@router.post("/patients/{patient_id}/care-plan/sharings", response={201: SharingOut, **ERRORS})
@api_permission("patient.edit")
def share(request: HttpRequest, patient_id: int, payload: SharingIn) -> Any:
    """Record that a signed version was given to the patient (print, portal, email, mail)."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    version = _latest_version(patient, payload.kind, payload.version)
    sharing = services.record_sharing(
        ctx=ctx,
        version=version,
        shared_on=payload.shared_on,
        channel=payload.channel,
        recipient=payload.recipient,
        now=timezone.now(),
    )
    return Status(201, sharing)

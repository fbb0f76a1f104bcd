"""Patients, their conditions, visits and enrollments, scoped to the caller's practice."""

from datetime import date
from typing import Any

from django.db.models import Prefetch
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from careledger.accounts.access import ctx_of
from careledger.api.auth import api_permission
from careledger.audit.services import record_event
from careledger.lib.localtime import local_today
from careledger.patients import services
from careledger.patients.access import patient_for
from careledger.patients.models import Enrollment, Patient, Program, Visit
from careledger.patients.selectors import enrollments_of, patients_of

router = Router(tags=["patients"])


class ErrorItem(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[ErrorItem] = []


ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class EnrollmentSummary(Schema):
    id: int
    program: str
    status: str


class PatientOut(Schema):
    id: int
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    sex: str
    address_line: str
    city: str
    state: str
    postal_code: str
    phone: str
    mbi: str
    coverage: str
    qmb: bool
    coordinator: str | None
    enrollments: list[EnrollmentSummary]

    @staticmethod
    def resolve_coordinator(obj: Patient) -> str | None:
        return obj.coordinator.get_username() if obj.coordinator else None

    @staticmethod
    def resolve_enrollments(obj: Patient) -> list[dict[str, Any]]:
        return [
            {"id": e.id, "program": e.program, "status": e.status} for e in obj.enrollments.all()
        ]


class PatientList(Schema):
    items: list[PatientOut]
    count: int


class PatientIn(Schema):
    mrn: str = Field(max_length=40)
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    birth_date: date
    sex: Patient.Sex
    address_line: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    phone: str = ""
    mbi: str = ""
    coverage: Patient.Coverage = Patient.Coverage.MEDICARE_FFS
    qmb: bool = False
    coordinator_id: int | None = None


class PatientFilters(Schema):
    program: Program | None = None
    status: str | None = Field(None, description="`all`: any enrollment in `program`")
    # Case 7: PostgreSQL refuses NUL in a string literal; refuse it here as bad input (422).
    search: str = Field("", max_length=100, pattern=r"^[^\x00]*$", description="name or MRN")
    coordinator_id: int | None = None


def _with_enrollments(qs: Any) -> Any:
    return qs.select_related("coordinator").prefetch_related(
        Prefetch("enrollments", queryset=Enrollment.objects.order_by("program", "id"))
    )


@router.get("", response={200: PatientList, **ERRORS})
@api_permission("patient.view")
def list_patients(request: HttpRequest, filters: Query[PatientFilters]) -> dict[str, Any]:
    """List the practice's patients, ordered by id.

    With `program`, only patients whose enrollment in it is active and consented today in the
    practice's zone; add `status=all` for any enrollment in the program.
    """
    ctx = ctx_of(request)
    now = timezone.now()
    qs = patients_of(
        practice=ctx.practice,
        search=filters.search,
        program=filters.program or "",
        coordinator_id=filters.coordinator_id,
        active_on=local_today(ctx.practice, now),
        any_status=filters.status == "all",
    )
    patients = list(_with_enrollments(qs))
    record_event(
        "patient.list_viewed",
        actor=ctx.user,
        practice=ctx.practice,
        source_ip=ctx.source_ip,
        details={"count": len(patients), "program": filters.program or "", "via": "api"},
        now=now,
    )
    return {"items": patients, "count": len(patients)}


@router.post("", response={201: PatientOut, **ERRORS})
@api_permission("patient.edit")
def create_patient(request: HttpRequest, payload: PatientIn) -> Status[Patient]:
    """Create a patient; the MRN must be new to the practice."""
    ctx = ctx_of(request)
    data = payload.dict(exclude={"coordinator_id"})
    if payload.coordinator_id is not None:
        data["coordinator"] = payload.coordinator_id
    patient = services.create_patient(ctx=ctx, data=data, now=timezone.now())
    return Status(201, _with_enrollments(Patient.objects.filter(pk=patient.pk)).get())


@router.get("/{patient_id}", response={200: PatientOut, **ERRORS})
@api_permission("patient.view")
def get_patient(request: HttpRequest, patient_id: int) -> Patient:
    """Return one patient of the practice (404 for any other)."""
    patient = patient_for(ctx_of(request), patient_id)
    return _with_enrollments(Patient.objects.filter(pk=patient.pk)).get()


class ConditionOut(Schema):
    id: int
    icd10_code: str
    description: str
    chronic: bool
    onset_on: date | None


class ConditionList(Schema):
    items: list[ConditionOut]
    count: int


class ConditionIn(Schema):
    icd10_code: str = Field(max_length=8)
    chronic: bool = True
    onset_on: date | None = None
    description: str = Field("", max_length=255)


@router.get("/{patient_id}/conditions", response={200: ConditionList, **ERRORS})
@api_permission("patient.view")
def list_conditions(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """List the patient's conditions."""
    patient = patient_for(ctx_of(request), patient_id)
    items = list(patient.conditions.order_by("id"))
    return {"items": items, "count": len(items)}


@router.post("/{patient_id}/conditions", response={201: ConditionOut, **ERRORS})
@api_permission("patient.edit")
def add_condition(request: HttpRequest, patient_id: int, payload: ConditionIn) -> Status[Any]:
    """Add an ICD-10-CM coded condition to the patient's problem list."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    condition = services.add_condition(
        ctx=ctx,
        patient=patient,
        icd10_code=payload.icd10_code,
        chronic=payload.chronic,
        onset_on=payload.onset_on,
        description=payload.description,
        now=timezone.now(),
    )
    return Status(201, condition)


class VisitIn(Schema):
    practitioner_id: int
    visited_on: date
    kind: Visit.Kind
    em_level: int | None = Field(None, ge=1, le=5)


class VisitOut(Schema):
    id: int
    practitioner: str
    visited_on: date
    kind: str
    em_level: int | None

    @staticmethod
    def resolve_practitioner(obj: Visit) -> str:
        return obj.practitioner.get_username()


class VisitList(Schema):
    items: list[VisitOut]
    count: int


@router.get("/{patient_id}/visits", response={200: VisitList, **ERRORS})
@api_permission("patient.view")
def list_visits(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """List the patient's face-to-face visits, newest first (RPM-10, CCM-7)."""
    patient = patient_for(ctx_of(request), patient_id)
    items = list(patient.visits.select_related("practitioner").order_by("-visited_on", "-id"))
    return {"items": items, "count": len(items)}


@router.post("/{patient_id}/visits", response={201: VisitOut, **ERRORS})
@api_permission("patient.edit")
def record_visit(request: HttpRequest, patient_id: int, payload: VisitIn) -> Status[Visit]:
    """Record a face-to-face visit with a billing practitioner of the practice."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    visit = services.record_visit(
        ctx=ctx,
        patient=patient,
        practitioner=payload.practitioner_id,
        visited_on=payload.visited_on,
        kind=payload.kind,
        em_level=payload.em_level,
        now=timezone.now(),
    )
    return Status(201, visit)


class ConsentIn(Schema):
    consent_on: date
    method: Enrollment.ConsentMethod
    obtained_by_id: int | None = None
    told_cost_sharing: bool = False
    told_one_practitioner: bool = False
    told_right_to_stop: bool = False
    told_specialist_consultation: bool = False

    def to_consent(self) -> services.Consent:
        return services.Consent(
            consent_on=self.consent_on,
            method=self.method,
            obtained_by=self.obtained_by_id,
            told_cost_sharing=self.told_cost_sharing,
            told_one_practitioner=self.told_one_practitioner,
            told_right_to_stop=self.told_right_to_stop,
            told_specialist_consultation=self.told_specialist_consultation,
        )


class OrderIn(Schema):
    ordered_on: date
    ordering_practitioner_id: int
    indication: str = Field(max_length=8, description="ICD-10-CM code")


class EnrollmentIn(Schema):
    program: Program
    billing_practitioner_id: int
    started_on: date
    consent: ConsentIn | None = None
    order: OrderIn | None = None


class EnrollmentOut(Schema):
    id: int
    patient_id: int
    program: str
    status: str
    billing_practitioner: str
    started_on: date
    ended_on: date | None
    end_reason: str
    ordered_on: date | None
    ordering_practitioner: str | None
    order_indication: str
    consent_on: date | None
    consent_method: str
    consent_obtained_by: str | None
    told_cost_sharing: bool
    told_one_practitioner: bool
    told_right_to_stop: bool
    told_specialist_consultation: bool

    @staticmethod
    def resolve_billing_practitioner(obj: Enrollment) -> str:
        return obj.billing_practitioner.get_username()

    @staticmethod
    def resolve_ordering_practitioner(obj: Enrollment) -> str | None:
        return obj.ordering_practitioner.get_username() if obj.ordering_practitioner else None

    @staticmethod
    def resolve_consent_obtained_by(obj: Enrollment) -> str | None:
        return obj.consent_obtained_by.get_username() if obj.consent_obtained_by else None


class EnrollmentList(Schema):
    items: list[EnrollmentOut]
    count: int


class EndIn(Schema):
    ended_on: date
    reason: str = Field(min_length=1, max_length=200)


def _enrollment_of(patient: Patient, enrollment_id: int) -> Enrollment:
    from django.http import Http404

    enrollment = enrollments_of(patient).filter(pk=enrollment_id).first()
    if enrollment is None:
        raise Http404("No such enrollment.")
    return enrollment


@router.get("/{patient_id}/enrollments", response={200: EnrollmentList, **ERRORS})
@api_permission("patient.view")
def list_enrollments(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """List the patient's enrollments, with consent and order."""
    patient = patient_for(ctx_of(request), patient_id)
    items = list(enrollments_of(patient))
    return {"items": items, "count": len(items)}


@router.post("/{patient_id}/enrollments", response={201: EnrollmentOut, **ERRORS})
@api_permission("enrollment.edit")
def create_enrollment(
    request: HttpRequest, patient_id: int, payload: EnrollmentIn
) -> Status[Enrollment]:
    """Enroll the patient in a program: active with consent, pending without."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    order = None
    if payload.order is not None:
        order = services.Order(
            ordered_on=payload.order.ordered_on,
            ordering_practitioner=payload.order.ordering_practitioner_id,
            indication=payload.order.indication,
        )
    enrollment = services.enroll(
        ctx=ctx,
        patient=patient,
        program=payload.program,
        billing_practitioner=payload.billing_practitioner_id,
        started_on=payload.started_on,
        consent=payload.consent.to_consent() if payload.consent else None,
        order=order,
        now=timezone.now(),
    )
    return Status(201, _enrollment_of(patient, enrollment.pk))


@router.post(
    "/{patient_id}/enrollments/{enrollment_id}/consent", response={200: EnrollmentOut, **ERRORS}
)
@api_permission("enrollment.edit")
def record_consent(
    request: HttpRequest, patient_id: int, enrollment_id: int, payload: ConsentIn
) -> Enrollment:
    """Record consent on a pending enrollment, which makes it active."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    enrollment = _enrollment_of(patient, enrollment_id)
    services.record_consent(
        ctx=ctx, enrollment=enrollment, consent=payload.to_consent(), now=timezone.now()
    )
    return _enrollment_of(patient, enrollment_id)


@router.post(
    "/{patient_id}/enrollments/{enrollment_id}/end", response={200: EnrollmentOut, **ERRORS}
)
@api_permission("enrollment.edit")
def end_enrollment(
    request: HttpRequest, patient_id: int, enrollment_id: int, payload: EndIn
) -> Enrollment:
    """End an enrollment, with the reason."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    enrollment = _enrollment_of(patient, enrollment_id)
    services.end_enrollment(
        ctx=ctx,
        enrollment=enrollment,
        ended_on=payload.ended_on,
        reason=payload.reason,
        now=timezone.now(),
    )
    return _enrollment_of(patient, enrollment_id)

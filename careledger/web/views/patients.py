"""The patient list, the patient page, and the forms that add a patient or a condition."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from careledger.accounts.access import ctx_of, requires
from careledger.audit.services import record_event
from careledger.careplans.selectors import panel_context as careplan_panel
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for
from careledger.patients.models import Enrollment, Patient
from careledger.patients.selectors import enrollments_of, patients_of
from careledger.patients.services import add_condition, create_patient, record_visit
from careledger.web.forms import (
    ConditionForm,
    PatientFilterForm,
    PatientForm,
    VisitForm,
    apply_service_errors,
    member_choices,
)

PATIENTS_PER_PAGE = 50


def age_on(birth_date: date, today: date) -> int:
    """Return the age in whole years on ``today``."""
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - int(before_birthday)


@dataclass(frozen=True)
class PatientRow:
    patient: Patient
    age: int
    open_enrollments: list[Enrollment]


@requires("patient.view")
@require_http_methods(["GET", "POST"])
def patient_list(request: HttpRequest) -> HttpResponse:
    """List the practice's patients; HTMX searches get only the results table.

    The search box posts rather than gets, so names never land in URLs, server logs or
    browser history (HIPAA 164.312(e): no PHI in URLs).
    """
    ctx = ctx_of(request)
    now = timezone.now()
    today = local_today(ctx.practice, now)
    data = request.POST if request.method == "POST" else request.GET
    form = PatientFilterForm(data, practice=ctx.practice)
    form.is_valid()  # invalid filters are dropped from cleaned_data and shown on the form
    search = form.cleaned_data.get("q") or ""
    program = form.cleaned_data.get("program") or ""
    coordinator_id = form.cleaned_data.get("coordinator")
    open_enrollments = Enrollment.objects.exclude(status=Enrollment.Status.ENDED).order_by(
        "program"
    )
    patients = (
        patients_of(
            practice=ctx.practice,
            search=search,
            program=program,
            coordinator_id=coordinator_id,
            active_on=today,
        )
        .select_related("coordinator")
        .prefetch_related(Prefetch("enrollments", open_enrollments, to_attr="open_enrollments"))
        .order_by("family_name", "given_name", "id")
    )
    paginator = Paginator(patients, PATIENTS_PER_PAGE)
    page = paginator.get_page(form.cleaned_data.get("page") or 1)
    rows = [
        PatientRow(
            patient=p,
            age=age_on(p.birth_date, today),
            open_enrollments=p.open_enrollments,  # type: ignore[attr-defined]
        )
        for p in page.object_list
    ]
    record_event(
        "patient.list_viewed",
        actor=ctx.user,
        practice=ctx.practice,
        source_ip=ctx.source_ip,
        now=now,
        # Filters only as facts: a search term may be a name, so only its presence is kept.
        details={
            "count": paginator.count,
            "page": page.number,
            "filters": {
                "search": bool(search),
                "program": program or None,
                "coordinator": coordinator_id,
            },
        },
    )
    template = "web/patients/list.html"
    if request.htmx:  # type: ignore[attr-defined]
        template += "#results"
    return render(
        request,
        template,
        {
            "form": form,
            "page": page,
            "rows": rows,
            "filtered": bool(search or program or coordinator_id),
        },
    )


@requires("patient.view")
@require_GET
def patient_detail(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Show one patient: demographics, problem list, visits, enrollments and consent."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id)
    today = local_today(ctx.practice, timezone.now())
    context = {
        "patient": patient,
        "age": age_on(patient.birth_date, today),
        "enrollments": list(enrollments_of(patient)),
        "conditions": list(patient.conditions.order_by("-chronic", "icd10_code")),
        "visits": list(patient.visits.select_related("practitioner").order_by("-visited_on")),
        **careplan_panel(patient, today),
    }
    return render(request, "web/patients/detail.html", context)


@requires("patient.edit")
@require_http_methods(["GET", "POST"])
def visit_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record a face-to-face visit with a billing practitioner (RPM-10, CCM-7)."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=request.method == "GET")
    form = VisitForm(
        request.POST if request.method == "POST" else None,
        practitioners=member_choices(ctx.practice, billing=True),
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit = record_visit(
                ctx=ctx,
                patient=patient,
                practitioner=int(data["practitioner"]),
                visited_on=data["visited_on"],
                kind=data["kind"],
                em_level=data["em_level"],
                now=timezone.now(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, f"Recorded the {visit.get_kind_display()} on {visit.visited_on}."
            )
            return redirect("patient-detail", patient_id=patient.pk)
    return render(request, "web/patients/visit_form.html", {"form": form, "patient": patient})


@requires("patient.edit")
@require_http_methods(["GET", "POST"])
def patient_add(request: HttpRequest) -> HttpResponse:
    """Add a patient to the practice."""
    ctx = ctx_of(request)
    form = PatientForm(request.POST if request.method == "POST" else None, practice=ctx.practice)
    if request.method == "POST" and form.is_valid():
        try:
            patient = create_patient(ctx=ctx, data=form.service_data(), now=timezone.now())
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Added {patient.given_name} {patient.family_name}.")
            return redirect("patient-detail", patient_id=patient.pk)
    return render(request, "web/patients/patient_form.html", {"form": form})


@requires("patient.edit")
@require_http_methods(["GET", "POST"])
def condition_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Add an ICD-10-CM coded condition to a patient's problem list."""
    ctx = ctx_of(request)
    # The form page shows the patient, so opening it is a read; the POST's write is its own event.
    patient = patient_for(ctx, patient_id, audit_view=request.method == "GET")
    form = ConditionForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            condition = add_condition(
                ctx=ctx,
                patient=patient,
                icd10_code=data["icd10_code"],
                chronic=data["chronic"],
                onset_on=data["onset_on"],
                description=data["description"],
                now=timezone.now(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Added {condition.icd10_code} {condition.description}.")
            return redirect("patient-detail", patient_id=patient.pk)
    return render(request, "web/patients/condition_form.html", {"form": form, "patient": patient})

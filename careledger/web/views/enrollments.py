"""Enroll a patient in a program, record consent, end an enrollment."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from careledger.accounts.access import ctx_of, requires
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for
from careledger.patients.models import DEVICE_PROGRAMS, Enrollment, Patient, Program
from careledger.patients.services import Consent, Order, end_enrollment, enroll, record_consent
from careledger.web.forms import (
    ConsentFields,
    ConsentForm,
    EndEnrollmentForm,
    EnrollmentForm,
    apply_service_errors,
)

BEHAVIORAL_PROGRAMS = (Program.BHI, Program.COCM)


def consent_from(form: ConsentFields) -> Consent:
    """Build the service's Consent value from a valid consent form."""
    data = form.cleaned_data
    return Consent(
        consent_on=data["consent_on"],
        method=data["consent_method"],
        obtained_by=data.get("consent_obtained_by"),
        told_cost_sharing=data["told_cost_sharing"],
        told_one_practitioner=data["told_one_practitioner"],
        told_right_to_stop=data["told_right_to_stop"],
        told_specialist_consultation=data["told_specialist_consultation"],
    )


def _enrollment_of(patient: Patient, enrollment_id: int) -> Enrollment:
    # Looked up through the caller's patient, so another practice's enrollment is not found.
    return get_object_or_404(Enrollment, pk=enrollment_id, patient=patient)


def _form_context(patient: Patient, form: Any, **extra: Any) -> dict[str, Any]:
    return {
        "patient": patient,
        "form": form,
        "device_programs": " ".join(sorted(DEVICE_PROGRAMS)),
        "behavioral_programs": " ".join(BEHAVIORAL_PROGRAMS),
        **extra,
    }


@requires("enrollment.edit")
@require_http_methods(["GET", "POST"])
def enrollment_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Enroll a patient in a program, active with consent or awaiting it."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=request.method == "GET")
    now = timezone.now()
    initial = {
        "started_on": local_today(ctx.practice, now),
        "consent_obtained_by": ctx.user.pk,
        "program": request.GET.get("program", ""),
    }
    data = request.POST if request.method == "POST" else None
    form = EnrollmentForm(data, practice=ctx.practice, initial=initial)
    if request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        order = None
        if form.has_order():
            order = Order(
                ordered_on=cleaned["ordered_on"],
                ordering_practitioner=cleaned["ordering_practitioner"],
                indication=cleaned["order_indication"],
            )
        try:
            enrollment = enroll(
                ctx=ctx,
                patient=patient,
                program=cleaned["program"],
                billing_practitioner=cleaned["billing_practitioner"],
                started_on=cleaned["started_on"],
                consent=consent_from(form) if form.consent_given() else None,
                order=order,
                now=now,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            state = (
                "active" if enrollment.status == Enrollment.Status.ACTIVE else "awaiting consent"
            )
            messages.success(request, f"Enrolled in {enrollment.program} ({state}).")
            return redirect("patient-detail", patient_id=patient.pk)
    return render(request, "web/enrollments/enroll_form.html", _form_context(patient, form))


@requires("enrollment.edit")
@require_http_methods(["GET", "POST"])
def enrollment_consent(request: HttpRequest, patient_id: int, enrollment_id: int) -> HttpResponse:
    """Record consent for an enrollment awaiting it, which makes it active."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=request.method == "GET")
    enrollment = _enrollment_of(patient, enrollment_id)
    now = timezone.now()
    initial = {"consent_on": local_today(ctx.practice, now), "consent_obtained_by": ctx.user.pk}
    data = request.POST if request.method == "POST" else None
    form = ConsentForm(data, practice=ctx.practice, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            record_consent(ctx=ctx, enrollment=enrollment, consent=consent_from(form), now=now)
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Consent recorded; {enrollment.program} is active.")
            return redirect("patient-detail", patient_id=patient.pk)
    context = _form_context(
        patient,
        form,
        enrollment=enrollment,
        behavioral=enrollment.program in BEHAVIORAL_PROGRAMS,
    )
    return render(request, "web/enrollments/consent_form.html", context)


@requires("enrollment.edit")
@require_http_methods(["GET", "POST"])
def enrollment_end(request: HttpRequest, patient_id: int, enrollment_id: int) -> HttpResponse:
    """End an enrollment with its date and reason."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=request.method == "GET")
    enrollment = _enrollment_of(patient, enrollment_id)
    now = timezone.now()
    data = request.POST if request.method == "POST" else None
    form = EndEnrollmentForm(data, initial={"ended_on": local_today(ctx.practice, now)})
    if request.method == "POST" and form.is_valid():
        try:
            end_enrollment(
                ctx=ctx,
                enrollment=enrollment,
                ended_on=form.cleaned_data["ended_on"],
                reason=form.cleaned_data["end_reason"],
                now=now,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"{enrollment.program} enrollment ended.")
            return redirect("patient-detail", patient_id=patient.pk)
    context = _form_context(patient, form, enrollment=enrollment)
    return render(request, "web/enrollments/end_form.html", context)

"""Program-facts pages (issue 9): the patient's billing-facts forms and the APCM attestations.

The forms sit in the patient page's "Billing facts" panel; each POST calls the same service as
the API (one row, one audit event) and returns to the patient page with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from careledger.accounts.access import PracticeContext, ctx_of, requires
from careledger.accounts.models import Membership
from careledger.accounts.roles import RuleClass
from careledger.devices.models import Device
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for
from careledger.patients.models import Patient
from careledger.programs import services
from careledger.programs.forms import (
    AttestationForm,
    BhiElementsForm,
    ClaimForm,
    CocmEpisodeForm,
    MdmForm,
    RatingScaleForm,
    SetupForm,
)
from careledger.programs.selectors import attestations_of, panel_context

FACTS_VIEW = "facts.view"
FACTS_EDIT = "facts.edit"
CARE_FACTS_EDIT = "care_facts.edit"
MDM_RECORD = "mdm.record"


def device_choices(patient: Patient) -> list[tuple[int, str]]:
    return [
        (d.pk, f"{d.program} {d.serial}")
        for d in Device.objects.filter(patient=patient).order_by("-assigned_on", "id")
    ]


def practitioner_choices(ctx: PracticeContext) -> list[tuple[int, str]]:
    members = Membership.objects.filter(
        practice=ctx.practice, is_active=True, rule_class=RuleClass.PHYSICIAN_QHP
    ).select_related("user")
    return [(m.user_id, m.user.get_full_name() or m.user.get_username()) for m in members]


def _back(patient: Patient) -> HttpResponse:
    return redirect(reverse("patient-detail", args=[patient.pk]) + "#billing-facts")


def _problems(form: forms.Form) -> str:
    return " ".join(
        f"{field}: {' '.join(str(e) for e in errors)}" for field, errors in form.errors.items()
    )


def _submit(
    request: HttpRequest,
    patient_id: int,
    form_class: Callable[..., forms.Form],
    write: Callable[[PracticeContext, Patient, dict[str, Any]], object],
    done: str,
    **form_kwargs: Any,
) -> HttpResponse:
    """Validate a panel form, call its service, and return to the patient page."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id)
    if "devices" in form_kwargs:
        form_kwargs["devices"] = device_choices(patient)
    form = form_class(request.POST, **form_kwargs)
    if not form.is_valid():
        messages.error(request, _problems(form))
        return _back(patient)
    try:
        write(ctx, patient, form.cleaned_data)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return _back(patient)


@requires(FACTS_VIEW)
@require_GET
def patient_facts(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Show the patient's billing facts on a page of their own."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id)
    today = local_today(ctx.practice, timezone.now())
    return render(
        request,
        "programs/patient_facts.html",
        {"patient": patient, **panel_forms(ctx, patient, today)},
    )


def panel_forms(ctx: PracticeContext, patient: Patient, today: Any) -> dict[str, Any]:
    """Return the panel's context: the facts and, per permission, the forms."""
    panel = panel_context(patient, today)
    care = ctx.may(CARE_FACTS_EDIT)
    return {
        "facts_panel": panel,
        "may_care": care,
        "may_claims": ctx.may(FACTS_EDIT),
        "may_mdm": ctx.may(MDM_RECORD),
        "setup_form": SetupForm(devices=device_choices(patient)) if care else None,
        "claim_form": ClaimForm() if ctx.may(FACTS_EDIT) else None,
        "mdm_form": (
            MdmForm(initial={"month": panel["last_month"]}) if ctx.may(MDM_RECORD) else None
        ),
        "cocm_form": CocmEpisodeForm() if care else None,
        "scale_form": RatingScaleForm() if care else None,
        "bhi_form": BhiElementsForm(initial={"month": panel["last_month"]}) if care else None,
    }


@requires(CARE_FACTS_EDIT)
@require_POST
def setup_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    def write(ctx: PracticeContext, patient: Patient, data: dict[str, Any]) -> object:
        return services.record_setup(
            ctx=ctx,
            patient=patient,
            program=data["program"],
            performed_on=data["performed_on"],
            device=data["device_id"],
            note=data["note"],
            now=timezone.now(),
        )

    return _submit(request, patient_id, SetupForm, write, "Set-up recorded.", devices=[])


@requires(FACTS_EDIT)
@require_POST
def claim_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    def write(ctx: PracticeContext, patient: Patient, data: dict[str, Any]) -> object:
        return services.record_other_claim(
            ctx=ctx,
            patient=patient,
            data=services.ClaimData(
                practitioner=data["practitioner"],
                code=data["code"],
                period_start_on=data["period_start_on"],
                period_end_on=data["period_end_on"],
                practitioner_npi=data["practitioner_npi"],
            ),
            now=timezone.now(),
        )

    return _submit(request, patient_id, ClaimForm, write, "Other practitioner's claim recorded.")


@requires(MDM_RECORD)
@require_POST
def mdm_record(request: HttpRequest, patient_id: int) -> HttpResponse:
    def write(ctx: PracticeContext, patient: Patient, data: dict[str, Any]) -> object:
        return services.record_complex_ccm(
            ctx=ctx,
            patient=patient,
            month_start_on=data["month"],
            mdm=data["mdm"],
            care_plan_revised=data["care_plan_revised"],
            now=timezone.now(),
        )

    return _submit(request, patient_id, MdmForm, write, "Medical decision making recorded.")


@requires(CARE_FACTS_EDIT)
@require_POST
def cocm_start(request: HttpRequest, patient_id: int) -> HttpResponse:
    def write(ctx: PracticeContext, patient: Patient, data: dict[str, Any]) -> object:
        return services.start_cocm_episode(
            ctx=ctx,
            patient=patient,
            started_on=data["started_on"],
            psychiatric_consultant=data["psychiatric_consultant"],
            psychiatric_consultant_npi=data["psychiatric_consultant_npi"],
            now=timezone.now(),
        )

    return _submit(request, patient_id, CocmEpisodeForm, write, "CoCM episode started.")


@requires(CARE_FACTS_EDIT)
@require_POST
def scale_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    def write(ctx: PracticeContext, patient: Patient, data: dict[str, Any]) -> object:
        return services.record_rating_scale(
            ctx=ctx,
            patient=patient,
            instrument=data["instrument"],
            administered_on=data["administered_on"],
            score=data["score"],
            now=timezone.now(),
        )

    return _submit(request, patient_id, RatingScaleForm, write, "Rating scale recorded.")


@requires(CARE_FACTS_EDIT)
@require_POST
def bhi_record(request: HttpRequest, patient_id: int) -> HttpResponse:
    def write(ctx: PracticeContext, patient: Patient, data: dict[str, Any]) -> object:
        return services.record_bhi_elements(
            ctx=ctx,
            patient=patient,
            month_start_on=data["month"],
            elements=services.BhiElements(
                validated_rating_scale=data["validated_rating_scale"],
                bh_care_plan=data["bh_care_plan"],
                treatment_coordination=data["treatment_coordination"],
                continuity=data["continuity"],
            ),
            now=timezone.now(),
        )

    return _submit(request, patient_id, BhiElementsForm, write, "BHI elements recorded.")


@requires(FACTS_VIEW)
@require_GET
def attestations(request: HttpRequest) -> HttpResponse:
    """List the practice's APCM attestations, newest first, with the form for a new one."""
    ctx = ctx_of(request)
    may_edit = ctx.may(FACTS_EDIT)
    return render(
        request,
        "programs/attestations.html",
        {
            "attestations": list(attestations_of(ctx.practice).select_related("attested_by")),
            "may_edit": may_edit,
            "form": AttestationForm(practitioners=practitioner_choices(ctx)) if may_edit else None,
        },
    )


@requires(FACTS_EDIT)
@require_POST
def attestation_add(request: HttpRequest) -> HttpResponse:
    """Record a dated APCM attestation for the practice or one practitioner (APCM-2)."""
    ctx = ctx_of(request)
    form = AttestationForm(request.POST, practitioners=practitioner_choices(ctx))
    if not form.is_valid():
        messages.error(request, _problems(form))
        return redirect("programs:attestations")
    data = form.cleaned_data
    try:
        services.record_apcm_attestation(
            ctx=ctx,
            effective_on=data["effective_on"],
            practitioner=data["practitioner_id"],
            access_24_7=data["access_24_7"],
            continuity=data["continuity"],
            responsible_for_primary_care=data["responsible_for_primary_care"],
            now=timezone.now(),
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, "APCM attestation recorded.")
    return redirect("programs:attestations")

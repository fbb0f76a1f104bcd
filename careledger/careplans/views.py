"""Care-plan pages: a patient's plans, the draft editor, versions, diff, copy, worklist."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careledger.accounts.access import PracticeContext, ctx_of, requires
from careledger.accounts.models import Membership
from careledger.careplans import services
from careledger.careplans.access import plan_for, version_for
from careledger.careplans.content import diff, element_lines
from careledger.careplans.fhir import export_bundle
from careledger.careplans.forms import (
    METRIC_CHOICES,
    UNIT_CHOICES,
    Editor,
    editor_from_draft,
    read_editor,
)
from careledger.careplans.models import AcuteEvent, CarePlan, CarePlanVersion, Kind, Sharing
from careledger.careplans.pdf import patient_copy_context, render_pdf
from careledger.careplans.plan_templates import TEMPLATES
from careledger.careplans.review import STATE_LABELS, State
from careledger.careplans.selectors import (
    content_of,
    sharings_of,
    summarize,
    versions_of,
    worklist,
)
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for
from careledger.patients.models import Patient


def _patient_url(patient_id: int) -> str:
    return reverse("careplan-patient", args=[patient_id])


def _errors_of(exc: ValidationError) -> list[str]:
    if hasattr(exc, "error_dict"):
        return [m for messages_ in exc.message_dict.values() for m in messages_]
    return list(exc.messages)


def _date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


def _patient_page(
    request: HttpRequest,
    patient: Patient,
    *,
    status: int = 200,
    publish_errors: dict[str, list[str]] | None = None,
    publish_kind: str = "",
    form_errors: list[str] | None = None,
) -> HttpResponse:
    ctx = ctx_of(request)
    now = timezone.now()
    today = local_today(ctx.practice, now)
    summaries = summarize(patient, today)
    plans = []
    for summary in summaries:
        versions = list(versions_of(summary.plan)) if summary.plan else []
        plans.append(
            {
                "summary": summary,
                "versions": versions,
                "sharings": list(sharings_of(summary.plan)) if summary.plan else [],
                "publish_errors": publish_errors if summary.kind == publish_kind else None,
            }
        )
        if summary.plan:
            services.record_read(
                "careplan.viewed",
                ctx=ctx,
                patient_id=patient.pk,
                obj=summary.plan,
                now=now,
            )
    started = {s.kind for s in summaries if s.plan}
    context = {
        "patient": patient,
        "plans": plans,
        "startable_kinds": [(k, Kind(k).label) for k in Kind.values if k not in started],
        "templates": TEMPLATES,
        "may_edit": ctx.may("patient.edit"),
        "may_sign": services.may_sign(ctx.membership),
        "channels": Sharing.Channel.choices,
        "event_kinds": AcuteEvent.Kind.choices,
        "acute_events": list(
            AcuteEvent.objects.filter(patient=patient).order_by("-occurred_on")[:10]
        ),
        "today": today,
        "form_errors": form_errors or [],
    }
    return render(request, "careplans/patient.html", context, status=status)


@requires("patient.view")
@require_GET
def patient_plans(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Show the patient's plans: where each stands, its versions, sharings and actions."""
    patient = patient_for(ctx_of(request), patient_id, audit_view=False)
    return _patient_page(request, patient)


@requires("patient.edit")
@require_POST
def start(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Start a plan of a kind, empty or from a template, and open its draft."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    try:
        plan = services.start_plan(
            ctx=ctx,
            patient=patient,
            kind=request.POST.get("kind", ""),
            template=request.POST.get("template", ""),
            now=timezone.now(),
        )
    except ValidationError as exc:
        return _patient_page(request, patient, status=422, form_errors=_errors_of(exc))
    messages.success(request, "Care plan started. Fill in what the template could not know.")
    return redirect("careplan-edit", plan.pk)


def _members(ctx: PracticeContext) -> list[Membership]:
    return list(
        Membership.objects.filter(practice=ctx.practice, is_active=True)
        .select_related("user")
        .order_by("user__last_name", "user__first_name")
    )


def _editor_page(
    request: HttpRequest,
    plan: CarePlan,
    editor: Editor,
    revision: int,
    *,
    status: int = 200,
    conflict: services.DraftConflict | None = None,
) -> HttpResponse:
    ctx = ctx_of(request)
    context = {
        "plan": plan,
        "patient": plan.patient,
        "editor": editor,
        "revision": revision,
        "conflict": conflict,
        "saved_lines": element_lines(content_of(plan.draft)) if conflict else [],
        "metrics": METRIC_CHOICES,
        "units": UNIT_CHOICES,
        "members": _members(ctx),
        "templates": TEMPLATES,
    }
    return render(request, "careplans/edit.html", context, status=status)


@requires("patient.edit")
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Edit the draft. A save from a stale revision is refused and the edits are shown again."""
    ctx = ctx_of(request)
    plan = plan_for(ctx, plan_id)
    conditions = list(plan.patient.conditions.order_by("-chronic", "icd10_code"))
    if request.method == "GET":
        return _editor_page(request, plan, editor_from_draft(plan.draft, conditions), plan.revision)
    draft, editor = read_editor(request.POST, conditions)
    expected = _int(request.POST.get("revision")) or 0
    try:
        services.save_draft(
            ctx=ctx, plan=plan, expected_revision=expected, content=draft, now=timezone.now()
        )
    except ValidationError as exc:
        editor.attach(exc.message_dict)
        return _editor_page(request, plan, editor, expected, status=422)
    except services.DraftConflict as conflict:
        # Nothing is lost: the other person's draft is saved, and these edits come back as
        # typed, now based on the latest revision, for the user to compare and save again.
        return _editor_page(
            request, conflict.plan, editor, conflict.current_revision, status=409, conflict=conflict
        )
    messages.success(request, "Draft saved.")
    if request.POST.get("then") == "stay":
        return redirect("careplan-edit", plan.pk)
    return redirect(_patient_url(plan.patient_id))


@requires("patient.edit")
@require_POST
def add_template(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Add a template's problems, goals and interventions to the draft."""
    ctx = ctx_of(request)
    plan = plan_for(ctx, plan_id)
    try:
        services.apply_template(
            ctx=ctx,
            plan=plan,
            template=request.POST.get("template", ""),
            expected_revision=_int(request.POST.get("revision")) or 0,
            now=timezone.now(),
        )
    except services.DraftConflict as conflict:
        messages.error(request, conflict.message)
    except ValidationError as exc:
        for message in _errors_of(exc):
            messages.error(request, message)
    else:
        messages.success(request, "Template added to the draft.")
    return redirect("careplan-edit", plan.pk)


@requires("patient.edit")
@require_POST
def publish(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Publish the draft as the next version, signing it when the practitioner asks to."""
    ctx = ctx_of(request)
    plan = plan_for(ctx, plan_id)
    try:
        version = services.publish_version(
            ctx=ctx,
            plan=plan,
            expected_revision=_int(request.POST.get("revision")) or 0,
            revision_reason=request.POST.get("revision_reason", ""),
            sign=request.POST.get("sign") == "on",
            now=timezone.now(),
        )
    except ValidationError as exc:
        return _patient_page(
            request,
            plan.patient,
            status=422,
            publish_errors=exc.message_dict,
            publish_kind=plan.kind,
        )
    except services.DraftConflict as conflict:
        return _patient_page(request, plan.patient, status=409, form_errors=[conflict.message])
    except PermissionDenied as exc:
        return _patient_page(request, plan.patient, status=403, form_errors=[str(exc)])
    signed = " and signed" if version.signed else "; it now needs the practitioner's signature"
    messages.success(request, f"Version {version.number} published{signed}.")
    return redirect(_patient_url(plan.patient_id))


@requires("patient.edit")
@require_POST
def sign(request: HttpRequest, version_id: int) -> HttpResponse:
    """Sign a published version as the practitioner (CCM-10)."""
    ctx = ctx_of(request)
    version = version_for(ctx, version_id)
    patient = version.plan.patient
    try:
        services.sign_version(ctx=ctx, version=version, now=timezone.now())
    except PermissionDenied as exc:
        return _patient_page(request, patient, status=403, form_errors=[str(exc)])
    except ValidationError as exc:
        return _patient_page(request, patient, status=422, form_errors=_errors_of(exc))
    messages.success(request, f"Version {version.number} signed.")
    return redirect(_patient_url(patient.pk))


@requires("patient.edit")
@require_POST
def share(request: HttpRequest, version_id: int) -> HttpResponse:
    """Record that the patient was given a copy of a version (print, portal, email, mail)."""
    ctx = ctx_of(request)
    version = version_for(ctx, version_id)
    patient = version.plan.patient
    now = timezone.now()
    shared_on = _date(request.POST.get("shared_on")) or local_today(ctx.practice, now)
    try:
        sharing = services.record_sharing(
            ctx=ctx,
            version=version,
            shared_on=shared_on,
            channel=request.POST.get("channel", ""),
            recipient=request.POST.get("recipient", ""),
            now=now,
        )
    except ValidationError as exc:
        return _patient_page(request, patient, status=422, form_errors=_errors_of(exc))
    messages.success(
        request,
        f"Recorded: version {version.number} given to the patient "
        f"({sharing.get_channel_display().lower()}) on {sharing.shared_on:%b %-d, %Y}.",
    )
    return redirect(_patient_url(patient.pk))


@requires("patient.edit")
@require_POST
def acute_event(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Record a hospital stay or an ED visit (a significant change: the plan needs review)."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    occurred_on = _date(request.POST.get("occurred_on"))
    if occurred_on is None:
        return _patient_page(request, patient, status=422, form_errors=["Enter the date."])
    try:
        services.record_acute_event(
            ctx=ctx,
            patient=patient,
            kind=request.POST.get("kind", ""),
            occurred_on=occurred_on,
            facility=request.POST.get("facility", ""),
            now=timezone.now(),
        )
    except ValidationError as exc:
        return _patient_page(request, patient, status=422, form_errors=_errors_of(exc))
    messages.success(request, "Recorded. The care plan is due for review.")
    return redirect(_patient_url(patient.pk))


@requires("patient.view")
@require_GET
def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    """Show one published version exactly as it was published."""
    ctx = ctx_of(request)
    version = version_for(ctx, version_id)
    services.record_read(
        "careplan.version_viewed",
        ctx=ctx,
        patient_id=version.plan.patient_id,
        obj=version,
        now=timezone.now(),
        details={"number": version.number},
    )
    context = {
        "version": version,
        "plan": version.plan,
        "patient": version.plan.patient,
        "lines": element_lines(content_of(version.content)),
        "sharings": list(version.sharings.select_related("shared_by")),
        "may_edit": ctx.may("patient.edit"),
        "may_sign": services.may_sign(ctx.membership),
        "channels": Sharing.Channel.choices,
        "today": local_today(ctx.practice, timezone.now()),
    }
    return render(request, "careplans/version.html", context)


@requires("patient.view")
@require_GET
def compare(request: HttpRequest, plan_id: int) -> HttpResponse:
    """Compare two versions of a plan side by side, element by element."""
    ctx = ctx_of(request)
    plan = plan_for(ctx, plan_id)
    versions = list(plan.versions.select_related("author", "signed_by").order_by("number"))
    by_number = {v.number: v for v in versions}
    if len(versions) < 2:
        messages.error(request, "A comparison needs two published versions.")
        return redirect(_patient_url(plan.patient_id))
    left = by_number.get(_int(request.GET.get("left")) or 0, versions[-2])
    right = by_number.get(_int(request.GET.get("right")) or 0, versions[-1])
    services.record_read(
        "careplan.diff_viewed",
        ctx=ctx,
        patient_id=plan.patient_id,
        obj=plan,
        now=timezone.now(),
        details={"left": left.number, "right": right.number},
    )
    context = {
        "plan": plan,
        "patient": plan.patient,
        "versions": versions,
        "left": left,
        "right": right,
        "rows": diff(content_of(left.content), content_of(right.content)),
    }
    return render(request, "careplans/compare.html", context)


@requires("patient.view")
@require_GET
def patient_copy(request: HttpRequest, version_id: int) -> HttpResponse:
    """Show the plain-language copy for the patient, ready to print."""
    ctx = ctx_of(request)
    version = version_for(ctx, version_id)
    services.record_read(
        "careplan.patient_copy_viewed",
        ctx=ctx,
        patient_id=version.plan.patient_id,
        obj=version,
        now=timezone.now(),
        details={"number": version.number},
    )
    context = {
        **patient_copy_context(version),
        "may_edit": ctx.may("patient.edit"),
        "today": local_today(ctx.practice, timezone.now()),
    }
    return render(request, "careplans/patient_copy.html", context)


def pdf_response(version: CarePlanVersion) -> HttpResponse:
    patient = version.plan.patient
    response = HttpResponse(render_pdf(version), content_type="application/pdf")
    name = f"care-plan-{patient.pk}-v{version.number}.pdf"
    response["Content-Disposition"] = f'inline; filename="{name}"'
    return response


@requires("patient.view")
@require_GET
def pdf(request: HttpRequest, version_id: int) -> HttpResponse:
    """Return the patient's copy as a PDF."""
    ctx = ctx_of(request)
    version = version_for(ctx, version_id)
    services.record_read(
        "careplan.pdf_viewed",
        ctx=ctx,
        patient_id=version.plan.patient_id,
        obj=version,
        now=timezone.now(),
        details={"number": version.number, "via": "page"},
    )
    return pdf_response(version)


@requires("patient.view")
@require_GET
def fhir(request: HttpRequest, version_id: int) -> HttpResponse:
    """Download a version as a FHIR R4B Bundle (CarePlan, Goals, Conditions)."""
    ctx = ctx_of(request)
    version = version_for(ctx, version_id)
    services.record_read(
        "careplan.fhir_exported",
        ctx=ctx,
        patient_id=version.plan.patient_id,
        obj=version,
        now=timezone.now(),
        details={"number": version.number},
    )
    response = JsonResponse(export_bundle(version), content_type="application/fhir+json")
    name = f"care-plan-{version.plan.patient_id}-v{version.number}.fhir.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@requires("patient.view")
@require_GET
def worklist_page(request: HttpRequest) -> HttpResponse:
    """List plans missing, unshared, changed, overdue or due within 30 days."""
    ctx = ctx_of(request)
    now = timezone.now()
    today = local_today(ctx.practice, now)
    state = request.GET.get("state", "")
    if state not in STATE_LABELS or state == State.CURRENT:
        state = ""
    rows = worklist(ctx.practice, today, state)
    services.record_read(
        "careplan.worklist_viewed",
        ctx=ctx,
        patient_id=None,
        now=now,
        details={"count": len(rows), "state": state or None},
    )
    states: list[tuple[str, Any]] = [
        (s, STATE_LABELS[s]) for s in STATE_LABELS if s != State.CURRENT
    ]
    context = {"rows": rows, "state": state, "states": states, "today": today}
    return render(request, "careplans/worklist.html", context)

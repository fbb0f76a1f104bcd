"""Device pages: the alert queue, resolving an alert, a patient's readings, excluding one."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careledger.accounts.access import ctx_of, requires
from careledger.audit.services import record_event
from careledger.devices import alerts as alert_services
from careledger.devices.forms import ExcludeForm, ResolveForm
from careledger.devices.models import Reading
from careledger.devices.permissions import ALERT_VIEW, ALERT_WORK, DEVICE_VIEW, READING_EXCLUDE
from careledger.devices.selectors import alert_queue, alerts_of, panel_context
from careledger.devices.services import exclude_reading
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for


@requires(ALERT_VIEW)
@require_GET
def alert_queue_page(request: HttpRequest) -> HttpResponse:
    """Show the practice's open alerts, critical first."""
    ctx = ctx_of(request)
    alerts = list(alert_queue(ctx.practice)[:500])
    record_event(
        "alert.list_viewed",
        actor=ctx.user,
        practice=ctx.practice,
        source_ip=ctx.source_ip,
        details={"count": len(alerts), "via": "page"},
    )
    return render(
        request,
        "devices/alert_queue.html",
        {"alerts": alerts, "may_work": ctx.may(ALERT_WORK)},
    )


@requires(ALERT_WORK)
@require_POST
def alert_acknowledge(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Acknowledge an alert from the queue."""
    try:
        alert_services.acknowledge_alert(ctx=ctx_of(request), alert_id=alert_id, now=timezone.now())
        messages.success(request, "Alert acknowledged.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect("devices:alert-queue")


@requires(ALERT_WORK)
@require_http_methods(["GET", "POST"])
def alert_resolve(request: HttpRequest, alert_id: int) -> HttpResponse:
    """Resolve an alert with a note, optionally logging the call as a time entry."""
    ctx = ctx_of(request)
    alert = alerts_of(ctx.practice).filter(pk=alert_id).first()
    if alert is None:
        raise Http404("No such alert.")
    now = timezone.now()
    zone = ctx.practice.timezone
    if request.method == "POST":
        form = ResolveForm(request.POST, zone=zone)
        if form.is_valid():
            try:
                alert_services.resolve_alert(
                    ctx=ctx,
                    alert_id=alert.pk,
                    note=form.cleaned_data["note"],
                    call=form.call(),
                    now=now,
                )
            except ValidationError as exc:
                for field, problems in exc.message_dict.items():
                    target = {"started_at": "call_started", "ended_at": "call_minutes"}.get(
                        field, field
                    )
                    form.add_error(target if target in form.fields else None, problems)
            else:
                messages.success(request, "Alert resolved.")
                return redirect("devices:alert-queue")
    else:
        local = timezone.localtime(now - timedelta(minutes=10), timezone=ZoneInfo(zone))
        form = ResolveForm(
            zone=zone,
            initial={"call_started": local.strftime("%Y-%m-%dT%H:%M"), "call_minutes": 10},
        )
    return render(request, "devices/alert_resolve.html", {"alert": alert, "form": form})


@requires(DEVICE_VIEW)
@require_GET
def patient_readings(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Show a patient's device panel and every reading, excluded ones marked."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id)
    today = local_today(ctx.practice, timezone.now())
    readings = list(
        Reading.objects.filter(patient=patient).select_related("device", "excluded_by")[:500]
    )
    return render(
        request,
        "devices/patient_readings.html",
        {
            "patient": patient,
            "devices_panel": panel_context(patient, today),
            "readings": readings,
            "may_exclude": ctx.may(READING_EXCLUDE),
            "exclude_form": ExcludeForm(),
        },
    )


@requires(READING_EXCLUDE)
@require_POST
def reading_exclude(request: HttpRequest, reading_id: int) -> HttpResponse:
    """Exclude a wrong reading with the reason; it stays stored and visible."""
    ctx = ctx_of(request)
    reading = Reading.objects.filter(pk=reading_id, practice=ctx.practice).first()
    if reading is None:
        raise Http404("No such reading.")
    form = ExcludeForm(request.POST)
    if form.is_valid():
        try:
            exclude_reading(
                ctx=ctx,
                reading_id=reading.pk,
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
            messages.success(request, "Reading excluded; it no longer counts.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, "Say why the reading is excluded.")
    return redirect("devices:patient-readings", patient_id=reading.patient_id)

"""Time pages: the patient's timer, manual entries, an entry's history, amend, void, my day.

Views parse and authorize, call one service, and render. Times are shown and read in the
practice's zone (P1, CAL-4): each view runs inside ``timezone.override`` of that zone.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import wraps
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from careledger.accounts.access import PracticeContext, ctx_of, requires
from careledger.accounts.models import User
from careledger.audit.services import record_event
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for
from careledger.patients.models import Enrollment, Patient
from careledger.timelog import services
from careledger.timelog.forms import (
    AmendEntryForm,
    DiscardTimerForm,
    ManualEntryForm,
    StopTimerForm,
    VoidEntryForm,
    apply_service_errors,
    program_choices,
)
from careledger.timelog.models import Source, TimeEntry, Timer

# The idle prompt asks after this long without mouse or keyboard activity (issue 4).
IDLE_SECONDS = 10 * 60
# Tells the month panel on the patient page to reload after an entry is saved.
ENTRY_SAVED_EVENT = "entry-saved"

View = Callable[..., HttpResponse]


def in_practice_zone(view: View) -> View:
    """Read and show times in the practice's zone (put inside ``requires``)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with timezone.override(ZoneInfo(ctx_of(request).practice.timezone)):
            return view(request, *args, **kwargs)

    return wrapper


def is_htmx(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False))


def open_enrollments(patient: Patient) -> list[Enrollment]:
    return list(
        patient.enrollments.exclude(status=Enrollment.Status.ENDED).order_by("program", "-id")
    )


def entry_for(ctx: PracticeContext, entry_id: int) -> TimeEntry:
    """Return an entry of the caller's practice; another practice's looks missing (404)."""
    entry = (
        TimeEntry.objects.select_related("patient", "staff")
        .filter(practice=ctx.practice, pk=entry_id)
        .first()
    )
    if entry is None:
        raise Http404("No such time entry.")
    return entry


def own_timer(ctx: PracticeContext, timer_id: int) -> Timer:
    """Return the caller's own timer in this practice, else 404."""
    timer = (
        Timer.objects.select_related("patient")
        .filter(pk=timer_id, user=ctx.user, practice=ctx.practice)
        .first()
    )
    if timer is None:
        raise Http404("No such timer.")
    return timer


# --- the timer panel on the patient page -----------------------------------------------------


def _timer_context(
    request: HttpRequest,
    patient: Patient,
    *,
    stop_form: StopTimerForm | None = None,
    discard_form: DiscardTimerForm | None = None,
    start_error: str = "",
    note: str = "",
) -> dict[str, Any]:
    ctx = ctx_of(request)
    now = timezone.now()
    running = services.running_timer(ctx.user) if ctx.may("time.log") else None
    elsewhere = running is not None and running.practice_id != ctx.practice.pk
    idle_for = (now - running.last_activity_at).total_seconds() if running else 0
    # Fresh field ids on each render: htmx would otherwise "settle" attributes the browser put
    # on the old fields (autofill styles) onto the new ones, which the CSP blocks.
    auto_id = f"t{secrets.token_hex(3)}-%s"
    return {
        "patient": patient,
        "may_log_time": ctx.may("time.log"),
        "timer": None if elsewhere else running,
        "timer_elsewhere": elsewhere,
        "programs": program_choices(open_enrollments(patient)),
        "stop_form": stop_form or StopTimerForm(auto_id=auto_id),
        "discard_form": discard_form or DiscardTimerForm(auto_id=auto_id),
        "start_error": start_error,
        "note": note,
        "server_now": now,
        "idle_seconds": IDLE_SECONDS,
        "practice_zone": ctx.practice.timezone,
        "idle_now": idle_for >= IDLE_SECONDS,
    }


def _timer_answer(
    request: HttpRequest,
    patient: Patient,
    *,
    status: int = 200,
    saved: bool = False,
    note: str = "",
    **extra: Any,
) -> HttpResponse:
    """Answer a timer action: the panel for htmx, else the patient page (or the error page)."""
    if is_htmx(request):
        # htmx swaps only 2xx answers, so a form with errors comes back as 200.
        context = _timer_context(request, patient, note=note, **extra)
        response = render(request, "timelog/_timer.html", context)
        if saved:
            response["HX-Trigger"] = ENTRY_SAVED_EVENT
        return response
    if note:
        messages.success(request, note)
    if status >= 400:
        context = _timer_context(request, patient, **extra)
        return render(request, "timelog/timer_page.html", context, status=status)
    return redirect("patient-detail", patient_id=patient.pk)


@requires("patient.view")
@require_GET
@in_practice_zone
def timer_panel(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Show the caller's timer for this patient, or a start button per enrolled program."""
    patient = patient_for(ctx_of(request), patient_id, audit_view=False)
    context = _timer_context(request, patient)
    template = "timelog/_timer.html" if is_htmx(request) else "timelog/timer_page.html"
    return render(request, template, context)


@requires("time.log")
@require_POST
@in_practice_zone
def timer_start(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Start the caller's timer on this patient in one program."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    program = request.POST.get("program", "")
    try:
        services.start_timer(ctx=ctx, patient=patient, program=program, now=timezone.now())
    except ValidationError as error:
        message = " ".join(m for ms in error.message_dict.values() for m in ms)
        return _timer_answer(request, patient, status=422, start_error=message)
    return _timer_answer(request, patient)


@requires("time.log")
@require_POST
@in_practice_zone
def timer_touch(request: HttpRequest, timer_id: int) -> HttpResponse:
    """Record activity on a running timer (the idle prompt's "yes", and the page's heartbeat)."""
    ctx = ctx_of(request)
    timer = own_timer(ctx, timer_id)
    if timer.running:
        services.touch_timer(ctx=ctx, timer=timer, now=timezone.now())
    if "application/json" in request.headers.get("Accept", ""):
        return JsonResponse(
            {"running": timer.running, "last_activity_at": timer.last_activity_at.isoformat()}
        )
    return _timer_answer(request, timer.patient)


@requires("time.log")
@require_POST
@in_practice_zone
def timer_stop(request: HttpRequest, timer_id: int) -> HttpResponse:
    """Stop the timer and save its entry; ``trim`` ends it at the last activity."""
    ctx = ctx_of(request)
    timer = own_timer(ctx, timer_id)
    form = StopTimerForm(request.POST, auto_id=f"t{secrets.token_hex(3)}-%s")
    if form.is_valid():
        data = form.cleaned_data
        now = timezone.now()
        try:
            entry = services.stop_timer(
                ctx=ctx,
                timer=timer,
                kind=data["kind"],
                outcome=data["outcome"],
                summary=data["summary"],
                now=now,
                ended_at=timer.last_activity_at if data["trim"] else None,
            )
        except ValidationError as error:
            apply_service_errors(form, error, {"timer": "__all__", "ended_at": "__all__"})
        else:
            note = (
                f"Saved {entry.minutes} min: {entry.get_kind_display().lower()} ({entry.program})."
            )
            return _timer_answer(request, timer.patient, saved=True, note=note)
    return _timer_answer(request, timer.patient, status=422, stop_form=form)


@requires("time.log")
@require_POST
@in_practice_zone
def timer_discard(request: HttpRequest, timer_id: int) -> HttpResponse:
    """Stop the timer without logging time, with the reason."""
    ctx = ctx_of(request)
    timer = own_timer(ctx, timer_id)
    form = DiscardTimerForm(request.POST, auto_id=f"t{secrets.token_hex(3)}-%s")
    if form.is_valid():
        try:
            services.discard_timer(
                ctx=ctx, timer=timer, reason=form.cleaned_data["reason"], now=timezone.now()
            )
        except ValidationError as error:
            apply_service_errors(form, error, {"timer": "__all__"})
        else:
            note = "Timer discarded; no time was logged."
            return _timer_answer(request, timer.patient, note=note)
    return _timer_answer(request, timer.patient, status=422, discard_form=form)


# --- manual entries, history, amend, void ----------------------------------------------------


@requires("time.log")
@require_http_methods(["GET", "POST"])
@in_practice_zone
def entry_add(request: HttpRequest, patient_id: int) -> HttpResponse:
    """Log a contact after the fact (source: manual)."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=request.method == "GET")
    enrollments = list(patient.enrollments.order_by("program", "-started_on"))
    now = timezone.now()
    local_now = timezone.localtime(now).replace(second=0, microsecond=0, tzinfo=None)
    initial = {
        "started_at": local_now - timedelta(minutes=15),
        "program": request.GET.get("program"),
    }
    data = request.POST if request.method == "POST" else None
    form = ManualEntryForm(data, enrollments=enrollments, initial=initial)
    if request.method == "POST" and form.is_valid():
        cleaned = form.cleaned_data
        contact = services.Contact(
            program=cleaned["program"],
            kind=cleaned["kind"],
            outcome=cleaned["outcome"],
            started_at=cleaned["started_at"],
            ended_at=cleaned["ended_at"],
            summary=cleaned["summary"],
            source=Source.MANUAL,
            reason=cleaned["reason"],
        )
        try:
            entry = services.log_contact(ctx=ctx, patient=patient, contact=contact, now=now)
        except ValidationError as error:
            apply_service_errors(form, error, {"ended_at": form.end_field})
        else:
            late = " It is marked late." if entry.late else ""
            messages.success(request, f"Logged {entry.minutes} min of {entry.program}.{late}")
            return redirect("patient-detail", patient_id=patient.pk)
    status = 422 if form.is_bound and form.errors else 200
    return render(
        request,
        "timelog/entry_form.html",
        {"patient": patient, "form": form, "has_enrollment": bool(enrollments)},
        status=status,
    )


FIELD_LABELS = {
    "program": "Program",
    "kind": "Kind",
    "outcome": "Outcome",
    "started_at": "Started",
    "ended_at": "Ended",
    "seconds": "Duration",
    "summary": "Summary",
    "countable": "Countable",
    "not_countable_reason": "Not countable because",
    "late": "Late",
    "voided_at": "Voided",
    "void_reason": "Void reason",
}


@dataclass
class Version:
    """One stored version of an entry and what changed from the one before."""

    record: Any
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)

    @property
    def minutes(self) -> int:
        return int(self.record.seconds) // 60


def versions_of(entry: TimeEntry) -> list[Version]:
    """Return every version of an entry, oldest first, with the fields each one changed."""
    records = list(
        entry.history.select_related("history_user").order_by("history_date", "history_id")  # type: ignore[attr-defined]
    )
    out: list[Version] = []
    previous = None
    for record in records:
        version = Version(record)
        if previous is not None:
            for name, label in FIELD_LABELS.items():
                before, after = getattr(previous, name), getattr(record, name)
                if before != after:
                    version.changes.append((label, _shown(name, before), _shown(name, after)))
        out.append(version)
        previous = record
    return out


def _shown(name: str, value: Any) -> Any:
    if name == "seconds":
        return f"{value // 60} min {value % 60} s"
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value if value not in (None, "") else "—"


def _history_page(
    request: HttpRequest,
    entry: TimeEntry,
    *,
    void_form: VoidEntryForm | None = None,
    status: int = 200,
) -> HttpResponse:
    ctx = ctx_of(request)
    context = {
        "entry": entry,
        "patient": entry.patient,
        "versions": list(reversed(versions_of(entry))),
        "may_log_time": ctx.may("time.log"),
        "void_form": void_form or VoidEntryForm(),
    }
    return render(request, "timelog/entry_history.html", context, status=status)


@requires("patient.view")
@require_GET
@in_practice_zone
def entry_history(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Show an entry and every version of it: who, when, why and what changed."""
    ctx = ctx_of(request)
    entry = entry_for(ctx, entry_id)
    patient_for(ctx, entry.patient_id)
    return _history_page(request, entry)


@requires("time.log")
@require_http_methods(["GET", "POST"])
@in_practice_zone
def entry_amend(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Amend an entry; the old version stays in its history with who, when and why."""
    ctx = ctx_of(request)
    entry = entry_for(ctx, entry_id)
    patient = patient_for(ctx, entry.patient_id, audit_view=request.method == "GET")
    if entry.voided:
        messages.error(request, "A voided entry cannot be amended.")
        return redirect("entry-history", entry_id=entry.pk)
    enrollments = list(patient.enrollments.order_by("program", "-started_on"))
    initial = {
        "program": entry.program,
        "kind": entry.kind,
        "outcome": entry.outcome,
        "started_at": timezone.localtime(entry.started_at).replace(tzinfo=None),
        "ended_at": timezone.localtime(entry.ended_at).replace(tzinfo=None),
        "summary": entry.summary,
    }
    data = request.POST if request.method == "POST" else None
    form = AmendEntryForm(data, entry=entry, enrollments=enrollments, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.amend_entry(
                ctx=ctx,
                entry=entry,
                changes=form.changes(entry),
                reason=form.cleaned_data["reason"],
                now=timezone.now(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Entry amended; version {entry.version} is current.")
            return redirect("entry-history", entry_id=entry.pk)
    status = 422 if form.is_bound and form.errors else 200
    return render(
        request,
        "timelog/entry_amend.html",
        {"entry": entry, "patient": patient, "form": form},
        status=status,
    )


@requires("time.log")
@require_POST
@in_practice_zone
def entry_void(request: HttpRequest, entry_id: int) -> HttpResponse:
    """Void a mistaken entry: it stays on record, stops counting, and says why."""
    ctx = ctx_of(request)
    entry = entry_for(ctx, entry_id)
    patient_for(ctx, entry.patient_id, audit_view=False)
    form = VoidEntryForm(request.POST)
    if form.is_valid():
        try:
            services.void_entry(
                ctx=ctx, entry=entry, reason=form.cleaned_data["reason"], now=timezone.now()
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Entry voided; it stays on record and no longer counts.")
            return redirect("entry-history", entry_id=entry.pk)
    return _history_page(request, entry, void_form=form, status=422)


# --- my day ----------------------------------------------------------------------------------


@dataclass
class PatientDay:
    patient: Patient
    seconds: int = 0
    countable_seconds: int = 0
    entries: int = 0

    @property
    def minutes(self) -> int:
        return self.seconds // 60

    @property
    def countable_minutes(self) -> int:
        return self.countable_seconds // 60


def day_entries(ctx: PracticeContext, user: User, day: date) -> QuerySet[TimeEntry]:
    """Return the user's entries in this practice that start on the practice-local ``day``."""
    tz = ZoneInfo(ctx.practice.timezone)
    starts = datetime.combine(day, time.min, tzinfo=tz)
    ends = datetime.combine(day + timedelta(days=1), time.min, tzinfo=tz)
    return (
        TimeEntry.objects.filter(
            practice=ctx.practice, staff=user, started_at__gte=starts, started_at__lt=ends
        )
        .select_related("patient")
        .order_by("started_at", "id")
    )


@requires("time.log")
@require_GET
@in_practice_zone
def my_day(request: HttpRequest) -> HttpResponse:
    """List the signed-in user's entries of a local day, their totals and the patients touched."""
    ctx = ctx_of(request)
    now = timezone.now()
    today = local_today(ctx.practice, now)
    try:
        day = date.fromisoformat(request.GET.get("day", "")) if request.GET.get("day") else today
    except ValueError:
        day = today
    day = min(day, today)
    entries = list(day_entries(ctx, ctx.user, day))
    live = [e for e in entries if not e.voided]
    patients: dict[int, PatientDay] = {}
    for entry in live:
        row = patients.setdefault(entry.patient_id, PatientDay(entry.patient))
        row.seconds += entry.seconds
        row.countable_seconds += entry.seconds if entry.countable else 0
        row.entries += 1
    record_event(
        "timeentry.day_viewed",
        actor=ctx.user,
        practice=ctx.practice,
        source_ip=ctx.source_ip,
        details={"day": day.isoformat(), "entries": len(entries)},
        now=now,
    )
    running = services.running_timer(ctx.user)
    context = {
        "day": day,
        "today": today,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1) if day < today else None,
        "entries": entries,
        "patients": sorted(patients.values(), key=lambda p: -p.seconds),
        "total_minutes": sum(e.seconds for e in live) // 60,
        "countable_minutes": sum(e.seconds for e in live if e.countable) // 60,
        "timer": running if running and running.practice_id == ctx.practice.pk else None,
        "my_day_url": reverse("my-day"),
    }
    return render(request, "timelog/my_day.html", context)

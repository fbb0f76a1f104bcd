"""Time entries (log, amend, void, history) and the live patient month."""

from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from pydantic import Field

from careledger.accounts.access import PracticeContext, ctx_of
from careledger.api.auth import api_permission
from careledger.api.patients import ERRORS
from careledger.audit.services import record_event
from careledger.billing.facts import evaluate_patient_month
from careledger.billing.months import parse_month
from careledger.lib.localtime import local_today
from careledger.patients.access import patient_for
from careledger.patients.models import Program
from careledger.timelog import services
from careledger.timelog.models import Kind, Outcome, Source, TimeEntry

router = Router(tags=["time"])


class TimeEntryIn(Schema):
    patient_id: int
    program: Program
    kind: Kind
    outcome: Outcome
    started_at: datetime
    ended_at: datetime
    summary: str = Field("", max_length=10000)
    reason: str = Field("", max_length=500, description="required for late entries")


class TimeEntryPatch(Schema):
    program: Program | None = None
    kind: Kind | None = None
    outcome: Outcome | None = None
    started_at: datetime | None = None
    ended_at: datetime | None = None
    summary: str | None = Field(None, max_length=10000)
    reason: str = Field(..., min_length=1, max_length=500)


class VoidIn(Schema):
    reason: str = Field(..., min_length=1, max_length=500)


class TimeEntryOut(Schema):
    id: int
    patient_id: int
    program: str
    staff: str
    credential: str
    rule_class: str
    kind: str
    outcome: str
    started_at: datetime
    ended_at: datetime
    minutes: int
    seconds: int
    summary: str
    source: str
    interactive: bool
    countable: bool
    not_countable_reason: str
    late: bool
    late_reason: str
    voided: bool
    void_reason: str
    version: int

    @staticmethod
    def resolve_staff(obj: TimeEntry) -> str:
        return obj.staff.get_username()


class TimeEntryList(Schema):
    items: list[TimeEntryOut]
    count: int


class TimeEntryVersionOut(Schema):
    version: int
    recorded_at: datetime
    recorded_by: str | None
    reason: str
    program: str
    kind: str
    outcome: str
    started_at: datetime
    ended_at: datetime
    minutes: int
    summary: str
    countable: bool
    voided: bool


class TimeEntryHistory(Schema):
    items: list[TimeEntryVersionOut]
    count: int


def _entry_for(ctx: PracticeContext, entry_id: int) -> TimeEntry:
    entry = (
        TimeEntry.objects.select_related("patient", "staff")
        .filter(practice=ctx.practice, pk=entry_id)
        .first()
    )
    if entry is None:
        raise Http404("No such time entry.")
    return entry


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.tzinfo is None:
        raise ValidationError(
            {name: ["Give the time with its UTC offset, e.g. 2026-04-06T10:00:00-05:00."]}
        )


@router.post("/time-entries", response={201: TimeEntryOut, **ERRORS})
@api_permission("time.log")
def create_time_entry(request: HttpRequest, payload: TimeEntryIn) -> Status[TimeEntry]:
    """Log a contact; entries over 48 h late or in a locked month need `reason`."""
    ctx = ctx_of(request)
    _aware("started_at", payload.started_at)
    _aware("ended_at", payload.ended_at)
    patient = patient_for(ctx, payload.patient_id, audit_view=False)
    contact = services.Contact(
        program=payload.program,
        kind=payload.kind,
        outcome=payload.outcome,
        started_at=payload.started_at,
        ended_at=payload.ended_at,
        summary=payload.summary,
        source=Source.API,
        reason=payload.reason,
    )
    entry = services.log_contact(ctx=ctx, patient=patient, contact=contact, now=timezone.now())
    return Status(201, entry)


@router.get("/time-entries", response={200: TimeEntryList, **ERRORS})
@api_permission("patient.view")
def list_time_entries(
    request: HttpRequest, patient_id: int, month: str | None = None
) -> dict[str, Any]:
    """List a patient's entries, optionally for one local month (YYYY-MM)."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id)
    qs = TimeEntry.objects.filter(patient=patient).select_related("staff")
    if month:
        try:
            bounds = parse_month(month, ctx.practice.timezone)
        except ValueError as exc:
            raise ValidationError({"month": [str(exc)]}) from None
        qs = qs.filter(started_at__lt=bounds.ends_at, ended_at__gt=bounds.starts_at)
    items = list(qs.order_by("started_at", "id"))
    return {"items": items, "count": len(items)}


@router.get("/time-entries/{entry_id}", response={200: TimeEntryOut, **ERRORS})
@api_permission("patient.view")
def get_time_entry(request: HttpRequest, entry_id: int) -> TimeEntry:
    """Return one entry of the practice."""
    ctx = ctx_of(request)
    entry = _entry_for(ctx, entry_id)
    patient_for(ctx, entry.patient_id)
    return entry


@router.patch("/time-entries/{entry_id}", response={200: TimeEntryOut, **ERRORS})
@api_permission("time.log")
def amend_time_entry(request: HttpRequest, entry_id: int, payload: TimeEntryPatch) -> TimeEntry:
    """Amend an entry; the previous version stays in its history with who, when and why."""
    ctx = ctx_of(request)
    entry = _entry_for(ctx, entry_id)
    changes = payload.dict(exclude={"reason"}, exclude_none=True)
    for name in ("started_at", "ended_at"):
        _aware(name, changes.get(name))
    return services.amend_entry(
        ctx=ctx, entry=entry, changes=changes, reason=payload.reason, now=timezone.now()
    )


@router.post("/time-entries/{entry_id}/void", response={200: TimeEntryOut, **ERRORS})
@api_permission("time.log")
def void_time_entry(request: HttpRequest, entry_id: int, payload: VoidIn) -> TimeEntry:
    """Void a mistaken entry: it stays on record and stops counting."""
    ctx = ctx_of(request)
    entry = _entry_for(ctx, entry_id)
    return services.void_entry(ctx=ctx, entry=entry, reason=payload.reason, now=timezone.now())


@router.get("/time-entries/{entry_id}/history", response={200: TimeEntryHistory, **ERRORS})
@api_permission("patient.view")
def time_entry_history(request: HttpRequest, entry_id: int) -> dict[str, Any]:
    """List every version of an entry, oldest first, with who recorded it and why."""
    ctx = ctx_of(request)
    entry = _entry_for(ctx, entry_id)
    patient_for(ctx, entry.patient_id)
    versions = entry.history.select_related("history_user").order_by("history_date", "history_id")  # type: ignore[attr-defined]
    items = [
        {
            "version": v.version,
            "recorded_at": v.history_date,
            "recorded_by": v.history_user.get_username() if v.history_user else None,
            "reason": v.history_change_reason or "",
            "program": v.program,
            "kind": v.kind,
            "outcome": v.outcome,
            "started_at": v.started_at,
            "ended_at": v.ended_at,
            "minutes": v.seconds // 60,
            "summary": v.summary,
            "countable": v.countable,
            "voided": v.voided_at is not None,
        }
        for v in versions
    ]
    return {"items": items, "count": len(items)}


class NextThresholdOut(Schema):
    code: str
    minutes_needed: int | None = None
    reading_days_needed: int | None = None


class ProgramMonthOut(Schema):
    minutes: int
    interactive_contact: bool
    reading_days: int | None = None
    next_threshold: NextThresholdOut | None = None
    next_device_threshold: NextThresholdOut | None = None
    entry_ids: list[int] = []


class LineOut(Schema):
    code: str
    units: int
    dos: date
    program: str
    evidence: list[str]


class FlagOut(Schema):
    code: str
    program: str | None = None
    message: str
    rule: str


class DecisionOut(Schema):
    lines: list[LineOut]
    flags: list[FlagOut]
    rule_sets: list[str]


class PatientMonthOut(Schema):
    patient_id: int
    month: str
    as_of: date
    programs: dict[str, ProgramMonthOut]
    decision: DecisionOut


class MonthQuery(Schema):
    as_of: date | None = Field(None, description="local date; default today in the practice's zone")


@router.get("/patients/{patient_id}/months/{month}", response={200: PatientMonthOut, **ERRORS})
@api_permission("patient.view")
def patient_month(
    request: HttpRequest, patient_id: int, month: str, query: Query[MonthQuery]
) -> dict[str, Any]:
    """Show a patient-month: minutes, live contact, reading days, next threshold, the decision.

    The decision comes from the same engine as the month close. `as_of` counts only entries and
    readings up to the end of that local day.
    """
    ctx = ctx_of(request)
    try:
        bounds = parse_month(month, ctx.practice.timezone)
    except ValueError as exc:
        raise ValidationError({"month": [str(exc)]}) from None
    patient = patient_for(ctx, patient_id, audit_view=False)
    now = timezone.now()
    as_of = query.as_of or local_today(ctx.practice, now)
    view = evaluate_patient_month(
        patient=patient, month=bounds, as_of=as_of, setting=ctx.practice.setting
    )
    record_event(
        "month.viewed",
        actor=ctx.user,
        practice=ctx.practice,
        patient_id=patient.pk,
        obj=patient,
        source_ip=ctx.source_ip,
        details={"month": bounds.label, "as_of": as_of.isoformat()},
        now=now,
    )
    return {
        "patient_id": patient.pk,
        "month": bounds.label,
        "as_of": as_of,
        "programs": view.programs,
        "decision": {"lines": view.lines, "flags": view.flags, "rule_sets": view.rule_sets},
    }

"""Devices, readings, the vendor webhook and alerts."""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema, Status
from ninja.errors import HttpError
from pydantic import Field

from careledger.accounts.access import ctx_of, public
from careledger.api.auth import api_permission
from careledger.api.patients import ERRORS
from careledger.audit.services import client_ip, record_event
from careledger.devices import alerts as alert_services
from careledger.devices import services, webhooks
from careledger.devices.ingest import MAX_BATCH, ingest_readings
from careledger.devices.models import Alert, Device, DeviceType, Reading, Via
from careledger.devices.permissions import (
    ALERT_VIEW,
    ALERT_WORK,
    DEVICE_EDIT,
    DEVICE_VIEW,
    READING_EXCLUDE,
    READING_POST,
)
from careledger.devices.selectors import alerts_of, devices_of
from careledger.patients.access import patient_for

router = Router(tags=["devices"])


class DeviceOut(Schema):
    id: int
    type: str
    vendor: str
    serial: str
    program: str
    model_name: str
    fda_cleared: bool
    assigned_on: date
    returned_on: date | None

    @staticmethod
    def resolve_vendor(obj: Device) -> str:
        return obj.vendor.slug


class DeviceList(Schema):
    items: list[DeviceOut]
    count: int


class DeviceIn(Schema):
    program: str = Field(description="RPM or RTM")
    type: DeviceType
    vendor: str = Field(max_length=60, description="the vendor's slug")
    serial: str = Field(min_length=1, max_length=64, description="serial number or IMEI")
    assigned_on: date
    fda_cleared: bool = True
    model_name: str = Field("", max_length=100)


class ReturnIn(Schema):
    returned_on: date


@router.get("/patients/{patient_id}/devices", response={200: DeviceList, **ERRORS})
@api_permission(DEVICE_VIEW)
def list_devices(request: HttpRequest, patient_id: int) -> dict[str, Any]:
    """List the patient's devices, current and returned."""
    patient = patient_for(ctx_of(request), patient_id)
    items = list(devices_of(patient))
    return {"items": items, "count": len(items)}


@router.post("/patients/{patient_id}/devices", response={201: DeviceOut, **ERRORS})
@api_permission(DEVICE_EDIT)
def assign_device(request: HttpRequest, patient_id: int, payload: DeviceIn) -> Status[Device]:
    """Assign a device to the patient; a serial still with another patient gets 422."""
    ctx = ctx_of(request)
    patient = patient_for(ctx, patient_id, audit_view=False)
    device = services.assign_device(
        ctx=ctx,
        patient=patient,
        assignment=services.Assignment(**payload.dict()),
        now=timezone.now(),
    )
    return Status(201, device)


@router.post("/devices/{device_id}/return", response={200: DeviceOut, **ERRORS})
@api_permission(DEVICE_EDIT)
def return_device(request: HttpRequest, device_id: int, payload: ReturnIn) -> Device:
    """Record the device's return; its serial may then be assigned again."""
    ctx = ctx_of(request)
    device = Device.objects.select_related("vendor").filter(pk=device_id, practice=ctx.practice)
    found = device.first()
    if found is None:
        raise HttpError(404, "No such device.")
    return services.return_device(
        ctx=ctx, device=found, returned_on=payload.returned_on, now=timezone.now()
    )


class ReadingsIn(Schema):
    readings: list[Any] = Field(
        description="Each reading: device_id or device_serial, vendor_reading_id, measured_at "
        "(ISO 8601 with offset), type (blood_pressure: systolic, diastolic[, pulse]; glucose: "
        "value[, fasting]; weight: value; spo2: value[, pulse]; spirometry: value = FEV1 in L"
        "[, pef]), unit (UCUM: mm[Hg], mg/dL, mmol/L, [lb_av], kg, %, L) and source "
        "(automatic or manual). Each is checked on its own."
    )


class ReadingError(Schema):
    index: int
    field: str
    reason: str


class IngestOut(Schema):
    stored: int
    duplicates: int
    errors: list[ReadingError]


def _ingest(request: HttpRequest, items: list[Any]) -> dict[str, Any]:
    if len(items) > MAX_BATCH:
        raise HttpError(413, f"Send at most {MAX_BATCH} readings per request.")
    ctx = ctx_of(request)
    result = ingest_readings(
        practice=ctx.practice,
        items=items,
        via=Via.API,
        actor=ctx.user,
        source_ip=ctx.source_ip,
        now=timezone.now(),
    )
    return result.as_dict()


@router.post("/readings", response={200: IngestOut, 413: Any, **ERRORS})
@api_permission(READING_POST)
def post_readings(request: HttpRequest, payload: ReadingsIn) -> dict[str, Any]:
    """Store readings: each is stored, a duplicate, or refused with its index, field and reason.

    `stored + duplicates + len(errors)` equals the number of readings sent.
    """
    return _ingest(request, payload.readings)


class ReadingOut(Schema):
    id: int
    device_id: int
    program: str
    type: str
    vendor_reading_id: str
    measured_at: datetime
    received_at: datetime
    source: str
    systolic: float | None
    diastolic: float | None
    pulse: float | None
    value: float | None
    unit: str
    fasting: bool | None
    pef: float | None
    original_value: float | None
    original_unit: str
    excluded_at: datetime | None
    excluded_reason: str


class ReadingList(Schema):
    items: list[ReadingOut]
    count: int


class ReadingFilters(Schema):
    since: date | None = None
    until: date | None = None
    type: str | None = None


@router.get("/patients/{patient_id}/readings", response={200: ReadingList, **ERRORS})
@api_permission(DEVICE_VIEW)
def list_readings(
    request: HttpRequest, patient_id: int, filters: Query[ReadingFilters]
) -> dict[str, Any]:
    """List the patient's readings, newest first, excluded ones included and marked."""
    patient = patient_for(ctx_of(request), patient_id)
    qs = Reading.objects.filter(patient=patient)
    if filters.since:
        qs = qs.filter(measured_on__gte=filters.since)
    if filters.until:
        qs = qs.filter(measured_on__lte=filters.until)
    if filters.type:
        qs = qs.filter(type=filters.type)
    items = list(qs.order_by("-measured_at", "-id")[:5000])
    return {"items": items, "count": len(items)}


class ExcludeIn(Schema):
    reason: str = Field(min_length=1, max_length=500)


@router.post("/readings/{reading_id}/exclude", response={200: ReadingOut, **ERRORS})
@api_permission(READING_EXCLUDE)
def exclude_reading(request: HttpRequest, reading_id: int, payload: ExcludeIn) -> Reading:
    """Exclude a wrong reading with the reason: it stays stored and stops counting."""
    return services.exclude_reading(
        ctx=ctx_of(request), reading_id=reading_id, reason=payload.reason, now=timezone.now()
    )


@router.post(
    "/webhooks/{vendor}/readings",
    auth=None,
    response={200: IngestOut, 401: Any, 413: Any, 422: Any},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ReadingsIn.model_json_schema()}},
        },
        "parameters": [
            {
                "name": "X-Careledger-Timestamp",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": "Unix seconds",
            },
            {
                "name": "X-Careledger-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
                "description": 'sha256=<hex HMAC-SHA256 of timestamp + "." + raw body>',
            },
        ],
    },
)
@public
def vendor_webhook(request: HttpRequest, vendor: str) -> Any:
    """Receive a vendor's signed batch: 401 for a bad, stale or replayed signature."""
    now = timezone.now()
    if len(request.body) > 5 * 1024 * 1024:
        raise HttpError(413, "The body is larger than 5 MB; send smaller batches.")
    try:
        delivery = webhooks.receive(
            slug=vendor,
            timestamp=request.headers.get("X-Careledger-Timestamp"),
            signature=request.headers.get("X-Careledger-Signature"),
            body=request.body,
            source_ip=client_ip(request),
            now=now,
        )
    except webhooks.Refused:
        raise HttpError(401, "The signature was refused.") from None
    except webhooks.NotABatch as exc:
        from django.core.exceptions import ValidationError

        raise ValidationError({"readings": [str(exc)]}) from None
    return delivery.result.as_dict()


class AlertOut(Schema):
    id: int
    patient_id: int
    program: str
    kind: str
    severity: str
    status: str
    message: str
    threshold_source: str
    reading_id: int | None
    reading_count: int
    measured_at: datetime | None
    opened_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str
    time_entry_id: int | None

    @staticmethod
    def resolve_acknowledged_by(obj: Alert) -> str | None:
        return obj.acknowledged_by.get_username() if obj.acknowledged_by else None

    @staticmethod
    def resolve_resolved_by(obj: Alert) -> str | None:
        return obj.resolved_by.get_username() if obj.resolved_by else None


class AlertList(Schema):
    items: list[AlertOut]
    count: int


class AlertFilters(Schema):
    patient_id: int | None = None
    status: Alert.Status | None = Field(None, description="`open` keeps open and acknowledged")


@router.get("/alerts", response={200: AlertList, **ERRORS})
@api_permission(ALERT_VIEW)
def list_alerts(request: HttpRequest, filters: Query[AlertFilters]) -> dict[str, Any]:
    """List the practice's alerts, newest first."""
    ctx = ctx_of(request)
    if filters.patient_id is not None:
        patient_for(ctx, filters.patient_id, audit_view=False)
    items = list(
        alerts_of(
            ctx.practice, patient_id=filters.patient_id, status=filters.status or ""
        ).order_by("-opened_at", "-id")[:1000]
    )
    record_event(
        "alert.list_viewed",
        actor=ctx.user,
        practice=ctx.practice,
        patient_id=filters.patient_id,
        source_ip=ctx.source_ip,
        details={"count": len(items), "status": filters.status or "", "via": "api"},
    )
    return {"items": items, "count": len(items)}


class CallIn(Schema):
    started_at: datetime
    ended_at: datetime
    summary: str = Field(max_length=5000)
    kind: str = "interactive_call"
    outcome: str = "reached"


class ResolveIn(Schema):
    note: str = Field(min_length=1, max_length=5000)
    call: CallIn | None = Field(None, description="log the call as a time entry in the same step")


def _alert(ctx_request: HttpRequest, alert: Alert) -> Alert:
    return alerts_of(ctx_of(ctx_request).practice).get(pk=alert.pk)


@router.post("/alerts/{alert_id}/acknowledge", response={200: AlertOut, **ERRORS})
@api_permission(ALERT_WORK)
def acknowledge_alert(request: HttpRequest, alert_id: int) -> Alert:
    """Acknowledge an open alert."""
    alert = alert_services.acknowledge_alert(
        ctx=ctx_of(request), alert_id=alert_id, now=timezone.now()
    )
    return _alert(request, alert)


@router.post("/alerts/{alert_id}/resolve", response={200: AlertOut, **ERRORS})
@api_permission(ALERT_WORK)
def resolve_alert(request: HttpRequest, alert_id: int, payload: ResolveIn) -> Alert:
    """Resolve an alert with a note, optionally logging the call as a time entry."""
    call = None
    if payload.call is not None:
        call = alert_services.Call(**payload.call.dict())
    alert = alert_services.resolve_alert(
        ctx=ctx_of(request), alert_id=alert_id, note=payload.note, call=call, now=timezone.now()
    )
    return _alert(request, alert)

"""Register vendors, assign and return devices, exclude readings; each write is audited."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Practice
from careledger.audit.services import record_event
from careledger.devices.models import Device, DeviceType, Reading, Vendor
from careledger.patients.models import DEVICE_PROGRAMS, Patient


def create_vendor(
    *, practice: Practice, slug: str, name: str, now: datetime, secret: str | None = None
) -> Vendor:
    """Register a vendor integration for the practice; the secret signs its webhook calls."""
    with transaction.atomic():
        vendor = Vendor.objects.create(
            practice=practice,
            slug=slug,
            name=name or slug,
            webhook_secret=secret or secrets.token_urlsafe(32),
            created_at=now,
        )
        record_event(
            "webhook.vendor_registered",
            actor=None,
            practice=practice,
            obj=vendor,
            details={"vendor": slug},
            now=now,
        )
    return vendor


@dataclass(frozen=True)
class Assignment:
    """A device handed to a patient."""

    program: str
    type: str
    vendor: str
    serial: str
    assigned_on: date
    fda_cleared: bool = True
    model_name: str = ""


def assign_device(
    *, ctx: PracticeContext, patient: Patient, assignment: Assignment, now: datetime
) -> Device:
    """Assign a device to the patient; a serial still with another patient is refused."""
    errors: dict[str, list[str]] = {}
    if assignment.program not in DEVICE_PROGRAMS:
        errors["program"] = ["Devices belong to RPM or RTM."]
    if assignment.type not in DeviceType.values:
        errors["type"] = [f"Choose one of: {', '.join(DeviceType.values)}."]
    serial = assignment.serial.strip()
    if not serial:
        errors["serial"] = ["Give the serial number or IMEI."]
    vendor = Vendor.objects.filter(practice=ctx.practice, slug=assignment.vendor).first()
    if vendor is None:
        errors["vendor"] = ["No such vendor in this practice."]
    if errors or vendor is None:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            device = Device.objects.create(
                practice=ctx.practice,
                patient=patient,
                program=assignment.program,
                type=assignment.type,
                vendor=vendor,
                serial=serial,
                model_name=assignment.model_name,
                fda_cleared=assignment.fda_cleared,
                assigned_on=assignment.assigned_on,
                created_at=now,
            )
            record_event(
                "device.assigned",
                actor=ctx.user,
                practice=ctx.practice,
                patient_id=patient.pk,
                obj=device,
                source_ip=ctx.source_ip,
                details={"type": device.type, "serial": serial, "program": device.program},
                now=now,
            )
    except IntegrityError:
        raise ValidationError(
            {"serial": ["This serial is still assigned to a patient; return it first."]}
        ) from None
    return device


def return_device(
    *, ctx: PracticeContext, device: Device, returned_on: date, now: datetime
) -> Device:
    """Record that the device came back; its serial may then go to another patient."""
    if device.returned_on is not None:
        raise ValidationError({"returned_on": ["The device was already returned."]})
    if returned_on < device.assigned_on:
        raise ValidationError({"returned_on": ["A device cannot come back before it went out."]})
    with transaction.atomic():
        device.returned_on = returned_on
        device.save(update_fields=["returned_on"])
        record_event(
            "device.returned",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=device.patient_id,
            obj=device,
            source_ip=ctx.source_ip,
            details={"returned_on": returned_on.isoformat()},
            now=now,
        )
    return device


def exclude_reading(
    *, ctx: PracticeContext, reading_id: int, reason: str, now: datetime
) -> Reading:
    """Exclude a wrong reading: it stays stored, stops counting, and says who, when and why."""
    from django.http import Http404

    if not reason.strip():
        raise ValidationError({"reason": ["Say why the reading is excluded."]})
    with transaction.atomic():
        reading = (
            Reading.objects.select_for_update().filter(pk=reading_id, practice=ctx.practice).first()
        )
        if reading is None:
            raise Http404("No such reading.")
        if reading.excluded_at is not None:
            raise ValidationError({"reason": ["The reading is already excluded."]})
        Reading.objects.filter(pk=reading.pk).update(
            excluded_at=now, excluded_reason=reason.strip()[:500], excluded_by=ctx.user
        )
        reading.refresh_from_db()
        record_event(
            "reading.excluded",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=reading.patient_id,
            obj=reading,
            source_ip=ctx.source_ip,
            details={"reason": reason.strip()[:200], "measured_on": str(reading.measured_on)},
            now=now,
        )
    return reading

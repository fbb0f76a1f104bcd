"""The demo's devices and readings: every reading-day state, billed and alerting, audited."""

from __future__ import annotations

import hashlib
import io
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import transaction

from careledger.audit.models import AuditEvent
from careledger.billing.facts import evaluate_patient_month
from careledger.billing.months import parse_month
from careledger.demo.plan import first_demo_month
from careledger.devices.models import Alert, Device, Reading
from careledger.devices.selectors import current_period, period_progress
from careledger.patients.models import Enrollment, Patient

TODAY = date(2026, 3, 16)
NOW = datetime.combine(TODAY, time(17, 0), tzinfo=UTC)  # the command's "now" with --today
PREVIOUS_MONTH = "2026-02"

pytestmark = pytest.mark.django_db


def run_demo(*args: str) -> str:
    err = io.StringIO()
    call_command("demo", *args, "--today", TODAY.isoformat(), stdout=io.StringIO(), stderr=err)
    return err.getvalue()


def readings_fingerprint() -> str:
    rows = Reading.objects.order_by("device__serial", "measured_at").values_list(
        "device__serial",
        "device__type",
        "device__assigned_on",
        "vendor_reading_id",
        "measured_at",
        "received_at",
        "systolic",
        "diastolic",
        "pulse",
        "value",
        "fasting",
    )
    return hashlib.sha256("\n".join(map(str, rows)).encode()).hexdigest()


def previous_month_codes(patient: Patient) -> tuple[set[str], set[str]]:
    view = evaluate_patient_month(
        patient=patient,
        month=parse_month(PREVIOUS_MONTH, patient.practice.timezone),
        as_of=TODAY,
        setting="physician_office",
    )
    return {str(line["code"]) for line in view.lines}, {str(f["code"]) for f in view.flags}


@pytest.mark.parametrize("patients", [30, 200])
def test_every_reading_day_state_exists_in_riversides_rpm_panel(patients: int) -> None:
    run_demo("--patients", str(patients))
    rpm = Enrollment.objects.filter(
        patient__practice__slug="riverside", program="RPM", status="active"
    ).order_by("patient_id")
    anchor = rpm.first()
    assert anchor is not None
    cuff = Device.objects.get(patient=anchor.patient)
    assert cuff.type == "blood_pressure" and cuff.assigned_on < first_demo_month(TODAY)
    assert cuff.fda_cleared and cuff.returned_on is None

    monitored = Patient.objects.filter(pk__in=rpm.values("patient_id")).select_related("practice")
    codes: Counter[str] = Counter()
    below_minimum = 0
    states: Counter[str] = Counter()
    for patient in monitored:
        lines, flags = previous_month_codes(patient)
        codes.update(lines)
        below_minimum += "DEVICE_DAYS_BELOW_MINIMUM" in flags
        period = current_period(patient, "RPM", TODAY)
        assert period is not None, patient.mrn
        progress = period_progress(period, TODAY)
        if progress.days >= 16:
            states["16 reached"] += 1
        elif progress.reaches_16 and not progress.needs_every_day:
            states["16 still reachable"] += 1
    # Most periods reach 16 days (99454); some stay at 2-15 (99445); one has a single day.
    assert codes["99454"] > codes["99445"] >= 1
    assert below_minimum >= 1
    assert states["16 reached"] >= 1 and states["16 still reachable"] >= 1
    assert previous_month_codes(anchor.patient)[0] >= {"99454"}

    types = Counter(Device.objects.values_list("type", flat=True))
    assert types["blood_pressure"] > types["glucose"] + types["weight"]
    assert types["glucose"] >= 1 and types["weight"] >= 1
    serials = list(Device.objects.values_list("serial", flat=True))
    assert len(serials) == len(set(serials))
    assert Device.objects.filter(patient__practice__slug="lakeside").exists()

    alerts = Alert.objects.filter(practice__slug="riverside", status="open")
    assert alerts.filter(severity="critical").count() == 1
    assert alerts.filter(severity="warning").exists()


def test_readings_are_automatic_taken_at_home_never_in_the_future_and_received_minutes_later() -> (
    None
):
    run_demo("--patients", "30")
    readings = list(Reading.objects.select_related("practice", "device"))
    assert len(readings) > 300
    first = first_demo_month(TODAY)
    for reading in readings:
        lag = reading.received_at - reading.measured_at
        assert timedelta(minutes=1) < lag <= timedelta(minutes=10)
        assert reading.received_at <= NOW
        assert first <= reading.measured_on <= TODAY
        assert reading.measured_on >= reading.device.assigned_on
        local = reading.measured_at.astimezone(ZoneInfo(reading.practice.timezone))
        assert time(6) <= local.time() <= time(21)
        assert reading.source == "automatic" and not reading.late and not reading.excluded
    months = {r.measured_on.replace(day=1) for r in readings}
    assert months == {first, date(2026, 2, 1), date(2026, 3, 1)}
    received = AuditEvent.objects.filter(event="reading.received")
    assert sum(e.details["stored"] for e in received) == len(readings)
    assert AuditEvent.objects.filter(event="device.assigned").count() == Device.objects.count()
    assert AuditEvent.objects.filter(event="webhook.vendor_registered").count() == 2


def test_a_second_run_adds_no_device_reading_or_alert() -> None:
    run_demo("--patients", "30")
    counts = (Device.objects.count(), Reading.objects.count(), Alert.objects.count())
    assert "already loaded" in run_demo("--patients", "30")
    assert (Device.objects.count(), Reading.objects.count(), Alert.objects.count()) == counts


def test_the_same_seed_loads_the_same_devices_and_readings() -> None:
    with transaction.atomic():
        run_demo("--patients", "30", "--seed", "3")
        first = readings_fingerprint()
        transaction.set_rollback(True)
    assert not Reading.objects.exists()
    run_demo("--patients", "30", "--seed", "3")
    assert readings_fingerprint() == first

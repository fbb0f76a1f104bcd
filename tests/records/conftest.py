"""A patient with at least one record in every section of the right-of-access export."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from careledger.billing.models import Amendment, BillingLine, BillingMonth, PatientMonth
from careledger.careplans import services as careplans
from careledger.careplans.models import AcuteEvent
from careledger.devices.models import Alert, Device, Reading, ReadingBatch, Vendor
from careledger.patients.models import Patient, Visit
from careledger.programs.models import (
    BhiElementsRecord,
    CocmEpisode,
    ComplexCcmRecord,
    OtherClaim,
    RatingScale,
    SetupEvent,
)
from tests.careplans.conftest import LONG_AGO, add_conditions, complete_content, publish_signed
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory, log_minutes

NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)
ON = date(2026, 3, 2)


@pytest.fixture
def full_patient(world: PracticeWorld) -> Patient:
    """Seed ``world.patient`` with a record of every kind the export covers."""
    patient = world.patient
    practice = world.practice
    coordinator = world.user("coordinator")
    practitioner = world.user("practitioner")
    manager = world.user("manager")
    patient.phone = "312-555-0100"
    patient.save()  # a second demographic version in the history

    conditions = list(add_conditions(world))
    Visit.objects.create(
        patient=patient, practitioner=practitioner, visited_on=ON, kind="em", created_at=NOW
    )
    enrollment = EnrollmentFactory(
        patient=patient, program="RPM", billing_practitioner=practitioner, ordered_on=ON
    )
    enrollment.consent_obtained_by = coordinator
    enrollment.save()

    entry = log_minutes(enrollment, 22, start=NOW - timedelta(days=3), staff=coordinator)
    entry.summary = "Reviewed home readings; medication adherence discussed."  # type: ignore[attr-defined]
    entry.version = 2  # type: ignore[attr-defined]
    entry._change_reason = "Summary completed"  # type: ignore[attr-defined]
    entry.save()  # type: ignore[attr-defined]

    plan = careplans.start_plan(
        ctx=world.ctx("coordinator"), patient=patient, kind="comprehensive", now=LONG_AGO
    )
    plan = careplans.save_draft(
        ctx=world.ctx("coordinator"),
        plan=plan,
        expected_revision=1,
        content=complete_content(conditions),
        now=LONG_AGO,
    )
    version = publish_signed(world, plan, NOW)
    careplans.record_sharing(
        ctx=world.ctx(), version=version, shared_on=NOW.date(), channel="print", now=NOW
    )
    AcuteEvent.objects.create(
        patient=patient,
        kind="hospitalization",
        occurred_on=ON,
        recorded_at=NOW,
        recorded_by=coordinator,
    )

    vendor = Vendor.objects.create(
        practice=practice, slug="acme-records", name="Acme", webhook_secret="s" * 32, created_at=NOW
    )
    device = Device.objects.create(
        practice=practice,
        patient=patient,
        program="RPM",
        type="blood_pressure",
        vendor=vendor,
        serial="BP-0001",
        model_name="Cuff 3",
        assigned_on=ON,
        created_at=NOW,
    )
    batch = ReadingBatch.objects.create(practice=practice, via="webhook", received_at=NOW)
    reading = Reading.objects.create(
        practice=practice,
        patient=patient,
        device=device,
        vendor=vendor,
        batch=batch,
        program="RPM",
        vendor_reading_id="r-1",
        type="blood_pressure",
        measured_at=NOW - timedelta(hours=2),
        measured_on=ON,
        received_at=NOW,
        source="automatic",
        systolic=162,
        diastolic=95,
        pulse=71,
    )
    Alert.objects.create(
        practice=practice,
        patient=patient,
        program="RPM",
        kind="bp_high",
        severity="warning",
        message="Systolic 162 above 135",
        opened_at=NOW,
        reading=reading,
    )

    SetupEvent.objects.create(
        patient=patient,
        program="RPM",
        performed_on=ON,
        performed_by=coordinator,
        device=device,
        created_by=coordinator,
        created_at=NOW,
    )
    OtherClaim.objects.create(
        patient=patient,
        practitioner="Dr. Elsewhere",
        code="99490",
        period_start_on=date(2026, 1, 1),
        period_end_on=date(2026, 1, 31),
        created_by=manager,
        created_at=NOW,
    )
    ComplexCcmRecord.objects.create(
        patient=patient,
        month_start_on=date(2026, 3, 1),
        mdm="moderate",
        recorded_by=practitioner,
        recorded_at=NOW,
    )
    CocmEpisode.objects.create(
        patient=patient,
        started_on=ON,
        psychiatric_consultant="Dr. Psych",
        created_by=manager,
        created_at=NOW,
    )
    RatingScale.objects.create(
        patient=patient,
        instrument="PHQ-9",
        administered_on=ON,
        score=12,
        recorded_by=coordinator,
        recorded_at=NOW,
    )
    BhiElementsRecord.objects.create(
        patient=patient, month_start_on=date(2026, 3, 1), recorded_by=coordinator, recorded_at=NOW
    )

    month = BillingMonth.objects.create(practice=practice, month="2026-02", created_at=NOW)
    PatientMonth.objects.create(
        billing_month=month, patient=patient, practitioner=practitioner, facts_sha256="0" * 64
    )
    BillingLine.objects.create(
        billing_month=month,
        patient=patient,
        practitioner=practitioner,
        program="RPM",
        code="99457",
        units=1,
        dos=date(2026, 2, 27),
        place_of_service="11",
        diagnoses=["I10"],
        status="approved",
        created_at=NOW,
        updated_at=NOW,
    )
    Amendment.objects.create(
        billing_month=month,
        patient=patient,
        batch=1,
        facts_sha256="1" * 64,
        reason="Late entry accepted",
        accepted_by=manager,
        accepted_at=NOW,
    )
    return patient

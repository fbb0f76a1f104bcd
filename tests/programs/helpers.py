"""Build stored patient-months for the program-facts tests (March and April 2026, Chicago)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from careledger.billing.facts import MonthView, evaluate_patient_month
from careledger.billing.months import LocalMonth, parse_month
from careledger.careplans import services as careplans
from careledger.devices.ingest import ingest_readings
from careledger.devices.models import Device
from careledger.devices.services import Assignment, assign_device, create_vendor
from careledger.patients.models import Enrollment, Patient, Visit
from careledger.timelog.models import TimeEntry
from tests.careplans.conftest import LONG_AGO, add_conditions, complete_content
from tests.conftest import PracticeWorld
from tests.factories import ConditionFactory, EnrollmentFactory, PatientFactory, log_minutes

MARCH = parse_month("2026-03", "America/Chicago")
APRIL = parse_month("2026-04", "America/Chicago")
# 10:00 in Chicago on 2026-03-10: inside March, after every March fact below.
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
LATER = datetime(2026, 5, 2, 15, 0, tzinfo=UTC)


def visit(world: PracticeWorld, patient: Patient, on: date = date(2026, 1, 5)) -> Visit:
    return Visit.objects.create(
        patient=patient,
        practitioner=world.user("practitioner"),
        visited_on=on,
        kind="em",
        em_level=3,
        created_at=LONG_AGO,
    )


def enroll(world: PracticeWorld, patient: Patient, program: str) -> Enrollment:
    return EnrollmentFactory(
        patient=patient,
        program=program,
        billing_practitioner=world.user("practitioner"),
        started_on=date(2026, 1, 5),
        consent_on=date(2026, 1, 5),
        told_specialist_consultation=True,
    )


def shared_plan(world: PracticeWorld, patient: Patient, *, published: datetime = NOW) -> None:
    """Give the patient a signed comprehensive plan, published and shared on ``published``."""
    conditions = list(add_conditions(world) if patient == world.patient else _conditions(patient))
    ctx = world.ctx("coordinator")
    plan = careplans.start_plan(ctx=ctx, patient=patient, kind="comprehensive", now=LONG_AGO)
    plan = careplans.save_draft(
        ctx=ctx,
        plan=plan,
        expected_revision=1,
        content=complete_content(conditions),
        now=LONG_AGO,
    )
    version = careplans.publish_version(
        ctx=world.ctx("practitioner"),
        plan=plan,
        expected_revision=plan.revision,
        revision_reason="",
        sign=True,
        now=published,
    )
    careplans.record_sharing(
        ctx=ctx, version=version, shared_on=version.published_on, channel="print", now=published
    )


def _conditions(patient: Patient) -> tuple[object, object]:
    return (
        ConditionFactory(patient=patient, icd10_code="I10", created_at=LONG_AGO),
        ConditionFactory(patient=patient, icd10_code="E11.9", created_at=LONG_AGO),
    )


def ccm_patient(world: PracticeWorld, *, minutes: int = 60, seen: bool = True) -> Patient:
    """A CCM patient with two chronic conditions, a shared plan published in March."""
    patient = world.patient
    if seen:
        visit(world, patient)
    shared_plan(world, patient)
    enrollment = enroll(world, patient, "CCM")
    for n in range(0, minutes, 20):
        log_minutes(
            enrollment,
            min(20, minutes - n),
            start=datetime(2026, 3, 3, 15, 0, tzinfo=UTC) + timedelta(days=n // 20),
            staff=world.user("coordinator"),
        )
    return patient


def bh_minutes(enrollment: Enrollment, minutes: int, start: datetime) -> None:
    """Log behavioral health care manager minutes (BHI-2: only theirs count for CoCM)."""
    entry = log_minutes(enrollment, minutes, start=start)
    TimeEntry.objects.filter(pk=entry.pk).update(bh_care_manager=True)  # type: ignore[attr-defined]


def rpm_device(world: PracticeWorld, patient: Patient) -> Device:
    create_vendor(practice=world.practice, slug="acme", name="Acme", now=LONG_AGO)
    return assign_device(
        ctx=world.ctx("coordinator"),
        patient=patient,
        assignment=Assignment(
            program="RPM",
            type="blood_pressure",
            vendor="acme",
            serial="SN-1",
            assigned_on=date(2026, 1, 5),
        ),
        now=LONG_AGO,
    )


def daily_readings(world: PracticeWorld, device: Device, first: date, last: date) -> None:
    items = []
    day = first
    while day <= last:
        items.append(
            {
                "device_id": device.pk,
                "vendor_reading_id": f"r-{day.isoformat()}",
                "measured_at": datetime(day.year, day.month, day.day, 15, tzinfo=UTC).isoformat(),
                "type": "blood_pressure",
                "systolic": 128,
                "diastolic": 82,
                "pulse": 70,
                "unit": "mm[Hg]",
                "source": "automatic",
            }
        )
        day += timedelta(days=1)
    result = ingest_readings(practice=world.practice, items=items, via="api", now=LATER)
    assert result.errors == [], result.errors


def rpm_patient(world: PracticeWorld) -> tuple[Patient, Device]:
    """An established RPM patient whose readings run every day of March and April."""
    patient = PatientFactory(practice=world.practice, coordinator=world.user("coordinator"))
    visit(world, patient)
    enroll(world, patient, "RPM")
    device = rpm_device(world, patient)
    daily_readings(world, device, date(2026, 3, 2), date(2026, 4, 30))
    return patient, device


def decide(patient: Patient, month: LocalMonth) -> tuple[dict[str, int], list[dict[str, object]]]:
    """Return the engine's lines (code -> units) and every flag, engine's and builder's."""
    view: MonthView = evaluate_patient_month(patient=patient, month=month, as_of=month.last_on)
    lines = {str(line["code"]): int(str(line["units"])) for line in view.lines}
    return lines, view.flags


def codes(flags: list[dict[str, object]]) -> set[str]:
    return {str(f["code"]) for f in flags}

"""Small patient-months for the month-close tests (synthetic data only)."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pyx12.params
import pyx12.x12n_document

from careledger.billing.months import parse_month
from careledger.patients.models import Enrollment, Patient, Visit
from tests.conftest import PracticeWorld
from tests.factories import ConditionFactory, EnrollmentFactory, PatientFactory, log_minutes

MONTH = parse_month("2026-04", "America/Chicago")
NOW = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
START = datetime(2026, 4, 7, 15, 0, tzinfo=UTC)


def complete_practice(world: PracticeWorld) -> None:
    """Give the practice everything an 837P names."""
    practice = world.practice
    practice.address_line = "100 Main St"
    practice.city = "Springfield"
    practice.state = "IL"
    practice.postal_code = "627011234"
    practice.phone = "2175550100"
    practice.taxonomy_code = "207Q00000X"
    practice.mac_name = "WPS Government Health Administrators"
    practice.mac_payer_id = "05202"
    practice.claim_submitter_id = "SUBMIT01"
    practice.save()
    practitioner = world.user("practitioner")
    practitioner.first_name, practitioner.last_name = "Daniel", "Okafor"
    practitioner.save()


def rpm_patient(
    world: PracticeWorld,
    minutes: int = 22,
    *,
    ordered: bool = True,
    diagnosis: bool = True,
    **patient: object,
) -> Patient:
    """An established, consented RPM patient with ``minutes`` of April time and a live call."""
    defaults: dict[str, object] = {
        "address_line": "12 Oak Ave",
        "city": "Springfield",
        "state": "IL",
        "postal_code": "62704",
    }
    p = PatientFactory(
        practice=world.practice,
        coordinator=world.user("coordinator"),
        **{**defaults, **patient},
    )
    doctor = world.user("practitioner")
    enrollment = EnrollmentFactory(
        patient=p,
        program="RPM",
        billing_practitioner=doctor,
        ordered_on=date(2026, 1, 4) if ordered else None,
        ordering_practitioner=doctor if ordered else None,
        order_indication="I10" if ordered else "",
    )
    if diagnosis:
        ConditionFactory(patient=p, icd10_code="E11.9")
    Visit.objects.create(
        patient=p, practitioner=doctor, visited_on=date(2026, 1, 5), kind="em", created_at=START
    )
    if minutes:
        log_minutes(enrollment, minutes, start=START + timedelta(hours=p.pk % 5))
    return p


def enrollment_of(patient: Patient, program: str = "RPM") -> Enrollment:
    return patient.enrollments.get(program=program)


def validate_837(text: str) -> bool:
    """Validate with pyx12's Python API (its command line's exit code is unreliable)."""
    param = pyx12.params.params()
    return bool(
        pyx12.x12n_document.x12n_document(
            param=param, src_file=io.StringIO(text), fd_997=io.StringIO(), fd_html=None
        )
    )

"""The patient page: everything about one patient, audited once, never another practice's."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from careledger.audit.models import AuditEvent
from tests.conftest import PracticeWorld
from tests.factories import ConditionFactory, EnrollmentFactory, PatientFactory
from tests.web.conftest import events


def detail(patient_id: int) -> str:
    return reverse("patient-detail", args=[patient_id])


def test_the_page_shows_conditions_and_enrollments_with_consent(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    ConditionFactory(patient=world.patient, icd10_code="I10", description="Essential hypertension")
    EnrollmentFactory(
        patient=world.patient,
        billing_practitioner=world.user("practitioner"),
        consent_obtained_by=world.user("coordinator"),
        consent_on=dt.date(2026, 1, 5),
    )
    EnrollmentFactory(
        patient=world.patient,
        program="RPM",
        status="pending",
        consent_on=None,
        consent_method="",
        billing_practitioner=world.user("practitioner"),
    )
    body = login(world).get(detail(world.patient.pk)).content.decode()
    assert "Samename, Mae" in body
    assert "I10" in body and "Essential hypertension" in body
    assert "Verbal consent on Jan 5, 2026" in body
    assert "Cost sharing may apply" in body
    assert "Awaiting consent" in body
    assert "No order on file" in body
    assert "Record consent" in body


def test_each_read_leaves_exactly_one_patient_viewed(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    login(world).get(detail(world.patient.pk))
    event = AuditEvent.objects.get(event="patient.viewed")
    assert event.patient_id == world.patient.pk
    assert event.actor == world.user("coordinator")
    assert AuditEvent.objects.filter(patient_id=world.patient.pk).count() == 1


def test_another_practices_patient_is_not_found_and_the_attempt_is_audited(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client = login(world)
    for headers in ({}, {"HTTP_HX_REQUEST": "true"}):
        response = client.get(detail(other_world.patient.pk), **headers)
        assert response.status_code == 404
        assert "Samename" not in response.content.decode()
    assert events("patient.viewed") == 0
    assert events("patient.access_denied", practice=world.practice) == 2


def test_a_missing_patient_looks_the_same_as_another_practices(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    assert login(world).get(detail(999999)).status_code == 404


def test_a_script_in_a_name_is_escaped(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    patient = PatientFactory(
        practice=world.practice, given_name="<script>alert(1)</script>", family_name="X"
    )
    body = login(world).get(detail(patient.pk)).content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_readers_see_no_write_buttons(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    EnrollmentFactory(
        patient=world.patient,
        status="pending",
        consent_on=None,
        billing_practitioner=world.user("practitioner"),
    )
    for role in ("biller", "auditor"):
        body = login(world, role).get(detail(world.patient.pk)).content.decode()
        assert reverse("enrollment-add", args=[world.patient.pk]) not in body
        assert reverse("condition-add", args=[world.patient.pk]) not in body
        assert "Record consent" not in body
        assert "End enrollment" not in body
    body = login(world, "coordinator").get(detail(world.patient.pk)).content.decode()
    assert reverse("enrollment-add", args=[world.patient.pk]) in body

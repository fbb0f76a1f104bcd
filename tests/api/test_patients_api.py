"""The patient and enrollment endpoints: shape, scoping, validation and audit."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from careledger.audit.models import AuditEvent
from careledger.patients.models import Enrollment, Patient
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def _events(name: str) -> int:
    return AuditEvent.objects.filter(event=name).count()


def _new_patient(**overrides: Any) -> dict[str, Any]:
    body = {
        "mrn": "N-200",
        "given_name": "Rosa",
        "family_name": "Quill",
        "birth_date": "1950-02-03",
        "sex": "female",
        "mbi": "1EG4-TE5-MK73",
    }
    body.update(overrides)
    return body


def test_patient_list_has_items_and_count_ordered_by_id(world: PracticeWorld, api_client) -> None:
    client = api_client(world.user("coordinator"))
    response = client.get("/api/v1/patients")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert [p["id"] for p in body["items"]] == [world.patient.pk]
    assert body["items"][0]["mrn"] == "A1000"


def test_patient_list_never_shows_another_practices_patient_with_the_same_mrn(
    world: PracticeWorld, other_world: PracticeWorld, api_client
) -> None:
    body = api_client(world.user("biller")).get("/api/v1/patients?search=A1000").json()
    assert [p["id"] for p in body["items"]] == [world.patient.pk]


def test_another_practices_patient_is_not_found_and_the_attempt_is_audited(
    world: PracticeWorld, other_world: PracticeWorld, api_client
) -> None:
    client = api_client(world.user("coordinator"))
    response = client.get(f"/api/v1/patients/{other_world.patient.pk}")
    assert response.status_code == 404
    assert "Samename" not in response.content.decode()
    denied = AuditEvent.objects.get(event="patient.access_denied")
    assert denied.outcome == "denied"
    assert denied.practice == world.practice
    assert denied.patient_id is None


def test_reading_a_patient_leaves_exactly_one_viewed_event(
    world: PracticeWorld, api_client
) -> None:
    client = api_client(world.user("auditor"))
    assert client.get(f"/api/v1/patients/{world.patient.pk}").status_code == 200
    event = AuditEvent.objects.get(event="patient.viewed")
    assert event.patient_id == world.patient.pk
    assert event.actor == world.user("auditor")
    assert event.action == "R"


def test_program_filter_keeps_only_active_consented_enrollments(
    world: PracticeWorld, api_client
) -> None:
    pending = world.patient
    EnrollmentFactory(
        patient=pending,
        program="CCM",
        status=Enrollment.Status.PENDING,
        consent_on=None,
        billing_practitioner=world.user("practitioner"),
    )
    client = api_client(world.user("coordinator"))
    assert client.get("/api/v1/patients?program=CCM").json()["count"] == 0
    assert client.get("/api/v1/patients?program=CCM&status=all").json()["count"] == 1


def test_creating_a_patient_answers_201_and_writes_one_event(
    world: PracticeWorld, api_client
) -> None:
    client = api_client(world.user("coordinator"))
    response = client.post("/api/v1/patients", _new_patient(), content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["mbi"] == "1EG4TE5MK73"
    assert _events("patient.created") == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"mbi": "1EG4-TE5-MK7S"}, "mbi"),
        ({"mrn": "A1000"}, "mrn"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "1950-13-01"}, "birth_date"),
        ({"sex": "robot"}, "sex"),
    ],
)
def test_bad_patient_input_gets_422_naming_the_field_and_stores_nothing(
    world: PracticeWorld, api_client, overrides: dict[str, Any], field: str
) -> None:
    client = api_client(world.user("coordinator"))
    before = Patient.objects.count()
    response = client.post(
        "/api/v1/patients", _new_patient(**overrides), content_type="application/json"
    )
    assert response.status_code == 422
    body = response.json()
    assert body["detail"]
    assert field in [e["field"] for e in body["errors"]]
    assert Patient.objects.count() == before
    assert _events("patient.created") == 0


def test_server_owned_fields_in_a_payload_are_ignored(
    world: PracticeWorld, other_world, api_client
) -> None:
    client = api_client(world.user("coordinator"))
    body = _new_patient(practice_id=other_world.practice.pk, id=999999, created_at="2000-01-01")
    response = client.post("/api/v1/patients", body, content_type="application/json")
    assert response.status_code == 201
    created = Patient.objects.get(mrn="N-200")
    assert created.practice == world.practice
    assert created.pk != 999999


def test_roles_that_only_read_get_403_on_writes(world: PracticeWorld, api_client) -> None:
    for role in ("biller", "auditor"):
        response = api_client(world.user(role)).post(
            "/api/v1/patients", _new_patient(), content_type="application/json"
        )
        assert response.status_code == 403


def test_a_bad_icd10_code_is_refused_with_its_field(world: PracticeWorld, api_client) -> None:
    client = api_client(world.user("coordinator"))
    url = f"/api/v1/patients/{world.patient.pk}/conditions"
    bad = client.post(url, {"icd10_code": "E11"}, content_type="application/json")
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "icd10_code"
    good = client.post(url, {"icd10_code": "e119"}, content_type="application/json")
    assert good.status_code == 201
    assert good.json()["icd10_code"] == "E11.9"
    assert _events("condition.added") == 1


def _enroll_body(world: PracticeWorld, consent: bool = True, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "program": "CCM",
        "billing_practitioner_id": world.user("practitioner").pk,
        "started_on": "2026-11-02",
    }
    if consent:
        body["consent"] = {
            "consent_on": "2026-11-02",
            "method": "verbal",
            "told_cost_sharing": True,
            "told_one_practitioner": True,
            "told_right_to_stop": True,
        }
    body.update(extra)
    return body


def test_enrolling_with_consent_is_active_and_audited(world: PracticeWorld, api_client) -> None:
    client = api_client(world.user("coordinator"))
    url = f"/api/v1/patients/{world.patient.pk}/enrollments"
    response = client.post(url, _enroll_body(world), content_type="application/json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "active"
    assert body["consent_method"] == "verbal"
    assert body["consent_obtained_by"] == world.user("coordinator").username
    assert _events("enrollment.created") == 1


def test_enrolling_without_consent_stays_pending_until_consent_is_recorded(
    world: PracticeWorld, api_client
) -> None:
    client = api_client(world.user("coordinator"))
    url = f"/api/v1/patients/{world.patient.pk}/enrollments"
    created = client.post(url, _enroll_body(world, consent=False), content_type="application/json")
    assert created.json()["status"] == "pending"
    consent = _enroll_body(world)["consent"]
    response = client.post(
        f"{url}/{created.json()['id']}/consent", consent, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "active"
    assert _events("enrollment.consent_recorded") == 1


def test_a_second_open_enrollment_in_the_same_program_is_refused(
    world: PracticeWorld, api_client
) -> None:
    client = api_client(world.user("coordinator"))
    url = f"/api/v1/patients/{world.patient.pk}/enrollments"
    assert client.post(url, _enroll_body(world), content_type="application/json").status_code == 201
    again = client.post(url, _enroll_body(world), content_type="application/json")
    assert again.status_code == 422
    assert again.json()["errors"][0]["field"] == "program"
    assert Enrollment.objects.filter(patient=world.patient).count() == 1


def test_consent_missing_what_the_patient_was_told_is_refused(
    world: PracticeWorld, api_client
) -> None:
    client = api_client(world.user("coordinator"))
    body = _enroll_body(world)
    body["consent"]["told_right_to_stop"] = False
    response = client.post(
        f"/api/v1/patients/{world.patient.pk}/enrollments", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "told_right_to_stop"
    assert not Enrollment.objects.exists()


def test_a_billing_practitioner_must_be_a_qhp_with_an_npi(world: PracticeWorld, api_client) -> None:
    client = api_client(world.user("coordinator"))
    body = _enroll_body(world, billing_practitioner_id=world.user("coordinator").pk)
    response = client.post(
        f"/api/v1/patients/{world.patient.pk}/enrollments", body, content_type="application/json"
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "billing_practitioner"


def test_enrolling_another_practices_patient_is_not_found_and_writes_nothing(
    world: PracticeWorld, other_world: PracticeWorld, api_client
) -> None:
    client = api_client(world.user("coordinator"))
    response = client.post(
        f"/api/v1/patients/{other_world.patient.pk}/enrollments",
        _enroll_body(world),
        content_type="application/json",
    )
    assert response.status_code == 404
    assert not Enrollment.objects.exists()


def test_rpm_enrollment_carries_its_order(world: PracticeWorld, api_client) -> None:
    client = api_client(world.user("coordinator"))
    body = _enroll_body(
        world,
        program="RPM",
        order={
            "ordered_on": "2026-11-01",
            "ordering_practitioner_id": world.user("practitioner").pk,
            "indication": "I10",
        },
    )
    response = client.post(
        f"/api/v1/patients/{world.patient.pk}/enrollments", body, content_type="application/json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["order_indication"] == "I10"
    assert response.json()["ordered_on"] == date(2026, 11, 1).isoformat()

"""Adding patients and conditions: one audit event per write, errors on the right field."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from careledger.audit.models import AuditEvent
from careledger.patients.models import Condition, Patient
from tests.conftest import PracticeWorld
from tests.web.conftest import events


def patient_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "mrn": "B2000",
        "given_name": "Irene",
        "family_name": "Holloway",
        "birth_date": "1947-06-02",
        "sex": "female",
        "mbi": "1EG4-TE5-MK73",
        "coverage": "medicare_ffs",
        "state": "il",
    }
    return {**data, **overrides}


def test_adding_a_patient_writes_it_and_one_audit_event(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    before = AuditEvent.objects.count()
    data = patient_data(coordinator=world.user("coordinator").pk)
    response = login(world).post(reverse("patient-add"), data)
    patient = Patient.objects.get(mrn="B2000")
    assert response.status_code == 302
    assert response["Location"] == reverse("patient-detail", args=[patient.pk])
    assert patient.practice == world.practice
    assert patient.mbi == "1EG4TE5MK73"
    assert patient.state == "IL"
    assert patient.coordinator == world.user("coordinator")
    assert AuditEvent.objects.count() == before + 1
    assert events("patient.created", patient_id=patient.pk) == 1


def test_a_bad_mbi_is_shown_on_the_mbi_field(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = login(world).post(reverse("patient-add"), patient_data(mbi="1SG4TE5MK73"))
    assert response.status_code == 200
    assert "mbi" in response.context["form"].errors
    assert "Character 2" in response.context["form"].errors["mbi"][0]
    assert not Patient.objects.filter(mrn="B2000").exists()
    assert events("patient.created") == 0


def test_a_duplicate_mrn_is_shown_on_the_mrn_field(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = login(world).post(reverse("patient-add"), patient_data(mrn="A1000"))
    assert "already used" in response.context["form"].errors["mrn"][0]
    assert Patient.objects.filter(practice=world.practice).count() == 1
    assert events("patient.created") == 0


def test_the_same_mrn_in_another_practice_is_fine(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    response = login(world).post(reverse("patient-add"), patient_data(mrn="B2000"))
    assert response.status_code == 302
    response = login(other_world).post(reverse("patient-add"), patient_data(mrn="B2000"))
    assert response.status_code == 302


def test_a_coordinator_of_another_practice_is_refused(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    data = patient_data(coordinator=other_world.user("coordinator").pk)
    response = login(world).post(reverse("patient-add"), data)
    assert "coordinator" in response.context["form"].errors
    assert not Patient.objects.filter(mrn="B2000").exists()


def test_a_practice_field_in_the_post_is_ignored(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    data = patient_data(practice=other_world.practice.pk, practice_id=other_world.practice.pk)
    login(world).post(reverse("patient-add"), data)
    assert Patient.objects.get(mrn="B2000").practice == world.practice


def test_adding_a_condition_writes_one_audit_event(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("condition-add", args=[world.patient.pk])
    response = login(world).post(url, {"icd10_code": "e119", "chronic": "on"})
    assert response.status_code == 302
    condition = Condition.objects.get(patient=world.patient)
    assert condition.icd10_code == "E11.9"
    assert condition.description  # filled from the code set
    assert AuditEvent.objects.filter(patient_id=world.patient.pk).count() == 1
    assert events("condition.added") == 1


def test_a_bad_icd10_code_is_shown_on_its_field(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    url = reverse("condition-add", args=[world.patient.pk])
    client = login(world)
    for code, words in (("X99.999", "not an ICD-10-CM code"), ("E11", "category")):
        response = client.post(url, {"icd10_code": code})
        assert response.status_code == 200
        assert words in response.context["form"].errors["icd10_code"][0]
    assert not Condition.objects.exists()
    assert AuditEvent.objects.count() == 0


def test_opening_the_condition_form_is_one_read(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    login(world).get(reverse("condition-add", args=[world.patient.pk]))
    assert events("patient.viewed", patient_id=world.patient.pk) == 1


def test_adding_a_condition_to_another_practices_patient_is_not_found(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    url = reverse("condition-add", args=[other_world.patient.pk])
    client = login(world)
    assert client.get(url).status_code == 404
    assert client.post(url, {"icd10_code": "I10"}).status_code == 404
    assert not Condition.objects.exists()

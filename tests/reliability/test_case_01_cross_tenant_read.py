"""Case 1: a user of practice A asks for practice B's patient by id on every surface.

Pass: 404 (never 403) on the page, the htmx fragment, the API, the FHIR export, the PDFs and the
CSV; none of B's data in any body; each refusal recorded as a ``denied`` audit event.
"""

from __future__ import annotations

import pytest
from django.test import Client

from careledger.audit.models import AuditEvent
from careledger.billing.close import close_month
from tests.billing.builders import MONTH, NOW, rpm_patient
from tests.conftest import PracticeWorld
from tests.reliability._helpers_a import denied_events, leaks, published_plan

pytestmark = pytest.mark.django_db


@pytest.fixture
def b_patient(other_world: PracticeWorld):  # type: ignore[no-untyped-def]
    patient = rpm_patient(other_world, 22)
    patient.given_name, patient.family_name = "Zebulonia", "Quarantinova"
    patient.mrn, patient.mbi = "ZZ-SECRET-77", "9AA9AA9AA99"
    patient.save()
    return patient


def _surfaces(b_patient_id: int, b_version_id: int) -> list[tuple[str, dict[str, str]]]:
    month = MONTH.label
    return [
        (f"/patients/{b_patient_id}/", {}),
        (f"/patients/{b_patient_id}/month/", {}),
        (f"/time/patients/{b_patient_id}/timer/", {"HTTP_HX_REQUEST": "true"}),
        (f"/devices/patients/{b_patient_id}/", {"HTTP_HX_REQUEST": "true"}),
        (f"/care-plans/patients/{b_patient_id}/", {}),
        (f"/care-plans/versions/{b_version_id}/", {}),
        (f"/care-plans/versions/{b_version_id}/fhir/", {}),
        (f"/care-plans/versions/{b_version_id}/pdf/", {}),
        (f"/billing/{month}/evidence/{b_patient_id}/", {}),
        (f"/billing/{month}/evidence/{b_patient_id}/pdf/", {}),
    ]


def _api_surfaces(b_patient_id: int) -> list[str]:
    return [
        f"/api/v1/patients/{b_patient_id}",
        f"/api/v1/patients/{b_patient_id}/enrollments",
        f"/api/v1/patients/{b_patient_id}/months/2026-04",
        f"/api/v1/patients/{b_patient_id}/care-plan",
        f"/api/v1/patients/{b_patient_id}/care-plan/fhir",
        f"/api/v1/patients/{b_patient_id}/care-plan/pdf",
        f"/api/v1/patients/{b_patient_id}/readings",
        f"/api/v1/patients/{b_patient_id}/devices",
    ]


def test_every_page_fragment_pdf_and_fhir_export_answers_404_and_records_a_denial(
    world: PracticeWorld,
    other_world: PracticeWorld,
    b_patient,
    login,  # type: ignore[no-untyped-def]
) -> None:
    version = published_plan(other_world, b_patient)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    close_month(practice=other_world.practice, month=MONTH, actor=None, now=NOW)
    client: Client = login(world, "manager")
    for url, headers in _surfaces(b_patient.pk, version.pk):
        before = denied_events()
        response = client.get(url, **headers)  # type: ignore[arg-type]
        assert response.status_code == 404, url
        assert leaks(response.content) == [], url
        assert denied_events() == before + 1, f"no denied event for {url}"


def test_every_api_read_answers_404_and_records_a_denial(
    world: PracticeWorld,
    other_world: PracticeWorld,
    b_patient,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    published_plan(other_world, b_patient)
    client: Client = api_client(world.user("manager"))
    for url in _api_surfaces(b_patient.pk):
        before = denied_events()
        response = client.get(url)
        assert response.status_code == 404, url
        assert leaks(response.content) == [], url
        assert denied_events() == before + 1, f"no denied event for {url}"
    denial = AuditEvent.objects.filter(outcome=AuditEvent.Outcome.DENIED).last()
    assert denial is not None
    assert denial.practice_id == world.practice.pk
    assert denial.actor_id == world.user("manager").pk
    # The refusal never names B's patient as the subject of A's audit row.
    assert denial.patient_id is None


def test_the_csv_exports_of_a_hold_none_of_bs_patients(
    world: PracticeWorld,
    other_world: PracticeWorld,
    b_patient,
    login,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    rpm_patient(world, 22)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    close_month(practice=other_world.practice, month=MONTH, actor=None, now=NOW)
    page = login(world, "manager").get("/billing/2026-04/billing.csv")
    api = api_client(world.user("manager")).get("/api/v1/months/2026-04/billing.csv")
    for response in (page, api):
        assert response.status_code == 200
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body.count(b"\n") >= 2  # header and A's own line
        assert leaks(body) == []
        assert f"\n{b_patient.pk},".encode() not in body


def test_a_patient_id_that_exists_nowhere_gets_the_same_404_as_bs(
    world: PracticeWorld,
    other_world: PracticeWorld,
    b_patient,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = api_client(world.user("coordinator"))
    theirs = client.get(f"/api/v1/patients/{b_patient.pk}")
    nobodys = client.get("/api/v1/patients/987654")
    assert theirs.status_code == nobodys.status_code == 404
    assert theirs.json() == nobodys.json()

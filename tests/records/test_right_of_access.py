"""A patient's right of access: the whole record as a PDF and a FHIR Bundle, audited."""

from __future__ import annotations

from typing import Any

import pypdfium2
import pytest
from django.test import Client
from fhir.resources.R4B.bundle import Bundle

from careledger.audit.models import AuditEvent
from careledger.patients.models import Patient
from careledger.records.fhir import BASIC_SECTIONS
from careledger.records.selectors import patient_record
from tests.conftest import PracticeWorld
from tests.records.conftest import NOW

SECTIONS = (
    "demographics",
    "demographic_history",
    "conditions",
    "visits",
    "enrollments",
    "enrollment_history",
    "time_entries",
    "time_entry_amendments",
    "care_plans",
    "care_plan_versions",
    "care_plan_sharings",
    "acute_events",
    "devices",
    "readings",
    "alerts",
    "setup_events",
    "other_claims",
    "complex_ccm",
    "cocm_episodes",
    "rating_scales",
    "bhi_elements",
    "patient_months",
    "billing_lines",
    "billing_amendments",
)


def pdf_text(body: bytes) -> str:
    pdf = pypdfium2.PdfDocument(body)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in pdf)
    finally:
        pdf.close()


def disclosures() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(event="patient.record_disclosed"))


def test_every_section_of_the_record_holds_the_seeded_patients_records(
    full_patient: Patient,
) -> None:
    record = patient_record(patient=full_patient, as_of=NOW)

    assert tuple(s.key for s in record.sections) == SECTIONS
    assert all(section.items for section in record.sections), [
        s.key for s in record.sections if not s.items
    ]
    amendments = record.section("time_entry_amendments").items
    assert len(amendments) == 2  # the entry as logged and as amended
    assert any(f.value == "Summary completed" for item in amendments for f in item.fields)


def test_the_fhir_bundle_validates_and_carries_every_kind_of_record(
    world: PracticeWorld, full_patient: Patient, api_client: Any
) -> None:
    response = api_client(world.user("manager")).get(
        f"/api/v1/patients/{full_patient.pk}/record.fhir.json"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    assert "no-store" in response["Cache-Control"]
    bundle = Bundle.model_validate_json(response.content)
    resources = [entry.resource for entry in bundle.entry or []]
    types = {r.get_resource_type() for r in resources}
    assert types >= {
        "Patient",
        "Condition",
        "Encounter",
        "EpisodeOfCare",
        "Consent",
        "Procedure",
        "CarePlan",
        "Goal",
        "Communication",
        "Device",
        "Observation",
        "Flag",
        "ChargeItem",
        "Basic",
    }
    patients = [r for r in resources if r.get_resource_type() == "Patient"]
    assert len(patients) == 1 and patients[0].name[0].family == "Samename"
    basic_sections = {r.code.coding[0].code for r in resources if r.get_resource_type() == "Basic"}
    assert basic_sections == set(BASIC_SECTIONS)


def test_the_pdf_names_the_patient_and_every_section(
    world: PracticeWorld, full_patient: Patient, api_client: Any
) -> None:
    response = api_client(world.user("manager")).get(
        f"/api/v1/patients/{full_patient.pk}/record.pdf"
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Health record of Mae Samename" in text
    for section in patient_record(patient=full_patient, as_of=NOW).sections:
        assert section.title.split(" (")[0].split(":")[0] in text


@pytest.mark.parametrize("fmt", ["pdf", "fhir.json"])
def test_each_export_is_audited_as_one_disclosure_naming_actor_patient_and_format(
    world: PracticeWorld, full_patient: Patient, api_client: Any, fmt: str
) -> None:
    manager = world.user("manager")
    api_client(manager).get(f"/api/v1/patients/{full_patient.pk}/record.{fmt}")

    [event] = disclosures()
    assert event.actor == manager
    assert event.patient_id == full_patient.pk
    assert event.practice == world.practice
    assert event.outcome == AuditEvent.Outcome.SUCCESS
    assert event.details["format"] == fmt.removesuffix(".json")
    assert event.details["via"] == "api"


def test_another_practices_patient_is_not_found_and_nothing_is_disclosed(
    world: PracticeWorld, other_world: PracticeWorld, full_patient: Patient, api_client: Any
) -> None:
    client = api_client(other_world.user("manager"))

    for fmt in ("pdf", "fhir.json"):
        response = client.get(f"/api/v1/patients/{full_patient.pk}/record.{fmt}")
        assert response.status_code == 404
    assert disclosures() == []
    assert (
        AuditEvent.objects.filter(
            event="patient.access_denied", practice=other_world.practice
        ).count()
        == 2
    )


@pytest.mark.parametrize("role", ["coordinator", "biller", "auditor"])
def test_roles_without_the_permission_are_refused(
    world: PracticeWorld, api_client: Any, role: str
) -> None:
    response = api_client(world.user(role)).get(f"/api/v1/patients/{world.patient.pk}/record.pdf")

    assert response.status_code == 403
    assert disclosures() == []


def test_the_patient_page_offers_the_downloads_to_a_manager_only(
    world: PracticeWorld, login: Any
) -> None:
    url = f"/patients/{world.patient.pk}/"

    manager_page = login(world, "manager").get(url)
    assert b"Download record (PDF)" in manager_page.content
    coordinator_page = Client()
    coordinator_page.force_login(world.user("coordinator"))
    assert b"Download record (PDF)" not in coordinator_page.get(url).content


def test_the_page_download_is_an_attachment_and_audited_as_from_the_page(
    world: PracticeWorld, full_patient: Patient, login: Any
) -> None:
    response = login(world, "practitioner").get(
        f"/records/patients/{full_patient.pk}/record.fhir.json"
    )

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="record-')
    Bundle.model_validate_json(response.content)
    [event] = disclosures()
    assert event.details["via"] == "page" and event.actor == world.user("practitioner")


def test_an_export_that_cannot_be_built_is_audited_as_a_failed_disclosure(
    world: PracticeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    from careledger.records import services

    def broken(record: object) -> bytes:
        raise RuntimeError("renderer unavailable")

    monkeypatch.setattr(services, "render_pdf", broken)

    with pytest.raises(RuntimeError):
        services.disclose_record(
            ctx=world.ctx("manager"), patient=world.patient, format="pdf", via="api", now=NOW
        )
    [event] = disclosures()
    assert event.outcome == AuditEvent.Outcome.FAILURE
    assert event.details["format"] == "pdf"

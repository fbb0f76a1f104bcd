"""Program-facts pages: the patient page's billing-facts panel, its forms and APCM attestations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from careledger.audit.models import AuditEvent
from careledger.programs.models import (
    ApcmAttestation,
    BhiElementsRecord,
    CocmEpisode,
    ComplexCcmRecord,
    OtherClaim,
    RatingScale,
    SetupEvent,
)
from careledger.programs.services import record_rating_scale
from tests.conftest import PracticeWorld
from tests.programs.helpers import NOW, enroll

pytestmark = pytest.mark.django_db

Login = Callable[..., Client]
ROLES = ("coordinator", "practitioner", "manager", "biller", "auditor", "admin")


@pytest.fixture(autouse=True)
def _frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


def detail(world: PracticeWorld) -> str:
    return reverse("patient-detail", args=[world.patient.pk])


def facts_url(name: str, world: PracticeWorld) -> str:
    return reverse(f"programs:{name}", args=[world.patient.pk])


@pytest.mark.parametrize("role", ROLES)
def test_the_patient_page_shows_the_panel_with_the_forms_the_role_may_use(
    world: PracticeWorld, login: Login, role: str
) -> None:
    record_rating_scale(
        ctx=world.ctx("coordinator"),
        patient=world.patient,
        instrument="PHQ-9",
        administered_on=date(2026, 3, 2),
        score=14,
        now=NOW,
    )
    page = login(world, role).get(detail(world)).content.decode()
    assert 'data-testid="billing-facts-panel"' in page
    assert "PHQ-9" in page and ">14<" in page
    assert (facts_url("mdm-record", world) in page) == (role == "practitioner")
    assert (facts_url("claim-add", world) in page) == (
        role in {"practitioner", "manager", "admin", "biller"}
    )
    assert (facts_url("scale-add", world) in page) == (
        role in {"coordinator", "practitioner", "manager", "admin"}
    )


@pytest.mark.parametrize("role", ROLES)
def test_the_facts_page_and_the_attestations_page_render_for_every_role(
    world: PracticeWorld, login: Login, role: str
) -> None:
    client = login(world, role)
    assert client.get(facts_url("patient-facts", world)).status_code == 200
    page = client.get(reverse("programs:attestations"))
    assert page.status_code == 200
    may_edit = role in {"practitioner", "manager", "admin", "biller"}
    assert (reverse("programs:attestation-add") in page.content.decode()) == may_edit


def test_another_practices_patient_is_not_found(
    world: PracticeWorld, other_world: PracticeWorld, login: Login
) -> None:
    client = login(other_world, "practitioner")
    assert client.get(facts_url("patient-facts", world)).status_code == 404
    response = client.post(facts_url("mdm-record", world), {"month": "2026-02", "mdm": "moderate"})
    assert response.status_code == 404
    assert not ComplexCcmRecord.objects.exists()


@pytest.mark.parametrize(
    ("role", "name"),
    [
        ("coordinator", "mdm-record"),
        ("biller", "mdm-record"),
        ("coordinator", "claim-add"),
        ("auditor", "claim-add"),
        ("biller", "scale-add"),
        ("auditor", "setup-add"),
        ("auditor", "bhi-record"),
        ("biller", "cocm-start"),
    ],
)
def test_a_role_without_the_permission_gets_403(
    world: PracticeWorld, login: Login, role: str, name: str
) -> None:
    assert login(world, role).post(facts_url(name, world), {}).status_code == 403


def test_attestations_need_facts_edit(world: PracticeWorld, login: Login) -> None:
    response = login(world, "coordinator").post(
        reverse("programs:attestation-add"), {"effective_on": "2026-01-01"}
    )
    assert response.status_code == 403
    assert not ApcmAttestation.objects.exists()


FORMS: list[tuple[str, str, dict[str, Any], type, str]] = [
    (
        "practitioner",
        "mdm-record",
        {"month": "2026-02", "mdm": "high", "care_plan_revised": "on"},
        ComplexCcmRecord,
        "mdm.recorded",
    ),
    (
        "biller",
        "claim-add",
        {
            "practitioner": "Dr. Other",
            "code": "99454",
            "period_start_on": "2026-02-01",
            "period_end_on": "2026-03-02",
        },
        OtherClaim,
        "other_claim.recorded",
    ),
    (
        "coordinator",
        "scale-add",
        {"instrument": "GAD-7", "administered_on": "2026-03-09", "score": "9"},
        RatingScale,
        "rating_scale.recorded",
    ),
    (
        "coordinator",
        "cocm-start",
        {"started_on": "2026-03-02", "psychiatric_consultant": "Dr. Park"},
        CocmEpisode,
        "cocm_episode.started",
    ),
    (
        "manager",
        "bhi-record",
        {"month": "2026-03", "bh_care_plan": "on", "continuity": "on"},
        BhiElementsRecord,
        "bhi_elements.recorded",
    ),
    (
        "coordinator",
        "setup-add",
        {"program": "RPM", "performed_on": "2026-03-03", "note": "Cuff set up."},
        SetupEvent,
        "setup.recorded",
    ),
]


@pytest.mark.parametrize(("role", "name", "data", "model", "event"), FORMS)
def test_a_form_write_creates_its_record_and_audit_event(
    world: PracticeWorld,
    login: Login,
    role: str,
    name: str,
    data: dict[str, Any],
    model: type,
    event: str,
) -> None:
    enroll(world, world.patient, "CCM")
    response = login(world, role).post(facts_url(name, world), data)
    assert response.status_code == 302
    assert response["Location"] == detail(world) + "#billing-facts"
    record = model.objects.get()  # type: ignore[attr-defined]
    assert record.patient == world.patient
    audit = AuditEvent.objects.get(event=event)
    assert audit.patient_id == world.patient.pk
    assert audit.actor == world.user(role)


def test_a_service_refusal_is_shown_and_nothing_is_stored(
    world: PracticeWorld, login: Login
) -> None:
    client = login(world, "coordinator")
    response = client.post(
        facts_url("scale-add", world),
        {"instrument": "GAD-7", "administered_on": "2026-03-09", "score": "25"},
        follow=True,
    )
    assert "A GAD-7 score is 0 to 21." in response.content.decode()
    assert not RatingScale.objects.exists()
    assert not AuditEvent.objects.filter(event="rating_scale.recorded").exists()


def test_a_biller_records_a_practice_attestation(world: PracticeWorld, login: Login) -> None:
    client = login(world, "biller")
    response = client.post(
        reverse("programs:attestation-add"),
        {
            "effective_on": "2026-01-01",
            "access_24_7": "on",
            "continuity": "on",
            "responsible_for_primary_care": "on",
        },
    )
    assert response.status_code == 302
    attestation = ApcmAttestation.objects.get()
    assert attestation.practice == world.practice and attestation.practitioner is None
    assert attestation.access_24_7 and attestation.responsible_for_primary_care
    assert AuditEvent.objects.filter(event="apcm_attestation.recorded").count() == 1
    page = client.get(reverse("programs:attestations")).content.decode()
    assert "Whole practice" in page and "Jan 1, 2026" in page

"""The month-close pages: close, review, approve, evidence packet (HTML and PDF)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from careledger.audit.models import AuditEvent
from careledger.billing.models import BillingLine, BillingMonth
from tests.billing.builders import rpm_patient
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> object:
    with time_machine.travel(datetime(2026, 5, 6, 15, 0, tzinfo=UTC), tick=False) as traveller:
        yield traveller


def test_a_manager_closes_reviews_approves_and_opens_an_evidence_packet(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    patient = rpm_patient(world, 22, ordered=False)
    client = login(world, "manager")
    assert client.get("/billing/").status_code == 200
    response = client.post("/billing/2026-04/close/", follow=True)
    assert response.status_code == 200
    assert b"Needs review" in response.content
    assert b"MISSING_ORDER" in response.content
    line = BillingLine.objects.get(patient=patient)
    client.post(
        f"/billing/2026-04/lines/{line.pk}/decision/",
        {"action": "approve", "reason": "Order is on paper in the chart"},
    )
    line.refresh_from_db()
    assert line.status == BillingLine.Status.APPROVED
    client.post("/billing/2026-04/approve/")
    assert BillingMonth.objects.get().approved
    page = client.get(f"/billing/2026-04/evidence/{patient.pk}/")
    assert page.status_code == 200
    assert b"Counted time" in page.content and b"99457" in page.content
    pdf = client.get(f"/billing/2026-04/evidence/{patient.pk}/pdf/")
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(event="evidence.viewed", patient_id=patient.pk).exists()
    csv = client.get("/billing/2026-04/billing.csv")
    assert csv.content.startswith(b"patient_id,")


@pytest.mark.parametrize("role", ["coordinator", "practitioner"])
def test_clinical_roles_cannot_see_or_close_billing(world: PracticeWorld, login, role: str) -> None:  # type: ignore[no-untyped-def]
    client = login(world, role)
    assert client.get("/billing/").status_code == 403
    assert client.post("/billing/2026-04/close/").status_code == 403


def test_a_biller_closes_but_cannot_approve(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    rpm_patient(world, 22)
    client = login(world, "biller")
    assert client.post("/billing/2026-04/close/").status_code == 302
    assert client.post("/billing/2026-04/approve/").status_code == 403
    assert not BillingMonth.objects.get().approved


def test_another_practices_evidence_packet_is_not_found(
    world: PracticeWorld, other_world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    patient = rpm_patient(world, 22)
    login(world, "manager").post("/billing/2026-04/close/")
    client = login(other_world, "manager")
    assert client.get(f"/billing/2026-04/evidence/{patient.pk}/").status_code == 404

"""Case 16: back-dated and future-dated time entries.

Pass: an entry in the future is refused; an entry into a closed (locked) month without a
``reason`` is refused with a clear reason; with a ``reason`` it is stored, marked late, and shown
on the closed month as a pending amendment that leaves the approved lines unchanged (API.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client

from careledger.billing import services
from careledger.billing.close import close_month
from careledger.billing.models import BillingLine, BillingMonth
from careledger.timelog.models import TimeEntry
from tests.billing.builders import MONTH, NOW, rpm_patient
from tests.conftest import PracticeWorld
from tests.reliability._helpers_a import SUMMARY

pytestmark = pytest.mark.django_db

TODAY = NOW + timedelta(days=2)  # Wednesday 6 May 2026, after April was approved
APRIL_21 = datetime(2026, 4, 21, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _may_6() -> Iterator[None]:
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def approved(world: PracticeWorld):  # type: ignore[no-untyped-def]
    patient = rpm_patient(world, 22)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    billing_month = BillingMonth.objects.get(practice=world.practice)
    services.approve_month(ctx=world.ctx("manager"), billing_month=billing_month, now=NOW)
    return patient, billing_month


def _entry(patient_id: int, start: datetime, minutes: int, **extra: Any) -> dict[str, Any]:
    return {
        "patient_id": patient_id,
        "program": "RPM",
        "kind": "interactive_call",
        "outcome": "reached",
        "started_at": start.isoformat(),
        "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
        "summary": SUMMARY,
        **extra,
    }


def _lines(billing_month: BillingMonth) -> list[tuple[str, int, str]]:
    return list(
        BillingLine.objects.filter(billing_month=billing_month)
        .order_by("pk")
        .values_list("code", "units", "status")
    )


def test_an_entry_in_the_future_is_refused(world: PracticeWorld, approved, api_client) -> None:  # type: ignore[no-untyped-def]
    patient, _ = approved
    client: Client = api_client(world.user("coordinator"))
    for start in (TODAY + timedelta(minutes=5), TODAY + timedelta(days=400)):
        response = client.post(
            "/api/v1/time-entries", _entry(patient.pk, start, 20), content_type="application/json"
        )
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "ended_at"
        assert "future" in response.json()["errors"][0]["message"]
    # Ending in the future is refused too, even when it started in the past.
    straddling = _entry(patient.pk, TODAY - timedelta(minutes=10), 20)
    assert (
        client.post("/api/v1/time-entries", straddling, content_type="application/json").status_code
        == 422
    )
    assert TimeEntry.objects.filter(patient=patient).count() == 1  # the builder's own


def test_an_entry_into_the_locked_month_without_a_reason_is_refused_with_a_clear_reason(
    world: PracticeWorld,
    approved,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    patient, _ = approved
    client: Client = api_client(world.user("coordinator"))
    response = client.post(
        "/api/v1/time-entries", _entry(patient.pk, APRIL_21, 25), content_type="application/json"
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["field"] == "reason"
    assert (
        "2026-04" in error["message"]
        or "April" in error["message"]
        or "lock" in (error["message"].lower())
    )
    assert TimeEntry.objects.filter(patient=patient).count() == 1


def test_with_a_reason_it_is_stored_late_and_pending_while_approved_lines_stay(
    world: PracticeWorld,
    approved,
    api_client,
    login,  # type: ignore[no-untyped-def]
) -> None:
    patient, billing_month = approved
    before = _lines(billing_month)
    client: Client = api_client(world.user("coordinator"))
    response = client.post(
        "/api/v1/time-entries",
        _entry(patient.pk, APRIL_21, 25, reason="Found on the paper call log"),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["late"] is True and body["late_reason"] == "Found on the paper call log"
    assert _lines(billing_month) == before

    pending = api_client(world.user("manager")).get("/api/v1/months/2026-04/amendments").json()
    assert pending["count"] == 1
    item = pending["items"][0]
    assert item["patient_id"] == patient.pk
    assert body["id"] in [entry["id"] for entry in item["entries"]]
    page = login(world, "manager").get("/billing/2026-04/").content.decode()
    assert "Pending amendments" in page
    assert f"Patient {patient.pk}:" in page
    assert _lines(billing_month) == before


def test_a_late_entry_in_an_open_month_needs_a_reason_after_48_hours(
    world: PracticeWorld,
    approved,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    patient, _ = approved
    client: Client = api_client(world.user("coordinator"))
    three_days_ago = TODAY - timedelta(days=3)
    refused = client.post(
        "/api/v1/time-entries",
        _entry(patient.pk, three_days_ago, 20),
        content_type="application/json",
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "reason"
    stored = client.post(
        "/api/v1/time-entries",
        _entry(patient.pk, three_days_ago, 20, reason="Entered from notes"),
        content_type="application/json",
    )
    assert stored.status_code == 201
    assert stored.json()["late"] is True and stored.json()["countable"] is True
    recent = client.post(
        "/api/v1/time-entries",
        _entry(patient.pk, TODAY - timedelta(hours=3), 20),
        content_type="application/json",
    )
    assert recent.status_code == 201 and recent.json()["late"] is False

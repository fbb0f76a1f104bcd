"""Case 5: payloads smuggle ``practice_id``, ``created_by``, ``locked``, ``version`` and ``id``.

Pass: the extra fields are ignored (or refused with 422); every stored value comes from the server.
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from careledger.careplans.models import CarePlan
from careledger.devices.models import Reading
from careledger.patients.models import Patient
from careledger.timelog.models import TimeEntry
from tests.conftest import PracticeWorld
from tests.devices.conftest import Monitored, bp, monitor
from tests.reliability._helpers_a import SUMMARY

pytestmark = pytest.mark.django_db

SMUGGLED_ID = 424242


def _smuggled(other_world: PracticeWorld) -> dict[str, Any]:
    """What a hostile client adds to any payload."""
    intruder = other_world.user("admin").pk
    return {
        "id": SMUGGLED_ID,
        "practice_id": other_world.practice.pk,
        "practice": other_world.practice.pk,
        "created_by": intruder,
        "created_by_id": intruder,
        "staff_id": intruder,
        "locked": True,
        "late": False,
        "countable": True,
        "version": 99,
        "voided_at": "2026-01-01T00:00:00Z",
        "created_at": "2001-01-01T00:00:00Z",
    }


@pytest.fixture
def rpm(world: PracticeWorld) -> Monitored:
    return monitor(world, slug="acme-riverside")


def test_a_created_patient_takes_its_practice_and_id_from_the_server(
    world: PracticeWorld,
    other_world: PracticeWorld,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = api_client(world.user("coordinator"))
    response = client.post(
        "/api/v1/patients",
        data={
            "mrn": "MA-1",
            "given_name": "Ida",
            "family_name": "Massassign",
            "birth_date": "1950-02-03",
            "sex": "female",
            **_smuggled(other_world),
        },
        content_type="application/json",
    )
    # Unknown fields are ignored: the patient is created with the server's values.
    assert response.status_code == 201, response.content
    patient = Patient.objects.get(mrn="MA-1")
    assert patient.pk != SMUGGLED_ID and response.json()["id"] == patient.pk
    assert patient.practice_id == world.practice.pk
    assert patient.created_at.year >= 2026
    assert not Patient.objects.filter(practice=other_world.practice, mrn="MA-1").exists()


def test_a_coordinator_from_another_practice_cannot_be_assigned(
    world: PracticeWorld,
    other_world: PracticeWorld,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = api_client(world.user("coordinator"))
    response = client.post(
        "/api/v1/patients",
        data={
            "mrn": "MA-2",
            "given_name": "Ida",
            "family_name": "Massassign",
            "birth_date": "1950-02-03",
            "sex": "female",
            "coordinator_id": other_world.user("coordinator").pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 422
    assert (
        response.json()["errors"][0]["field"] == "coordinator_id"
        or "coordinator" in (response.json()["errors"][0]["field"])
    )
    assert not Patient.objects.filter(mrn="MA-2").exists()


def test_a_time_entry_takes_staff_practice_version_and_flags_from_the_server(
    world: PracticeWorld,
    other_world: PracticeWorld,
    rpm: Monitored,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = api_client(world.user("coordinator"))
    now = timezone.now()
    response = client.post(
        "/api/v1/time-entries",
        data={
            "patient_id": world.patient.pk,
            "program": "RPM",
            "kind": "care_coordination",
            "outcome": "not_applicable",
            "started_at": (now - timedelta(hours=2)).isoformat(),
            "ended_at": (now - timedelta(hours=1, minutes=50)).isoformat(),
            "summary": SUMMARY,
            **_smuggled(other_world),
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    entry = TimeEntry.objects.get()
    assert entry.pk != SMUGGLED_ID and response.json()["id"] == entry.pk
    assert entry.practice_id == world.practice.pk
    assert entry.staff_id == entry.created_by_id == world.user("coordinator").pk
    assert entry.version == 1 and entry.voided_at is None
    assert entry.created_at > now - timedelta(minutes=5)

    patched = client.patch(
        f"/api/v1/time-entries/{entry.pk}",
        data={"summary": SUMMARY + " Amended.", "reason": "typo", **_smuggled(other_world)},
        content_type="application/json",
    )
    assert patched.status_code == 200, patched.content
    entry.refresh_from_db()
    assert entry.pk != SMUGGLED_ID
    assert entry.practice_id == world.practice.pk
    assert entry.staff_id == world.user("coordinator").pk
    assert entry.version == 2 and entry.voided_at is None


def test_a_reading_cannot_choose_its_patient_practice_or_id(
    world: PracticeWorld,
    other_world: PracticeWorld,
    rpm: Monitored,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = api_client(world.user("coordinator"))
    reading = {
        **bp(rpm.cuff, "ma-1"),
        **_smuggled(other_world),
        "patient_id": other_world.patient.pk,
    }
    response = client.post(
        "/api/v1/readings",
        data=json.dumps({"readings": [reading]}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    stored = Reading.objects.all()
    assert stored.count() + len(response.json()["errors"]) == 1
    for row in stored:
        assert row.pk != SMUGGLED_ID
        assert row.patient_id == world.patient.pk
        assert row.device.practice_id == world.practice.pk


def test_a_care_plan_draft_cannot_set_its_revision_or_owner(
    world: PracticeWorld,
    other_world: PracticeWorld,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = api_client(world.user("coordinator"))
    started = client.post(
        f"/api/v1/patients/{world.patient.pk}/care-plan",
        data={"kind": "comprehensive", **_smuggled(other_world)},
        content_type="application/json",
    )
    assert started.status_code == 201, started.content
    plan = started.json()
    assert plan["id"] != SMUGGLED_ID
    saved = client.put(
        f"/api/v1/patients/{world.patient.pk}/care-plan/draft",
        data={
            "revision": plan["revision"],
            "content": {"elements": {}},
            **_smuggled(other_world),
            "plan_id": SMUGGLED_ID,
        },
        content_type="application/json",
    )
    assert saved.status_code in (200, 422), saved.content
    stored = CarePlan.objects.get()
    assert stored.patient_id == world.patient.pk
    assert stored.revision in (plan["revision"], plan["revision"] + 1)
    assert stored.pk != SMUGGLED_ID

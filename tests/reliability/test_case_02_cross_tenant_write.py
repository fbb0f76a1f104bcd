"""Case 2: practice A posts a time entry, a reading and a care-plan edit carrying B's ids.

Pass: 404 or 422 on every path, and not one row written in practice B.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from careledger.audit.models import AuditEvent
from careledger.careplans.models import CarePlan
from careledger.devices.models import Reading
from careledger.timelog.models import TimeEntry, Timer
from tests.conftest import PracticeWorld
from tests.devices.conftest import Monitored, bp, monitor
from tests.reliability._helpers_a import SUMMARY, denied_events, published_plan

pytestmark = pytest.mark.django_db

STARTED = datetime(2026, 4, 7, 15, 0, tzinfo=UTC)


@pytest.fixture
def b_rpm(other_world: PracticeWorld) -> Monitored:
    return monitor(other_world, slug="acme-lakeside", serial_prefix="LK")


@pytest.fixture
def a_rpm(world: PracticeWorld) -> Monitored:
    return monitor(world, slug="acme-riverside")


def _rows_in(world: PracticeWorld) -> tuple[int, int, int, int, int]:
    """Count what practice ``world`` holds that a cross-tenant write could add to."""
    practice = world.practice
    return (
        TimeEntry.objects.filter(practice=practice).count(),
        Reading.objects.filter(device__practice=practice).count(),
        CarePlan.objects.filter(patient__practice=practice).count(),
        Timer.objects.filter(patient__practice=practice).count(),
        AuditEvent.objects.filter(practice=practice).count(),
    )


def test_api_writes_carrying_bs_patient_or_device_are_refused_and_write_nothing_in_b(
    world: PracticeWorld,
    other_world: PracticeWorld,
    a_rpm: Monitored,
    b_rpm: Monitored,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    version = published_plan(other_world, other_world.patient)
    b_before = _rows_in(other_world)
    client: Client = api_client(world.user("coordinator"))
    b_patient = other_world.patient.pk

    entry = client.post(
        "/api/v1/time-entries",
        data={
            "patient_id": b_patient,
            "program": "RPM",
            "kind": "interactive_call",
            "outcome": "reached",
            "started_at": STARTED.isoformat(),
            "ended_at": (STARTED + timedelta(minutes=20)).isoformat(),
            "summary": SUMMARY,
        },
        content_type="application/json",
    )
    assert entry.status_code in (404, 422), entry.content

    draft = client.put(
        f"/api/v1/patients/{b_patient}/care-plan/draft",
        data={"revision": version.plan.revision, "content": {"elements": {}}},
        content_type="application/json",
    )
    assert draft.status_code in (404, 422), draft.content
    started = client.post(
        f"/api/v1/patients/{b_patient}/care-plan",
        data={"kind": "focused"},
        content_type="application/json",
    )
    assert started.status_code in (404, 422), started.content
    condition = client.post(
        f"/api/v1/patients/{b_patient}/conditions",
        data={"icd10_code": "I10", "description": "x"},
        content_type="application/json",
    )
    assert condition.status_code in (404, 422), condition.content

    by_id = bp(b_rpm.cuff, "cross-1")
    by_serial = bp(b_rpm.cuff, "cross-2")
    del by_serial["device_id"]
    by_serial["device_serial"] = b_rpm.cuff.serial
    readings = client.post(
        "/api/v1/readings",
        data=json.dumps({"readings": [by_id, by_serial, bp(a_rpm.cuff, "own-1")]}),
        content_type="application/json",
    )
    assert readings.status_code == 200, readings.content
    answer = readings.json()
    assert answer["stored"] == 1  # only A's own reading
    assert [e["index"] for e in answer["errors"]] == [0, 1]

    returned = client.post(
        f"/api/v1/devices/{b_rpm.cuff.pk}/return",
        data={"returned_on": "2026-04-30", "reason": "x"},
        content_type="application/json",
    )
    assert returned.status_code in (404, 422), returned.content

    assert _rows_in(other_world) == b_before
    assert Reading.objects.filter(device__practice=world.practice).count() == 1


def test_page_forms_posting_to_bs_patient_answer_404_and_write_nothing_in_b(
    world: PracticeWorld,
    other_world: PracticeWorld,
    b_rpm: Monitored,
    login,  # type: ignore[no-untyped-def]
) -> None:
    b_before = _rows_in(other_world)
    client: Client = login(world, "coordinator")
    b_patient = other_world.patient.pk
    local = timezone.localtime(STARTED).replace(tzinfo=None)
    posts = [
        (
            f"/time/patients/{b_patient}/entries/new/",
            {
                "program": "RPM",
                "kind": "interactive_call",
                "outcome": "reached",
                "started_at": local.strftime("%Y-%m-%dT%H:%M"),
                "minutes": "20",
                "summary": SUMMARY,
                "reason": "late",
            },
        ),
        (f"/time/patients/{b_patient}/timer/start/", {"program": "RPM"}),
        (f"/care-plans/patients/{b_patient}/start/", {"kind": "comprehensive"}),
        (f"/patients/{b_patient}/conditions/new/", {"icd10_code": "I10", "description": "x"}),
    ]
    for url, data in posts:
        before = denied_events()
        response = client.post(url, data, HTTP_HX_REQUEST="true")
        assert response.status_code == 404, url
        assert denied_events() == before + 1, url
    assert _rows_in(other_world) == b_before


def test_a_time_entry_of_a_is_not_moved_to_bs_patient_by_patch(
    world: PracticeWorld,
    other_world: PracticeWorld,
    a_rpm: Monitored,
    b_rpm: Monitored,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = api_client(world.user("coordinator"))
    now = timezone.now()
    created = client.post(
        "/api/v1/time-entries",
        data={
            "patient_id": world.patient.pk,
            "program": "RPM",
            "kind": "interactive_call",
            "outcome": "reached",
            "started_at": (now - timedelta(hours=2)).isoformat(),
            "ended_at": (now - timedelta(hours=1, minutes=40)).isoformat(),
            "summary": SUMMARY,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    b_before = _rows_in(other_world)
    patched = client.patch(
        f"/api/v1/time-entries/{created.json()['id']}",
        data={"patient_id": other_world.patient.pk, "summary": "moved?", "reason": "test"},
        content_type="application/json",
    )
    assert patched.status_code in (200, 422)
    assert TimeEntry.objects.get(pk=created.json()["id"]).patient_id == world.patient.pk
    assert _rows_in(other_world) == b_before

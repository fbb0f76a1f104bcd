"""Case 22: a double-submitted form or an API retry with the same Idempotency-Key is one record.

The key is sent by careledger.js with every htmx write (header) and every plain form (hidden
``idempotency_key`` field); API clients send the ``Idempotency-Key`` header (API.md). The first
answer is replayed for a repeat; a key reused for a different body is refused (422).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from careledger.audit.models import AuditEvent
from careledger.patients.models import Visit
from careledger.timelog.models import TimeEntry
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_case_22_an_api_retry_with_the_same_key_stores_one_record_and_replays_the_answer(
    world: PracticeWorld, api_client: Any
) -> None:
    EnrollmentFactory(
        patient=world.patient, program="CCM", billing_practitioner=world.user("practitioner")
    )
    client = api_client(world.user("coordinator"))
    body = json.dumps(
        {
            "patient_id": world.patient.pk,
            "program": "CCM",
            "kind": "care_coordination",
            "outcome": "not_applicable",
            "started_at": "2026-01-05T15:00:00Z",
            "ended_at": "2026-01-05T15:20:00Z",
            "summary": "Called the pharmacy about refills. Updated the medication list.",
            "reason": "Entered from paper notes.",
        }
    )
    answers = [
        client.post(
            "/api/v1/time-entries",
            body,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="retry-7f3c",
        )
        for _ in range(3)
    ]
    assert answers[0].status_code == 201, answers[0].content
    assert {(a.status_code, a.content) for a in answers} == {(201, answers[0].content)}
    assert TimeEntry.objects.filter(patient=world.patient).count() == 1
    assert AuditEvent.objects.filter(event="timeentry.created").count() == 1

    changed = client.post(
        "/api/v1/time-entries",
        body.replace("15:20", "15:25"),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="retry-7f3c",
    )
    assert changed.status_code == 422
    assert TimeEntry.objects.filter(patient=world.patient).count() == 1


@pytest.mark.parametrize("htmx", [False, True], ids=["plain-form", "htmx"])
def test_case_22_a_double_submitted_form_stores_one_record(
    world: PracticeWorld, login: Any, htmx: bool
) -> None:
    client = login(world, "coordinator")
    url = f"/patients/{world.patient.pk}/visits/new/"
    data: dict[str, Any] = {
        "practitioner": world.user("practitioner").pk,
        "visited_on": "2026-01-05",
        "kind": "awv",
    }
    headers: dict[str, str] = {}
    if htmx:
        headers = {"HTTP_HX_REQUEST": "true", "HTTP_IDEMPOTENCY_KEY": "render-1"}
    else:
        data["idempotency_key"] = "render-1"
    first = client.post(url, data, **headers)
    second = client.post(url, data, **headers)
    assert first.status_code in (200, 201, 302)
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert Visit.objects.filter(patient=world.patient).count() == 1
    assert AuditEvent.objects.filter(event="visit.recorded").count() == 1

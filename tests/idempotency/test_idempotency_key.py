"""An Idempotency-Key makes API retries and double-submitted forms safe (API.md, case 22)."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from careledger.audit.models import AuditEvent
from careledger.idempotency.models import IdempotencyKey
from careledger.patients.models import Visit
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db


def _visit(world: PracticeWorld, **overrides: Any) -> dict[str, Any]:
    return {
        "practitioner_id": world.user("practitioner").pk,
        "visited_on": "2026-01-05",
        "kind": "awv",
        **overrides,
    }


def _post(client: Client, world: PracticeWorld, body: dict[str, Any], key: str | None) -> Any:
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(
        f"/api/v1/patients/{world.patient.pk}/visits",
        json.dumps(body),
        content_type="application/json",
        **headers,
    )


def test_a_retry_with_the_same_key_replays_the_first_answer_and_stores_one_record(
    world: PracticeWorld, api_client: Any
) -> None:
    client = api_client(world.user("coordinator"))
    first = _post(client, world, _visit(world), "visit-1")
    retry = _post(client, world, _visit(world), "visit-1")
    assert first.status_code == 201, first.content
    assert (retry.status_code, retry.content) == (first.status_code, first.content)
    assert retry["Idempotent-Replayed"] == "true"
    assert Visit.objects.filter(patient=world.patient).count() == 1
    assert AuditEvent.objects.filter(event="visit.recorded").count() == 1


def test_requests_without_a_key_are_accepted_as_before(
    world: PracticeWorld, api_client: Any
) -> None:
    client = api_client(world.user("coordinator"))
    assert _post(client, world, _visit(world), None).status_code == 201
    assert _post(client, world, _visit(world), None).status_code == 201
    assert Visit.objects.filter(patient=world.patient).count() == 2
    assert not IdempotencyKey.objects.exists()


def test_the_same_key_with_a_different_body_is_refused_with_422(
    world: PracticeWorld, api_client: Any
) -> None:
    client = api_client(world.user("coordinator"))
    assert _post(client, world, _visit(world), "k").status_code == 201
    other = _post(client, world, _visit(world, visited_on="2026-01-06"), "k")
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"
    assert Visit.objects.filter(patient=world.patient).count() == 1


def test_the_same_key_while_the_first_request_runs_is_refused_with_409(
    world: PracticeWorld, api_client: Any
) -> None:
    client = api_client(world.user("coordinator"))
    assert _post(client, world, _visit(world), "k").status_code == 201
    IdempotencyKey.objects.update(status=None)  # as if the first were still running
    assert _post(client, world, _visit(world), "k").status_code == 409
    assert Visit.objects.filter(patient=world.patient).count() == 1


def test_keys_belong_to_one_user(world: PracticeWorld, api_client: Any) -> None:
    _post(api_client(world.user("coordinator")), world, _visit(world), "shared")
    theirs = _post(api_client(world.user("manager")), world, _visit(world), "shared")
    assert theirs.status_code == 201
    assert "Idempotent-Replayed" not in theirs
    assert Visit.objects.filter(patient=world.patient).count() == 2


def test_a_key_older_than_24_hours_starts_afresh_and_the_command_removes_it(
    world: PracticeWorld, api_client: Any
) -> None:
    client = api_client(world.user("coordinator"))
    _post(client, world, _visit(world), "old")
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    again = _post(client, world, _visit(world, visited_on="2026-01-06"), "old")
    assert again.status_code == 201
    assert Visit.objects.filter(patient=world.patient).count() == 2
    IdempotencyKey.objects.update(created_at=timezone.now() - timedelta(hours=25))
    call_command("expire_idempotency_keys", stdout=io.StringIO())
    assert not IdempotencyKey.objects.exists()


def test_a_failed_first_answer_is_not_kept_so_the_retry_runs(
    world: PracticeWorld, api_client: Any
) -> None:
    client = api_client(world.user("coordinator"))
    bad = _post(client, world, _visit(world, kind="nonsense"), "k")
    assert bad.status_code == 422
    # A 4xx is an answer too: the retry replays it rather than storing a record.
    assert _post(client, world, _visit(world, kind="nonsense"), "k").content == bad.content


def test_a_double_submitted_page_form_stores_one_visit(world: PracticeWorld, login: Any) -> None:
    client = login(world, "coordinator")
    url = f"/patients/{world.patient.pk}/visits/new/"
    data = {
        "practitioner": world.user("practitioner").pk,
        "visited_on": "2026-01-05",
        "kind": "awv",
        "idempotency_key": "form-render-1",
    }
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == 302
    assert (second.status_code, second["Location"]) == (302, first["Location"])
    assert Visit.objects.filter(patient=world.patient).count() == 1


def test_a_double_submitted_htmx_post_stores_one_visit(world: PracticeWorld, login: Any) -> None:
    client = login(world, "coordinator")
    url = f"/patients/{world.patient.pk}/visits/new/"
    data = {
        "practitioner": world.user("practitioner").pk,
        "visited_on": "2026-01-05",
        "kind": "awv",
    }
    headers = {"HTTP_HX_REQUEST": "true", "HTTP_IDEMPOTENCY_KEY": "htmx-1"}
    first = client.post(url, data, **headers)
    second = client.post(url, data, **headers)
    assert (second.status_code, second.content) == (first.status_code, first.content)
    assert Visit.objects.filter(patient=world.patient).count() == 1


def test_a_replay_still_needs_the_csrf_token(world: PracticeWorld) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.user("coordinator"))
    url = f"/patients/{world.patient.pk}/visits/new/"
    response = client.post(url, {"kind": "awv"}, HTTP_IDEMPOTENCY_KEY="x")
    assert response.status_code == 403
    assert not IdempotencyKey.objects.exists()


def test_the_page_script_sends_a_key_with_every_write() -> None:
    from pathlib import Path

    import careledger.web

    script = (Path(careledger.web.__file__).parent / "static" / "careledger.js").read_text()
    assert 'headers["Idempotency-Key"]' in script
    assert 'field.name = "idempotency_key"' in script


def test_a_double_submitted_file_upload_imports_once(world: PracticeWorld, login: Any) -> None:
    import time_machine
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    from careledger.timelog.models import TimeEntry
    from tests.factories import EnrollmentFactory
    from tests.timelog.test_import_entries import GOOD_ROWS, NOW, csv_bytes

    for program in ("RPM", "CCM"):
        EnrollmentFactory(
            patient=world.patient,
            program=program,
            billing_practitioner=world.user("practitioner"),
            started_on=date(2026, 9, 1),
            consent_on=date(2026, 9, 3),
        )
    client = login(world, "admin")
    content = csv_bytes(*GOOD_ROWS)
    with time_machine.travel(NOW, tick=False):
        answers = [
            client.post(
                reverse("time-import"),
                {
                    "file": SimpleUploadedFile("entries.csv", content, "text/csv"),
                    "idempotency_key": "upload-1",
                },
            )
            for _ in range(2)
        ]
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[1]["Idempotent-Replayed"] == "true"
    assert TimeEntry.objects.count() == 3

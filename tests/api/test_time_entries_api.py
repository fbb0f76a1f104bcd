"""POST/PATCH /time-entries, history, and the live patient month."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import call_command

from careledger.audit.models import AuditEvent
from careledger.patients.models import Visit
from careledger.timelog.models import TimeEntry
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 4, 28, 20, 0, tzinfo=UTC)  # 15:00 in Chicago
SUMMARY = "Discussed the week's blood pressure readings. Reviewed medication adherence."


@pytest.fixture
def rpm(world: PracticeWorld) -> PracticeWorld:
    EnrollmentFactory(
        patient=world.patient,
        program="RPM",
        billing_practitioner=world.user("practitioner"),
        started_on=date(2026, 1, 5),
        consent_on=date(2026, 1, 5),
    )
    Visit.objects.create(
        patient=world.patient,
        practitioner=world.user("practitioner"),
        visited_on=date(2026, 1, 5),
        kind="em",
        em_level=3,
        created_at=NOW,
    )
    return world


def _body(world: PracticeWorld, start: str, minutes: int, **extra: Any) -> dict[str, Any]:
    started = datetime.fromisoformat(start)
    body = {
        "patient_id": world.patient.pk,
        "program": "RPM",
        "kind": "interactive_call",
        "outcome": "reached",
        "started_at": started.isoformat(),
        "ended_at": (started + timedelta(minutes=minutes)).isoformat(),
        "summary": SUMMARY,
    }
    body.update(extra)
    return body


@pytest.fixture
def client(rpm: PracticeWorld, api_client):  # type: ignore[no-untyped-def]
    return api_client(rpm.user("coordinator"))


@time_machine.travel(NOW, tick=False)
def test_posting_an_entry_answers_201_with_its_derived_fields(rpm, client) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/time-entries",
        _body(rpm, "2026-04-28T09:00:00-05:00", 12),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["minutes"], body["interactive"], body["countable"]) == (12, True, True)
    assert body["source"] == "api"
    assert body["not_countable_reason"] == ""


@time_machine.travel(NOW, tick=False)
def test_a_voicemail_is_stored_with_countable_false_and_the_reason(rpm, client) -> None:  # type: ignore[no-untyped-def]
    body = _body(
        rpm,
        "2026-04-28T09:00:00-05:00",
        3,
        kind="voicemail",
        outcome="left_voicemail",
        summary="Left a voicemail asking for a call back.",
    )
    response = client.post("/api/v1/time-entries", body, content_type="application/json")
    assert response.status_code == 201
    assert response.json()["countable"] is False
    assert response.json()["not_countable_reason"].startswith("P3")


@time_machine.travel(NOW, tick=False)
def test_a_patient_without_the_program_gets_422(rpm, client) -> None:  # type: ignore[no-untyped-def]
    body = _body(rpm, "2026-04-28T09:00:00-05:00", 12, program="CCM")
    response = client.post("/api/v1/time-entries", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "program"


@time_machine.travel(NOW, tick=False)
def test_a_time_without_offset_is_refused_with_its_field(rpm, client) -> None:  # type: ignore[no-untyped-def]
    body = _body(rpm, "2026-04-28T09:00:00-05:00", 12, started_at="2026-04-28T09:00:00")
    response = client.post("/api/v1/time-entries", body, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "started_at"


@time_machine.travel(NOW, tick=False)
def test_a_late_entry_needs_a_reason(rpm, client) -> None:  # type: ignore[no-untyped-def]
    body = _body(rpm, "2026-04-20T09:00:00-05:00", 12)
    refused = client.post("/api/v1/time-entries", body, content_type="application/json")
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["field"] == "reason"
    body["reason"] = "Entered from the paper log."
    accepted = client.post("/api/v1/time-entries", body, content_type="application/json")
    assert accepted.status_code == 201
    assert accepted.json()["late"] is True


@time_machine.travel(NOW, tick=False)
def test_patch_amends_and_history_lists_both_versions(rpm, client) -> None:  # type: ignore[no-untyped-def]
    created = client.post(
        "/api/v1/time-entries",
        _body(rpm, "2026-04-28T09:00:00-05:00", 12),
        content_type="application/json",
    ).json()
    no_reason = client.patch(
        f"/api/v1/time-entries/{created['id']}", {"kind": "video"}, content_type="application/json"
    )
    assert no_reason.status_code == 422
    amended = client.patch(
        f"/api/v1/time-entries/{created['id']}",
        {"kind": "video", "reason": "It was a video visit."},
        content_type="application/json",
    )
    assert amended.status_code == 200
    assert amended.json()["kind"] == "video" and amended.json()["version"] == 2
    history = client.get(f"/api/v1/time-entries/{created['id']}/history").json()
    assert [v["kind"] for v in history["items"]] == ["interactive_call", "video"]
    assert history["items"][1]["reason"] == "It was a video visit."
    assert history["items"][1]["recorded_by"] == rpm.user("coordinator").username


@time_machine.travel(NOW, tick=False)
def test_another_practices_entry_is_not_found(rpm, other_world, client, api_client) -> None:  # type: ignore[no-untyped-def]
    entry_id = client.post(
        "/api/v1/time-entries",
        _body(rpm, "2026-04-28T09:00:00-05:00", 12),
        content_type="application/json",
    ).json()["id"]
    stranger = api_client(other_world.user("coordinator"))
    assert stranger.get(f"/api/v1/time-entries/{entry_id}/history").status_code == 404
    assert (
        stranger.patch(
            f"/api/v1/time-entries/{entry_id}",
            {"kind": "video", "reason": "x"},
            content_type="application/json",
        ).status_code
        == 404
    )
    cross = _body(rpm, "2026-04-28T10:00:00-05:00", 5)
    assert (
        stranger.post("/api/v1/time-entries", cross, content_type="application/json").status_code
        == 404
    )
    assert TimeEntry.objects.count() == 1


def test_billers_and_auditors_may_not_log_time(rpm, api_client) -> None:  # type: ignore[no-untyped-def]
    for role in ("biller", "auditor"):
        response = api_client(rpm.user(role)).post(
            "/api/v1/time-entries",
            _body(rpm, "2026-04-28T09:00:00-05:00", 12),
            content_type="application/json",
        )
        assert response.status_code == 403


def _log(client, rpm, start: str, minutes: int, **extra: Any) -> None:  # type: ignore[no-untyped-def]
    response = client.post(
        "/api/v1/time-entries", _body(rpm, start, minutes, **extra), content_type="application/json"
    )
    assert response.status_code == 201, response.content


@time_machine.travel(NOW, tick=False)
def test_the_month_shows_minutes_live_contact_and_the_next_threshold(rpm, client) -> None:  # type: ignore[no-untyped-def]
    _log(client, rpm, "2026-04-06T10:00:00-05:00", 12, reason="back-filled")
    _log(client, rpm, "2026-04-28T09:00:00-05:00", 8, kind="data_review", outcome="not_applicable")
    month = client.get(f"/api/v1/patients/{rpm.patient.pk}/months/2026-04").json()
    rpm_month = month["programs"]["RPM"]
    assert rpm_month["minutes"] == 20
    assert rpm_month["interactive_contact"] is True
    assert rpm_month["next_threshold"]["code"] == "99458"
    assert rpm_month["next_threshold"]["minutes_needed"] == 20
    lines = {(line["code"], line["units"], line["dos"]) for line in month["decision"]["lines"]}
    assert ("99457", 1, "2026-04-30") in lines
    assert "CCM" not in month["programs"]
    assert AuditEvent.objects.filter(event="month.viewed").count() == 1


@time_machine.travel(NOW, tick=False)
def test_as_of_counts_only_entries_up_to_that_local_day(rpm, client) -> None:  # type: ignore[no-untyped-def]
    _log(client, rpm, "2026-04-06T10:00:00-05:00", 12, reason="back-filled")
    _log(client, rpm, "2026-04-28T09:00:00-05:00", 8, kind="data_review", outcome="not_applicable")
    early = client.get(f"/api/v1/patients/{rpm.patient.pk}/months/2026-04?as_of=2026-04-10").json()
    assert early["programs"]["RPM"]["minutes"] == 12
    assert early["programs"]["RPM"]["next_threshold"]["minutes_needed"] == 8


@time_machine.travel(NOW, tick=False)
def test_an_entry_crossing_local_midnight_is_split_between_months(rpm, client) -> None:  # type: ignore[no-untyped-def]
    # 23:50 on March 31 in Chicago until 00:15 on April 1: 10 minutes in March, 15 in April.
    _log(client, rpm, "2026-03-31T23:50:00-05:00", 25, reason="night call")
    march = client.get(f"/api/v1/patients/{rpm.patient.pk}/months/2026-03").json()
    april = client.get(f"/api/v1/patients/{rpm.patient.pk}/months/2026-04").json()
    assert march["programs"]["RPM"]["minutes"] == 10
    assert april["programs"]["RPM"]["minutes"] == 15


def test_a_bad_month_is_a_422(rpm, client) -> None:  # type: ignore[no-untyped-def]
    response = client.get(f"/api/v1/patients/{rpm.patient.pk}/months/2026-13")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "month"


@time_machine.travel(NOW, tick=False)
def test_the_live_month_equals_careledger_evaluate_on_the_same_facts(
    rpm,
    client,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    _log(client, rpm, "2026-04-06T10:00:00-05:00", 12, reason="back-filled")
    _log(client, rpm, "2026-04-27T14:00:00-05:00", 9, kind="data_review", outcome="not_applicable")
    _log(
        client,
        rpm,
        "2026-04-28T08:00:00-05:00",
        4,
        kind="voicemail",
        outcome="no_answer",
        summary="No answer.",
    )
    live = client.get(f"/api/v1/patients/{rpm.patient.pk}/months/2026-04").json()
    scenario = {
        "service_month": "2026-04",
        "practice_timezone": "America/Chicago",
        "billing_practitioner": rpm.user("practitioner").username,
        "setting": "physician_office",
        "patient": {
            "medicare_ffs": True,
            "established_patient": True,
            "chronic_conditions": 0,
            "qmb": False,
            "seen_by_billing_practitioner_within_12_months": True,
        },
        "programs": ["RPM"],
        "consent": {"RPM": "2026-01-05"},
        "rpm_setup_already_billed": True,
        "time_entries": [
            {
                "start": "2026-04-06T10:00:00-05:00",
                "minutes": 12,
                "kind": "interactive_call",
                "role": "clinical_staff",
                "program": "RPM",
            },
            {
                "start": "2026-04-27T14:00:00-05:00",
                "minutes": 9,
                "kind": "data_review",
                "role": "clinical_staff",
                "program": "RPM",
            },
            {
                "start": "2026-04-28T08:00:00-05:00",
                "minutes": 4,
                "kind": "voicemail",
                "role": "clinical_staff",
                "program": "RPM",
            },
        ],
    }
    path = tmp_path / "month.json"
    path.write_text(json.dumps(scenario))
    out = io.StringIO()
    call_command("evaluate", str(path), stdout=out)
    evaluated = json.loads(out.getvalue())

    def key(lines: list[dict[str, Any]]) -> set[tuple[str, int, str]]:
        return {(line["code"], line["units"], line["dos"]) for line in lines}

    assert key(live["decision"]["lines"]) == key(evaluated["lines"])
    assert live["programs"]["RPM"]["minutes"] == evaluated["minutes_by_program"]["RPM"] == 21
    engine_flags = {f["code"] for f in evaluated["flags"]}
    assert engine_flags <= {f["code"] for f in live["decision"]["flags"]}

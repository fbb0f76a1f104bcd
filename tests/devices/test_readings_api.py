"""POST /api/v1/readings: each reading on its own, stored exactly once, within the practice."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from careledger.audit.models import AuditEvent
from careledger.devices.models import Reading
from tests.devices.conftest import Monitored, Poster, bp, single

pytestmark = pytest.mark.django_db


def _batch(rpm: Monitored) -> list[dict[str, Any]]:
    return [
        bp(rpm.cuff, "bp-1"),
        bp(rpm.cuff, "bp-2", systolic=131, at=timezone.now() - timedelta(hours=5)),
        single(rpm.scale, "wt-1", "weight", 182.5, "[lb_av]"),
    ]


def test_a_batch_sent_twice_is_stored_once(rpm: Monitored, post: Poster) -> None:
    user = rpm.world.user("coordinator")
    first = post(user, _batch(rpm))
    second = post(user, _batch(rpm))
    assert first.status_code == 200, first.content
    assert first.json() == {"stored": 3, "duplicates": 0, "errors": []}
    assert second.json() == {"stored": 0, "duplicates": 3, "errors": []}
    assert Reading.objects.count() == 3


def test_a_reading_repeated_inside_one_batch_is_a_duplicate(rpm: Monitored, post: Poster) -> None:
    reading = bp(rpm.cuff, "bp-1")
    answer = post(rpm.world.user("coordinator"), [reading, reading, reading]).json()
    assert answer == {"stored": 1, "duplicates": 2, "errors": []}


def test_bad_readings_are_refused_with_index_field_and_reason_while_good_ones_are_stored(
    rpm: Monitored, post: Poster
) -> None:
    readings = [
        bp(rpm.cuff, "ok-1"),
        single(rpm.scale, "bad-1", "weight", -4, "kg"),
        bp(rpm.cuff, "bad-2", systolic="high"),
        single(rpm.scale, "bad-3", "weight", 80, "stone"),
        "not a reading",
        single(rpm.scale, "ok-2", "weight", 80, "kg"),
    ]
    answer = post(rpm.world.user("coordinator"), readings).json()
    assert answer["stored"] == 2
    assert answer["duplicates"] == 0
    assert [(e["index"], e["field"]) for e in answer["errors"]] == [
        (1, "value"),
        (2, "systolic"),
        (3, "unit"),
        (4, "reading"),
    ]
    assert all(e["reason"] for e in answer["errors"])
    assert answer["stored"] + answer["duplicates"] + len(answer["errors"]) == len(readings)


def test_nan_and_infinity_in_the_json_are_refused_per_reading(rpm: Monitored, post: Poster) -> None:
    raw = (
        '{"readings": ['
        + json.dumps(single(rpm.scale, "n-1", "weight", 1, "kg")).replace(": 1,", ": NaN,")
        + ","
        + json.dumps(single(rpm.scale, "n-2", "weight", 1, "kg")).replace(": 1,", ": Infinity,")
        + ","
        + json.dumps(single(rpm.scale, "n-3", "weight", 1, "kg")).replace(": 1,", ": 1e308,")
        + "]}"
    )
    answer = post(rpm.world.user("coordinator"), None, raw=raw).json()
    assert answer["stored"] == 0
    assert [e["index"] for e in answer["errors"]] == [0, 1, 2]


@pytest.mark.parametrize(
    "raw", ['{"reading": []}', "[]", '{"readings": {"a": 1}}', '"readings"', "not json"]
)
def test_only_a_body_that_is_not_a_batch_gets_422(rpm: Monitored, post: Poster, raw: str) -> None:
    response = post(rpm.world.user("coordinator"), None, raw=raw)
    assert response.status_code in (400, 422), response.content


def test_a_device_can_be_named_by_its_serial(rpm: Monitored, post: Poster) -> None:
    reading = bp(rpm.cuff, "s-1")
    del reading["device_id"]
    reading["device_serial"] = rpm.cuff.serial
    assert post(rpm.world.user("coordinator"), [reading]).json()["stored"] == 1


def test_a_reading_for_another_practice_s_device_is_an_error_and_never_attached(
    rpm: Monitored, other_rpm: Monitored, post: Poster
) -> None:
    by_id = bp(other_rpm.cuff, "x-1")
    by_serial = bp(other_rpm.cuff, "x-2")
    del by_serial["device_id"]
    by_serial["device_serial"] = other_rpm.cuff.serial
    answer = post(rpm.world.user("coordinator"), [by_id, by_serial]).json()
    assert answer["stored"] == 0
    assert [(e["index"], e["field"]) for e in answer["errors"]] == [
        (0, "device_id"),
        (1, "device_serial"),
    ]
    assert Reading.objects.count() == 0


def test_a_reading_the_device_cannot_take_is_refused(rpm: Monitored, post: Poster) -> None:
    answer = post(
        rpm.world.user("coordinator"), [single(rpm.cuff, "t-1", "weight", 80, "kg")]
    ).json()
    assert answer["errors"][0]["field"] == "type"


@pytest.mark.parametrize("role", ["biller", "auditor"])
def test_billers_and_auditors_may_not_post_readings(
    rpm: Monitored, post: Poster, role: str
) -> None:
    response = post(rpm.world.user(role), [bp(rpm.cuff, "r-1")])
    assert response.status_code == 403
    assert Reading.objects.count() == 0


@pytest.mark.parametrize("role", ["coordinator", "practitioner", "manager", "admin"])
def test_clinical_roles_may_post_either_source(rpm: Monitored, post: Poster, role: str) -> None:
    readings = [bp(rpm.cuff, f"{role}-a"), bp(rpm.cuff, f"{role}-m", source="manual")]
    assert post(rpm.world.user(role), readings).json()["stored"] == 2
    assert set(Reading.objects.values_list("source", flat=True)) == {"automatic", "manual"}


def test_the_batch_is_audited_per_patient_with_the_poster_and_sources(
    rpm: Monitored, post: Poster
) -> None:
    post(rpm.world.user("coordinator"), [bp(rpm.cuff, "a-1"), bp(rpm.cuff, "a-2", source="manual")])
    event = AuditEvent.objects.get(event="reading.received")
    assert event.patient_id == rpm.world.patient.pk
    assert event.actor_username == "riverside-coordinator"
    assert event.details["sources"] == {"automatic": 1, "manual": 1}


def test_a_device_list_names_type_vendor_and_serial(rpm: Monitored, api_client: Any) -> None:
    client = api_client(rpm.world.user("biller"))
    answer = client.get(f"/api/v1/patients/{rpm.world.patient.pk}/devices").json()
    assert answer["count"] == 4
    first = {item["type"]: item for item in answer["items"]}["blood_pressure"]
    assert (first["vendor"], first["serial"]) == ("acme-riverside", "SN-BP1")
    assert "id" in first


def test_another_practice_s_patient_devices_are_not_found(
    rpm: Monitored, other_rpm: Monitored, api_client: Any
) -> None:
    client = api_client(rpm.world.user("coordinator"))
    assert client.get(f"/api/v1/patients/{other_rpm.world.patient.pk}/devices").status_code == 404

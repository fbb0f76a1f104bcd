"""The vendor webhook: HMAC signature, 300-second window, replay refusal (cases 6, 23, 24)."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client

from careledger.audit.models import AuditEvent
from careledger.devices.models import Alert, Reading
from careledger.devices.webhooks import sign
from tests.devices.conftest import Monitored, bp

pytestmark = pytest.mark.django_db


def _deliver(
    rpm: Monitored,
    readings: list[dict[str, Any]],
    *,
    timestamp: int | None = None,
    secret: str | None = None,
    signature: str | None = None,
    vendor: str | None = None,
) -> Any:
    body = json.dumps({"readings": readings}).encode()
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    headers = {
        "HTTP_X_CARELEDGER_TIMESTAMP": stamp,
        "HTTP_X_CARELEDGER_SIGNATURE": signature
        or sign(secret or rpm.vendor.webhook_secret, stamp, body),
    }
    return Client().post(
        f"/api/v1/webhooks/{vendor or rpm.vendor.slug}/readings",
        data=body,
        content_type="application/json",
        **headers,
    )


def _by_serial(rpm: Monitored, reading_id: str, **kwargs: Any) -> dict[str, Any]:
    reading = bp(rpm.cuff, reading_id, **kwargs)
    del reading["device_id"]
    reading["device_serial"] = rpm.cuff.serial
    return reading


def test_a_signed_delivery_is_stored_and_audited(rpm: Monitored) -> None:
    response = _deliver(rpm, [_by_serial(rpm, "w-1")])
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 1, "duplicates": 0, "errors": []}
    assert AuditEvent.objects.filter(event="webhook.received").count() == 1
    assert Reading.objects.get().batch.via == "webhook"


def test_a_bad_signature_is_refused_nothing_stored_and_audited(rpm: Monitored) -> None:
    response = _deliver(rpm, [_by_serial(rpm, "w-1")], secret="not the secret")
    assert response.status_code == 401
    assert Reading.objects.count() == 0
    refused = AuditEvent.objects.get(event="webhook.refused")
    assert (refused.outcome, refused.details["reason"]) == ("denied", "bad signature")


def test_a_missing_signature_is_refused(rpm: Monitored) -> None:
    response = _deliver(rpm, [_by_serial(rpm, "w-1")], signature=" ")
    assert response.status_code == 401
    assert Reading.objects.count() == 0


@pytest.mark.parametrize("age", [301, -301, 3600])
def test_a_timestamp_outside_the_300_second_window_is_refused(rpm: Monitored, age: int) -> None:
    response = _deliver(rpm, [_by_serial(rpm, "w-1")], timestamp=int(time.time()) - age)
    assert response.status_code == 401
    assert Reading.objects.count() == 0


def test_a_replayed_signature_is_refused_with_nothing_stored(rpm: Monitored) -> None:
    stamp = int(time.time())
    reading = _by_serial(rpm, "w-1")
    first = _deliver(rpm, [reading], timestamp=stamp)
    replay = _deliver(rpm, [reading], timestamp=stamp)
    assert (first.status_code, replay.status_code) == (200, 401)
    assert Reading.objects.count() == 1
    assert AuditEvent.objects.get(event="webhook.refused").details["reason"] == "replayed signature"


def test_the_same_event_delivered_five_times_signed_afresh_is_stored_once_and_alerts_once(
    rpm: Monitored,
) -> None:
    critical = _by_serial(rpm, "w-crit", systolic=192, diastolic=124)
    stamp = int(time.time())
    answers = [_deliver(rpm, [critical], timestamp=stamp - n) for n in range(5)]
    assert [a.status_code for a in answers] == [200] * 5
    assert [a.json()["duplicates"] for a in answers] == [0, 1, 1, 1, 1]
    assert Reading.objects.count() == 1
    assert Alert.objects.count() == 1


def test_an_unknown_vendor_is_refused(rpm: Monitored) -> None:
    assert _deliver(rpm, [_by_serial(rpm, "w-1")], vendor="nobody").status_code == 401


def test_a_serial_enrolled_in_another_practice_is_never_attached(
    rpm: Monitored, other_rpm: Monitored
) -> None:
    foreign = _by_serial(other_rpm, "w-x")
    answer = _deliver(rpm, [foreign]).json()
    assert answer["stored"] == 0
    assert answer["errors"][0]["field"] == "device_serial"
    assert Reading.objects.count() == 0


def test_an_authentic_body_that_is_not_a_batch_gets_422(rpm: Monitored) -> None:
    body = b'{"reading": []}'
    stamp = str(int(time.time()))
    response = Client().post(
        f"/api/v1/webhooks/{rpm.vendor.slug}/readings",
        data=body,
        content_type="application/json",
        HTTP_X_CARELEDGER_TIMESTAMP=stamp,
        HTTP_X_CARELEDGER_SIGNATURE=sign(rpm.vendor.webhook_secret, stamp, body),
    )
    assert response.status_code == 422

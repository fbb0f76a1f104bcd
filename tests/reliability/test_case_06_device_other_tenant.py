"""Case 6: a webhook reading for a device enrolled in practice B arrives on A's endpoint.

Pass: rejected (or quarantined), never attached to a patient of another practice.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from careledger.audit.models import AuditEvent
from careledger.devices.models import Alert, Reading
from careledger.devices.services import Assignment, assign_device
from careledger.devices.webhooks import sign
from tests.conftest import PracticeWorld
from tests.devices.conftest import Monitored, bp, monitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def a_rpm(world: PracticeWorld) -> Monitored:
    return monitor(world, slug="acme-riverside")


@pytest.fixture
def b_rpm(other_world: PracticeWorld) -> Monitored:
    return monitor(other_world, slug="acme-lakeside", serial_prefix="LK")


def _deliver(vendor_slug: str, secret: str, readings: list[dict[str, Any]]) -> Any:
    body = json.dumps({"readings": readings}).encode()
    stamp = str(int(time.time()))
    return Client().post(
        f"/api/v1/webhooks/{vendor_slug}/readings",
        data=body,
        content_type="application/json",
        HTTP_X_CARELEDGER_TIMESTAMP=stamp,
        HTTP_X_CARELEDGER_SIGNATURE=sign(secret, stamp, body),
    )


def _by_serial(device_reading: dict[str, Any], serial: str) -> dict[str, Any]:
    reading = dict(device_reading)
    del reading["device_id"]
    reading["device_serial"] = serial
    return reading


def _b_untouched(b_rpm: Monitored) -> None:
    assert Reading.objects.filter(patient__practice=b_rpm.world.practice).count() == 0
    assert Alert.objects.filter(patient__practice=b_rpm.world.practice).count() == 0


def test_bs_serial_on_as_webhook_is_refused_per_reading_and_never_attached(
    a_rpm: Monitored, b_rpm: Monitored
) -> None:
    foreign = _by_serial(bp(b_rpm.cuff, "x-1", systolic=200), b_rpm.cuff.serial)
    own = _by_serial(bp(a_rpm.cuff, "x-2"), a_rpm.cuff.serial)
    response = _deliver(a_rpm.vendor.slug, a_rpm.vendor.webhook_secret, [foreign, own])
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["stored"] == 1
    assert [(e["index"], e["field"]) for e in answer["errors"]] == [(0, "device_serial")]
    assert b_rpm.cuff.serial not in json.dumps(answer)  # the error does not confirm B's device
    _b_untouched(b_rpm)
    assert set(Reading.objects.values_list("patient_id", flat=True)) == {a_rpm.world.patient.pk}


def test_bs_device_id_on_as_webhook_is_never_attached(a_rpm: Monitored, b_rpm: Monitored) -> None:
    response = _deliver(a_rpm.vendor.slug, a_rpm.vendor.webhook_secret, [bp(b_rpm.cuff, "x-3")])
    assert response.status_code == 200, response.content
    assert response.json()["stored"] == 0
    assert len(response.json()["errors"]) == 1
    _b_untouched(b_rpm)
    assert Reading.objects.count() == 0


def test_bs_vendor_secret_on_as_endpoint_is_refused_with_401_and_audited(
    a_rpm: Monitored, b_rpm: Monitored
) -> None:
    reading = _by_serial(bp(a_rpm.cuff, "x-4"), a_rpm.cuff.serial)
    response = _deliver(a_rpm.vendor.slug, b_rpm.vendor.webhook_secret, [reading])
    assert response.status_code == 401
    assert Reading.objects.count() == 0
    assert AuditEvent.objects.filter(event="webhook.refused").count() == 1


def test_a_serial_held_in_both_practices_attaches_only_to_the_vendors_own_practice(
    a_rpm: Monitored, b_rpm: Monitored
) -> None:
    # B happens to hold a device with the very serial A's vendor uses.
    assign_device(
        ctx=b_rpm.world.ctx("coordinator"),
        patient=b_rpm.world.patient,
        assignment=Assignment(
            program="RPM",
            type="blood_pressure",
            vendor=b_rpm.vendor.slug,
            serial=a_rpm.cuff.serial,
            assigned_on=a_rpm.cuff.assigned_on,
        ),
        now=timezone.now(),
    )
    reading = _by_serial(bp(a_rpm.cuff, "x-5"), a_rpm.cuff.serial)
    response = _deliver(a_rpm.vendor.slug, a_rpm.vendor.webhook_secret, [reading])
    assert response.json()["stored"] == 1
    assert Reading.objects.get().patient_id == a_rpm.world.patient.pk
    _b_untouched(b_rpm)

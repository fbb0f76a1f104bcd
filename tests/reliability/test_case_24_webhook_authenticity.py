"""Case 24: a webhook without a valid HMAC, too old, or replayed is refused and audited.

Pass: 401, nothing stored, a ``webhook.refused`` audit event naming the reason.
"""

from __future__ import annotations

import time

import pytest

from careledger.audit.models import AuditEvent
from careledger.devices.models import Reading
from tests.conftest import PracticeWorld
from tests.devices.conftest import Monitored, monitor
from tests.reliability._helpers_b import by_serial, deliver

pytestmark = pytest.mark.django_db


@pytest.fixture
def rpm(world: PracticeWorld) -> Monitored:
    return monitor(world, slug="acme-riverside")


@pytest.mark.parametrize(
    "attempt",
    ["missing signature", "bad signature", "wrong secret", "timestamp 301 s old", "future 301 s"],
)
def test_case_24_an_unauthentic_delivery_gets_401_stores_nothing_and_is_audited(
    rpm: Monitored, attempt: str
) -> None:
    reading = [by_serial(rpm.cuff, "w-1")]
    now = int(time.time())
    response = {
        "missing signature": lambda: deliver(rpm.vendor, reading, signature=""),
        "bad signature": lambda: deliver(rpm.vendor, reading, signature="sha256=" + "0" * 64),
        "wrong secret": lambda: deliver(rpm.vendor, reading, secret="not the vendor's secret"),
        "timestamp 301 s old": lambda: deliver(rpm.vendor, reading, timestamp=now - 301),
        "future 301 s": lambda: deliver(rpm.vendor, reading, timestamp=now + 301),
    }[attempt]()
    assert response.status_code == 401
    assert Reading.objects.count() == 0
    refused = AuditEvent.objects.get(event="webhook.refused")
    assert refused.outcome != "success"
    assert refused.details["reason"]


def test_case_24_a_replayed_signature_gets_401_and_stores_nothing_more(rpm: Monitored) -> None:
    stamp = int(time.time())
    reading = [by_serial(rpm.cuff, "w-1")]
    first = deliver(rpm.vendor, reading, timestamp=stamp)
    replay = deliver(rpm.vendor, reading, timestamp=stamp)
    assert (first.status_code, replay.status_code) == (200, 401)
    assert Reading.objects.count() == 1
    refused = AuditEvent.objects.get(event="webhook.refused")
    assert refused.details["reason"] == "replayed signature"

"""Case 29: device clocks far in the future or the past.

Pass: a reading from the future (beyond 10 minutes of skew) or from before the device was
with the patient is refused by index and field, nothing of it stored; a past reading that is
accepted keeps the device's "occurred" time (``measured_at``) alongside the server's
"recorded" time (``received_at``), and its audit event carries the server time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from careledger.audit.models import AuditEvent
from careledger.devices.ingest import ingest_readings
from careledger.devices.models import Reading
from tests.conftest import PracticeWorld
from tests.devices.conftest import Monitored, bp, monitor

pytestmark = pytest.mark.django_db


@pytest.fixture
def rpm(world: PracticeWorld) -> Monitored:
    return monitor(world, slug="acme-riverside")


@pytest.mark.parametrize(
    ("skew", "reason"),
    [
        (timedelta(days=365), "future"),
        (timedelta(minutes=11), "future"),
        (-timedelta(days=365 * 30), "not assigned"),
    ],
    ids=["a-year-ahead", "eleven-minutes-ahead", "thirty-years-back"],
)
def test_case_29_a_skewed_device_clock_is_refused_by_field(
    rpm: Monitored, skew: timedelta, reason: str
) -> None:
    now = timezone.now()
    good = bp(rpm.cuff, "good", at=now - timedelta(hours=1))
    skewed = bp(rpm.cuff, "skewed", at=now + skew)
    result = ingest_readings(practice=rpm.world.practice, items=[good, skewed], via="api", now=now)
    assert result.stored == 1
    [problem] = result.errors
    assert (problem.index, problem.field) == (1, "measured_at")
    assert reason in problem.reason
    assert list(Reading.objects.values_list("vendor_reading_id", flat=True)) == ["good"]


def test_case_29_a_little_skew_is_tolerated(rpm: Monitored) -> None:
    now = timezone.now()
    result = ingest_readings(
        practice=rpm.world.practice,
        items=[bp(rpm.cuff, "ahead", at=now + timedelta(minutes=5))],
        via="api",
        now=now,
    )
    assert (result.stored, result.errors) == (1, [])


def test_case_29_the_record_keeps_device_time_and_server_time_apart(rpm: Monitored) -> None:
    server_now = datetime(2026, 5, 4, 15, 0, tzinfo=timezone.get_current_timezone())
    occurred = server_now - timedelta(days=20)
    ingest_readings(
        practice=rpm.world.practice,
        items=[bp(rpm.cuff, "old", at=occurred)],
        via="api",
        now=server_now,
    )
    reading = Reading.objects.get()
    assert reading.measured_at == occurred  # the device's "occurred" time
    assert reading.received_at == server_now  # the server's "recorded" time
    event = AuditEvent.objects.get(event="reading.received")
    assert event.occurred_at == server_now
    assert event.occurred_at.utcoffset() == timedelta(0)

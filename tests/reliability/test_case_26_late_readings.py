"""Case 26: late and out-of-order readings for a closed month.

Pass: stored and flagged late, the locked (approved) billing of that month unchanged, and
alerting decided by the measured time, not the arrival time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from careledger.billing import services as billing
from careledger.billing.close import close_month
from careledger.billing.models import BillingLine, BillingMonth
from careledger.devices.ingest import ingest_readings
from careledger.devices.models import Alert, Reading
from careledger.devices.services import Assignment, assign_device, create_vendor
from careledger.locks.models import MonthLock
from tests.billing.builders import MONTH, NOW, rpm_patient
from tests.conftest import PracticeWorld
from tests.devices.conftest import bp

pytestmark = pytest.mark.django_db


def _approved_april_with_cuff(world: PracticeWorld) -> Any:
    patient = rpm_patient(world, 22)
    create_vendor(practice=world.practice, slug="acme", name="Acme", now=NOW)
    cuff = assign_device(
        ctx=world.ctx("coordinator"),
        patient=patient,
        assignment=Assignment(
            program="RPM",
            type="blood_pressure",
            vendor="acme",
            serial="BP-26",
            assigned_on=date(2026, 3, 20),
        ),
        now=NOW,
    )
    april = [bp(cuff, f"apr-{d}", at=datetime(2026, 4, d, 14, 0, tzinfo=UTC)) for d in range(1, 18)]
    ingest_readings(practice=world.practice, items=april, via="api", now=NOW)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    billing.approve_month(
        ctx=world.ctx("manager"),
        billing_month=BillingMonth.objects.get(practice=world.practice),
        now=NOW,
    )
    assert MonthLock.objects.filter(practice=world.practice, month="2026-04").exists()
    return cuff


def _lines() -> list[dict[str, Any]]:
    return list(BillingLine.objects.order_by("id").values("code", "units", "dos", "status"))


def test_case_26_a_late_reading_is_stored_flagged_and_leaves_locked_billing_unchanged(
    world: PracticeWorld,
) -> None:
    cuff = _approved_april_with_cuff(world)
    approved = _lines()
    assert approved and {line["status"] for line in approved} == {"approved"}
    arrives = NOW + timedelta(days=3)
    late = bp(cuff, "apr-25", at=datetime(2026, 4, 25, 14, 0, tzinfo=UTC))
    result = ingest_readings(practice=world.practice, items=[late], via="api", now=arrives)
    assert (result.stored, result.late) == (1, 1)
    reading = Reading.objects.get(vendor_reading_id="apr-25")
    assert reading.late and "2026-04" in reading.late_reason
    assert _lines() == approved
    assert BillingMonth.objects.get(practice=world.practice).status == "approved"


def test_case_26_alerting_uses_the_measured_time_not_the_arrival_time(
    world: PracticeWorld,
) -> None:
    cuff = _approved_april_with_cuff(world)
    arrives = NOW + timedelta(days=3)
    # A critical value measured in the closed month arrives days later: too old to alert on.
    old = bp(
        cuff, "apr-crit", systolic=195, diastolic=125, at=datetime(2026, 4, 20, 14, 0, tzinfo=UTC)
    )
    ingest_readings(practice=world.practice, items=[old], via="api", now=arrives)
    assert not Alert.objects.exists()
    # Out of order: a newer normal reading first, then an older critical one within the window.
    newer = bp(cuff, "may-new", at=arrives - timedelta(hours=1))
    older = bp(cuff, "may-crit", systolic=195, diastolic=125, at=arrives - timedelta(hours=5))
    ingest_readings(practice=world.practice, items=[newer], via="api", now=arrives)
    ingest_readings(practice=world.practice, items=[older], via="api", now=arrives)
    alert = Alert.objects.get()
    assert alert.measured_at == arrives - timedelta(hours=5)
    assert alert.reading == Reading.objects.get(vendor_reading_id="may-crit")

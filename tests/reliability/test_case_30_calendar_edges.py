"""Case 30: 28/29/30/31-day months, the leap day and the change of year.

Pass: each month's window runs from local midnight on the 1st to local midnight on the 1st
of the next month, and "days with readings" counts every local day of the month exactly once
(readings at 23:30 local, already the next day in UTC), with time frozen (time-machine).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from careledger.billing.months import month_of, parse_month
from careledger.devices.ingest import ingest_readings
from careledger.devices.selectors import automatic_reading_dates
from careledger.devices.services import Assignment, assign_device, create_vendor
from tests.conftest import PracticeWorld
from tests.devices.conftest import bp
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

ZONE = "America/Chicago"
MONTHS = {
    "2025-02": 28,
    "2024-02": 29,  # leap year
    "2025-04": 30,
    "2025-01": 31,
    "2025-12": 31,  # the year changes at its end
}


@pytest.mark.parametrize(("label", "days"), MONTHS.items())
def test_case_30_the_month_window_runs_midnight_to_midnight_in_the_practice_zone(
    label: str, days: int
) -> None:
    month = parse_month(label, ZONE)
    assert (month.last_on - month.first_on).days + 1 == days
    assert month.last_on.day == calendar.monthrange(month.first_on.year, month.first_on.month)[1]
    after = month.last_on + timedelta(days=1)
    assert after.day == 1
    assert month.ends_at == parse_month(f"{after:%Y-%m}", ZONE).starts_at
    zone = ZoneInfo(ZONE)
    assert month.starts_at == datetime.combine(month.first_on, time(0), tzinfo=zone).astimezone(UTC)
    assert month_of(month.last_on, ZONE) == month


@pytest.mark.parametrize(("label", "days"), MONTHS.items())
def test_case_30_days_with_readings_counts_each_local_day_of_the_month_once(
    world: PracticeWorld, label: str, days: int
) -> None:
    month = parse_month(label, ZONE)
    EnrollmentFactory(
        patient=world.patient,
        program="RPM",
        billing_practitioner=world.user("practitioner"),
        started_on=date(2023, 1, 1),
        consent_on=date(2023, 1, 2),
    )
    create_vendor(practice=world.practice, slug="acme", name="Acme", now=month.starts_at)
    cuff = assign_device(
        ctx=world.ctx("coordinator"),
        patient=world.patient,
        assignment=Assignment("RPM", "blood_pressure", "acme", "BP-30", date(2023, 1, 2)),
        now=month.starts_at,
    )
    zone = ZoneInfo(ZONE)
    # One reading at 23:30 local on every day from the day before the month to the day after.
    first, last = month.first_on - timedelta(days=1), month.last_on + timedelta(days=1)
    items = [
        bp(cuff, f"r-{day}", at=datetime.combine(day, time(23, 30), tzinfo=zone))
        for day in (first + timedelta(days=n) for n in range((last - first).days + 1))
    ]
    with time_machine.travel(month.ends_at + timedelta(days=3), tick=False):
        result = ingest_readings(
            practice=world.practice, items=items, via="api", now=month.ends_at + timedelta(days=3)
        )
    assert result.stored == days + 2
    in_month = [
        d
        for d in automatic_reading_dates(world.patient, "RPM")
        if month.first_on <= d <= month.last_on
    ]
    assert len(in_month) == days
    assert in_month[0] == month.first_on and in_month[-1] == month.last_on

"""Whether 16 reading days are still reachable counts the days left in the device period."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.utils import timezone

from careledger.billing.months import parse_month
from careledger.devices.ingest import ingest_readings
from careledger.patients.models import Visit
from careledger.worklists.selectors import pre_close_worklist
from tests.conftest import PracticeWorld
from tests.devices.conftest import Monitored, bp, monitor

pytestmark = pytest.mark.django_db

MONTH = parse_month("2026-04", "America/Chicago")
PERIOD_START = date(2026, 3, 31)  # the period runs 2026-03-31 .. 2026-04-29
AS_OF = date(2026, 4, 27)  # three days left: the 27th (no reading yet), 28th and 29th


def _readings_on(setup: Monitored, days: list[date]) -> None:
    items = [
        bp(
            setup.cuff,
            f"r-{day.isoformat()}",
            at=datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=15),
        )
        for day in days
    ]
    result = ingest_readings(
        practice=setup.world.practice,
        items=items,
        via="api",
        now=timezone.now(),
        actor=setup.world.user("coordinator"),
    )
    assert result.stored == len(days), result


def _device_item(world: PracticeWorld):  # type: ignore[no-untyped-def]
    items = pre_close_worklist(practice=world.practice, month=MONTH, as_of=AS_OF)
    return next((i for i in items if i.reason == "reading_days"), None)


@pytest.fixture
def setup(world: PracticeWorld) -> Monitored:
    monitored = monitor(world, slug="acme")
    Visit.objects.create(
        patient=world.patient,
        practitioner=world.user("practitioner"),
        visited_on=date(2025, 1, 1),
        kind="awv",
        created_at=timezone.now(),
    )
    return monitored


@pytest.mark.parametrize(
    ("days_so_far", "reachable", "every_day"),
    [(14, True, False), (13, True, True), (12, False, False)],
)
def test_16_days_are_reachable_only_with_enough_days_left_in_the_period(
    setup: Monitored, days_so_far: int, reachable: bool, every_day: bool
) -> None:
    _readings_on(setup, [PERIOD_START + timedelta(days=n) for n in range(days_so_far)])
    item = _device_item(setup.world)
    assert item is not None
    assert item.row.period_end_on == date(2026, 4, 29)
    assert item.row.reading_days == days_so_far
    assert item.row.reading_days_needed == 16 - days_so_far
    assert (item.reachable, item.every_remaining_day) == (reachable, every_day)


def test_a_reading_already_today_leaves_one_day_fewer(setup: Monitored) -> None:
    days = [PERIOD_START + timedelta(days=n) for n in range(13)] + [AS_OF]
    _readings_on(setup, days)
    item = _device_item(setup.world)
    assert item is not None
    assert item.row.read_on_as_of is True
    # 14 days, 2 needed, 2 days left (28th, 29th): reachable only with a reading on each.
    assert (item.reachable, item.every_remaining_day) == (True, True)

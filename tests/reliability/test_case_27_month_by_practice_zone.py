"""Case 27: the month of an instant is the practice's local month.

2025-04-01T03:30Z is 31 March 23:30 in New York and 1 April in UTC. Pass: minutes (month
API) and reading days (the reading's stored local date) are counted in March for the New York
practice and in April for the UTC one.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from careledger.devices.ingest import ingest_readings
from careledger.devices.models import Reading
from careledger.timelog.services import Contact, log_contact
from tests.conftest import make_world
from tests.devices.conftest import Monitored, bp, monitor

pytestmark = pytest.mark.django_db

INSTANT = datetime(2025, 4, 1, 3, 30, tzinfo=UTC)


def _record_at_the_instant(rpm: Monitored) -> None:
    log_contact(
        ctx=rpm.world.ctx("coordinator"),
        patient=rpm.world.patient,
        contact=Contact(
            program="RPM",
            kind="interactive_call",
            outcome="reached",
            started_at=INSTANT,
            ended_at=INSTANT + timedelta(minutes=20),
            summary="Reviewed the readings. Adjusted the plan.",
        ),
        now=INSTANT + timedelta(minutes=30),
    )
    ingest_readings(
        practice=rpm.world.practice,
        items=[bp(rpm.cuff, "edge", at=INSTANT)],
        via="api",
        now=INSTANT + timedelta(minutes=30),
    )


def _rpm_month(api_client: Any, rpm: Monitored, month: str) -> dict[str, Any]:
    client = api_client(rpm.world.user("coordinator"))
    response = client.get(f"/api/v1/patients/{rpm.world.patient.pk}/months/{month}")
    assert response.status_code == 200, response.content
    programs: dict[str, Any] = response.json()["programs"]
    return programs["RPM"]  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("zone", "counted", "empty"),
    [("America/New_York", "2025-03", "2025-04"), ("UTC", "2025-04", "2025-03")],
)
def test_case_27_minutes_and_reading_days_fall_in_the_practice_local_month(
    api_client: Any, zone: str, counted: str, empty: str
) -> None:
    rpm = monitor(make_world("zoned", "Zoned Practice", zone), slug="acme-zoned")
    _record_at_the_instant(rpm)
    # Reading days count distinct local dates (RPM P5): the reading's local date is stored.
    local_day = Reading.objects.get(vendor_reading_id="edge").measured_on
    assert f"{local_day:%Y-%m}" == counted
    assert _rpm_month(api_client, rpm, counted)["minutes"] == 20
    assert _rpm_month(api_client, rpm, empty)["minutes"] == 0

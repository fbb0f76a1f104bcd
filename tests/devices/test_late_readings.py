"""Case 26: a reading measured in a locked month is stored and marked late, whichever way it came.

The month is the practice-local month of the measurement; the flag is decided at receipt and the
database keeps it, and approved billing does not change.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import DatabaseError, transaction
from django.test import Client
from django.utils import timezone

from careledger.audit.models import AuditEvent
from careledger.billing import services as billing
from careledger.billing.close import close_month
from careledger.billing.models import BillingLine, BillingMonth
from careledger.devices.ingest import ingest_readings
from careledger.devices.models import Reading
from careledger.devices.services import Assignment, assign_device, create_vendor, exclude_reading
from careledger.devices.webhooks import sign
from careledger.locks.models import MonthLock
from tests.billing.builders import MONTH, NOW, rpm_patient
from tests.conftest import PracticeWorld
from tests.devices.conftest import Monitored, Poster, bp

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")


def _last_month() -> tuple[str, datetime]:
    """Return last month (YYYY-MM, Chicago) and a moment on its 10th, 09:00 local."""
    first = timezone.now().astimezone(CHICAGO).date().replace(day=1)
    last = (first - timedelta(days=1)).replace(day=10)
    return f"{last:%Y-%m}", datetime(last.year, last.month, 10, 9, 0, tzinfo=CHICAGO)


def _lock(world: PracticeWorld, month: str) -> None:
    MonthLock.objects.create(practice=world.practice, month=month, locked_at=timezone.now())


def test_a_reading_of_a_locked_month_posted_to_the_api_is_stored_and_flagged_late(
    rpm: Monitored, post: Poster
) -> None:
    month, at = _last_month()
    _lock(rpm.world, month)
    response = post(rpm.world.user("coordinator"), [bp(rpm.cuff, "late-1", at=at)])
    assert response.json() == {"stored": 1, "duplicates": 0, "errors": []}
    reading = Reading.objects.get()
    assert reading.late
    assert month in reading.late_reason and "locked" in reading.late_reason
    received = AuditEvent.objects.get(event="reading.received")
    assert received.details["late"] == 1


def test_a_reading_of_an_open_month_is_not_late(rpm: Monitored, post: Poster) -> None:
    _, at = _last_month()
    post(rpm.world.user("coordinator"), [bp(rpm.cuff, "open-1", at=at)])
    reading = Reading.objects.get()
    assert not reading.late and reading.late_reason == ""
    assert "late" not in AuditEvent.objects.get(event="reading.received").details


def test_the_month_is_the_practice_local_month_of_the_measurement(rpm: Monitored) -> None:
    _lock(rpm.world, "2026-03")
    items = [
        # 1 April 03:00 UTC is the evening of 31 March in Chicago: the locked month.
        bp(rpm.cuff, "edge-late", at=datetime(2026, 4, 1, 3, 0, tzinfo=UTC)),
        # 1 March 03:00 UTC is still 28 February in Chicago: an open month.
        bp(rpm.cuff, "edge-open", at=datetime(2026, 3, 1, 3, 0, tzinfo=UTC)),
    ]
    result = ingest_readings(
        practice=rpm.world.practice, items=items, via="api", now=datetime(2026, 5, 4, tzinfo=UTC)
    )
    assert (result.stored, result.late) == (2, 1)
    late = dict(Reading.objects.values_list("vendor_reading_id", "late"))
    assert late == {"edge-late": True, "edge-open": False}


def test_the_csv_import_flags_a_reading_of_a_locked_month(rpm: Monitored, tmp_path: Path) -> None:
    month, at = _last_month()
    _lock(rpm.world, month)
    now = timezone.now() - timedelta(hours=2)
    path = tmp_path / "readings.csv"
    path.write_text(
        "device_serial,vendor_reading_id,measured_at,type,systolic,diastolic,pulse,value,unit,"
        "source\n"
        f"{rpm.cuff.serial},csv-late,{at.isoformat()},blood_pressure,128,82,70,,mm[Hg],automatic\n"
        f"{rpm.cuff.serial},csv-now,{now.isoformat()},blood_pressure,126,80,70,,mm[Hg],automatic\n",
        encoding="utf-8",
    )
    out = StringIO()
    call_command(
        "import_readings", str(path), "--practice", "riverside", stdout=out, stderr=StringIO()
    )
    assert json.loads(out.getvalue())["stored"] == 2
    late = dict(Reading.objects.values_list("vendor_reading_id", "late"))
    assert late == {"csv-late": True, "csv-now": False}


def test_the_vendor_webhook_flags_a_reading_of_a_locked_month(rpm: Monitored) -> None:
    month, at = _last_month()
    _lock(rpm.world, month)
    reading = {**bp(rpm.cuff, "hook-late", at=at), "device_serial": rpm.cuff.serial}
    del reading["device_id"]
    body = json.dumps({"readings": [reading]}).encode()
    stamp = str(int(timezone.now().timestamp()))
    response = Client().post(
        f"/api/v1/webhooks/{rpm.vendor.slug}/readings",
        data=body,
        content_type="application/json",
        HTTP_X_CARELEDGER_TIMESTAMP=stamp,
        HTTP_X_CARELEDGER_SIGNATURE=sign(rpm.vendor.webhook_secret, stamp, body),
    )
    assert response.status_code == 200, response.content
    assert Reading.objects.get().late


def test_the_database_refuses_changing_the_late_flag_but_still_allows_an_exclusion(
    rpm: Monitored,
) -> None:
    month, at = _last_month()
    _lock(rpm.world, month)
    ingest_readings(
        practice=rpm.world.practice, items=[bp(rpm.cuff, "fixed", at=at)], via="api", now=at
    )
    reading = Reading.objects.get()
    for change in ({"late": False}, {"late_reason": ""}, {"systolic": 100}):
        with pytest.raises(DatabaseError), transaction.atomic():
            Reading.objects.filter(pk=reading.pk).update(**change)
    excluded = exclude_reading(
        ctx=rpm.world.ctx("coordinator"),
        reading_id=reading.pk,
        reason="Cuff placed over clothing.",
        now=timezone.now(),
    )
    assert excluded.excluded and excluded.late


def test_a_late_reading_leaves_the_approved_billing_of_its_month_unchanged(
    world: PracticeWorld,
) -> None:
    patient = rpm_patient(world, 22)
    create_vendor(practice=world.practice, slug="acme", name="Acme", now=NOW)
    cuff = assign_device(
        ctx=world.ctx("coordinator"),
        patient=patient,
        assignment=Assignment(
            program="RPM",
            type="blood_pressure",
            vendor="acme",
            serial="BP-LATE",
            assigned_on=date(2026, 3, 20),
        ),
        now=NOW,
    )

    def reading(day: int) -> dict[str, Any]:
        return bp(cuff, f"apr-{day}", at=datetime(2026, 4, day, 14, 0, tzinfo=UTC))

    ingest_readings(
        practice=world.practice, items=[reading(d) for d in range(1, 18)], via="api", now=NOW
    )
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    billing_month = BillingMonth.objects.get(practice=world.practice)
    billing.approve_month(ctx=world.ctx("manager"), billing_month=billing_month, now=NOW)
    lines = list(BillingLine.objects.order_by("id").values("code", "units", "dos", "status"))
    assert {"code": "99454", "units": 1, "dos": date(2026, 4, 30), "status": "approved"} in lines

    result = ingest_readings(
        practice=world.practice, items=[reading(25)], via="api", now=NOW + timedelta(days=1)
    )
    assert (result.stored, result.late) == (1, 1)
    assert list(BillingLine.objects.order_by("id").values("code", "units", "dos", "status")) == (
        lines
    )
    billing_month.refresh_from_db()
    assert billing_month.status == "approved"


def test_the_readings_page_and_the_panel_show_a_late_badge(rpm: Monitored, login: Any) -> None:
    month, at = _last_month()
    _lock(rpm.world, month)
    ingest_readings(
        practice=rpm.world.practice,
        items=[bp(rpm.cuff, "late-page", at=at), bp(rpm.cuff, "on-time")],
        via="api",
        now=timezone.now(),
    )
    page = login(rpm.world).get(f"/devices/patients/{rpm.world.patient.pk}/")
    body = page.content.decode()
    assert body.count('data-testid="late-reading"') == 1
    assert "1 late reading<" in body

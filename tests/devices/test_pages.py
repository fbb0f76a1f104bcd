"""Device pages: the alert queue, resolving with a logged call, the panel, excluding a reading."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from careledger.devices.ingest import ingest_readings
from careledger.devices.models import Alert, Reading
from careledger.devices.selectors import panel_context
from careledger.lib.localtime import local_today
from careledger.timelog.models import TimeEntry
from tests.devices.conftest import Monitored, bp, single

pytestmark = pytest.mark.django_db


def _ingest(rpm: Monitored, items: list[dict[str, Any]]) -> None:
    ingest_readings(practice=rpm.world.practice, items=items, via="api", now=timezone.now())


def test_the_queue_shows_critical_alerts_first(rpm: Monitored, login: Any) -> None:
    _ingest(
        rpm, [single(rpm.scale, "w0", "weight", 80, "kg", at=timezone.now() - timedelta(hours=10))]
    )
    _ingest(
        rpm,
        [
            single(rpm.oximeter, "o1", "spo2", 91, "%"),
            bp(rpm.cuff, "b1", systolic=195, diastolic=126),
            single(rpm.scale, "w1", "weight", 81.5, "kg"),
        ],
    )
    page = login(rpm.world).get("/devices/alerts/")
    assert page.status_code == 200
    body = page.content.decode()
    assert body.index("Blood pressure high") < body.index("SpO2 low")
    assert body.count('data-alert-id="') == 3


def test_a_coordinator_resolves_an_alert_with_a_logged_call(rpm: Monitored, login: Any) -> None:
    _ingest(rpm, [bp(rpm.cuff, "b1", systolic=195, diastolic=126)])
    alert = Alert.objects.get()
    client = login(rpm.world)
    form = client.get(f"/devices/alerts/{alert.pk}/resolve/")
    assert form.status_code == 200
    started = (timezone.now() - timedelta(minutes=20)).astimezone(ZoneInfo("America/Chicago"))
    response = client.post(
        f"/devices/alerts/{alert.pk}/resolve/",
        {
            "note": "Rechecked at 148/90; took the missed dose.",
            "log_call": "on",
            "call_started": started.strftime("%Y-%m-%dT%H:%M"),
            "call_minutes": "12",
            "reached": "on",
            "summary": "Called about a critical pressure. Patient had missed the morning dose.",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    alert.refresh_from_db()
    entry = TimeEntry.objects.get()
    assert (alert.status, alert.time_entry_id, entry.seconds) == ("resolved", entry.pk, 720)
    panel = panel_context(rpm.world.patient, local_today(rpm.world.practice, timezone.now()))
    assert panel["periods"][0]["minutes"] == 12


def test_resolving_without_a_call_needs_only_the_note(rpm: Monitored, login: Any) -> None:
    _ingest(rpm, [bp(rpm.cuff, "b1", systolic=195, diastolic=126)])
    alert = Alert.objects.get()
    response = login(rpm.world).post(
        f"/devices/alerts/{alert.pk}/resolve/", {"note": "Device misfit; re-educated."}
    )
    assert response.status_code == 302
    assert TimeEntry.objects.count() == 0


def test_billers_see_the_queue_but_cannot_act(rpm: Monitored, login: Any) -> None:
    _ingest(rpm, [bp(rpm.cuff, "b1", systolic=195, diastolic=126)])
    alert = Alert.objects.get()
    client = login(rpm.world, "biller")
    page = client.get("/devices/alerts/")
    assert page.status_code == 200
    assert "Acknowledge" not in page.content.decode()
    assert client.post(f"/devices/alerts/{alert.pk}/acknowledge/").status_code == 403
    assert client.get(f"/devices/alerts/{alert.pk}/resolve/").status_code == 403


def test_another_practice_s_alert_is_not_found(
    rpm: Monitored, other_rpm: Monitored, login: Any
) -> None:
    _ingest(other_rpm, [bp(other_rpm.cuff, "b1", systolic=195, diastolic=126)])
    alert = Alert.objects.get()
    client = login(rpm.world)
    assert client.get(f"/devices/alerts/{alert.pk}/resolve/").status_code == 404
    assert "Samename" not in client.get("/devices/alerts/").content.decode()


def test_the_readings_page_shows_panel_calendar_chart_data_and_alerts(
    rpm: Monitored, login: Any
) -> None:
    _ingest(rpm, [bp(rpm.cuff, "b1", systolic=195, diastolic=126)])
    page = login(rpm.world).get(f"/devices/patients/{rpm.world.patient.pk}/")
    body = page.content.decode()
    assert page.status_code == 200
    assert 'class="reading-calendar"' in body
    assert 'id="reading-chart-blood_pressure"' in body
    assert "devices/vendor/chart.umd.min.js" in body
    assert "<script>" not in body  # CSP: no inline scripts, data travels in json_script
    assert "Blood pressure high" not in body or "Systolic 195" in body


def test_the_panel_tag_renders_without_a_view_change(rpm: Monitored) -> None:
    html = Template("{% load devices %}{% devices_panel patient %}").render(
        Context({"patient": rpm.world.patient})
    )
    assert 'data-testid="devices-panel"' in html


def test_excluding_a_reading_keeps_it_and_says_why(rpm: Monitored, login: Any) -> None:
    _ingest(rpm, [bp(rpm.cuff, "b1")])
    reading = Reading.objects.get()
    client = login(rpm.world)
    response = client.post(
        f"/devices/readings/{reading.pk}/exclude/", {"reason": "Taken on the wrong patient."}
    )
    assert response.status_code == 302
    reading.refresh_from_db()
    assert reading.excluded_reason == "Taken on the wrong patient."
    assert (
        "Taken on the wrong patient."
        in client.get(f"/devices/patients/{rpm.world.patient.pk}/").content.decode()
    )


def test_readings_cannot_be_deleted_or_edited_in_the_database(rpm: Monitored) -> None:
    from django.db import DatabaseError, transaction

    _ingest(rpm, [bp(rpm.cuff, "b1")])
    reading = Reading.objects.get()
    with pytest.raises(DatabaseError), transaction.atomic():
        Reading.objects.filter(pk=reading.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic():
        Reading.objects.filter(pk=reading.pk).update(systolic=99)
    assert Reading.objects.get().systolic == 128

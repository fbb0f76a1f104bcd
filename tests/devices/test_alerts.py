"""Alerts: care-plan levels or practice defaults, weight gain, adherence, one per episode."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from careledger.audit.models import AuditEvent
from careledger.devices.alerts import Call, acknowledge_alert, check_adherence, resolve_alert
from careledger.devices.ingest import ingest_readings
from careledger.devices.models import Alert
from careledger.timelog.models import TimeEntry
from tests.devices.conftest import Monitored, bp, single

pytestmark = pytest.mark.django_db


def _ingest(rpm: Monitored, items: list[dict[str, Any]], now: Any = None) -> int:
    result = ingest_readings(
        practice=rpm.world.practice, items=items, via="api", now=now or timezone.now()
    )
    assert result.errors == [], result.errors
    return result.alerts


def _sign_care_plan_with(rpm: Monitored, **threshold: Any) -> None:
    from careledger.careplans.models import CarePlan, CarePlanVersion, MonitoringThreshold

    now = timezone.now()
    author = rpm.world.user("practitioner")
    plan = CarePlan.objects.create(
        patient=rpm.world.patient,
        kind="comprehensive",
        draft={},
        draft_saved_at=now,
        draft_saved_by=author,
        created_at=now,
        created_by=author,
    )
    version = CarePlanVersion.objects.create(
        plan=plan,
        number=1,
        published_at=now,
        published_on=now.date(),
        author=author,
        revision_reason="first plan",
        draft_revision=1,
        content={},
        signed_by=author,
        signed_at=now,
    )
    MonitoringThreshold.objects.create(version=version, goal_key="g1", **threshold)


def test_a_reading_over_the_practice_default_raises_a_warning(rpm: Monitored) -> None:
    assert _ingest(rpm, [bp(rpm.cuff, "r1", systolic=142, diastolic=84)]) == 1
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.threshold_source) == (
        "bp_high",
        "warning",
        "practice defaults",
    )
    assert "142/84" not in alert.message or "Systolic 142" in alert.message
    assert (
        AuditEvent.objects.filter(event="alert.raised", patient_id=rpm.world.patient.pk).count()
        == 1
    )


def test_a_reading_in_range_raises_nothing(rpm: Monitored) -> None:
    assert _ingest(rpm, [bp(rpm.cuff, "r1", systolic=128, diastolic=78)]) == 0


def test_a_care_plan_goal_sets_the_level(rpm: Monitored) -> None:
    # Goal: blood pressure below 135/85. 138/82 is fine by the default (140/90), not by the plan.
    _sign_care_plan_with(
        rpm,
        metric="systolic",
        comparator="above",
        warning=Decimal("135"),
        critical=None,
        unit="mm[Hg]",
    )
    assert _ingest(rpm, [bp(rpm.cuff, "r1", systolic=138, diastolic=82)]) == 1
    alert = Alert.objects.get()
    assert (alert.kind, alert.severity, alert.threshold_source) == (
        "bp_high",
        "warning",
        "care plan",
    )


def test_a_care_plan_fasting_glucose_goal_in_mmol_per_litre(rpm: Monitored) -> None:
    _sign_care_plan_with(
        rpm,
        metric="glucose_fasting",
        comparator="above",
        warning=Decimal("7.8"),
        critical=None,
        unit="mmol/L",
    )
    readings = [
        single(rpm.meter, "g1", "glucose", 150, "mg/dL", fasting=True),
        single(rpm.meter, "g2", "glucose", 150, "mg/dL", fasting=False),
    ]
    assert _ingest(rpm, readings) == 1
    assert Alert.objects.get().kind == "glucose_high"


def test_a_critical_reading_escalates_the_open_alert_instead_of_raising_another(
    rpm: Monitored,
) -> None:
    _ingest(rpm, [bp(rpm.cuff, "r1", systolic=145, diastolic=88)])
    _ingest(rpm, [bp(rpm.cuff, "r2", systolic=186, diastolic=110)])
    alert = Alert.objects.get()
    assert (alert.severity, alert.reading_count) == ("critical", 2)
    assert AuditEvent.objects.filter(event="alert.escalated").count() == 1


def test_duplicate_deliveries_never_raise_a_second_alert(rpm: Monitored) -> None:
    reading = bp(rpm.cuff, "r1", systolic=190, diastolic=125)
    assert _ingest(rpm, [reading, reading]) == 1
    assert _ingest(rpm, [reading]) == 0
    alert = Alert.objects.get()
    assert alert.reading_count == 1


def test_a_duplicate_of_a_resolved_alert_s_reading_does_not_reopen_it(rpm: Monitored) -> None:
    reading = bp(rpm.cuff, "r1", systolic=190, diastolic=125)
    _ingest(rpm, [reading])
    alert = Alert.objects.get()
    resolve_alert(
        ctx=rpm.world.ctx(), alert_id=alert.pk, note="Called; rechecked.", now=timezone.now()
    )
    _ingest(rpm, [reading])
    late = bp(
        rpm.cuff, "r-old", systolic=191, diastolic=122, at=timezone.now() - timedelta(hours=3)
    )
    _ingest(rpm, [late])  # measured before the resolution: part of the finished episode
    assert Alert.objects.count() == 1


def test_a_new_episode_after_resolution_raises_a_new_alert(rpm: Monitored) -> None:
    _ingest(
        rpm,
        [bp(rpm.cuff, "r1", systolic=190, diastolic=125, at=timezone.now() - timedelta(hours=2))],
    )
    alert = Alert.objects.get()
    resolve_alert(
        ctx=rpm.world.ctx(),
        alert_id=alert.pk,
        note="Handled.",
        now=timezone.now() - timedelta(hours=1),
    )
    _ingest(
        rpm,
        [bp(rpm.cuff, "r2", systolic=188, diastolic=121, at=timezone.now() - timedelta(minutes=5))],
    )
    assert Alert.objects.count() == 2


def test_weight_gain_over_2_lb_in_24_hours_raises_an_alert(rpm: Monitored) -> None:
    now = timezone.now()
    _ingest(
        rpm, [single(rpm.scale, "w1", "weight", 180.0, "[lb_av]", at=now - timedelta(hours=20))]
    )
    _ingest(rpm, [single(rpm.scale, "w2", "weight", 182.4, "[lb_av]", at=now - timedelta(hours=1))])
    alert = Alert.objects.get()
    assert alert.kind == "weight_gain_24h"
    assert "2.4 lb" in alert.message


def test_weight_gain_of_exactly_2_lb_raises_nothing(rpm: Monitored) -> None:
    now = timezone.now()
    _ingest(
        rpm, [single(rpm.scale, "w1", "weight", 180.0, "[lb_av]", at=now - timedelta(hours=20))]
    )
    assert (
        _ingest(
            rpm, [single(rpm.scale, "w2", "weight", 182.0, "[lb_av]", at=now - timedelta(hours=1))]
        )
        == 0
    )


def test_weight_gain_over_5_lb_in_7_days_raises_an_alert(rpm: Monitored) -> None:
    now = timezone.now()
    items = [
        single(
            rpm.scale, f"w{n}", "weight", 180.0 + 1.1 * n, "[lb_av]", at=now - timedelta(days=6 - n)
        )
        for n in range(6)
    ]
    _ingest(rpm, items)
    assert set(Alert.objects.values_list("kind", flat=True)) == {"weight_gain_7d"}


def test_spo2_and_low_glucose_use_the_defaults(rpm: Monitored) -> None:
    _ingest(
        rpm,
        [
            single(rpm.oximeter, "o1", "spo2", 87, "%"),
            single(rpm.meter, "g1", "glucose", 2.8, "mmol/L"),
        ],
    )
    found = set(Alert.objects.values_list("kind", "severity"))
    assert found == {("spo2_low", "critical"), ("glucose_low", "critical")}


def test_old_readings_are_stored_without_alerts(rpm: Monitored) -> None:
    old = bp(rpm.cuff, "r1", systolic=200, diastolic=125, at=timezone.now() - timedelta(days=30))
    assert _ingest(rpm, [old]) == 0


def test_no_reading_for_3_days_raises_one_adherence_alert_until_readings_resume(
    rpm: Monitored,
) -> None:
    now = timezone.now()
    _ingest(rpm, [bp(rpm.cuff, "r1", at=now - timedelta(days=4))])
    assert check_adherence(practice=rpm.world.practice, now=now).raised == 1
    assert check_adherence(practice=rpm.world.practice, now=now + timedelta(hours=1)).raised == 0
    assert Alert.objects.get().kind == "no_readings"
    _ingest(rpm, [bp(rpm.cuff, "r2", at=now)], now=now + timedelta(minutes=1))
    assert Alert.objects.get().status == "resolved"


def test_a_patient_reading_daily_raises_no_adherence_alert(rpm: Monitored) -> None:
    now = timezone.now()
    _ingest(rpm, [bp(rpm.cuff, "r1", at=now - timedelta(days=1))])
    assert check_adherence(practice=rpm.world.practice, now=now).raised == 0


def test_resolving_with_a_logged_call_creates_a_time_entry_in_one_step(rpm: Monitored) -> None:
    _ingest(rpm, [bp(rpm.cuff, "r1", systolic=190, diastolic=124)])
    alert = Alert.objects.get()
    now = timezone.now()
    acknowledge_alert(ctx=rpm.world.ctx(), alert_id=alert.pk, now=now)
    resolved = resolve_alert(
        ctx=rpm.world.ctx(),
        alert_id=alert.pk,
        note="Patient rechecked 150/92; no symptoms.",
        now=now,
        call=Call(
            started_at=now - timedelta(minutes=12),
            ended_at=now - timedelta(minutes=2),
            summary="Called about a critical blood pressure. Reviewed medications and symptoms.",
        ),
    )
    entry = TimeEntry.objects.get()
    assert resolved.time_entry_id == entry.pk
    assert (entry.program, entry.kind, entry.seconds) == ("RPM", "interactive_call", 600)
    assert (resolved.status, resolved.resolved_by_id) == (
        "resolved",
        rpm.world.user("coordinator").pk,
    )


def test_a_call_the_time_log_refuses_leaves_the_alert_open(rpm: Monitored) -> None:
    from django.core.exceptions import ValidationError

    _ingest(rpm, [bp(rpm.cuff, "r1", systolic=190, diastolic=124)])
    alert = Alert.objects.get()
    now = timezone.now()
    with pytest.raises(ValidationError):
        resolve_alert(
            ctx=rpm.world.ctx(),
            alert_id=alert.pk,
            note="Called.",
            now=now,
            call=Call(started_at=now, ended_at=now - timedelta(minutes=5), summary="Short."),
        )
    alert.refresh_from_db()
    assert alert.status == "open"
    assert TimeEntry.objects.count() == 0


def test_another_practice_cannot_touch_an_alert(rpm: Monitored, other_rpm: Monitored) -> None:
    from django.http import Http404

    _ingest(rpm, [bp(rpm.cuff, "r1", systolic=190, diastolic=124)])
    with pytest.raises(Http404):
        acknowledge_alert(
            ctx=other_rpm.world.ctx(), alert_id=Alert.objects.get().pk, now=timezone.now()
        )


def test_the_alerts_api_filters_by_patient_and_status(rpm: Monitored, api_client: Any) -> None:
    _ingest(rpm, [bp(rpm.cuff, "r1", systolic=190, diastolic=124)])
    client = api_client(rpm.world.user("coordinator"))
    answer = client.get(f"/api/v1/alerts?patient_id={rpm.world.patient.pk}&status=open").json()
    assert answer["count"] == 1
    assert answer["items"][0]["severity"] == "critical"
    assert client.get("/api/v1/alerts?status=resolved").json()["count"] == 0


def test_the_alerts_api_hides_other_practices(
    rpm: Monitored, other_rpm: Monitored, api_client: Any
) -> None:
    _ingest(other_rpm, [bp(other_rpm.cuff, "r1", systolic=190, diastolic=124)])
    client = api_client(rpm.world.user("coordinator"))
    assert client.get("/api/v1/alerts").json()["count"] == 0
    assert client.get(f"/api/v1/alerts?patient_id={other_rpm.world.patient.pk}").status_code == 404


def test_the_api_resolves_an_alert_with_a_call(rpm: Monitored, api_client: Any) -> None:
    _ingest(rpm, [bp(rpm.cuff, "r1", systolic=190, diastolic=124)])
    alert = Alert.objects.get()
    now = timezone.now()
    body = {
        "note": "Rechecked; fine.",
        "call": {
            "started_at": (now - timedelta(minutes=15)).isoformat(),
            "ended_at": (now - timedelta(minutes=5)).isoformat(),
            "summary": "Called about a high reading. Patient had missed a dose this morning.",
        },
    }
    client = api_client(rpm.world.user("coordinator"))
    response = client.post(
        f"/api/v1/alerts/{alert.pk}/resolve", data=body, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    assert response.json()["time_entry_id"] == TimeEntry.objects.get().pk
    biller = api_client(rpm.world.user("biller"))
    assert biller.post(f"/api/v1/alerts/{alert.pk}/acknowledge").status_code == 403

"""Capture analytics: enrolled, codes reached, the device-to-treatment share, near misses.

A hand-counted April panel (synthetic data only), two coordinators:

    patient  coordinator  reading days  minutes  bills            near miss
    A        Cora         16            22       99454 99457      -
    B        Cora         16             0       99454            - (99470 needs 10)
    C        Dana         16            16       99454 99470      99457 needs 4 min: $52 - $26
    D        Dana         14            12       99445 99470      99454 needs 2 days: $50 - $47.43

(the practice set its own 99454 fee, $50.00). Device supply: 4 patients; also treatment
management: A, C, D = 75.0%; Cora 1 of 2 = 50.0%, Dana 2 of 2 = 100.0%. Near misses: C and D,
$28.57.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careledger.accounts.models import User
from careledger.accounts.roles import Credential, Role
from careledger.audit.models import AuditEvent
from careledger.billing import services as billing_services
from careledger.billing.close import close_month
from careledger.billing.models import BillingLine, BillingMonth
from careledger.billing.months import parse_month
from careledger.devices.ingest import ingest_readings
from careledger.devices.models import Vendor
from careledger.devices.services import Assignment, assign_device, create_vendor
from careledger.patients.models import Patient
from careledger.worklists import analytics
from careledger.worklists.models import PracticeFee
from tests.billing.builders import MONTH, rpm_patient
from tests.conftest import PracticeWorld
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 5, 6, 15, 0, tzinfo=UTC)
TODAY = date(2026, 5, 6)


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def second_coordinator(world: PracticeWorld) -> User:
    user = UserFactory(username=f"{world.practice.slug}-dana", first_name="Dana", last_name="Ng")
    MembershipFactory(
        practice=world.practice, user=user, role=Role.COORDINATOR, credential=Credential.RN
    )
    return user


def with_readings(world: PracticeWorld, patient: Patient, days: int) -> Patient:
    """Give ``patient`` a cuff and automatic readings on April 1..``days`` (one period, April)."""
    slug = f"acme-{world.practice.slug}"
    if not Vendor.objects.filter(slug=slug).exists():
        create_vendor(practice=world.practice, slug=slug, name="Acme Cellular", now=NOW)
    serial = f"BP-{patient.pk}"
    assign_device(
        ctx=world.ctx("coordinator"),
        patient=patient,
        assignment=Assignment("RPM", "blood_pressure", slug, serial, date(2026, 1, 2)),
        now=NOW,
    )
    items = [
        {
            "device_serial": serial,
            "vendor_reading_id": f"{serial}-{day}",
            "measured_at": datetime.combine(date(2026, 4, day), time(8), CHICAGO).isoformat(),
            "source": "automatic",
            "type": "blood_pressure",
            "systolic": 126,
            "diastolic": 80,
            "unit": "mm[Hg]",
        }
        for day in range(1, days + 1)
    ]
    result = ingest_readings(practice=world.practice, items=items, via="api", now=NOW)
    assert result.errors == [], result.errors
    return patient


def panel(world: PracticeWorld) -> dict[str, Any]:
    cora = world.user("coordinator")
    dana = second_coordinator(world)
    PracticeFee.objects.create(
        practice=world.practice,
        code="99454",
        amount=Decimal("50.00"),
        effective_on=date(2026, 1, 1),
        created_by=world.user("manager"),
        created_at=NOW,
    )
    a = with_readings(world, rpm_patient(world, 22, given_name="Alma"), 16)
    b = with_readings(world, rpm_patient(world, 0, given_name="Bert"), 16)
    c = with_readings(world, rpm_patient(world, 16, given_name="Cruz"), 16)
    d = with_readings(world, rpm_patient(world, 12, given_name="Dora"), 14)
    Patient.objects.filter(pk__in=[c.pk, d.pk]).update(coordinator=dana)
    return {"a": a, "b": b, "c": c, "d": d, "cora": cora, "dana": dana}


def group(capture: analytics.MonthCapture, program: str, coordinator: int | None):  # type: ignore[no-untyped-def]
    return next(
        g for g in capture.groups if g.program == program and g.coordinator_id == coordinator
    )


def april(world: PracticeWorld) -> analytics.MonthCapture:
    return analytics.capture_trend(practice=world.practice, last=MONTH, today=TODAY)[-1]


def test_the_live_month_equals_the_hand_count_per_program_and_coordinator(
    world: PracticeWorld,
) -> None:
    people = panel(world)
    shown = april(world)
    assert shown.source == analytics.Source.LIVE
    rpm = group(shown, "RPM", None)
    assert rpm.enrolled == 4
    assert rpm.reached == {"99454": 3, "99445": 1, "99457": 1, "99470": 2}
    assert (rpm.device_supply, rpm.device_and_treatment, rpm.share) == (4, 3, Decimal("75.0"))
    assert rpm.near_miss_patients == 2
    assert rpm.near_miss_value == Decimal("28.57")
    cora = group(shown, "RPM", people["cora"].pk)
    assert (cora.enrolled, cora.device_supply, cora.device_and_treatment) == (2, 2, 1)
    assert cora.share == Decimal("50.0")
    assert (cora.near_miss_patients, cora.near_miss_value) == (0, Decimal(0))
    dana = group(shown, "RPM", people["dana"].pk)
    assert dana.coordinator == "Dana Ng"
    assert (dana.enrolled, dana.device_supply, dana.device_and_treatment) == (2, 2, 2)
    assert dana.share == Decimal("100.0")
    assert (dana.near_miss_patients, dana.near_miss_value) == (2, Decimal("28.57"))
    misses = {r.patient_id: r.near_misses for r in shown.records if r.near_misses}
    assert misses == {
        people["c"].pk: (analytics.NearMiss("99457", 4, None, Decimal("26.00")),),
        people["d"].pk: (analytics.NearMiss("99454", None, 2, Decimal("2.57")),),
    }
    assert shown.total.enrolled == 4


def test_a_closed_month_reads_its_stored_lines_and_a_held_line_is_not_billed(
    world: PracticeWorld,
) -> None:
    people = panel(world)
    live = april(world)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    stored = april(world)
    assert stored.source == analytics.Source.DRAFT
    assert [
        (g.program, g.coordinator_id, g.enrolled, g.reached, g.share, g.near_miss_value)
        for g in stored.groups
    ] == [
        (g.program, g.coordinator_id, g.enrolled, g.reached, g.share, g.near_miss_value)
        for g in live.groups
    ]
    line = BillingLine.objects.get(patient=people["a"], code="99457")
    billing_services.decide_line(
        ctx=world.ctx("manager"), line=line, action="hold", reason="Call note unsigned", now=NOW
    )
    held = group(april(world), "RPM", None)
    assert (held.device_supply, held.device_and_treatment, held.share) == (4, 2, Decimal("50.0"))
    assert "99457" not in held.reached


def test_a_month_closed_before_summaries_were_kept_says_near_misses_are_not_recorded(
    world: PracticeWorld,
) -> None:
    panel(world)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    BillingMonth.objects.get().patient_months.update(summaries=None)
    rpm = group(april(world), "RPM", None)
    assert rpm.near_miss_patients is None
    assert rpm.share == Decimal("75.0")


def test_the_trend_is_twelve_months_oldest_first_closed_months_stored_the_rest_live(
    world: PracticeWorld,
) -> None:
    panel(world)
    close_month(practice=world.practice, month=MONTH, actor=None, now=NOW)
    trend = analytics.capture_trend(
        practice=world.practice,
        last=parse_month("2026-05", "America/Chicago"),
        today=TODAY,
    )
    assert [m.month.label for m in trend] == [
        "2025-06", "2025-07", "2025-08", "2025-09", "2025-10", "2025-11",
        "2025-12", "2026-01", "2026-02", "2026-03", "2026-04", "2026-05",
    ]  # fmt: skip
    assert [m.source for m in trend][-3:] == ["live", "draft", "live"]
    # Enrolled from January 5: nobody before, four from January on, no device supply before April.
    assert [m.total.enrolled for m in trend] == [0] * 7 + [4] * 5
    assert [m.total.device_supply for m in trend] == [0] * 10 + [4, 0]
    chart = analytics.chart_data(trend)
    assert chart["labels"] == [m.month.label for m in trend]
    assert chart["share"] == [None] * 10 + [75.0, None]
    assert len(chart["device_supply"]) == len(chart["device_and_treatment"]) == 12


def test_the_trend_costs_the_same_queries_for_a_bigger_panel(world: PracticeWorld) -> None:
    panel(world)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            analytics.capture_trend(practice=world.practice, last=MONTH, today=TODAY)
        return len(captured.captured_queries)

    small = queries()
    for n in range(3):
        with_readings(world, rpm_patient(world, 25 + n), 18)
    assert queries() == small


def test_the_page_shows_the_chart_and_the_numbers_and_is_audited(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    panel(world)
    response = login(world, "manager").get("/worklists/analytics/?month=2026-04")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-capture-chart="capture-chart-data"' in html
    assert '<script id="capture-chart-data" type="application/json">' in html
    assert "devices/vendor/chart.umd.min.js" in html
    assert "billing/capture-chart.js" in html
    # CSP script-src 'self': every script is a file or JSON data, never inline code.
    for tag in html.split("<script")[1:]:
        opening = tag.split(">", 1)[0]
        assert "src=" in opening or 'type="application/json"' in opening
    assert "75.0%" in html and "$28.57" in html and "Dana Ng" in html
    assert response.context["chart"]["share"][-1] == 75.0
    event = AuditEvent.objects.get(event="analytics.viewed")
    assert event.details["month"] == "2026-04"
    assert event.actor_id == world.user("manager").pk


def test_the_billing_pages_link_to_analytics_in_their_sub_navigation(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    html = login(world, "manager").get("/billing/").content.decode()
    assert 'data-testid="nav-analytics"' in html
    assert 'href="/worklists/analytics/"' in html


def test_the_csv_holds_every_month_program_and_coordinator(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    people = panel(world)
    response = login(world, "biller").get("/worklists/analytics/capture.csv?month=2026-04")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert tuple(rows[0]) == analytics.CSV_COLUMNS
    assert {r["month"] for r in rows} >= {"2026-01", "2026-04"}
    dana = next(
        r
        for r in rows
        if r["month"] == "2026-04"
        and r["program"] == "RPM"
        and r["coordinator_id"] == str(people["dana"].pk)
    )
    assert dana["device_supply_patients"] == "2"
    assert dana["also_treatment_patients"] == "2"
    assert dana["capture_share_pct"] == "100.0"
    assert dana["near_miss_patients"] == "2"
    assert dana["near_miss_value"] == "28.57"
    assert dana["patients_by_code"] == "99445=1 99454=1 99470=2"
    assert AuditEvent.objects.filter(event="analytics.exported").count() == 1


def test_a_coordinator_name_that_looks_like_a_formula_is_neutralised(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    people = panel(world)
    User.objects.filter(pk=people["dana"].pk).update(first_name="=HYPERLINK(1)", last_name="")
    body = login(world, "manager").get("/worklists/analytics/capture.csv?month=2026-04")
    assert "'=HYPERLINK(1)" in body.content.decode()
    assert "\n=HYPERLINK" not in body.content.decode()


@pytest.mark.parametrize("role", ["coordinator", "practitioner"])
def test_clinical_roles_cannot_see_the_analytics(world: PracticeWorld, login, role: str) -> None:  # type: ignore[no-untyped-def]
    client = login(world, role)
    assert client.get("/worklists/analytics/").status_code == 403
    assert client.get("/worklists/analytics/capture.csv").status_code == 403
    assert not AuditEvent.objects.filter(event="analytics.viewed").exists()


@pytest.mark.parametrize("role", ["manager", "biller", "auditor", "admin"])
def test_billing_viewers_see_the_analytics(world: PracticeWorld, login, role: str) -> None:  # type: ignore[no-untyped-def]
    assert login(world, role).get("/worklists/analytics/").status_code == 200


def test_another_practices_patients_never_reach_the_numbers(
    world: PracticeWorld, other_world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    panel(world)
    with_readings(other_world, rpm_patient(other_world, 22, given_name="Otto"), 16)
    mine = april(other_world)
    assert mine.total.enrolled == 1
    assert group(mine, "RPM", None).device_supply == 1
    html = login(other_world, "manager").get("/worklists/analytics/?month=2026-04")
    assert b"Dana Ng" not in html.content
    assert html.context["shown"].total.enrolled == 1


def test_a_later_month_is_shown_as_this_month_and_a_bad_month_as_last_month(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "manager")
    assert client.get("/worklists/analytics/?month=2027-01").context["month"].label == "2026-05"
    assert client.get("/worklists/analytics/?month=nope").context["month"].label == "2026-04"


def test_an_empty_practice_has_twelve_empty_months(world: PracticeWorld) -> None:
    trend = analytics.capture_trend(practice=world.practice, last=MONTH, today=TODAY)
    assert len(trend) == 12
    assert all(m.total.enrolled == 0 and m.total.share is None for m in trend)

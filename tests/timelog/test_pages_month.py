"""The month panel on the patient page: the engine's minutes, next threshold and decision."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from careledger.audit.models import AuditEvent
from careledger.billing.months import parse_month
from careledger.timelog import services
from careledger.timelog.models import TimeEntry
from careledger.web.views.months import bar_for
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 21, 0, tzinfo=UTC)  # 15:00 in Chicago
SUMMARY = "Reviewed home blood pressure readings with the patient. Reinforced the low-salt diet."
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def frozen() -> Iterator[None]:
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def rpm(world: PracticeWorld) -> PracticeWorld:
    EnrollmentFactory(
        patient=world.patient,
        program="RPM",
        billing_practitioner=world.user("practitioner"),
        started_on=date(2026, 9, 1),
        consent_on=date(2026, 9, 3),
    )
    return world


def _log(world: PracticeWorld, minutes: int, ago: timedelta, **kw: str) -> TimeEntry:
    start = NOW - ago
    contact = services.Contact(
        program="RPM",
        kind=kw.get("kind", "interactive_call"),
        outcome=kw.get("outcome", "reached"),
        started_at=start,
        ended_at=start + timedelta(minutes=minutes),
        summary=SUMMARY,
        reason=kw.get("reason", ""),
    )
    return services.log_contact(ctx=world.ctx(), patient=world.patient, contact=contact, now=NOW)


def _panel(client, world: PracticeWorld, month: str = "") -> str:  # type: ignore[no-untyped-def]
    url = reverse("patient-month", args=[world.patient.pk])
    query = {"month": month} if month else {}
    response = client.get(url, query, **HTMX)
    assert response.status_code == 200
    return str(response.content.decode())


def test_an_empty_month_needs_ten_minutes_for_99470(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    body = _panel(login(rpm), rpm)
    assert 'data-testid="minutes-RPM">0<' in body
    assert '<strong class="mono">99470</strong> needs <strong>10 more minutes</strong>' in body
    assert "Live contact: not yet" in body


def test_the_panel_shows_minutes_next_threshold_and_the_entries(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    entry = _log(rpm, 12, timedelta(hours=2))
    _log(rpm, 3, timedelta(hours=1), kind="voicemail", outcome="left_voicemail")
    body = _panel(login(rpm), rpm)
    assert 'data-testid="minutes-RPM">12<' in body
    assert '<strong class="mono">99457</strong> needs <strong>8 more minutes</strong>' in body
    assert "Live contact: yes" in body
    assert reverse("entry-history", args=[entry.pk]) in body
    assert "P3: a voicemail" in body
    assert "Not countable" in body
    assert "RPM-10" in body  # no visit on file: the engine says the patient is not established


def test_a_voided_entry_is_listed_but_not_counted(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    entry = _log(rpm, 12, timedelta(hours=2))
    services.void_entry(ctx=rpm.ctx(), entry=entry, reason="Wrong patient.", now=NOW)
    body = _panel(login(rpm), rpm)
    assert 'data-testid="minutes-RPM">0<' in body
    assert "Voided" in body and "Wrong patient." in body


def test_the_panel_agrees_with_the_api(rpm: PracticeWorld, login, api_client) -> None:  # type: ignore[no-untyped-def]
    _log(rpm, 23, timedelta(hours=2))
    body = _panel(login(rpm), rpm)
    api = api_client(rpm.user("coordinator"))
    month = api.get(f"/api/v1/patients/{rpm.patient.pk}/months/2026-11").json()
    rpm_month = month["programs"]["RPM"]
    assert f'data-testid="minutes-RPM">{rpm_month["minutes"]}<' in body
    nxt = rpm_month["next_threshold"]
    assert f"{nxt['code']}</strong> needs <strong>{nxt['minutes_needed']} more" in body
    for line in month["decision"]["lines"]:
        assert line["code"] in body


def test_previous_months_are_a_click_away(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    _log(rpm, 25, timedelta(days=30), reason="Entered from paper notes.")  # October 21
    client = login(rpm)
    current = _panel(client, rpm)
    assert "?month=2026-10" in current
    october = _panel(client, rpm, "2026-10")
    assert "October 2026" in october
    assert 'data-testid="minutes-RPM">25<' in october
    assert "?month=2026-11" in october  # back to the next month
    assert "Late" in october


def test_months_before_the_enrollment_say_so_and_the_future_is_not_shown(
    rpm: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client = login(rpm)
    assert "No program enrollment in August 2026" in _panel(client, rpm, "2026-08")
    assert "November 2026" in _panel(client, rpm, "2027-03")
    assert "November 2026" in _panel(client, rpm, "garbage")


def test_without_htmx_the_month_is_a_full_page(rpm: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    response = login(rpm).get(reverse("patient-month", args=[rpm.patient.pk]))
    body = response.content.decode()
    assert "<!doctype html>" in body
    assert 'id="month-panel"' in body


@pytest.mark.parametrize("role", ["coordinator", "practitioner", "manager", "biller", "auditor"])
def test_every_role_may_read_the_month_and_it_is_audited(
    rpm: PracticeWorld, login, role: str
) -> None:  # type: ignore[no-untyped-def]
    _panel(login(rpm, role), rpm)
    event = AuditEvent.objects.get(event="month.viewed")
    assert (event.patient_id, event.details["month"]) == (rpm.patient.pk, "2026-11")


def test_another_practices_month_is_not_found(
    rpm: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    url = reverse("patient-month", args=[other_world.patient.pk])
    assert login(rpm).get(url, **HTMX).status_code == 404
    assert AuditEvent.objects.filter(event="month.viewed").count() == 0


def test_the_bar_is_marked_at_the_rule_sets_thresholds() -> None:
    november = parse_month("2026-11", "America/Chicago")
    bar = bar_for("RPM", 12, november, target=20)
    assert bar is not None
    assert [(m.minutes, m.code) for m in bar.marks] == [(10, "99470"), (20, "99457"), (40, "99458")]
    assert bar.scale == 40
    assert [m.reached for m in bar.marks] == [True, False, False]
    ccm = bar_for("CCM", 45, november, target=None)
    assert ccm is not None
    assert [(m.minutes, m.code) for m in ccm.marks] == [(20, "99490"), (40, "99439"), (60, "99439")]
    assert bar_for("APCM", 0, november, target=None) is None

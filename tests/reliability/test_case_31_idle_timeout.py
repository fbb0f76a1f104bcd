"""Case 31: after the idle period (and after the absolute lifetime) no patient data is served.

Pass: the next full page redirects to sign-in, the next htmx request answers ``HX-Redirect``,
neither carries the patient's name; the absolute lifetime ends even a busy session.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.utils import timezone

from careledger.audit.models import AuditEvent
from tests.conftest import PASSWORD, PracticeWorld

pytestmark = pytest.mark.django_db


def _signed_in(world: PracticeWorld) -> Client:
    client = Client()
    response = client.post(
        "/login/", {"username": world.user("coordinator").username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def _refused(client: Client, world: PracticeWorld) -> None:
    page = client.get(f"/patients/{world.patient.pk}/")
    assert page.status_code == 302
    assert page["Location"].startswith("/login/")
    assert b"Samename" not in page.content
    htmx = client.get(f"/patients/{world.patient.pk}/", HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == "/login/"
    assert b"Samename" not in htmx.content


def test_case_31_after_the_idle_period_pages_and_htmx_get_no_phi(world: PracticeWorld) -> None:
    idle = timedelta(minutes=settings.SESSION_IDLE_MINUTES)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _signed_in(world)
    with time_machine.travel(start + idle - timedelta(minutes=1), tick=False):
        assert b"Samename" in client.get(f"/patients/{world.patient.pk}/").content
    with time_machine.travel(start + 2 * idle + timedelta(seconds=1), tick=False):
        _refused(client, world)


def test_case_31_the_absolute_lifetime_ends_a_busy_session(world: PracticeWorld) -> None:
    lifetime = timedelta(hours=settings.SESSION_MAX_HOURS)
    step = timedelta(minutes=settings.SESSION_IDLE_MINUTES - 5)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _signed_in(world)
    moment = start
    while moment + step < start + lifetime:
        moment += step
        with time_machine.travel(moment, tick=False):
            assert client.get("/patients/").status_code == 200  # never idle
    with time_machine.travel(start + lifetime + timedelta(minutes=1), tick=False):
        _refused(client, world)
    expired = AuditEvent.objects.get(event="auth.session_expired")
    assert expired.details["reason"] == "absolute lifetime"

"""Cases 31, 32 and 35: idle sessions end, a signed-out cookie is dead, PHI pages carry headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD, PracticeWorld

pytestmark = pytest.mark.django_db


def _signed_in(world: PracticeWorld) -> Client:
    client = Client()
    response = client.post(
        "/login/", {"username": world.user("coordinator").username, "password": PASSWORD}
    )
    assert response.status_code == 302
    return client


def test_after_the_idle_period_the_next_page_asks_to_sign_in_again(world: PracticeWorld) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = _signed_in(world)
        assert client.get("/patients/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        # Activity within the idle window keeps the session alive.
        assert client.get("/patients/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=26), tick=False):
        response = client.get(f"/patients/{world.patient.pk}/")
        assert response.status_code == 302
        assert "/login/" in response["Location"]
        assert b"Samename" not in response.content
        htmx = client.get("/patients/", HTTP_HX_REQUEST="true")
        assert htmx["HX-Redirect"] == "/login/"


def test_a_session_cookie_replayed_after_sign_out_gets_no_patient_data(
    world: PracticeWorld,
) -> None:
    client = _signed_in(world)
    cookie = client.cookies["sessionid"].value
    client.post("/logout/")
    replay = Client()
    replay.cookies["sessionid"] = cookie
    response = replay.get(f"/patients/{world.patient.pk}/")
    assert response.status_code == 302
    assert b"Samename" not in response.content


@pytest.mark.parametrize("path", ["/patients/", "/patients/{id}/", "/audit/"])
def test_patient_pages_send_no_store_csp_nosniff_and_frame_denial(
    world: PracticeWorld, path: str
) -> None:
    client = Client()
    client.force_login(world.user("admin"))
    response = client.get(path.format(id=world.patient.pk))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"


def test_api_answers_are_not_cached_either(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    response = api_client(world.user("coordinator")).get(f"/api/v1/patients/{world.patient.pk}")
    assert "no-store" in response["Cache-Control"]

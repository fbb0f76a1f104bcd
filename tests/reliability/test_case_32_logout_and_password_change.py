"""Case 32: a signed-out cookie is dead; a password change ends the other sessions (ASVS 3.3.3);
users can list and end their own sessions (ASVS 3.3.4)."""

from __future__ import annotations

import pytest
from django.test import Client

from careledger.accounts.models import User
from careledger.audit.models import AuditEvent
from tests.conftest import PASSWORD, PracticeWorld

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "another long passphrase 7"


def _signed_in(user: User, agent: str = "Browser") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def _replay(cookie: str) -> Client:
    client = Client()
    client.cookies["sessionid"] = cookie
    return client


def test_replaying_the_session_cookie_after_logout_gets_no_patient_data(
    world: PracticeWorld,
) -> None:
    client = _signed_in(world.user("coordinator"))
    cookie = client.cookies["sessionid"].value
    assert _replay(cookie).get(f"/patients/{world.patient.pk}/").status_code == 200
    client.post("/logout/")
    for path in (f"/patients/{world.patient.pk}/", "/patients/", "/account/sessions/"):
        response = _replay(cookie).get(path)
        assert response.status_code == 302, path
        assert "/login/" in response["Location"]
        assert b"Samename" not in response.content
    htmx = _replay(cookie).get("/patients/", HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"] == "/login/"
    assert AuditEvent.objects.filter(event="auth.logout").count() == 1


def test_a_password_change_ends_every_other_session_and_keeps_the_current_one(
    world: PracticeWorld,
) -> None:
    user = world.user("coordinator")
    current = _signed_in(user, "Laptop")
    other = _signed_in(user, "Phone")
    other_cookie = other.cookies["sessionid"].value
    response = current.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert current.get(f"/patients/{world.patient.pk}/").status_code == 200
    replay = _replay(other_cookie).get(f"/patients/{world.patient.pk}/")
    assert replay.status_code == 302
    assert b"Samename" not in replay.content
    assert AuditEvent.objects.filter(event="auth.password_changed", actor=user).count() == 1


def test_a_user_lists_their_sessions_and_ends_the_others(world: PracticeWorld) -> None:
    user = world.user("coordinator")
    current = _signed_in(user, "Laptop")
    other = _signed_in(user, "Phone")
    listed = current.get("/account/sessions/").context["sessions"]
    assert [(s.user_agent, is_current) for s, is_current in listed] == [
        ("Laptop", True),
        ("Phone", False),
    ]
    current.post("/account/sessions/", {"which": "all"})
    assert other.get("/patients/").status_code == 302
    assert current.get("/patients/").status_code == 200
    assert AuditEvent.objects.filter(event="auth.session_ended", actor=user).count() == 1

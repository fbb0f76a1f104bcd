"""Users list and end their own sessions; a password change ends the others (ASVS 3.3.3-3.3.4)."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from django.test import Client

from careledger.accounts.models import User
from careledger.audit.models import AuditEvent
from tests.conftest import PASSWORD, PracticeWorld

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a brand new passphrase 42"


def signed_in(user: User, *, agent: str, ip: str = "127.0.0.1") -> Client:
    client = Client(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_the_sessions_page_lists_each_session_and_marks_this_one(world: PracticeWorld) -> None:
    user = world.user("coordinator")
    laptop = signed_in(user, agent="Laptop browser", ip="10.0.0.5")
    signed_in(user, agent="Phone browser", ip="10.0.0.6")
    signed_in(world.user("biller"), agent="Someone else")
    page = laptop.get("/account/sessions/")
    assert page.status_code == 200
    listed = page.context["sessions"]
    assert [(s.user_agent, current) for s, current in listed] == [
        ("Laptop browser", True),
        ("Phone browser", False),
    ]
    html = page.content.decode()
    assert "This session" in html
    assert "10.0.0.6" in html
    assert "Someone else" not in html
    assert all(s.created_at and s.last_seen_at for s, _ in listed)


def test_ending_a_chosen_session_makes_its_cookie_useless(world: PracticeWorld) -> None:
    user = world.user("coordinator")
    laptop = signed_in(user, agent="Laptop")
    phone = signed_in(user, agent="Phone")
    tablet = signed_in(user, agent="Tablet")
    others = {s.user_agent: s.pk for s in UserSession.objects.filter(user=user)}
    response = laptop.post("/account/sessions/", {"which": "chosen", "session": [others["Phone"]]})
    assert response.status_code == 302
    assert phone.get("/patients/").status_code == 302
    assert tablet.get("/patients/").status_code == 200
    assert laptop.get("/patients/").status_code == 200
    event = AuditEvent.objects.get(event="auth.session_ended")
    assert event.actor == user
    assert event.details == {"sessions": 1, "which": "chosen"}


def test_nobody_can_end_someone_elses_session(world: PracticeWorld) -> None:
    mine = signed_in(world.user("coordinator"), agent="Mine")
    theirs = signed_in(world.user("biller"), agent="Theirs")
    their_session = UserSession.objects.get(user=world.user("biller"))
    mine.post("/account/sessions/", {"which": "chosen", "session": [their_session.pk]})
    assert theirs.get("/patients/").status_code == 200
    assert not AuditEvent.objects.filter(event="auth.session_ended").exists()


def test_ending_all_other_sessions_keeps_this_one(world: PracticeWorld) -> None:
    user = world.user("coordinator")
    laptop = signed_in(user, agent="Laptop")
    others = [signed_in(user, agent=f"Other {n}") for n in range(2)]
    laptop.post("/account/sessions/", {"which": "all"})
    assert all(other.get("/patients/").status_code == 302 for other in others)
    assert laptop.get("/patients/").status_code == 200
    assert list(UserSession.objects.filter(user=user).values_list("user_agent", flat=True)) == [
        "Laptop"
    ]
    assert AuditEvent.objects.get(event="auth.session_ended").details["sessions"] == 2


def test_a_password_change_needs_the_old_password_and_a_valid_new_one(
    world: PracticeWorld,
) -> None:
    user = world.user("coordinator")
    client = signed_in(user, agent="Laptop")
    assert client.get("/account/password/").status_code == 200
    wrong = client.post(
        "/account/password/",
        {"old_password": "wrong", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert wrong.status_code == 422
    assert "old_password" in wrong.context["form"].errors
    short = client.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": "short", "new_password2": "short"},
    )
    assert short.status_code == 422
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(event="auth.password_changed").exists()


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(
    world: PracticeWorld,
) -> None:
    user = world.user("coordinator")
    laptop = signed_in(user, agent="Laptop")
    phone = signed_in(user, agent="Phone")
    response = laptop.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert laptop.get("/patients/").status_code == 200
    assert phone.get("/patients/").status_code == 302
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    event = AuditEvent.objects.get(event="auth.password_changed")
    assert event.actor == user
    assert event.details == {"other_sessions_ended": 1}
    # The kept session is still listed (under its new key) and can be managed.
    assert list(UserSession.objects.filter(user=user).values_list("user_agent", flat=True)) == [
        "Laptop"
    ]
    assert laptop.get("/account/sessions/").context["sessions"][0][1] is True

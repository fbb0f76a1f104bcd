"""Sign in and out: audited, generic refusals, POST-only sign-out, lockout page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from careledger.audit.models import AuditEvent
from tests.conftest import PASSWORD, PracticeWorld
from tests.web.conftest import events


def test_signing_in_audits_one_login_and_goes_to_the_patient_list(world: PracticeWorld) -> None:
    client = Client()
    response = client.post(
        reverse("login"), {"username": "riverside-coordinator", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    event = AuditEvent.objects.get(event="auth.login")
    assert event.actor == world.user("coordinator")
    assert event.practice == world.practice
    assert client.get(reverse("home")).url == reverse("patient-list")


def test_a_wrong_password_is_audited_with_the_username_but_never_the_password(
    world: PracticeWorld,
) -> None:
    response = Client().post(
        reverse("login"), {"username": "riverside-coordinator", "password": "wrong-secret-123"}
    )
    assert response.status_code == 200
    event = AuditEvent.objects.get(event="auth.login_failed")
    assert event.outcome == AuditEvent.Outcome.FAILURE
    assert event.details == {"username": "riverside-coordinator"}
    assert "wrong-secret-123" not in str(event.details)
    assert events("auth.login") == 0


def test_the_refusal_does_not_reveal_whether_the_user_exists(world: PracticeWorld) -> None:
    known = Client().post(
        reverse("login"), {"username": "riverside-coordinator", "password": "wrong-secret-123"}
    )
    unknown = Client().post(
        reverse("login"), {"username": "nobody-at-all", "password": "wrong-secret-123"}
    )
    assert known.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    assert "The username or password is not correct." in known.content.decode()
    assert events("auth.login_failed") == 2


def test_signing_out_is_post_only_and_audited(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "coordinator")
    assert client.get(reverse("logout")).status_code == 405
    assert events("auth.logout") == 0
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert events("auth.logout", actor=world.user("coordinator")) == 1
    assert client.get(reverse("patient-list")).status_code == 302


@pytest.mark.django_db
def test_repeated_failures_show_the_generic_locked_out_page(
    world: PracticeWorld,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.AXES_FAILURE_LIMIT = 2
    client = Client()
    for _ in range(3):
        response = client.post(
            reverse("login"), {"username": "riverside-coordinator", "password": "nope-nope-123"}
        )
    assert response.status_code in (403, 429)
    body = response.content.decode()
    assert "Sign-in paused" in body
    assert "riverside-coordinator" not in body
    # Even the right password is refused while locked.
    response = client.post(
        reverse("login"), {"username": "riverside-coordinator", "password": PASSWORD}
    )
    assert "Sign-in paused" in response.content.decode()
    assert events("auth.login") == 0


def test_the_login_page_answers_anonymous_users_with_a_csp_header(db: None) -> None:
    response = Client().get(reverse("login"))
    assert response.status_code == 200
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert "<script>" not in response.content.decode()

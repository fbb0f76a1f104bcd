"""MFA pages and the sign-in second step (allauth.mfa's TOTP and recovery codes)."""

from __future__ import annotations

import pytest
from django.test import Client

from careledger.accounts import mfa
from careledger.audit.models import AuditEvent
from tests.accounts.mfa_support import enrol, password_step, secret_of, totp
from tests.conftest import PASSWORD, PracticeWorld

pytestmark = pytest.mark.django_db


def test_enrolment_shows_a_secret_and_qr_code_and_turns_on_with_a_right_code(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "biller")
    page = client.get("/account/mfa/")
    assert page.status_code == 200
    secret = page.context["secret"]
    assert secret in page.content.decode()
    assert b"<svg" in page.content
    assert page.context["totp_url"].startswith("otpauth://totp/")

    wrong = client.post("/account/mfa/", {"code": "000000"})
    assert wrong.status_code == 422
    assert b"not correct" in wrong.content
    assert not mfa.is_enrolled(world.user("biller"))
    # The secret stays the same until the user gets the code right.
    assert wrong.context["secret"] == secret

    done = client.post("/account/mfa/", {"code": totp(secret)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10
    assert all(code in done.content.decode() for code in codes)
    assert mfa.is_enrolled(world.user("biller"))
    assert secret_of(world.user("biller")) == secret
    event = AuditEvent.objects.get(event="auth.mfa_enrolled")
    assert event.actor == world.user("biller")
    assert client.get("/account/mfa/").context["enrolled"] is True


def test_a_user_with_mfa_signs_in_only_after_the_second_step(world: PracticeWorld) -> None:
    user = world.user("manager")
    enrol(user)
    client = Client()
    password_step(client, user)
    # The password alone signs nobody in.
    assert client.get("/patients/").status_code == 302
    assert not AuditEvent.objects.filter(event="auth.login").exists()

    wrong = client.post("/login/mfa/", {"code": "123456"})
    assert wrong.status_code == 401
    assert b"not correct" in wrong.content
    failed = AuditEvent.objects.get(event="auth.mfa_failed")
    assert failed.outcome == "failure"
    assert failed.details == {"username": user.username, "channel": "web"}

    right = client.post("/login/mfa/", {"code": totp(secret_of(user))})
    assert right.status_code == 302
    assert client.get("/patients/").status_code == 200
    login = AuditEvent.objects.get(event="auth.login")
    assert login.actor == user
    assert login.details == {"mfa": True}


def test_the_second_step_without_a_password_step_goes_back_to_sign_in() -> None:
    response = Client().get("/login/mfa/")
    assert response.status_code == 302
    assert response["Location"] == "/login/"


def test_a_recovery_code_signs_in_once(world: PracticeWorld) -> None:
    user = world.user("auditor")
    codes = enrol(user)
    first = Client()
    password_step(first, user)
    assert first.post("/login/mfa/", {"code": codes[0]}).status_code == 302
    again = Client()
    password_step(again, user)
    assert again.post("/login/mfa/", {"code": codes[0]}).status_code == 401
    assert codes[0] not in mfa.recovery_codes(user)


def test_recovery_codes_are_shown_and_regenerated_and_the_old_ones_stop_working(
    world: PracticeWorld, login
) -> None:  # type: ignore[no-untyped-def]
    user = world.user("admin")
    old = enrol(user)
    client = login(world, "admin")
    shown = client.get("/account/mfa/recovery-codes/")
    assert shown.context["codes"] == old
    fresh = client.post("/account/mfa/recovery-codes/")
    new = fresh.context["codes"]
    assert len(new) == 10
    assert set(new).isdisjoint(old)
    assert AuditEvent.objects.filter(event="auth.recovery_codes_regenerated").count() == 1
    assert not mfa.verify_code(user, old[0])
    assert mfa.verify_code(user, new[0])


def test_removing_mfa_needs_the_password_again(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    user = world.user("manager")
    enrol(user)
    client = login(world, "manager")
    refused = client.post("/account/mfa/remove/", {"password": "not my password"})
    assert refused.status_code == 422
    assert mfa.is_enrolled(user)
    assert not AuditEvent.objects.filter(event="auth.mfa_removed").exists()
    removed = client.post("/account/mfa/remove/", {"password": PASSWORD})
    assert removed.status_code == 302
    assert not mfa.is_enrolled(user)
    assert AuditEvent.objects.get(event="auth.mfa_removed").actor == user
    # Without MFA the next sign-in needs only the password again.
    fresh = Client()
    response = fresh.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response["Location"] != "/login/mfa/"


def test_mfa_is_offered_but_not_required_by_default(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    client = login(world, "admin")
    assert client.get("/patients/").status_code == 200
    page = client.get("/account/mfa/")
    assert page.context["required"] is False
    assert b"optional" in page.content


@pytest.mark.parametrize("role", ["admin", "manager", "biller", "auditor"])
def test_required_mfa_sends_a_privileged_user_to_enrolment_from_every_page(
    world: PracticeWorld, login, settings, role: str
) -> None:  # type: ignore[no-untyped-def]
    settings.REQUIRE_MFA = True
    client = login(world, role)
    for path in ("/patients/", f"/patients/{world.patient.pk}/", "/audit/", "/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/account/mfa/"
        assert b"Samename" not in response.content
    htmx = client.get("/patients/", HTTP_HX_REQUEST="true")
    assert htmx.status_code == 204
    assert htmx["HX-Redirect"] == "/account/mfa/"
    # The account pages stay open, so the user can enrol.
    page = client.get("/account/mfa/")
    assert page.status_code == 200
    assert page.context["required"] is True
    client.post("/account/mfa/", {"code": totp(page.context["secret"])})
    assert client.get("/patients/").status_code == 200


def test_required_mfa_follows_the_role_in_the_practice_being_used(
    world: PracticeWorld, other_world: PracticeWorld, settings
) -> None:  # type: ignore[no-untyped-def]
    from tests.factories import MembershipFactory

    settings.REQUIRE_MFA = True
    user = world.user("coordinator")
    MembershipFactory(user=user, practice=other_world.practice, role="admin")
    client = Client()
    client.force_login(user)
    assert client.get("/patients/?practice=riverside").status_code == 200
    refused = client.get("/patients/?practice=lakeside")
    assert refused["Location"] == "/account/mfa/"


def test_second_step_failures_count_toward_the_lockout(world: PracticeWorld, settings) -> None:  # type: ignore[no-untyped-def]
    user = world.user("biller")
    enrol(user)
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        password_step(client, user)
        assert client.post("/login/mfa/", {"code": "000000"}).status_code == 401
    password_step(client, user)
    locked = client.post("/login/mfa/", {"code": "000000"})
    assert locked.status_code == 403
    assert b"Sign-in paused" in locked.content
    # Even the right password and code do not get in while locked.
    client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert client.get("/patients/").status_code == 302


def test_required_mfa_follows_a_break_glass_role_too(world: PracticeWorld, settings) -> None:  # type: ignore[no-untyped-def]
    """A coordinator granted ``manager`` by break-glass needs MFA exactly as a manager does."""
    from django.utils import timezone

    from careledger.accounts.models import Membership
    from careledger.accounts.users import grant_break_glass

    settings.REQUIRE_MFA = True
    user = world.user("coordinator")
    client = Client()
    client.force_login(user)
    assert client.get("/patients/").status_code == 200
    grant_break_glass(
        actor=world.user("admin"),
        membership=Membership.objects.get(user=user, practice=world.practice),
        role="manager",
        reason="covering the month close",
        hours=2,
        now=timezone.now(),
    )
    refused = client.get("/patients/")
    assert refused["Location"] == "/account/mfa/"
    token = client.post(
        "/api/v1/auth/token",
        data={"username": user.username, "password": PASSWORD},
        content_type="application/json",
    )
    assert token.status_code == 403


def test_the_admin_cannot_delete_or_read_the_secret_of_an_authenticator(
    world: PracticeWorld,
) -> None:
    """Removing MFA goes through the audited service; the admin only lists authenticators."""
    from allauth.mfa.models import Authenticator

    from tests.factories import UserFactory

    user = world.user("biller")
    enrol(user)
    authenticator = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
    root = UserFactory(username="root", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(root)
    base = f"/admin/mfa/authenticator/{authenticator.pk}"
    shown = client.get(f"{base}/change/")
    assert shown.status_code == 200
    assert secret_of(user).encode() not in shown.content
    assert client.post(f"{base}/delete/", {"post": "yes"}).status_code == 403
    assert Authenticator.objects.filter(pk=authenticator.pk).exists()
    sessions = client.get("/admin/usersessions/usersession/")
    assert sessions.status_code == 200
    assert b"delete_selected" not in sessions.content

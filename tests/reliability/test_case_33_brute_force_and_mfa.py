"""Case 33: repeated failures lock sign-in with a message that names no account; with MFA
required, privileged roles reach no patient data without it; a used TOTP code is refused."""

from __future__ import annotations

import pytest
from django.test import Client

from careledger.audit.models import AuditEvent
from tests.accounts.mfa_support import enrol, password_step, secret_of, totp
from tests.conftest import PASSWORD, PracticeWorld

pytestmark = pytest.mark.django_db

PRIVILEGED = ["admin", "manager", "biller", "auditor"]


def test_repeated_failures_lock_sign_in_and_the_answer_does_not_reveal_the_account(
    world: PracticeWorld,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    real, unknown = Client(REMOTE_ADDR="10.1.0.1"), Client(REMOTE_ADDR="10.1.0.2")
    username = world.user("coordinator").username
    first_real = real.post("/login/", {"username": username, "password": "wrong"})
    first_unknown = unknown.post("/login/", {"username": "no-such-user", "password": "wrong"})
    assert first_real.status_code == first_unknown.status_code == 200
    assert first_real.context["form"].non_field_errors() == (
        first_unknown.context["form"].non_field_errors()
    )
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        real.post("/login/", {"username": username, "password": "wrong"})
        unknown.post("/login/", {"username": "no-such-user", "password": "wrong"})
    locked_real = real.post("/login/", {"username": username, "password": PASSWORD})
    locked_unknown = unknown.post("/login/", {"username": "no-such-user", "password": PASSWORD})
    assert locked_real.status_code == locked_unknown.status_code == 403
    assert locked_real.content == locked_unknown.content
    assert b"Sign-in paused" in locked_real.content
    assert username.encode() not in locked_real.content
    # The right password did not get in.
    assert real.get("/patients/").status_code == 302
    assert AuditEvent.objects.filter(event="auth.login").count() == 0


@pytest.mark.parametrize("role", PRIVILEGED)
def test_with_mfa_required_a_privileged_role_reaches_no_phi_without_it(
    world: PracticeWorld,
    settings,  # type: ignore[no-untyped-def]
    api_client,  # type: ignore[no-untyped-def]
    role: str,
) -> None:
    settings.REQUIRE_MFA = True
    page_client = Client()
    page_client.force_login(world.user(role))
    for path in ("/patients/", f"/patients/{world.patient.pk}/"):
        response = page_client.get(path)
        assert response["Location"] == "/account/mfa/", path
        assert b"Samename" not in response.content
    assert page_client.get("/patients/", HTTP_HX_REQUEST="true")["HX-Redirect"] == ("/account/mfa/")
    api = api_client(world.user(role))
    for path in ("/api/v1/patients", f"/api/v1/patients/{world.patient.pk}"):
        refused = api.get(path)
        assert refused.status_code == 403, path
        assert "Multi-factor authentication is required" in refused.json()["detail"]
        assert "Samename" not in refused.content.decode()


@pytest.mark.parametrize("role", ["coordinator", "practitioner"])
def test_with_mfa_required_a_clinical_role_still_works_without_it(
    world: PracticeWorld,
    settings,  # type: ignore[no-untyped-def]
    api_client,  # type: ignore[no-untyped-def]
    role: str,
) -> None:
    settings.REQUIRE_MFA = True
    page_client = Client()
    page_client.force_login(world.user(role))
    assert page_client.get(f"/patients/{world.patient.pk}/").status_code == 200
    assert api_client(world.user(role)).get("/api/v1/patients").status_code == 200


def test_with_mfa_required_an_enrolled_privileged_user_signs_in_with_a_code(
    world: PracticeWorld,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.REQUIRE_MFA = True
    user = world.user("biller")
    enrol(user)
    client = Client()
    password_step(client, user)
    assert client.post("/login/mfa/", {"code": totp(secret_of(user))}).status_code == 302
    assert client.get(f"/patients/{world.patient.pk}/").status_code == 200


def test_a_used_totp_code_is_refused_on_replay(world: PracticeWorld) -> None:
    user = world.user("manager")
    enrol(user)
    code = totp(secret_of(user))
    first = Client()
    password_step(first, user)
    assert first.post("/login/mfa/", {"code": code}).status_code == 302
    replay = Client()
    password_step(replay, user)
    refused = replay.post("/login/mfa/", {"code": code})
    assert refused.status_code == 401
    assert replay.get("/patients/").status_code == 302
    assert AuditEvent.objects.filter(event="auth.mfa_failed").count() == 1

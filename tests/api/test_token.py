"""POST /api/v1/auth/token and bearer authentication."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from careledger.audit.models import AuditEvent
from tests.conftest import PASSWORD, PracticeWorld

pytestmark = pytest.mark.django_db


def test_a_user_exchanges_credentials_for_a_token_that_works(world: PracticeWorld) -> None:
    client = Client()
    response = client.post(
        "/api/v1/auth/token",
        {"username": world.user("coordinator").username, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    token = response.json()["token"]
    listed = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/patients")
    assert listed.status_code == 200
    assert AuditEvent.objects.filter(event="auth.token_issued").count() == 1


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(world: PracticeWorld) -> None:
    client = Client()
    wrong = client.post(
        "/api/v1/auth/token",
        {"username": world.user("coordinator").username, "password": "nope"},
        content_type="application/json",
    )
    unknown = client.post(
        "/api/v1/auth/token",
        {"username": "nobody-here", "password": "nope"},
        content_type="application/json",
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert AuditEvent.objects.filter(event="auth.token_refused", outcome="denied").count() == 2


def test_the_api_refuses_requests_without_a_token_even_with_a_session(
    world: PracticeWorld,
) -> None:
    client = Client()
    client.force_login(world.user("coordinator"))
    assert client.get("/api/v1/patients").status_code == 401
    assert (
        Client(HTTP_AUTHORIZATION="Bearer not-a-token").get("/api/v1/patients").status_code == 401
    )


def test_a_member_of_several_practices_must_name_one(
    world: PracticeWorld, other_world: PracticeWorld, api_client
) -> None:
    from tests.factories import MembershipFactory

    user = world.user("coordinator")
    MembershipFactory(user=user, practice=other_world.practice, role="coordinator")
    client = api_client(user)
    unnamed = client.get("/api/v1/patients")
    assert unnamed.status_code == 422
    assert unnamed.json()["errors"][0]["field"] == "practice"
    named = client.get("/api/v1/patients?practice=lakeside").json()
    assert [p["id"] for p in named["items"]] == [other_world.patient.pk]
    header = client.get("/api/v1/patients", HTTP_X_CARELEDGER_PRACTICE="riverside").json()
    assert [p["id"] for p in header["items"]] == [world.patient.pk]
    assert client.get("/api/v1/patients?practice=nowhere").status_code == 404


def test_openapi_is_served_without_authentication() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.json()["openapi"].startswith("3.1")


def _token(username: str, otp: str | None = None, password: str = PASSWORD) -> Any:
    body: dict[str, str] = {"username": username, "password": password}
    if otp is not None:
        body["otp"] = otp
    return Client().post("/api/v1/auth/token", body, content_type="application/json")


def test_a_user_with_mfa_needs_a_current_otp_and_each_code_works_once(
    world: PracticeWorld,
) -> None:
    from tests.accounts.mfa_support import enrol, secret_of, totp

    user = world.user("coordinator")
    enrol(user)
    generic = _token("nobody-here").json()
    missing = _token(user.username)
    wrong = _token(user.username, otp="000000")
    assert missing.status_code == wrong.status_code == 401
    assert missing.json() == wrong.json() == generic
    code = totp(secret_of(user))
    issued = _token(user.username, otp=code)
    assert issued.status_code == 200
    assert (
        Client(HTTP_AUTHORIZATION=f"Bearer {issued.json()['token']}")
        .get("/api/v1/patients")
        .status_code
        == 200
    )
    replayed = _token(user.username, otp=code)
    assert replayed.status_code == 401
    assert replayed.json() == generic
    failed = AuditEvent.objects.filter(event="auth.mfa_failed")
    assert failed.count() == 3
    assert {e.details["channel"] for e in failed} == {"api"}
    assert AuditEvent.objects.filter(event="auth.token_issued").count() == 1


def test_a_recovery_code_also_serves_as_the_otp(world: PracticeWorld) -> None:
    from tests.accounts.mfa_support import enrol

    codes = enrol(world.user("biller"))
    assert _token(world.user("biller").username, otp=codes[0]).status_code == 200
    assert _token(world.user("biller").username, otp=codes[0]).status_code == 401


def test_without_mfa_required_or_enrolled_no_otp_is_needed(world: PracticeWorld) -> None:
    assert _token(world.user("admin").username).status_code == 200


def test_when_mfa_is_required_a_privileged_user_without_it_gets_no_token(
    world: PracticeWorld,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    settings.REQUIRE_MFA = True
    refused = _token(world.user("biller").username, otp="123456")
    assert refused.status_code == 403
    assert "/account/mfa/" in refused.json()["detail"]
    assert AuditEvent.objects.get(event="auth.token_refused").details["reason"] == (
        "mfa not enrolled"
    )
    # A wrong password still gets the generic answer, whatever the MFA state.
    assert _token(world.user("biller").username, password="nope").status_code == 401
    assert _token(world.user("coordinator").username).status_code == 200


def test_when_mfa_is_required_an_enrolled_privileged_user_gets_a_token_with_an_otp(
    world: PracticeWorld,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    from tests.accounts.mfa_support import enrol, secret_of, totp

    settings.REQUIRE_MFA = True
    user = world.user("manager")
    enrol(user)
    assert _token(user.username).status_code == 401
    issued = _token(user.username, otp=totp(secret_of(user)))
    assert issued.status_code == 200
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issued.json()['token']}")
    assert client.get("/api/v1/patients").status_code == 200

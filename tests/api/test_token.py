"""POST /api/v1/auth/token and bearer authentication."""

from __future__ import annotations

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

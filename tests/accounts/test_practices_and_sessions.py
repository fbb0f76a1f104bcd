"""Practices validate what an 837P needs; sessions expire; repeated failures lock the account."""

from __future__ import annotations

import time
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from careledger.accounts.middleware import SESSION_STARTED_KEY
from careledger.accounts.roles import PERMISSIONS, Role, role_may
from careledger.accounts.services import add_member, create_practice
from careledger.audit.models import AuditEvent
from tests.conftest import PASSWORD, PracticeWorld
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _practice(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Hillcrest Clinic",
        "slug": "hillcrest",
        "timezone": "America/Denver",
        "billing_npi": "1234567893",
    }
    data.update(overrides)
    return data


def test_a_practice_is_created_with_one_audit_event() -> None:
    practice = create_practice(actor=None, data=_practice(), now=timezone.now())
    assert AuditEvent.objects.get(event="practice.created").practice == practice


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"billing_npi": "1234567890"}, "billing_npi"),
        ({"billing_npi": "12345"}, "billing_npi"),
        ({"timezone": "Central Time"}, "timezone"),
        ({"setting": "hospital"}, "setting"),
    ],
)
def test_bad_practice_data_names_the_field(overrides: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        create_practice(actor=None, data=_practice(**overrides), now=timezone.now())
    assert field in caught.value.message_dict
    assert not AuditEvent.objects.filter(event="practice.created").exists()


def test_a_credential_gives_the_default_rule_class(world: PracticeWorld) -> None:
    user = UserFactory()
    nurse = add_member(
        actor=None,
        practice=world.practice,
        user=user,
        role="coordinator",
        credential="LPN",
        now=timezone.now(),
    )
    assert nurse.rule_class == "clinical_staff"
    assert world.members["practitioner"].rule_class == "physician_qhp"
    assert world.members["biller"].rule_class == "non_clinical"


def test_a_member_npi_is_checked(world: PracticeWorld) -> None:
    with pytest.raises(ValidationError) as caught:
        add_member(
            actor=None,
            practice=world.practice,
            user=UserFactory(),
            role="practitioner",
            credential="MD",
            npi="1234567890",
            now=timezone.now(),
        )
    assert "npi" in caught.value.message_dict


def test_every_permission_names_only_known_roles() -> None:
    for roles in PERMISSIONS.values():
        assert roles <= set(Role.values)
    assert not role_may("coordinator", "no.such.permission")


def test_an_idle_session_expires_after_the_configured_minutes(settings) -> None:  # type: ignore[no-untyped-def]
    assert settings.SESSION_COOKIE_AGE == 15 * 60
    assert settings.SESSION_SAVE_EVERY_REQUEST is True


def test_a_session_past_its_absolute_lifetime_is_ended(world: PracticeWorld, settings) -> None:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(world.user("coordinator"))
    session = client.session
    session[SESSION_STARTED_KEY] = int(time.time()) - settings.SESSION_MAX_HOURS * 3600 - 5
    session.save()
    response = client.get("/patients/")
    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert AuditEvent.objects.filter(event="auth.session_expired").count() == 1


def test_an_htmx_request_without_a_session_is_sent_to_the_login_page() -> None:
    response = Client().get("/patients/", HTTP_HX_REQUEST="true")
    assert response["HX-Redirect"] == "/login/"
    assert b"Samename" not in response.content


def test_repeated_failures_lock_the_account_without_saying_whether_it_exists(
    world: PracticeWorld,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    client = Client()
    username = world.user("coordinator").username

    def token(password: str, user: str = username) -> Any:
        return client.post(
            "/api/v1/auth/token",
            {"username": user, "password": password},
            content_type="application/json",
        )

    for _ in range(settings.AXES_FAILURE_LIMIT):
        token("wrong password")
    locked = token(PASSWORD)
    assert locked.status_code in (401, 403, 429)
    assert "token" not in locked.json()
    assert locked.json()["detail"] == token("wrong", user="nobody-at-all").json()["detail"]

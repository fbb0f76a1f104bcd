"""Shared fixtures: two practices with the same shape, so isolation can be tested everywhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest

# Django is imported lazily so tests/rules runs without it (`pytest tests/rules -p no:django`).
if TYPE_CHECKING:
    from django.test import Client

    from careledger.accounts.access import PracticeContext
    from careledger.accounts.models import Membership, Practice, User
    from careledger.patients.models import Patient

PASSWORD = "correct horse battery"


@dataclass
class PracticeWorld:
    """A practice with one member of every role and a patient."""

    practice: Practice
    members: dict[str, Membership]
    patient: Patient

    def user(self, role: str) -> User:
        return self.members[role].user

    def ctx(self, role: str = "coordinator") -> PracticeContext:
        from careledger.accounts.access import PracticeContext

        return PracticeContext(user=self.user(role), membership=self.members[role], source_ip=None)


def make_world(slug: str, name: str, tz: str) -> PracticeWorld:
    from careledger.accounts.roles import Credential, Role
    from tests.factories import MembershipFactory, PatientFactory, PracticeFactory, UserFactory

    practice = PracticeFactory(slug=slug, name=name, timezone=tz)
    members: dict[str, Membership] = {}
    for role in Role.values:
        credential = {
            "coordinator": Credential.RN,
            "practitioner": Credential.MD,
        }.get(role, Credential.OTHER)
        members[role] = MembershipFactory(
            practice=practice,
            user=UserFactory(username=f"{slug}-{role}"),
            role=role,
            credential=credential,
            npi="1245319599" if role == "practitioner" else "",
        )
    # Both practices hold a patient with the same name and MRN (case 3: aggregates never leak).
    patient = PatientFactory(
        practice=practice,
        mrn="A1000",
        given_name="Mae",
        family_name="Samename",
        coordinator=members["coordinator"].user,
    )
    return PracticeWorld(practice=practice, members=members, patient=patient)


@pytest.fixture
def world(db: None) -> PracticeWorld:
    return make_world("riverside", "Riverside Family Medicine", "America/Chicago")


@pytest.fixture
def other_world(db: None) -> PracticeWorld:
    return make_world("lakeside", "Lakeside Internal Medicine", "America/New_York")


@pytest.fixture
def login(client: Client):  # type: ignore[no-untyped-def]
    """Sign a user in to the test client by role."""

    def _login(world: PracticeWorld, role: str = "coordinator") -> Client:
        client.force_login(world.user(role))
        return client

    return _login


@pytest.fixture
def api_client(db: None):  # type: ignore[no-untyped-def]
    """Return a function giving an API client authenticated as a user by bearer token."""

    from django.test import Client
    from django.utils import timezone

    from careledger.accounts.models import ApiToken

    def _client(user: User) -> Client:
        key, key_hash = ApiToken.new_key()
        now = timezone.now()
        ApiToken.objects.create(
            user=user, key_hash=key_hash, created_at=now, expires_at=now + timedelta(hours=1)
        )
        return Client(HTTP_AUTHORIZATION=f"Bearer {key}")

    return _client


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest) -> None:
    """Hash test passwords cheaply; Argon2 stays the production hasher."""
    if not request.config.pluginmanager.hasplugin("django"):
        return
    settings = request.getfixturevalue("settings")
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

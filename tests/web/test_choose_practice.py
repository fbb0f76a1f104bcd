"""Members of several practices choose one; the switcher never opens someone else's practice."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from careledger.accounts.access import PRACTICE_SESSION_KEY
from careledger.accounts.models import Practice
from tests.conftest import PracticeWorld
from tests.factories import MembershipFactory, PracticeFactory


def _two_practice_client(world: PracticeWorld, other_world: PracticeWorld) -> Client:
    user = world.user("coordinator")
    MembershipFactory(user=user, practice=other_world.practice, role="coordinator")
    client = Client()
    client.force_login(user)
    return client


def test_a_member_of_two_practices_is_asked_to_choose(
    world: PracticeWorld, other_world: PracticeWorld
) -> None:
    client = _two_practice_client(world, other_world)
    response = client.get(reverse("patient-list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("choose-practice"))
    page = client.get(response["Location"])
    assert world.practice.name in page.content.decode()
    assert other_world.practice.name in page.content.decode()


def test_choosing_a_practice_scopes_the_pages_to_it(
    world: PracticeWorld, other_world: PracticeWorld
) -> None:
    client = _two_practice_client(world, other_world)
    response = client.post(
        reverse("choose-practice"),
        {"practice": other_world.practice.pk, "next": reverse("patient-list")},
    )
    assert response.status_code == 302
    assert client.session[PRACTICE_SESSION_KEY] == other_world.practice.pk
    page = client.get(reverse("patient-list"))
    assert page.context["current_practice"] == other_world.practice
    # The switcher offers the other practice.
    assert [m.practice for m in page.context["switchable_memberships"]] == [world.practice]


def test_choosing_a_practice_one_is_not_a_member_of_is_not_found(
    world: PracticeWorld,
    other_world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client = login(world, "coordinator")
    response = client.post(reverse("choose-practice"), {"practice": other_world.practice.pk})
    assert response.status_code == 404
    assert PRACTICE_SESSION_KEY not in client.session or (
        client.session[PRACTICE_SESSION_KEY] != other_world.practice.pk
    )


def test_an_offsite_next_address_is_ignored(
    world: PracticeWorld, other_world: PracticeWorld
) -> None:
    client = _two_practice_client(world, other_world)
    response = client.post(
        reverse("choose-practice"),
        {"practice": world.practice.pk, "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("patient-list")


def test_a_single_practice_member_sees_no_switcher(world: PracticeWorld, login) -> None:  # type: ignore[no-untyped-def]
    page = login(world, "coordinator").get(reverse("patient-list"))
    assert page.context["switchable_memberships"] == []
    assert Practice.objects.count() == 1
    assert 'name="practice"' not in page.content.decode()


def test_an_unrelated_practice_never_appears_in_the_switcher(
    world: PracticeWorld, other_world: PracticeWorld
) -> None:
    PracticeFactory(name="Hillside Clinic")
    client = _two_practice_client(world, other_world)
    client.post(reverse("choose-practice"), {"practice": world.practice.pk})
    assert "Hillside Clinic" not in client.get(reverse("patient-list")).content.decode()

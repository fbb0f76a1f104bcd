"""Case 20: two users edit a care plan from the same revision N.

Pass: the second save gets 409 (optimistic revision check), the first user's update is not lost,
and both attempts are audited — the save and the refused save, each with its user.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from careledger.audit.models import AuditEvent
from careledger.careplans.models import CarePlan
from careledger.patients.models import Condition
from tests.careplans.conftest import complete_content
from tests.conftest import PracticeWorld
from tests.factories import ConditionFactory
from tests.reliability._helpers_a import LONG_AGO

pytestmark = pytest.mark.django_db


@pytest.fixture
def conditions(world: PracticeWorld) -> list[Condition]:
    return [
        ConditionFactory(patient=world.patient, icd10_code="I10", created_at=LONG_AGO),
        ConditionFactory(patient=world.patient, icd10_code="E11.9", created_at=LONG_AGO),
    ]


def _content(conditions: list[Condition], note: str) -> dict[str, Any]:
    content = complete_content(conditions)
    content["elements"]["symptom_management"] = {"text": note}
    return content


def _put(client: Client, world: PracticeWorld, body: dict[str, Any]) -> Any:
    return client.put(
        f"/api/v1/patients/{world.patient.pk}/care-plan/draft",
        body,
        content_type="application/json",
    )


def test_the_second_save_from_revision_n_gets_409_and_the_first_is_kept(
    world: PracticeWorld,
    conditions: list[Condition],
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    rosa: Client = api_client(world.user("coordinator"))
    dan: Client = api_client(world.user("practitioner"))
    started = rosa.post(
        f"/api/v1/patients/{world.patient.pk}/care-plan",
        {"kind": "comprehensive"},
        content_type="application/json",
    )
    assert started.status_code == 201
    # Both open the plan at revision N.
    n = rosa.get(f"/api/v1/patients/{world.patient.pk}/care-plan").json()["revision"]
    assert dan.get(f"/api/v1/patients/{world.patient.pk}/care-plan").json()["revision"] == n

    first = _put(rosa, world, {"revision": n, "content": _content(conditions, "Rosa's note.")})
    assert first.status_code == 200 and first.json()["revision"] == n + 1
    second = _put(dan, world, {"revision": n, "content": _content(conditions, "Dan's note.")})
    assert second.status_code == 409
    assert second.json()["current_revision"] == n + 1
    assert second.json()["errors"][0]["field"] == "revision"

    plan = CarePlan.objects.get()
    assert plan.revision == n + 1
    assert plan.draft["elements"]["symptom_management"]["text"] == "Rosa's note."

    saved = AuditEvent.objects.filter(event="careplan.draft_saved").order_by("pk")
    refused = AuditEvent.objects.filter(event="careplan.draft_conflict")
    assert [e.actor_id for e in saved] == [world.user("coordinator").pk]
    assert [e.actor_id for e in refused] == [world.user("practitioner").pk]
    assert refused.get().patient_id == world.patient.pk

    # Dan saves again from the revision he was told about: nothing is lost either way.
    third = _put(dan, world, {"revision": n + 1, "content": _content(conditions, "Dan's note.")})
    assert third.status_code == 200 and third.json()["revision"] == n + 2


def test_publishing_from_a_stale_revision_gets_409_and_publishes_nothing(
    world: PracticeWorld,
    conditions: list[Condition],
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    rosa: Client = api_client(world.user("coordinator"))
    dan: Client = api_client(world.user("practitioner"))
    rosa.post(
        f"/api/v1/patients/{world.patient.pk}/care-plan",
        {"kind": "comprehensive"},
        content_type="application/json",
    )
    n = CarePlan.objects.get().revision
    assert (
        _put(rosa, world, {"revision": n, "content": _content(conditions, "v1")}).status_code == 200
    )
    assert (
        _put(rosa, world, {"revision": n + 1, "content": _content(conditions, "v2")}).status_code
        == 200
    )
    stale = dan.post(
        f"/api/v1/patients/{world.patient.pk}/care-plan/versions",
        {"revision": n + 1, "sign": True},
        content_type="application/json",
    )
    assert stale.status_code == 409
    plan = CarePlan.objects.get()
    assert plan.versions.count() == 0
    assert AuditEvent.objects.filter(event="careplan.version_published").count() == 0
    assert AuditEvent.objects.filter(
        event="careplan.draft_conflict", actor=world.user("practitioner")
    ).exists()


def test_the_editor_page_answers_409_to_the_second_user(
    world: PracticeWorld,
    conditions: list[Condition],
    login,
    client,  # type: ignore[no-untyped-def]
) -> None:
    from tests.careplans.test_pages import _editor_post

    rosa = login(world, "coordinator")
    rosa.post(f"/care-plans/patients/{world.patient.pk}/start/", {"kind": "comprehensive"})
    plan = CarePlan.objects.get()
    n = plan.revision
    assert rosa.post(f"/care-plans/{plan.pk}/edit/", _editor_post(plan, n)).status_code == 302
    dan = Client()
    dan.force_login(world.user("practitioner"))
    response = dan.post(f"/care-plans/{plan.pk}/edit/", _editor_post(plan, n))
    assert response.status_code == 409
    assert (
        AuditEvent.objects.filter(
            event="careplan.draft_conflict", actor=world.user("practitioner")
        ).count()
        == 1
    )

"""The care-plan endpoints: shapes, scoping, conflicts, sign-off, sharing and the PDF."""

from __future__ import annotations

from typing import Any

import pytest

from careledger.audit.models import AuditEvent
from careledger.careplans.models import CarePlan
from careledger.patients.models import Condition
from tests.careplans.conftest import NOW, complete_content, publish_signed
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db


def _url(world: PracticeWorld, tail: str = "") -> str:
    return f"/api/v1/patients/{world.patient.pk}/care-plan{tail}"


def _post(client: Any, url: str, body: dict[str, Any], method: str = "post") -> Any:
    return getattr(client, method)(url, body, content_type="application/json")


def test_the_current_plan_shows_its_state_draft_and_latest_version(
    world: PracticeWorld, plan: CarePlan, api_client
) -> None:  # type: ignore[no-untyped-def]
    publish_signed(world, plan, NOW)
    body = api_client(world.user("biller")).get(_url(world)).json()
    assert body["id"] == plan.pk and body["kind"] == "comprehensive"
    assert body["state"] == "unshared" and body["current"] is False
    assert body["latest_version"]["number"] == 1
    assert body["latest_version"]["signed_by"] == "riverside-practitioner"
    assert body["draft"]["goals"][0]["key"] == "home-bp"


def test_versions_and_sharings_are_lists_with_items_and_count(
    world: PracticeWorld, plan: CarePlan, api_client
) -> None:  # type: ignore[no-untyped-def]
    publish_signed(world, plan, NOW)
    client = api_client(world.user("coordinator"))
    created = _post(
        client,
        _url(world, "/sharings"),
        {"version": 1, "shared_on": "2026-03-10", "channel": "portal"},
    )
    assert created.status_code == 201, created.content
    versions = client.get(_url(world, "/versions")).json()
    assert versions["count"] == 1 and versions["items"][0]["shared_on"] == ["2026-03-10"]
    sharings = client.get(_url(world, "/sharings")).json()
    assert sharings["count"] == 1
    assert sharings["items"][0]["channel"] == "portal"
    assert sharings["items"][0]["shared_by"] == "riverside-coordinator"


def test_another_practices_patient_plan_is_not_found(
    world: PracticeWorld, other_world: PracticeWorld, plan: CarePlan, api_client
) -> None:  # type: ignore[no-untyped-def]
    client = api_client(other_world.user("admin"))
    for tail in ("", "/versions", "/sharings", "/pdf", "/fhir"):
        response = client.get(_url(world, tail))
        assert response.status_code == 404, tail
        assert response.json()["detail"] == "Not found."


def test_a_patient_without_a_plan_has_no_current_plan(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    assert api_client(world.user("coordinator")).get(_url(world)).status_code == 404


def test_a_stale_draft_save_answers_409_and_applies_nothing(
    world: PracticeWorld, plan: CarePlan, conditions: list[Condition], api_client
) -> None:  # type: ignore[no-untyped-def]
    client = api_client(world.user("coordinator"))
    revision = plan.revision
    first = _post(
        client,
        _url(world, "/draft"),
        {"revision": revision, "content": complete_content(conditions)},
        "put",
    )
    assert first.status_code == 200 and first.json()["revision"] == revision + 1
    stale = complete_content(conditions)
    stale["elements"]["symptom_management"] = {"text": "Stale edit."}
    second = _post(client, _url(world, "/draft"), {"revision": revision, "content": stale}, "put")
    assert second.status_code == 409
    body = second.json()
    assert body["current_revision"] == revision + 1
    assert body["errors"][0]["field"] == "revision"
    plan.refresh_from_db()
    assert plan.draft["elements"]["symptom_management"]["text"] != "Stale edit."


def test_publishing_an_incomplete_plan_answers_422_listing_every_missing_element(
    world: PracticeWorld, conditions: list[Condition], api_client
) -> None:  # type: ignore[no-untyped-def]
    client = api_client(world.user("practitioner"))
    started = _post(client, _url(world), {"kind": "comprehensive", "template": "hypertension"})
    assert started.status_code == 201
    response = _post(client, _url(world, "/versions"), {"revision": 1, "sign": True})
    assert response.status_code == 422
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {
        "cognitive_functional_assessment",
        "environmental_evaluation",
        "caregiver_assessment",
        "community_services",
        "outside_coordination",
    }


def test_an_impossible_threshold_answers_422_naming_the_field(
    world: PracticeWorld, plan: CarePlan, conditions: list[Condition], api_client
) -> None:  # type: ignore[no-untyped-def]
    content = complete_content(conditions)
    content["goals"][0]["thresholds"][0]["warning"] = 900
    response = _post(
        api_client(world.user("coordinator")),
        _url(world, "/draft"),
        {"revision": plan.revision, "content": content},
        "put",
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "goals[0].thresholds[0].warning"


def test_a_coordinator_publishes_but_signing_is_refused_with_403(
    world: PracticeWorld, plan: CarePlan, api_client
) -> None:  # type: ignore[no-untyped-def]
    coordinator = api_client(world.user("coordinator"))
    refused = _post(
        coordinator, _url(world, "/versions"), {"revision": plan.revision, "sign": True}
    )
    assert refused.status_code == 403
    published = _post(coordinator, _url(world, "/versions"), {"revision": plan.revision})
    assert published.status_code == 201 and published.json()["signed_by"] is None
    assert _post(coordinator, _url(world, "/versions/1/sign"), {}).status_code == 403
    signed = _post(api_client(world.user("practitioner")), _url(world, "/versions/1/sign"), {})
    assert signed.status_code == 200 and signed.json()["signed_by_npi"] == "1245319599"


def test_billers_and_auditors_read_but_never_write(
    world: PracticeWorld, plan: CarePlan, api_client
) -> None:  # type: ignore[no-untyped-def]
    for role in ("biller", "auditor"):
        client = api_client(world.user(role))
        assert client.get(_url(world)).status_code == 200
        response = _post(client, _url(world, "/versions"), {"revision": plan.revision})
        assert response.status_code == 403


def test_the_pdf_is_the_latest_published_version_and_its_opening_is_audited(
    world: PracticeWorld, plan: CarePlan, api_client
) -> None:  # type: ignore[no-untyped-def]
    client = api_client(world.user("coordinator"))
    assert client.get(_url(world, "/pdf")).status_code == 404  # nothing published yet
    publish_signed(world, plan, NOW)
    response = client.get(_url(world, "/pdf"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(event="careplan.pdf_viewed").count() == 1


def test_the_fhir_export_endpoint_returns_a_bundle(
    world: PracticeWorld, plan: CarePlan, api_client
) -> None:  # type: ignore[no-untyped-def]
    publish_signed(world, plan, NOW)
    body = api_client(world.user("auditor")).get(_url(world, "/fhir")).json()
    assert body["resourceType"] == "Bundle"
    assert body["entry"][1]["resource"]["resourceType"] == "CarePlan"

"""The program-facts API: 201 with ids, 422 naming the field, 404 across practices, 403 by role."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client

from careledger.audit.models import AuditEvent
from tests.conftest import PracticeWorld
from tests.programs.helpers import NOW, enroll

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _frozen() -> Any:
    # Facts are dated in March 2026; "the future" is judged against this clock.
    with time_machine.travel(NOW, tick=False):
        yield


Api = Callable[[Any], Client]


def _post(client: Client, path: str, body: dict[str, Any], method: str = "post") -> Any:
    return getattr(client, method)(f"/api/v1{path}", data=body, content_type="application/json")


def test_a_biller_records_another_practitioners_claim(
    world: PracticeWorld, api_client: Api
) -> None:
    client = api_client(world.user("biller"))
    path = f"/patients/{world.patient.pk}/other-claims"
    response = _post(
        client,
        path,
        {
            "practitioner": "Dr. Elsewhere",
            "code": "99454",
            "period_start_on": "2026-03-01",
            "period_end_on": "2026-03-30",
        },
    )
    assert response.status_code == 201, response.json()
    assert response.json()["id"] and response.json()["source"] == "entry"
    listed = client.get(f"/api/v1{path}").json()
    assert listed["count"] == 1
    assert AuditEvent.objects.filter(event="other_claim.recorded").count() == 1


def test_a_bad_claim_code_is_422_naming_the_field(world: PracticeWorld, api_client: Api) -> None:
    response = _post(
        api_client(world.user("biller")),
        f"/patients/{world.patient.pk}/other-claims",
        {
            "practitioner": "Dr. X",
            "code": "9A",
            "period_start_on": "2026-03-01",
            "period_end_on": "2026-03-30",
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "code"


def test_another_practices_patient_is_404(
    world: PracticeWorld, other_world: PracticeWorld, api_client: Api
) -> None:
    client = api_client(world.user("practitioner"))
    response = _post(
        client,
        f"/patients/{other_world.patient.pk}/setup-events",
        {"program": "RPM", "performed_on": "2026-03-02"},
    )
    assert response.status_code == 404
    assert client.get(f"/api/v1/patients/{other_world.patient.pk}/rating-scales").status_code == 404


def test_only_practitioners_record_mdm(world: PracticeWorld, api_client: Api) -> None:
    path = f"/patients/{world.patient.pk}/complex-ccm/2026-03"
    body = {"mdm": "moderate"}
    assert _post(api_client(world.user("coordinator")), path, body, "put").status_code == 403
    response = _post(api_client(world.user("practitioner")), path, body, "put")
    assert response.status_code == 200, response.json()
    assert response.json()["month"] == "2026-03"
    bad = _post(
        api_client(world.user("practitioner")),
        f"/patients/{world.patient.pk}/complex-ccm/2026-13",
        body,
        "put",
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "month"


def test_an_auditor_may_read_but_not_write(world: PracticeWorld, api_client: Api) -> None:
    client = api_client(world.user("auditor"))
    assert client.get("/api/v1/apcm-attestations").status_code == 200
    response = _post(client, "/apcm-attestations", {"effective_on": "2026-03-01"})
    assert response.status_code == 403


def test_cocm_episode_scales_elements_and_attestations_round_trip(
    world: PracticeWorld, api_client: Api
) -> None:
    client = api_client(world.user("practitioner"))
    pid = world.patient.pk
    episode = _post(
        client,
        f"/patients/{pid}/cocm-episodes",
        {"started_on": "2026-03-02", "psychiatric_consultant": "Dr. Psych"},
    )
    assert episode.status_code == 201, episode.json()
    ended = _post(
        client,
        f"/patients/{pid}/cocm-episodes/{episode.json()['id']}/end",
        {"ended_on": "2026-03-09"},
    )
    assert ended.status_code == 200 and ended.json()["ended_on"] == "2026-03-09"
    scale = _post(
        client,
        f"/patients/{pid}/rating-scales",
        {"instrument": "GAD-7", "administered_on": "2026-03-03", "score": 22},
    )
    assert scale.status_code == 422 and scale.json()["errors"][0]["field"] == "score"
    elements = _post(client, f"/patients/{pid}/bhi-elements/2026-03", {"continuity": True}, "put")
    assert elements.status_code == 200 and elements.json()["continuity"] is True
    attestation = _post(
        client,
        "/apcm-attestations",
        {"effective_on": "2026-03-01", "access_24_7": True, "practitioner_id": None},
    )
    assert attestation.status_code == 201 and attestation.json()["practitioner"] is None


def test_the_rtm_category_is_set_on_an_rtm_enrollment(
    world: PracticeWorld, api_client: Api
) -> None:
    rtm = enroll(world, world.patient, "RTM")
    client = api_client(world.user("coordinator"))
    path = f"/patients/{world.patient.pk}/enrollments/{rtm.pk}/rtm-category"
    response = _post(client, path, {"rtm_category": "musculoskeletal"}, "put")
    assert response.status_code == 200, response.json()
    assert response.json()["rtm_category"] == "musculoskeletal"
    bad = _post(client, path, {"rtm_category": "cardiac"}, "put")
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "rtm_category"

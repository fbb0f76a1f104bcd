"""The month-close API: who may close, approve and export; answers for bad and missing months."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from careledger.audit.models import AuditEvent
from careledger.billing.models import BillingLine, BillingMonth
from tests.billing.builders import complete_practice, rpm_patient
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db

TODAY = datetime(2026, 5, 6, 15, 0, tzinfo=UTC)
ROLES = ("coordinator", "practitioner", "manager", "biller", "auditor", "admin")
MAY = {
    "close": {"manager", "biller"},
    "approve": {"manager"},
    "export": {"manager", "biller"},
}


@pytest.fixture(autouse=True)
def _frozen() -> object:
    with time_machine.travel(TODAY, tick=False) as traveller:
        yield traveller


def _closed(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    complete_practice(world)
    rpm_patient(world, 22)
    assert api_client(world.user("biller")).post("/api/v1/months/2026-04/close").status_code == 200


@pytest.mark.parametrize("role", ROLES)
def test_only_managers_and_billers_may_close_a_month(
    world: PracticeWorld, api_client, role: str
) -> None:  # type: ignore[no-untyped-def]
    rpm_patient(world, 22)
    response = api_client(world.user(role)).post("/api/v1/months/2026-04/close")
    assert response.status_code == (200 if role in MAY["close"] else 403)


@pytest.mark.parametrize("role", ROLES)
def test_only_managers_may_approve_a_month(world: PracticeWorld, api_client, role: str) -> None:  # type: ignore[no-untyped-def]
    _closed(world, api_client)
    response = api_client(world.user(role)).post("/api/v1/months/2026-04/approve")
    assert response.status_code == (200 if role in MAY["approve"] else 403)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("export", ["billing.csv", "billing.json", "claims.837"])
def test_only_managers_and_billers_may_export(  # type: ignore[no-untyped-def]
    world: PracticeWorld, api_client, role: str, export: str
) -> None:
    _closed(world, api_client)
    response = api_client(world.user(role)).get(f"/api/v1/months/2026-04/{export}")
    assert response.status_code == (200 if role in MAY["export"] else 403)


def test_close_answers_with_the_stored_lines(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    rpm_patient(world, 22)
    response = api_client(world.user("biller")).post("/api/v1/months/2026-04/close")
    assert response.status_code == 200
    body = response.json()
    assert body["lines"] == 1 == BillingLine.objects.count()
    assert body["by_status"] == {"proposed": 1}


def test_a_background_close_is_refused_clearly(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    response = api_client(world.user("biller")).post("/api/v1/months/2026-04/close?async=1")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "async"
    assert not BillingMonth.objects.exists()


@pytest.mark.parametrize("month", ["2026-13", "april", "2026-4", "2026-06"])
def test_a_bad_or_future_month_is_a_validation_error(
    world: PracticeWorld, api_client, month: str
) -> None:  # type: ignore[no-untyped-def]
    response = api_client(world.user("biller")).post(f"/api/v1/months/{month}/close")
    assert response.status_code == 422


def test_exports_and_approval_of_a_month_never_closed_are_not_found(
    world: PracticeWorld, api_client
) -> None:  # type: ignore[no-untyped-def]
    client = api_client(world.user("manager"))
    assert client.get("/api/v1/months/2026-04/billing.csv").status_code == 404
    assert client.post("/api/v1/months/2026-04/approve").status_code == 404


def test_the_csv_export_is_a_draft_until_approval_then_final(
    world: PracticeWorld, api_client
) -> None:  # type: ignore[no-untyped-def]
    _closed(world, api_client)
    client = api_client(world.user("manager"))
    draft = client.get("/api/v1/months/2026-04/billing.csv")
    assert draft["Content-Type"].startswith("text/csv")
    assert draft.content.startswith(b"patient_id,mrn,")
    assert b",proposed," in draft.content
    claims = client.get("/api/v1/months/2026-04/claims.837")
    assert claims.content.startswith(b"ISA*")
    assert claims.content.split(b"*")[15] == b"T"
    approved = client.post("/api/v1/months/2026-04/approve")
    assert approved.json()["locked"] is True
    final = client.get("/api/v1/months/2026-04/billing.csv")
    assert b",approved," in final.content
    assert client.get("/api/v1/months/2026-04/claims.837").content.split(b"*")[15] == b"P"
    assert client.post("/api/v1/months/2026-04/approve").status_code == 409
    assert client.post("/api/v1/months/2026-04/close").status_code == 409
    assert AuditEvent.objects.filter(event="export.csv").count() == 2


def test_a_manager_holds_a_line_and_a_re_close_keeps_it(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    _closed(world, api_client)
    client = api_client(world.user("manager"))
    line = client.get("/api/v1/months/2026-04/lines").json()["items"][0]
    held = client.post(
        f"/api/v1/months/2026-04/lines/{line['id']}/decision",
        data={"action": "hold", "reason": "Check the chart"},
        content_type="application/json",
    )
    assert held.status_code == 200
    assert client.post("/api/v1/months/2026-04/close").status_code == 200
    again = client.get("/api/v1/months/2026-04/lines?status=held").json()
    assert [i["id"] for i in again["items"]] == [line["id"]]


def test_another_practices_month_is_not_found(
    world: PracticeWorld, other_world: PracticeWorld, api_client
) -> None:  # type: ignore[no-untyped-def]
    _closed(world, api_client)
    client = api_client(other_world.user("manager"))
    assert client.get("/api/v1/months/2026-04/billing.csv").status_code == 404

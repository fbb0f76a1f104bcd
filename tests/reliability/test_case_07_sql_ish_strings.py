"""Case 7: SQL-ish strings in search, filter and ``order_by`` parameters.

Pass: treated as literals or refused with 4xx; sort fields are whitelisted; never a 5xx.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from careledger.audit.models import AuditEvent
from careledger.patients.models import Patient
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db

HOSTILE = [
    "' OR '1'='1",
    "1; DROP TABLE patients_patient; --",
    '" OR ""="',
    "1 UNION SELECT password FROM accounts_user --",
    "%' --",
    "\\'; SELECT pg_sleep(5); --",
    "-id",
    "actor__password",
    "id,(SELECT 1)",
    "\x00",
    "%",
    "_",
]

# Where user text reaches a query: (path, parameter).
API_PARAMS = [
    ("/api/v1/patients", "search"),
    ("/api/v1/patients", "program"),
    ("/api/v1/patients", "status"),
    ("/api/v1/audit-events", "ordering"),
    ("/api/v1/audit-events", "event"),
    ("/api/v1/audit-events", "user"),
    ("/api/v1/audit-events", "since"),
    ("/api/v1/audit-events", "patient_id"),
    ("/api/v1/time-entries", "patient_id"),
    ("/api/v1/alerts", "status"),
    ("/api/v1/alerts", "patient_id"),
    ("/api/v1/dashboard", "month"),
    ("/api/v1/dashboard", "coordinator_id"),
    ("/api/v1/worklists/pre-close", "month"),
]
PAGE_PARAMS = [
    ("/patients/", "search"),
    ("/patients/", "q"),
    ("/patients/", "program"),
    ("/audit/", "sort"),
    ("/audit/", "event"),
    ("/audit/", "user"),
    ("/audit/", "since"),
    ("/worklists/dashboard/", "sort"),
    ("/worklists/dashboard/", "dir"),
    ("/worklists/dashboard/", "coordinator"),
    ("/worklists/dashboard/", "program"),
    ("/worklists/pre-close/", "sort"),
    ("/worklists/pre-close/", "month"),
    ("/devices/alerts/", "status"),
    ("/care-plans/", "sort"),
    ("/billing/", "month"),
]


def _patients(world: PracticeWorld) -> None:
    for n, family in enumerate(("Alpha", "Bravo", "O'Brien")):
        Patient.objects.create(
            practice=world.practice,
            mrn=f"SQ{n}",
            given_name="Test",
            family_name=family,
            birth_date="1950-01-01",
            sex="female",
            created_at=world.patient.created_at,
        )


@pytest.mark.parametrize(("path", "param"), API_PARAMS)
def test_api_parameters_never_give_a_5xx(
    world: PracticeWorld,
    api_client,
    path: str,
    param: str,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = api_client(world.user("admin"))
    for value in HOSTILE:
        response = client.get(path, {param: value})
        assert response.status_code in (200, 400, 404, 422), (param, value, response.status_code)


@pytest.mark.parametrize(("path", "param"), PAGE_PARAMS)
def test_page_parameters_never_give_a_5xx(
    world: PracticeWorld,
    login,
    path: str,
    param: str,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = login(world, "admin")
    for value in HOSTILE:
        response = client.get(path, {param: value})
        assert response.status_code in (200, 302, 400, 404, 422), (param, value)


def test_search_text_is_a_literal_not_a_predicate(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    _patients(world)
    client: Client = api_client(world.user("coordinator"))
    everyone = client.get("/api/v1/patients").json()["count"]
    assert everyone == 4
    for value in ("' OR '1'='1", "%", "_", '" OR ""="'):
        assert client.get("/api/v1/patients", {"search": value}).json()["count"] == 0, value
    # A quote in a real name is found as written.
    found = client.get("/api/v1/patients", {"search": "O'Brien"}).json()
    assert [item["family_name"] for item in found["items"]] == ["O'Brien"]
    assert Patient.objects.count() == 4  # nothing dropped


@pytest.mark.parametrize(
    "ordering", ["actor__password", "details", "-actor__password", "id; DROP TABLE x", "?"]
)
def test_audit_ordering_is_whitelisted_with_a_422_naming_the_field(
    world: PracticeWorld,
    api_client,
    ordering: str,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = api_client(world.user("auditor"))
    response = client.get("/api/v1/audit-events", {"ordering": ordering})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "ordering"


def test_every_whitelisted_audit_ordering_works_both_ways(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    from careledger.audit.selectors import ORDERINGS

    client: Client = api_client(world.user("auditor"))
    client.get(f"/api/v1/patients/{world.patient.pk}")
    for field in ORDERINGS:
        for ordering in (field, f"-{field}"):
            response = client.get("/api/v1/audit-events", {"ordering": ordering})
            assert response.status_code == 200, ordering


def test_page_sort_keys_outside_the_whitelist_fall_back_to_the_default(
    world: PracticeWorld,
    login,  # type: ignore[no-untyped-def]
) -> None:
    client: Client = login(world, "admin")
    before = AuditEvent.objects.count()
    response: Any = client.get("/audit/", {"sort": "actor__password"})
    assert response.status_code in (200, 400, 422)
    assert b"Traceback" not in response.content
    assert AuditEvent.objects.count() >= before

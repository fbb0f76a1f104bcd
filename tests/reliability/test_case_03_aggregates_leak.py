"""Case 3: two practices hold a patient with the same name and MRN.

Pass: dashboards, worklists, minute totals and exports of practice A contain only A's rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from careledger.billing.close import close_month
from careledger.patients.models import Patient, Visit
from tests.billing.builders import MONTH, NOW, rpm_patient
from tests.conftest import PracticeWorld
from tests.factories import ConditionFactory, EnrollmentFactory, log_minutes

pytestmark = pytest.mark.django_db

APRIL_6 = datetime(2026, 4, 6, 15, 0, tzinfo=UTC)
A_MINUTES, B_MINUTES = 12, 33


@pytest.fixture(autouse=True)
def _april_26() -> Iterator[None]:
    with time_machine.travel(datetime(2026, 4, 26, 17, 0, tzinfo=UTC), tick=False):
        yield


def _enroll(world: PracticeWorld, minutes: int) -> Patient:
    """Enroll the world's "Mae Samename, A1000" in CCM and log ``minutes`` in April."""
    patient = world.patient
    enrollment = EnrollmentFactory(
        patient=patient, program="CCM", billing_practitioner=world.user("practitioner")
    )
    Visit.objects.create(
        patient=patient,
        practitioner=world.user("practitioner"),
        visited_on=date(2026, 1, 5),
        kind="em",
        em_level=3,
        created_at=APRIL_6,
    )
    ConditionFactory(patient=patient, icd10_code="I10", created_at=APRIL_6 - timedelta(days=400))
    ConditionFactory(patient=patient, icd10_code="E11.9", created_at=APRIL_6 - timedelta(days=400))
    log_minutes(enrollment, minutes, start=APRIL_6, staff=world.user("coordinator"))
    return patient


@pytest.fixture
def twins(world: PracticeWorld, other_world: PracticeWorld) -> tuple[Patient, Patient]:
    a, b = _enroll(world, A_MINUTES), _enroll(other_world, B_MINUTES)
    assert (a.given_name, a.family_name, a.mrn) == (b.given_name, b.family_name, b.mrn)
    return a, b


def _csv_ids(body: bytes, column: str = "patient_id") -> set[str]:
    return {row[column] for row in csv.DictReader(io.StringIO(body.decode("utf-8")))}


def _body(response) -> bytes:  # type: ignore[no-untyped-def]
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_pages_show_only_a_rows_and_a_minutes(
    world: PracticeWorld,
    twins: tuple[Patient, Patient],
    login,  # type: ignore[no-untyped-def]
) -> None:
    a, b = twins
    client: Client = login(world, "manager")
    dashboard = client.get("/worklists/dashboard/")
    assert dashboard.status_code == 200
    assert {d.row.patient_id for d in dashboard.context["rows"]} == {a.pk}
    assert dashboard.context["totals"]["minutes"] == A_MINUTES
    patients = client.get("/patients/", {"search": "Samename"})
    assert f"/patients/{a.pk}/".encode() in patients.content
    assert f"/patients/{b.pk}/".encode() not in patients.content
    worklist = client.get("/worklists/pre-close/")
    assert worklist.status_code == 200
    assert f"/patients/{b.pk}/".encode() not in worklist.content
    export = client.get("/worklists/pre-close/export.csv")
    assert export.status_code == 200
    assert _csv_ids(_body(export)) <= {str(a.pk)}
    analytics = client.get("/worklists/analytics/capture.csv")
    assert analytics.status_code == 200
    rows = list(csv.DictReader(io.StringIO(_body(analytics).decode("utf-8"))))
    assert rows
    own_coordinators = {"", str(world.user("coordinator").pk)}
    assert {row["coordinator_id"] for row in rows} <= own_coordinators
    assert max(int(row["enrolled_patients"] or 0) for row in rows) == 1


def test_api_lists_and_totals_hold_only_a_rows(
    world: PracticeWorld,
    twins: tuple[Patient, Patient],
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    a, b = twins
    client: Client = api_client(world.user("manager"))
    listed = client.get("/api/v1/patients").json()
    assert {item["id"] for item in listed["items"]} == {a.pk}
    dashboard = client.get("/api/v1/dashboard", {"month": "2026-04"}).json()
    assert {row["patient_id"] for row in dashboard["items"]} == {a.pk}
    assert sum(row["minutes"] for row in dashboard["items"]) == A_MINUTES
    assert dashboard["totals"]["minutes"] == A_MINUTES
    worklist = client.get("/api/v1/worklists/pre-close", {"month": "2026-04"}).json()
    assert {item["patient_id"] for item in worklist["items"]} <= {a.pk}
    assert b.pk not in {item["patient_id"] for item in worklist["items"]}
    month = client.get(f"/api/v1/patients/{a.pk}/months/2026-04").json()
    assert month["programs"]["CCM"]["minutes"] == A_MINUTES


def test_billing_exports_of_a_hold_only_a_lines(
    world: PracticeWorld,
    other_world: PracticeWorld,
    api_client,  # type: ignore[no-untyped-def]
) -> None:
    twin = {"given_name": "Rex", "family_name": "Twinning", "mrn": "T2000"}
    a, b = rpm_patient(world, 22, **twin), rpm_patient(other_world, 45, **twin)
    for w in (world, other_world):
        close_month(practice=w.practice, month=MONTH, actor=None, now=NOW)
    client: Client = api_client(world.user("manager"))
    body = _body(client.get("/api/v1/months/2026-04/billing.csv"))
    assert _csv_ids(body) == {str(a.pk)}
    # 45 minutes earn 99458 too: only B's twin has it.
    assert b"99458" not in body
    document = client.get("/api/v1/months/2026-04/billing.json").json()
    assert {item["patient_id"] for item in document["items"]} == {a.pk}
    assert b.pk not in {item["patient_id"] for item in document["review_list"]}
    lines = client.get("/api/v1/months/2026-04/lines").json()
    assert {line["patient_id"] for line in lines["items"]} == {a.pk}

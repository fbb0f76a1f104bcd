"""The pre-close worklist and dashboard rows: band edges, the engine's numbers, constant queries."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careledger.billing.facts import evaluate_patient_month
from careledger.billing.months import parse_month
from careledger.patients.models import Visit
from careledger.worklists.selectors import panel_rows, pre_close_worklist
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory, PatientFactory, log_minutes

pytestmark = pytest.mark.django_db

MONTH = parse_month("2026-04", "America/Chicago")
AS_OF = date(2026, 4, 26)
START = datetime(2026, 4, 6, 15, 0, tzinfo=UTC)


def _patient(world: PracticeWorld, program: str, minutes: int, n: int = 0):  # type: ignore[no-untyped-def]
    patient = PatientFactory(practice=world.practice, coordinator=world.user("coordinator"))
    enrollment = EnrollmentFactory(
        patient=patient, program=program, billing_practitioner=world.user("practitioner")
    )
    Visit.objects.create(
        patient=patient,
        practitioner=world.user("practitioner"),
        visited_on=date(2026, 1, 5),
        kind="em",
        em_level=3,
        created_at=START,
    )
    if minutes:
        log_minutes(enrollment, minutes, start=START + timedelta(hours=n))
    return patient


def _listed(world: PracticeWorld) -> dict[int, tuple[str | None, int | None]]:
    items = pre_close_worklist(practice=world.practice, month=MONTH, as_of=AS_OF)
    return {
        i.row.patient_id: (i.next_code, i.row.minutes_needed)
        for i in items
        if i.reason == "minutes"
    }


@pytest.mark.parametrize(
    ("program", "minutes", "expected"),
    [
        ("CCM", 14, None),
        ("CCM", 15, ("99490", 5)),
        ("CCM", 19, ("99490", 1)),
        ("CCM", 20, None),
        ("CCM", 34, None),
        ("CCM", 35, ("99439", 5)),
        ("CCM", 39, ("99439", 1)),
        ("CCM", 40, None),
        ("RPM", 4, None),
        ("RPM", 5, ("99470", 5)),
        ("RPM", 9, ("99470", 1)),
        ("RPM", 10, None),
        ("RPM", 14, None),
        ("RPM", 15, ("99457", 5)),
        ("RPM", 19, ("99457", 1)),
        ("RPM", 20, None),
        ("RPM", 35, ("99458", 5)),
        ("RPM", 40, None),
        ("PCM", 24, None),
        ("PCM", 25, ("99426", 5)),
        ("PCM", 29, ("99426", 1)),
        ("PCM", 55, ("99427", 5)),
        ("PCM", 60, None),
    ],
)
def test_the_worklist_band_edges(
    world: PracticeWorld, program: str, minutes: int, expected: tuple[str, int] | None
) -> None:
    patient = _patient(world, program, minutes)
    assert _listed(world).get(patient.pk) == expected


def test_rows_equal_the_engines_decision_for_the_same_facts(world: PracticeWorld) -> None:
    patients = [
        _patient(world, program, m, n)
        for n, (program, m) in enumerate([("RPM", 22), ("RPM", 12), ("CCM", 25), ("PCM", 31)])
    ]
    rows = {
        (r.patient_id, r.program): r
        for r in panel_rows(practice=world.practice, month=MONTH, as_of=AS_OF)
    }
    for patient in patients:
        view = evaluate_patient_month(patient=patient, month=MONTH, as_of=AS_OF)
        for program, summary in view.programs.items():
            row = rows[(patient.pk, program)]
            assert row.minutes == summary["minutes"]
            assert row.codes == tuple(
                line["code"] for line in view.lines if line["program"] == program
            )
            next_threshold = summary.get("next_threshold") or {}
            assert row.next_code == next_threshold.get("code")


def test_value_at_stake_is_the_difference_when_99457_replaces_99470(world: PracticeWorld) -> None:
    patient = _patient(world, "RPM", 16)
    item = next(
        i
        for i in pre_close_worklist(practice=world.practice, month=MONTH, as_of=AS_OF)
        if i.row.patient_id == patient.pk
    )
    assert item.row.codes == ("99470",)
    assert item.value_at_stake == Decimal("26.00")  # 99457 52.00 - 99470 26.00 (RPM-18)
    assert item.value_per_minute == Decimal("6.50")


def test_a_month_already_over_is_not_reachable(world: PracticeWorld) -> None:
    _patient(world, "RPM", 18)
    items = pre_close_worklist(practice=world.practice, month=MONTH, as_of=date(2026, 5, 2))
    assert items and not any(i.reachable for i in items)


def test_another_practices_patients_never_appear(world: PracticeWorld, other_world) -> None:  # type: ignore[no-untyped-def]
    _patient(other_world, "RPM", 17)
    assert pre_close_worklist(practice=world.practice, month=MONTH, as_of=AS_OF) == []


def _count_queries(world: PracticeWorld) -> int:
    with CaptureQueriesContext(connection) as captured:
        pre_close_worklist(practice=world.practice, month=MONTH, as_of=AS_OF)
    return len(captured.captured_queries)


def test_the_query_count_is_the_same_for_10_and_200_patients(world: PracticeWorld) -> None:
    for n in range(10):
        _patient(world, "RPM", 5 + n % 15, n)
    small = _count_queries(world)
    for n in range(10, 200):
        _patient(world, "CCM" if n % 2 else "RPM", 5 + n % 30, n)
    assert _count_queries(world) == small


@time_machine.travel(datetime(2026, 4, 26, 17, 0, tzinfo=UTC), tick=False)
def test_the_api_lists_items_with_the_documented_fields(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    patient = _patient(world, "RPM", 16)
    body = (
        api_client(world.user("coordinator"))
        .get("/api/v1/worklists/pre-close?month=2026-04")
        .json()
    )
    assert body["open"] is True and body["opens_on"] == "2026-04-23"
    item = body["items"][0]
    assert item["patient_id"] == patient.pk
    assert {
        "patient_id",
        "program",
        "minutes",
        "next_code",
        "minutes_needed",
        "reachable",
        "value_at_stake",
    } <= set(item)
    assert (item["next_code"], item["minutes_needed"], item["reachable"]) == ("99457", 4, True)
    month = (
        api_client(world.user("coordinator"))
        .get(f"/api/v1/patients/{patient.pk}/months/2026-04?as_of=2026-04-26")
        .json()
    )
    assert month["programs"]["RPM"]["minutes"] == item["minutes"]


def test_the_dashboard_api_totals_the_rows(world: PracticeWorld, api_client) -> None:  # type: ignore[no-untyped-def]
    _patient(world, "RPM", 22)
    _patient(world, "RPM", 12, 1)
    body = (
        api_client(world.user("manager"))
        .get("/api/v1/dashboard?month=2026-04&as_of=2026-04-26")
        .json()
    )
    assert body["count"] == 2
    assert body["totals"]["minutes"] == 34
    assert body["totals"]["codes"] == {"99457": 1, "99470": 1}

"""The one facts builder: a constant number of queries, the same answer as one patient at a time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from careledger.billing.facts import build_month_facts, evaluate_patient_month
from careledger.billing.months import parse_month
from careledger.timelog.models import TimeEntry
from tests.conftest import PracticeWorld
from tests.factories import ConditionFactory, EnrollmentFactory, PatientFactory

pytestmark = pytest.mark.django_db

MONTH = parse_month("2026-04", "America/Chicago")


def _panel(world: PracticeWorld, size: int) -> None:
    practitioner = world.user("practitioner")
    coordinator = world.members["coordinator"]
    for n in range(size):
        patient = PatientFactory(practice=world.practice, coordinator=coordinator.user)
        ConditionFactory(patient=patient)
        for program in ("CCM", "RPM"):
            enrollment = EnrollmentFactory(
                patient=patient, program=program, billing_practitioner=practitioner
            )
            start = datetime(2026, 4, 6, 14, 0, tzinfo=UTC) + timedelta(hours=n % 50, days=n // 50)
            TimeEntry.objects.create(
                practice=world.practice,
                patient=patient,
                enrollment=enrollment,
                program=program,
                staff=coordinator.user,
                credential="RN",
                rule_class="clinical_staff",
                started_at=start,
                ended_at=start + timedelta(minutes=12),
                seconds=720,
                kind="interactive_call",
                outcome="reached",
                source="manual",
                interactive=True,
                countable=True,
                created_by=coordinator.user,
                created_at=start,
                updated_at=start,
            )


def _queries(world: PracticeWorld) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        built = build_month_facts(practice=world.practice, month=MONTH)
    return len(captured.captured_queries), len(built)


def test_the_query_count_does_not_grow_with_the_panel(world: PracticeWorld) -> None:
    _panel(world, 10)
    small_queries, small = _queries(world)
    _panel(world, 190)
    large_queries, large = _queries(world)
    assert (small, large) == (10, 200)
    assert small_queries == large_queries <= 14


def test_the_bulk_builder_agrees_with_one_patient_at_a_time(world: PracticeWorld) -> None:
    _panel(world, 5)
    everyone = build_month_facts(practice=world.practice, month=MONTH)
    for patient_id, built in everyone.items():
        single = build_month_facts(practice=world.practice, month=MONTH, patient_ids=[patient_id])
        assert [b.facts for b in single[patient_id]] == [b.facts for b in built]


def test_a_patient_without_enrollments_in_the_month_has_no_programs(world: PracticeWorld) -> None:
    view = evaluate_patient_month(patient=world.patient, month=MONTH, as_of=date(2026, 4, 30))
    assert view.programs == {}
    assert view.lines == []

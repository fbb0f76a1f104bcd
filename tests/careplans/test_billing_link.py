"""CCM-8 and the engine: a month without a current shared plan shows MISSING_CARE_PLAN."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from careledger.billing.facts import build_month_facts, evaluate_patient_month
from careledger.billing.months import parse_month
from careledger.careplans import services
from careledger.careplans.models import CarePlan
from careledger.patients.models import Visit
from tests.careplans.conftest import NOW, publish_signed
from tests.conftest import PracticeWorld
from tests.factories import EnrollmentFactory, log_minutes

pytestmark = pytest.mark.django_db

MARCH = parse_month("2026-03", "America/Chicago")


@pytest.fixture
def ccm(world: PracticeWorld) -> PracticeWorld:
    enrollment = EnrollmentFactory(
        patient=world.patient, program="CCM", billing_practitioner=world.user("practitioner")
    )
    Visit.objects.create(
        patient=world.patient,
        practitioner=world.user("practitioner"),
        visited_on=date(2026, 1, 5),
        kind="awv",
        created_at=NOW,
    )
    log_minutes(enrollment, 25, start=datetime(2026, 3, 3, 15, 0, tzinfo=UTC))
    return world


def _month(world: PracticeWorld) -> tuple[set[str], set[str]]:
    view = evaluate_patient_month(patient=world.patient, month=MARCH, as_of=date(2026, 3, 31))
    return {line["code"] for line in view.lines}, {flag["code"] for flag in view.flags}


def test_a_month_without_a_plan_shows_missing_care_plan_and_bills_nothing(ccm) -> None:  # type: ignore[no-untyped-def]
    codes, flags = _month(ccm)
    assert "MISSING_CARE_PLAN" in flags
    assert codes == set()


def test_a_published_but_unshared_plan_is_still_missing(ccm, plan: CarePlan) -> None:  # type: ignore[no-untyped-def]
    publish_signed(ccm, plan, NOW)
    assert "MISSING_CARE_PLAN" in _month(ccm)[1]


def test_a_current_shared_plan_lets_the_month_bill(ccm, plan: CarePlan) -> None:  # type: ignore[no-untyped-def]
    version = publish_signed(ccm, plan, NOW)
    services.record_sharing(
        ctx=ccm.ctx(), version=version, shared_on=date(2026, 3, 10), channel="print", now=NOW
    )
    codes, flags = _month(ccm)
    assert "MISSING_CARE_PLAN" not in flags
    assert codes == {"99490"}
    built = build_month_facts(practice=ccm.practice, month=MARCH)[ccm.patient.pk][0]
    assert built.facts.comprehensive_care_plan is True
    assert built.facts.disease_specific_care_plan is False

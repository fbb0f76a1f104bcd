"""The review clock and the billing fact: current, shared, due, overdue, significant change."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import time_machine

from careledger.careplans import services
from careledger.careplans.models import CarePlan
from careledger.careplans.review import State
from careledger.careplans.selectors import care_plan_fact, panel_context, review_of, worklist
from careledger.patients.models import Condition
from tests.careplans.conftest import NOW, complete_content, publish_signed
from tests.conftest import PracticeWorld
from tests.factories import ConditionFactory, EnrollmentFactory

pytestmark = pytest.mark.django_db

PUBLISHED_ON = date(2026, 3, 10)


def _published_and_shared(world: PracticeWorld, plan: CarePlan) -> None:
    version = publish_signed(world, plan, NOW)
    services.record_sharing(
        ctx=world.ctx(), version=version, shared_on=PUBLISHED_ON, channel="print", now=NOW
    )


def test_no_plan_is_missing_and_gives_no_billing_fact(world: PracticeWorld) -> None:
    assert care_plan_fact(world.patient, "CCM", PUBLISHED_ON) is False


def test_a_published_plan_not_given_to_the_patient_is_unshared(
    world: PracticeWorld, plan: CarePlan
) -> None:
    publish_signed(world, plan, NOW)
    assert review_of(plan, PUBLISHED_ON).state == State.UNSHARED
    assert care_plan_fact(world.patient, "CCM", date(2026, 3, 31)) is False


def test_an_unsigned_version_does_not_count(world: PracticeWorld, plan: CarePlan) -> None:
    services.publish_version(
        ctx=world.ctx(), plan=plan, expected_revision=plan.revision, revision_reason="", now=NOW
    )
    assert review_of(plan, PUBLISHED_ON).state == State.MISSING


def test_a_shared_plan_is_current_for_twelve_months_then_overdue(
    world: PracticeWorld, plan: CarePlan
) -> None:
    _published_and_shared(world, plan)
    assert review_of(plan, date(2026, 3, 31)).state == State.CURRENT
    assert review_of(plan, date(2027, 2, 7)).state == State.CURRENT
    due_soon = review_of(plan, date(2027, 2, 8))
    assert due_soon.state == State.DUE_SOON and due_soon.due_on == date(2027, 3, 10)
    assert review_of(plan, date(2027, 3, 9)).current
    assert review_of(plan, date(2027, 3, 10)).state == State.OVERDUE


def test_the_fact_holds_only_from_the_day_it_was_shared(
    world: PracticeWorld, plan: CarePlan
) -> None:
    _published_and_shared(world, plan)
    assert care_plan_fact(world.patient, "CCM", date(2026, 2, 28)) is False
    assert care_plan_fact(world.patient, "CCM", date(2026, 3, 31)) is True
    assert care_plan_fact(world.patient, "APCM", date(2026, 3, 31)) is True


def test_pcm_needs_a_disease_specific_plan(world: PracticeWorld, plan: CarePlan) -> None:
    _published_and_shared(world, plan)
    assert care_plan_fact(world.patient, "PCM", date(2026, 3, 31)) is False
    with pytest.raises(ValueError):
        care_plan_fact(world.patient, "RPM", date(2026, 3, 31))


def test_a_disease_specific_plan_satisfies_pcm(
    world: PracticeWorld, conditions: list[Condition]
) -> None:
    plan = services.start_plan(
        ctx=world.ctx(), patient=world.patient, kind="disease_specific", now=NOW
    )
    services.save_draft(
        ctx=world.ctx(),
        plan=plan,
        expected_revision=1,
        content=complete_content(conditions[:1]),
        now=NOW,
    )
    _published_and_shared(world, plan)
    assert care_plan_fact(world.patient, "PCM", date(2026, 3, 31)) is True
    assert care_plan_fact(world.patient, "CCM", date(2026, 3, 31)) is False


def test_a_new_chronic_condition_after_publication_needs_a_review(
    world: PracticeWorld, plan: CarePlan
) -> None:
    _published_and_shared(world, plan)
    ConditionFactory(
        patient=world.patient,
        icd10_code="J44.9",
        description="COPD",
        created_at=datetime(2026, 4, 2, 15, 0, tzinfo=UTC),
    )
    ConditionFactory(
        patient=world.patient,
        icd10_code="J06.9",
        description="Cold",
        chronic=False,
        created_at=datetime(2026, 4, 2, 15, 0, tzinfo=UTC),
    )
    assert review_of(plan, date(2026, 3, 31)).current
    changed = review_of(plan, date(2026, 4, 30))
    assert changed.state == State.CHANGED
    assert changed.reasons == ("New chronic condition J44.9",)
    assert care_plan_fact(world.patient, "CCM", date(2026, 4, 30)) is False


def test_a_hospital_stay_after_publication_needs_a_review(
    world: PracticeWorld, plan: CarePlan
) -> None:
    _published_and_shared(world, plan)
    later = datetime(2026, 5, 4, 15, 0, tzinfo=UTC)
    services.record_acute_event(
        ctx=world.ctx(),
        patient=world.patient,
        kind="hospitalization",
        occurred_on=date(2026, 5, 1),
        now=later,
    )
    assert review_of(plan, date(2026, 4, 30)).current
    status = review_of(plan, date(2026, 5, 31))
    assert status.state == State.CHANGED
    assert status.reasons == ("Hospital stay on 2026-05-01",)


def test_a_goal_target_changed_in_a_newer_draft_needs_a_review(
    world: PracticeWorld, plan: CarePlan, conditions: list[Condition]
) -> None:
    _published_and_shared(world, plan)
    plan.refresh_from_db()
    edited = complete_content(conditions)
    edited["elements"]["symptom_management"] = {"text": "Reworded, same goals."}
    services.save_draft(
        ctx=world.ctx(),
        plan=plan,
        expected_revision=plan.revision,
        content=edited,
        now=datetime(2026, 4, 1, 15, 0, tzinfo=UTC),
    )
    assert review_of(plan, date(2026, 4, 30)).current
    edited["goals"][0]["target"] = "below 130/80"
    services.save_draft(
        ctx=world.ctx(),
        plan=plan,
        expected_revision=plan.revision,
        content=edited,
        now=datetime(2026, 5, 6, 15, 0, tzinfo=UTC),
    )
    # As of April the newer draft did not exist yet; from May on it does.
    assert review_of(plan, date(2026, 4, 30)).current
    status = review_of(plan, date(2026, 5, 31))
    assert status.state == State.CHANGED
    assert status.reasons == ("Goal target changed: home blood pressure",)


def test_republishing_after_a_change_makes_the_plan_current_again(
    world: PracticeWorld, plan: CarePlan
) -> None:
    _published_and_shared(world, plan)
    services.record_acute_event(
        ctx=world.ctx(),
        patient=world.patient,
        kind="ed_visit",
        occurred_on=date(2026, 5, 1),
        now=datetime(2026, 5, 2, 15, 0, tzinfo=UTC),
    )
    after = datetime(2026, 5, 5, 15, 0, tzinfo=UTC)
    version = publish_signed(world, plan, after, reason="Reviewed after ED visit.")
    assert review_of(plan, date(2026, 5, 5)).state == State.UNSHARED
    services.record_sharing(
        ctx=world.ctx(), version=version, shared_on=date(2026, 5, 5), channel="mail", now=after
    )
    assert review_of(plan, date(2026, 5, 31)).state == State.CURRENT


@time_machine.travel(datetime(2027, 2, 20, 15, 0, tzinfo=UTC), tick=False)
def test_the_worklist_lists_missing_unshared_and_due_plans_today(
    world: PracticeWorld, plan: CarePlan
) -> None:
    from django.utils import timezone

    from tests.factories import PatientFactory

    _published_and_shared(world, plan)
    EnrollmentFactory(patient=world.patient, billing_practitioner=world.user("practitioner"))
    no_plan = PatientFactory(practice=world.practice, family_name="Noplan")
    EnrollmentFactory(patient=no_plan, billing_practitioner=world.user("practitioner"))
    not_enrolled = PatientFactory(practice=world.practice, family_name="Notenrolled")
    today = timezone.localdate(timezone.now())
    rows = worklist(world.practice, today)
    states = {(r.patient.pk, r.summary.status.state) for r in rows}
    assert states == {(no_plan.pk, State.MISSING), (world.patient.pk, State.DUE_SOON)}
    assert not_enrolled.pk not in {r.patient.pk for r in rows}
    assert [r.patient.pk for r in worklist(world.practice, today, State.MISSING)] == [no_plan.pk]
    panel = panel_context(world.patient, today)["care_plan_panel"]
    assert [s.status.state for s in panel["plans"]] == [State.DUE_SOON]

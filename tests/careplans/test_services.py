"""Writing care plans: templates, drafts and conflicts, publication, sign-off and sharing."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from careledger.audit.models import AuditEvent
from careledger.careplans import services
from careledger.careplans.content import ELEMENTS
from careledger.careplans.models import (
    CarePlan,
    CarePlanVersion,
    DraftRevision,
    ImmutableError,
    MonitoringThreshold,
    Sharing,
)
from careledger.patients.models import Condition
from tests.careplans.conftest import LONG_AGO, NOW, complete_content, publish_signed
from tests.conftest import PracticeWorld
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def _events(name: str) -> int:
    return AuditEvent.objects.filter(event=name).count()


def test_the_hypertension_template_prefills_problems_goals_thresholds_and_interventions(
    world: PracticeWorld, conditions: list[Condition]
) -> None:
    plan = services.start_plan(
        ctx=world.ctx("practitioner"),
        patient=world.patient,
        kind="comprehensive",
        template="hypertension",
        now=NOW,
    )
    draft = plan.draft
    assert [p["condition_id"] for p in draft["problems"]] == [conditions[0].pk]  # I10 only
    bp = draft["goals"][0]
    assert bp["what"] == "Home blood pressure"
    assert {(t["metric"], t["warning"]) for t in bp["thresholds"]} == {
        ("systolic", 135),
        ("diastolic", 85),
    }
    assert all(i["responsible"] for i in draft["interventions"])
    assert draft["elements"]["caregiver_assessment"]["text"] == ""
    assert _events("careplan.started") == 1
    assert DraftRevision.objects.filter(plan=plan).count() == 1


def test_a_second_template_adds_its_goals_and_keeps_what_is_there(
    world: PracticeWorld, conditions: list[Condition]
) -> None:
    plan = services.start_plan(
        ctx=world.ctx(),
        patient=world.patient,
        kind="comprehensive",
        template="hypertension",
        now=NOW,
    )
    plan = services.apply_template(
        ctx=world.ctx(), plan=plan, template="type2_diabetes", expected_revision=1, now=NOW
    )
    keys = [g["key"] for g in plan.draft["goals"]]
    assert keys == ["home-bp", "sodium", "a1c", "fasting-glucose"]
    assert len(plan.draft["problems"]) == 2
    assert plan.revision == 2


def test_one_plan_per_kind(world: PracticeWorld, plan: CarePlan) -> None:
    with pytest.raises(ValidationError) as exc:
        services.start_plan(ctx=world.ctx(), patient=world.patient, kind="comprehensive", now=NOW)
    assert "kind" in exc.value.message_dict
    other = services.start_plan(
        ctx=world.ctx(), patient=world.patient, kind="disease_specific", now=NOW
    )
    assert other.kind == "disease_specific"


def test_a_second_save_of_a_stale_draft_is_refused_and_nothing_is_lost(
    world: PracticeWorld, plan: CarePlan, conditions: list[Condition]
) -> None:
    revision = plan.revision
    mine = complete_content(conditions)
    mine["elements"]["symptom_management"] = {"text": "Rosa's edit."}
    theirs = complete_content(conditions)
    theirs["elements"]["symptom_management"] = {"text": "Daniel's edit."}
    first = CarePlan.objects.get(pk=plan.pk)
    second = CarePlan.objects.get(pk=plan.pk)
    services.save_draft(
        ctx=world.ctx("practitioner"),
        plan=first,
        expected_revision=revision,
        content=theirs,
        now=NOW,
    )
    with pytest.raises(services.DraftConflict) as exc:
        services.save_draft(
            ctx=world.ctx("coordinator"),
            plan=second,
            expected_revision=revision,
            content=mine,
            now=NOW,
        )
    conflict = exc.value
    assert conflict.current_revision == revision + 1
    assert "was saved by" in conflict.message and "not saved" in conflict.message
    stored = CarePlan.objects.get(pk=plan.pk)
    assert stored.draft["elements"]["symptom_management"]["text"] == "Daniel's edit."
    assert stored.revision == revision + 1
    assert _events("careplan.draft_conflict") == 1
    # Saving again from the revision the conflict reported succeeds.
    services.save_draft(
        ctx=world.ctx("coordinator"),
        plan=stored,
        expected_revision=conflict.current_revision,
        content=mine,
        now=NOW,
    )
    assert DraftRevision.objects.filter(plan=plan).count() == revision + 2


def test_a_draft_with_an_impossible_threshold_is_refused_with_the_field(
    world: PracticeWorld, plan: CarePlan, conditions: list[Condition]
) -> None:
    content = complete_content(conditions)
    content["goals"][0]["thresholds"][0]["unit"] = "kg"
    with pytest.raises(ValidationError) as exc:
        services.save_draft(
            ctx=world.ctx(), plan=plan, expected_revision=plan.revision, content=content, now=NOW
        )
    assert list(exc.value.message_dict) == ["goals[0].thresholds[0].unit"]


def test_a_problem_must_be_one_of_the_patients_conditions(
    world: PracticeWorld, other_world: PracticeWorld, plan: CarePlan
) -> None:
    foreign = Condition.objects.create(
        patient=other_world.patient, icd10_code="I10", description="x", created_at=NOW
    )
    content = complete_content([foreign])
    with pytest.raises(ValidationError) as exc:
        services.save_draft(
            ctx=world.ctx(), plan=plan, expected_revision=plan.revision, content=content, now=NOW
        )
    assert "problems[0].condition_id" in exc.value.message_dict


def test_publishing_lists_every_missing_element(world: PracticeWorld, conditions: list) -> None:
    plan = services.start_plan(
        ctx=world.ctx(),
        patient=world.patient,
        kind="comprehensive",
        template="hypertension",
        now=NOW,
    )
    with pytest.raises(ValidationError) as exc:
        services.publish_version(
            ctx=world.ctx(), plan=plan, expected_revision=1, revision_reason="", now=NOW
        )
    missing = set(exc.value.message_dict)
    assert missing == {
        "cognitive_functional_assessment",
        "environmental_evaluation",
        "caregiver_assessment",
        "community_services",
        "outside_coordination",
    }
    assert CarePlanVersion.objects.count() == 0


def test_an_empty_plan_lists_all_twelve_elements(world: PracticeWorld) -> None:
    plan = services.start_plan(
        ctx=world.ctx(), patient=world.patient, kind="comprehensive", now=NOW
    )
    with pytest.raises(ValidationError) as exc:
        services.publish_version(
            ctx=world.ctx(), plan=plan, expected_revision=1, revision_reason="", now=NOW
        )
    assert len(exc.value.message_dict) == len(ELEMENTS) == 12


def test_clinical_staff_publish_for_signature_and_only_the_practitioner_signs(
    world: PracticeWorld, plan: CarePlan
) -> None:
    version = services.publish_version(
        ctx=world.ctx("coordinator"),
        plan=plan,
        expected_revision=plan.revision,
        revision_reason="",
        now=NOW,
    )
    assert version.number == 1 and not version.signed
    assert version.revision_reason == "First care plan."
    with pytest.raises(PermissionDenied):
        services.sign_version(ctx=world.ctx("coordinator"), version=version, now=NOW)
    refused = AuditEvent.objects.get(event="careplan.sign_refused")
    assert refused.outcome == "denied"
    signed = services.sign_version(ctx=world.ctx("practitioner"), version=version, now=NOW)
    assert signed.signed_by == world.user("practitioner")
    assert signed.signed_by_npi == "1245319599" and signed.signed_by_credential == "MD"
    with pytest.raises(ValidationError):
        services.sign_version(ctx=world.ctx("practitioner"), version=signed, now=NOW)


def test_a_coordinator_cannot_publish_and_sign_in_one_step(
    world: PracticeWorld, plan: CarePlan
) -> None:
    with pytest.raises(PermissionDenied):
        services.publish_version(
            ctx=world.ctx("coordinator"),
            plan=plan,
            expected_revision=plan.revision,
            revision_reason="",
            sign=True,
            now=NOW,
        )
    assert CarePlanVersion.objects.count() == 0


def test_a_physician_without_an_npi_cannot_sign(world: PracticeWorld, plan: CarePlan) -> None:
    from careledger.accounts.access import PracticeContext

    member = MembershipFactory(
        practice=world.practice, user=UserFactory(), role="practitioner", credential="MD", npi=""
    )
    ctx = PracticeContext(user=member.user, membership=member, source_ip=None)
    with pytest.raises(PermissionDenied):
        services.publish_version(
            ctx=ctx,
            plan=plan,
            expected_revision=plan.revision,
            revision_reason="",
            sign=True,
            now=NOW,
        )


def test_a_published_version_never_changes_and_is_never_deleted(
    world: PracticeWorld, plan: CarePlan, conditions: list[Condition]
) -> None:
    version = publish_signed(world, plan, NOW)
    snapshot = dict(version.content)
    assert snapshot["problems"][0]["icd10_code"] == "I10"
    assert MonitoringThreshold.objects.filter(version=version, metric="systolic").count() == 1
    # Later draft edits leave the published snapshot alone.
    changed = complete_content(conditions)
    changed["goals"][0]["target"] = "below 130/80"
    plan.refresh_from_db()
    services.save_draft(
        ctx=world.ctx(), plan=plan, expected_revision=plan.revision, content=changed, now=NOW
    )
    version.refresh_from_db()
    assert version.content == snapshot
    version.revision_reason = "rewritten"
    with pytest.raises(ImmutableError):
        version.save()
    with pytest.raises(ImmutableError):
        version.save(update_fields=["signed_at"])  # already signed: the sign-off is written once
    with pytest.raises(ImmutableError):
        version.delete()
    with pytest.raises(ImmutableError):
        plan.delete()


def test_a_new_version_needs_a_reason_and_takes_the_next_number(
    world: PracticeWorld, plan: CarePlan
) -> None:
    publish_signed(world, plan, NOW)
    with pytest.raises(ValidationError) as exc:
        publish_signed(world, plan, NOW + timedelta(days=1))
    assert list(exc.value.message_dict) == ["revision_reason"]
    second = publish_signed(world, plan, NOW + timedelta(days=1), reason="Goals revised.")
    assert second.number == 2


def test_publishing_a_stale_draft_is_a_conflict(world: PracticeWorld, plan: CarePlan) -> None:
    with pytest.raises(services.DraftConflict):
        services.publish_version(
            ctx=world.ctx("practitioner"),
            plan=plan,
            expected_revision=plan.revision - 1,
            revision_reason="",
            sign=True,
            now=NOW,
        )


def test_a_sharing_is_recorded_with_version_date_channel_and_who(
    world: PracticeWorld, plan: CarePlan
) -> None:
    version = publish_signed(world, plan, NOW)
    sharing = services.record_sharing(
        ctx=world.ctx("coordinator"),
        version=version,
        shared_on=date(2026, 3, 10),
        channel="print",
        now=NOW,
    )
    assert (sharing.version, sharing.channel, sharing.shared_by) == (
        version,
        "print",
        world.user("coordinator"),
    )
    event = AuditEvent.objects.get(event="careplan.shared")
    assert event.details["channel"] == "print" and event.patient_id == world.patient.pk
    with pytest.raises(ImmutableError):
        sharing.delete()


def test_an_unsigned_version_cannot_be_shared_and_nor_can_a_future_date(
    world: PracticeWorld, plan: CarePlan
) -> None:
    version = services.publish_version(
        ctx=world.ctx(), plan=plan, expected_revision=plan.revision, revision_reason="", now=NOW
    )
    with pytest.raises(ValidationError) as exc:
        services.record_sharing(
            ctx=world.ctx(), version=version, shared_on=date(2026, 3, 10), channel="print", now=NOW
        )
    assert "version" in exc.value.message_dict
    version = services.sign_version(ctx=world.ctx("practitioner"), version=version, now=NOW)
    with pytest.raises(ValidationError) as exc:
        services.record_sharing(
            ctx=world.ctx(), version=version, shared_on=date(2026, 3, 11), channel="mail", now=NOW
        )
    assert "shared_on" in exc.value.message_dict
    with pytest.raises(ValidationError):
        services.record_sharing(
            ctx=world.ctx(), version=version, shared_on=date(2026, 3, 10), channel="fax", now=NOW
        )
    assert Sharing.objects.count() == 0


def test_every_write_leaves_its_audit_event(world: PracticeWorld, plan: CarePlan) -> None:
    version = publish_signed(world, plan, NOW)
    services.record_sharing(
        ctx=world.ctx(), version=version, shared_on=date(2026, 3, 10), channel="portal", now=NOW
    )
    services.record_acute_event(
        ctx=world.ctx(),
        patient=world.patient,
        kind="ed_visit",
        occurred_on=date(2026, 3, 9),
        now=NOW,
    )
    for name in (
        "careplan.started",
        "careplan.draft_saved",
        "careplan.version_published",
        "careplan.version_signed",
        "careplan.shared",
        "careplan.acute_event_recorded",
    ):
        assert _events(name) == 1, name
    assert LONG_AGO < NOW

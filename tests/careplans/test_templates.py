"""A practice's own templates: versions, checks, who may edit, reset, plans started from them."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from careledger.audit.models import AuditEvent
from careledger.careplans import practice_templates as templates
from careledger.careplans import services
from careledger.careplans.models import ImmutableError, TemplateVersion
from careledger.careplans.plan_templates import TEMPLATE_BY_KEY, TEMPLATES, shipped_content
from careledger.patients.models import Condition
from tests.careplans.conftest import LONG_AGO, NOW, add_conditions
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db


def hypertension(**changes: Any) -> dict[str, Any]:
    """The shipped hypertension template as JSON, with ``changes`` applied."""
    content = shipped_content(TEMPLATE_BY_KEY["hypertension"])
    content.update(copy.deepcopy(changes))
    return content


def stricter_bp() -> dict[str, Any]:
    """The practice's edit: a systolic warning at 130 and a pharmacist's review."""
    content = hypertension()
    content["goals"][0]["thresholds"][0]["warning"] = 130
    content["interventions"].append(
        {"description": "Pharmacist reviews the medicine list", "responsible": "Pharmacist"}
    )
    return content


def _systolic_warning(draft: dict[str, Any]) -> Any:
    goal = next(g for g in draft["goals"] if g["key"] == "home-bp")
    return next(t["warning"] for t in goal["thresholds"] if t["metric"] == "systolic")


def test_a_practices_edited_hypertension_template_reaches_its_new_plans_not_another_practices(
    world: PracticeWorld, other_world: PracticeWorld, conditions: list[Condition]
) -> None:
    add_conditions(other_world)
    templates.save_template(
        ctx=world.ctx("manager"),
        key="hypertension",
        content=stricter_bp(),
        reason="Our cardiologists want 130 systolic.",
        now=LONG_AGO,
    )

    ours = services.start_plan(
        ctx=world.ctx("coordinator"),
        patient=world.patient,
        kind="comprehensive",
        template="hypertension",
        now=NOW,
    )
    theirs = services.start_plan(
        ctx=other_world.ctx("coordinator"),
        patient=other_world.patient,
        kind="comprehensive",
        template="hypertension",
        now=NOW,
    )

    assert _systolic_warning(ours.draft) == 130
    assert "Pharmacist reviews the medicine list" in [
        i["description"] for i in ours.draft["interventions"]
    ]
    assert [p["condition_id"] for p in ours.draft["problems"]] == [conditions[0].pk]
    assert _systolic_warning(theirs.draft) == 135
    assert "Pharmacist reviews the medicine list" not in [
        i["description"] for i in theirs.draft["interventions"]
    ]
    started = AuditEvent.objects.filter(event="careplan.started").order_by("id")
    assert [e.details["template_version"] for e in started] == [1, 0]


def test_adding_a_template_to_a_draft_uses_the_practices_version(
    world: PracticeWorld, conditions: list[Condition]
) -> None:
    templates.save_template(
        ctx=world.ctx("practitioner"),
        key="hypertension",
        content=stricter_bp(),
        reason="Stricter",
        now=LONG_AGO,
    )
    plan = services.start_plan(
        ctx=world.ctx(), patient=world.patient, kind="comprehensive", now=NOW
    )
    plan = services.apply_template(
        ctx=world.ctx(), plan=plan, template="hypertension", expected_revision=1, now=NOW
    )
    assert _systolic_warning(plan.draft) == 130


def test_each_save_is_a_new_version_with_who_when_and_why_and_an_audit_event(
    world: PracticeWorld,
) -> None:
    first = templates.save_template(
        ctx=world.ctx("manager"),
        key="hypertension",
        content=stricter_bp(),
        reason="Stricter systolic",
        now=LONG_AGO,
    )
    later = LONG_AGO + timedelta(days=3)
    second = templates.save_template(
        ctx=world.ctx("practitioner"),
        key="hypertension",
        content=hypertension(elements={"review_schedule": "Review every 6 months."}),
        reason="Review twice a year",
        expected_number=1,
        now=later,
    )

    assert (first.number, second.number) == (1, 2)
    assert (second.saved_by, second.saved_at, second.reason) == (
        world.user("practitioner"),
        later,
        "Review twice a year",
    )
    assert second.action == TemplateVersion.Action.EDITED
    first.refresh_from_db()  # the earlier version is kept as it was
    assert first.saved_by == world.user("manager")
    assert first.content["goals"][0]["thresholds"][0]["warning"] == 130
    assert second.content["elements"] == {"review_schedule": "Review every 6 months."}
    assert TemplateVersion.objects.filter(practice=world.practice).count() == 2

    events = list(AuditEvent.objects.filter(event="careplan.template_saved").order_by("id"))
    assert [e.object_id for e in events] == [str(first.pk), str(second.pk)]
    assert events[1].actor == world.user("practitioner")
    assert events[1].practice == world.practice
    assert events[1].details["template"] == "hypertension"
    assert events[1].details["number"] == 2
    assert events[1].details["reason"] == "Review twice a year"

    with pytest.raises(ImmutableError):
        first.save()
    with pytest.raises(ImmutableError):
        first.delete()


@pytest.mark.parametrize(
    ("threshold", "field", "words"),
    [
        ({"warning": 900}, "goals[0].thresholds[0].warning", "not a possible systolic"),
        ({"unit": "mmHg"}, "goals[0].thresholds[0].unit", "UCUM"),
        ({"critical": 120}, "goals[0].thresholds[0].critical", "higher than the warning"),
        ({"metric": "cholesterol"}, "goals[0].thresholds[0].metric", "Choose a metric"),
    ],
)
def test_an_impossible_threshold_is_refused_naming_the_field_and_nothing_is_stored(
    world: PracticeWorld, threshold: dict[str, Any], field: str, words: str
) -> None:
    content = hypertension()
    content["goals"][0]["thresholds"][0].update(threshold)
    with pytest.raises(ValidationError) as refused:
        templates.save_template(
            ctx=world.ctx("manager"), key="hypertension", content=content, reason="x", now=NOW
        )
    assert words in " ".join(refused.value.message_dict[field])
    assert not TemplateVersion.objects.exists()
    assert not AuditEvent.objects.filter(event="careplan.template_saved").exists()


def test_a_template_needs_a_reason_a_goal_target_codes_and_no_dates_or_people(
    world: PracticeWorld,
) -> None:
    content = hypertension(icd10_prefixes=["I10", "hypertension"])
    content["goals"][1]["target"] = ""
    content["goals"][0]["due_on"] = "2026-06-30"
    content["interventions"][0]["responsible_user_id"] = world.user("coordinator").pk
    with pytest.raises(ValidationError) as refused:
        templates.save_template(
            ctx=world.ctx("admin"), key="hypertension", content=content, reason=" ", now=NOW
        )
    assert set(refused.value.message_dict) == {
        "icd10_prefixes[1]",
        "goals[1].target",
        "goals[0].due_on",
        "interventions[0].responsible_user_id",
        "reason",
    }
    with pytest.raises(ValidationError) as no_codes:
        templates.check_template(hypertension(icd10_prefixes=[]))
    assert "icd10_prefixes" in no_codes.value.message_dict


def test_every_shipped_template_passes_the_template_checks_unchanged() -> None:
    for template in TEMPLATES:
        assert templates.check_template(shipped_content(template)) == shipped_content(template)


@pytest.mark.parametrize("role", ["coordinator", "biller", "auditor"])
def test_only_practitioners_managers_and_admins_edit_or_reset_a_template(
    world: PracticeWorld, role: str
) -> None:
    with pytest.raises(PermissionDenied):
        templates.save_template(
            ctx=world.ctx(role), key="hypertension", content=stricter_bp(), reason="x", now=NOW
        )
    with pytest.raises(PermissionDenied):
        templates.reset_template(ctx=world.ctx(role), key="hypertension", now=NOW)
    assert not TemplateVersion.objects.exists()


def test_an_unknown_template_is_refused_naming_the_field(world: PracticeWorld) -> None:
    with pytest.raises(ValidationError) as refused:
        templates.save_template(
            ctx=world.ctx("manager"), key="asthma", content=hypertension(), reason="x", now=NOW
        )
    assert "template" in refused.value.message_dict


def test_a_stale_save_is_refused_and_the_other_save_stands(world: PracticeWorld) -> None:
    templates.save_template(
        ctx=world.ctx("manager"),
        key="hypertension",
        content=stricter_bp(),
        reason="First",
        expected_number=0,
        now=NOW,
    )
    with pytest.raises(templates.TemplateConflict) as conflict:
        templates.save_template(
            ctx=world.ctx("practitioner"),
            key="hypertension",
            content=hypertension(),
            reason="Opened before the manager saved",
            expected_number=0,
            now=NOW,
        )
    assert conflict.value.current_number == 1
    assert "version 1" in conflict.value.message
    assert TemplateVersion.objects.count() == 1


def test_reset_stores_a_new_version_equal_to_the_shipped_template(
    world: PracticeWorld, conditions: list[Condition]
) -> None:
    edited = templates.save_template(
        ctx=world.ctx("manager"),
        key="hypertension",
        content=stricter_bp(),
        reason="Stricter",
        now=LONG_AGO,
    )
    assert templates.template_rows(world.practice)[0].edited

    reset = templates.reset_template(ctx=world.ctx("admin"), key="hypertension", now=LONG_AGO)

    assert reset.number == 2
    assert reset.action == TemplateVersion.Action.RESET
    assert reset.reason == templates.RESET_REASON
    assert reset.content == shipped_content(TEMPLATE_BY_KEY["hypertension"])
    assert TemplateVersion.objects.filter(pk=edited.pk).exists()  # nothing deleted
    row = templates.template_rows(world.practice)[0]
    assert (row.number, row.edited) == (2, False)
    event = AuditEvent.objects.get(event="careplan.template_reset")
    assert event.actor == world.user("admin")
    assert event.object_id == str(reset.pk)
    plan = services.start_plan(
        ctx=world.ctx(),
        patient=world.patient,
        kind="comprehensive",
        template="hypertension",
        now=NOW,
    )
    assert _systolic_warning(plan.draft) == 135

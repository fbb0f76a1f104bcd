"""Helpers for care-plan tests: a patient with conditions and a complete draft."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from careledger.careplans import services
from careledger.careplans.content import NARRATIVE_KEYS
from careledger.careplans.models import CarePlan, CarePlanVersion
from careledger.patients.models import Condition
from tests.conftest import PracticeWorld
from tests.factories import ConditionFactory

# Before the conditions below are dated, so they are on file when plans are written.
LONG_AGO = datetime(2025, 1, 2, 15, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)  # 10:00 in Chicago


def add_conditions(world: PracticeWorld) -> tuple[Condition, Condition]:
    hypertension = ConditionFactory(
        patient=world.patient,
        icd10_code="I10",
        description="Essential (primary) hypertension",
        created_at=LONG_AGO,
    )
    diabetes = ConditionFactory(
        patient=world.patient,
        icd10_code="E11.9",
        description="Type 2 diabetes mellitus without complications",
        created_at=LONG_AGO,
    )
    return hypertension, diabetes


def complete_content(conditions: list[Condition], **overrides: Any) -> dict[str, Any]:
    """Return draft JSON with every CCM-8 element filled."""
    content: dict[str, Any] = {
        "elements": {key: {"text": f"Documented {key}."} for key in NARRATIVE_KEYS},
        "problems": [{"condition_id": c.pk, "note": ""} for c in conditions],
        "goals": [
            {
                "key": "home-bp",
                "what": "Home blood pressure",
                "target": "below 135/85",
                "unit": "mm[Hg]",
                "due_on": "2026-06-30",
                "thresholds": [
                    {
                        "metric": "systolic",
                        "comparator": "above",
                        "warning": 135,
                        "critical": 180,
                        "unit": "mm[Hg]",
                    }
                ],
            }
        ],
        "interventions": [
            {"description": "Review home readings weekly", "responsible": "Care coordinator"}
        ],
    }
    content.update(overrides)
    return content


@pytest.fixture
def conditions(world: PracticeWorld) -> list[Condition]:
    return list(add_conditions(world))


@pytest.fixture
def plan(world: PracticeWorld, conditions: list[Condition]) -> CarePlan:
    """A comprehensive plan whose draft is complete (revision 2)."""
    started = services.start_plan(
        ctx=world.ctx("coordinator"), patient=world.patient, kind="comprehensive", now=LONG_AGO
    )
    return services.save_draft(
        ctx=world.ctx("coordinator"),
        plan=started,
        expected_revision=1,
        content=complete_content(conditions),
        now=LONG_AGO,
    )


def publish_signed(
    world: PracticeWorld, plan: CarePlan, now: datetime, reason: str = ""
) -> CarePlanVersion:
    plan.refresh_from_db()
    return services.publish_version(
        ctx=world.ctx("practitioner"),
        plan=plan,
        expected_revision=plan.revision,
        revision_reason=reason,
        sign=True,
        now=now,
    )

"""A published version exports as a FHIR R4B Bundle that validates and links its parts."""

from __future__ import annotations

import json

import pytest
from fhir.resources.R4B.bundle import Bundle

from careledger.careplans.fhir import export_bundle
from careledger.careplans.models import CarePlan
from tests.careplans.conftest import NOW, publish_signed
from tests.conftest import PracticeWorld

pytestmark = pytest.mark.django_db


def test_the_export_validates_as_an_r4b_bundle_with_careplan_goals_and_conditions(
    world: PracticeWorld, plan: CarePlan
) -> None:
    version = publish_signed(world, plan, NOW)
    data = export_bundle(version)
    bundle = Bundle.model_validate_json(json.dumps(data))  # raises when invalid
    kinds = [entry.resource.get_resource_type() for entry in bundle.entry]
    assert kinds == ["Patient", "CarePlan", "Condition", "Condition", "Goal"]
    care_plan = bundle.entry[1].resource
    assert care_plan.status == "active" and care_plan.intent == "plan"
    full_urls = {entry.fullUrl for entry in bundle.entry}
    references = [r.reference for r in (*care_plan.goal, *care_plan.addresses)]
    references.append(care_plan.subject.reference)
    assert set(references) <= full_urls
    condition = bundle.entry[2].resource
    assert condition.code.coding[0].system == "http://hl7.org/fhir/sid/icd-10-cm"
    assert condition.code.coding[0].code == "I10"
    goal = bundle.entry[4].resource
    assert goal.target[0].measure.coding[0].code == "8480-6"  # LOINC systolic
    assert "Alert on systolic blood pressure above 135" in goal.note[0].text
    assert len(care_plan.activity) == 1
    assert care_plan.activity[0].detail.performer[0].display == "Care coordinator"
    notes = [n.text for n in care_plan.note]
    assert any(n.startswith("Caregiver assessment:") for n in notes)

"""Export a published care-plan version as a FHIR R4B Bundle: CarePlan, Goals, Conditions.

Built with ``fhir.resources.R4B`` models, which validate every element as they are made; the
caller gets the Bundle's JSON (a ``collection``), parsed back once more before it is returned.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from careledger.careplans.content import (
    ELEMENTS,
    METRICS,
    NARRATIVE_KEYS,
    threshold_words,
)
from careledger.careplans.models import CarePlanVersion
from careledger.careplans.selectors import content_of
from careledger.patients.models import Condition

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
MRN_SYSTEM = "urn:careledger:practice:{slug}:mrn"

# LOINC codes for the monitored measurements.
METRIC_LOINC: dict[str, tuple[str, str]] = {
    "systolic": ("8480-6", "Systolic blood pressure"),
    "diastolic": ("8462-4", "Diastolic blood pressure"),
    "pulse": ("8867-4", "Heart rate"),
    "glucose_fasting": ("1558-6", "Fasting glucose [Mass/volume] in Serum or Plasma"),
    "weight_gain_24h": ("29463-7", "Body weight"),
    "weight_gain_7d": ("29463-7", "Body weight"),
    "spo2": ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
}


def _urn(resource_type: str, resource_id: object) -> str:
    """Return a stable urn:uuid for a resource; references inside the Bundle use it."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'careledger/{resource_type}/{resource_id}')}"


def _condition(condition: Condition, patient_ref: str) -> dict[str, Any]:
    clinical = "resolved" if condition.resolved_on else "active"
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"condition-{condition.pk}",
        "clinicalStatus": {"coding": [{"system": CONDITION_CLINICAL, "code": clinical}]},
        "verificationStatus": {"coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}]},
        "category": [{"coding": [{"system": CONDITION_CATEGORY, "code": "problem-list-item"}]}],
        "code": {
            "coding": [
                {
                    "system": ICD10CM,
                    "code": condition.icd10_code,
                    "display": condition.description,
                }
            ],
            "text": condition.description,
        },
        "subject": {"reference": patient_ref},
        "recordedDate": condition.created_at.isoformat(),
    }
    if condition.onset_on:
        resource["onsetDateTime"] = condition.onset_on.isoformat()
    if condition.resolved_on:
        resource["abatementDateTime"] = condition.resolved_on.isoformat()
    return resource


def export_bundle(version: CarePlanVersion) -> dict[str, Any]:
    """Return the version as a FHIR R4B ``collection`` Bundle (validated), as JSON data."""
    plan = version.plan
    patient = plan.patient
    content = content_of(version.content)
    patient_ref = _urn("Patient", patient.pk)
    entries: list[dict[str, Any]] = [
        {
            "fullUrl": patient_ref,
            "resource": {
                "resourceType": "Patient",
                "id": str(patient.pk),
                "identifier": [
                    {"system": MRN_SYSTEM.format(slug=patient.practice.slug), "value": patient.mrn}
                ],
                "name": [{"family": patient.family_name, "given": [patient.given_name]}],
                "birthDate": patient.birth_date.isoformat(),
                "gender": patient.sex,
            },
        }
    ]
    conditions = {c.pk: c for c in version.conditions.all()}
    condition_refs = []
    for problem in content.problems:
        condition = conditions.get(problem.condition_id)
        if condition is None:
            continue
        entries.append(
            {
                "fullUrl": _urn("Condition", f"condition-{condition.pk}"),
                "resource": _condition(condition, patient_ref),
            }
        )
        condition_refs.append({"reference": _urn("Condition", f"condition-{condition.pk}")})
    goal_refs = []
    for n, goal in enumerate(content.goals, start=1):
        resource_id = f"goal-{version.pk}-{n}"
        target: dict[str, Any] = {"detailString": f"{goal.target} {goal.unit}".strip()}
        if goal.due_on:
            target["dueDate"] = goal.due_on.isoformat()
        if goal.thresholds:
            code, display = METRIC_LOINC[goal.thresholds[0].metric]
            target["measure"] = {"coding": [{"system": LOINC, "code": code, "display": display}]}
        notes = [
            {
                "text": f"Alert on {METRICS[t.metric].label.lower()} {threshold_words(t)} "
                f"(UCUM {t.unit})."
            }
            for t in goal.thresholds
        ]
        resource: dict[str, Any] = {
            "resourceType": "Goal",
            "id": resource_id,
            "lifecycleStatus": "active",
            "description": {"text": goal.what},
            "subject": {"reference": patient_ref},
            "target": [target],
            "addresses": condition_refs,
        }
        if notes:
            resource["note"] = notes
        entries.append({"fullUrl": _urn("Goal", resource_id), "resource": resource})
        goal_refs.append({"reference": _urn("Goal", resource_id)})

    latest = plan.versions.order_by("-number").values_list("number", flat=True).first()
    notes = []
    for definition in ELEMENTS:
        if definition.key not in NARRATIVE_KEYS:
            continue
        element = content.element(definition.key)
        text = f"Not applicable: {element.reason}" if element.not_applicable else element.text
        if text:
            notes.append({"text": f"{definition.label}: {text}"})
    care_plan: dict[str, Any] = {
        "resourceType": "CarePlan",
        "id": f"careplan-{plan.pk}-v{version.number}",
        "identifier": [
            {"system": "urn:careledger:careplan-version", "value": f"{plan.pk}-{version.number}"}
        ],
        "status": "active" if latest == version.number and version.signed else "completed",
        "intent": "plan",
        "category": [{"coding": [{"system": CAREPLAN_CATEGORY, "code": "assess-plan"}]}],
        "title": f"{plan.get_kind_display()} care plan, version {version.number}",
        "description": version.revision_reason,
        "subject": {"reference": patient_ref},
        "period": {"start": version.published_on.isoformat()},
        "created": version.published_at.isoformat(),
        "author": {"display": version.author.get_full_name() or version.author.get_username()},
        "addresses": condition_refs,
        "goal": goal_refs,
        "activity": [
            {
                "detail": {
                    "status": "in-progress",
                    "description": step.description,
                    "performer": [{"display": step.responsible}],
                }
            }
            for step in content.interventions
        ],
        "note": notes,
    }
    if version.signed and version.signed_by is not None:
        signer = version.signed_by.get_full_name() or version.signed_by.get_username()
        care_plan["contributor"] = [{"display": f"Signed by {signer}, NPI {version.signed_by_npi}"}]
    entries.insert(1, {"fullUrl": _urn("CarePlan", care_plan["id"]), "resource": care_plan})
    bundle = Bundle.model_validate(
        {
            "resourceType": "Bundle",
            "type": "collection",
            "timestamp": version.published_at.isoformat(),
            "entry": entries,
        }
    )
    data: dict[str, Any] = json.loads(bundle.model_dump_json())
    return data

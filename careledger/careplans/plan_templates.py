"""Starting points for common conditions: problems, goals, thresholds and interventions.

Data in code (reviewed like code). A template pre-fills a draft; everything stays editable, and
elements a template cannot know (caregiver, home, cognition) are left for the care team.
Thresholds follow the product brief's examples (PRODUCT.md step 4), not a guideline's wording.

These are the shipped templates. A practice edits its own copy (``TemplateVersion``, see
``practice_templates``); ``shipped_content`` and ``from_content`` convert between a template and
the JSON a version stores.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PlanTemplate:
    key: str
    label: str
    icd10_prefixes: tuple[str, ...]  # the patient's conditions a template links as problems
    elements: dict[str, str] = field(default_factory=dict)
    goals: tuple[dict[str, Any], ...] = ()
    interventions: tuple[dict[str, Any], ...] = ()


REVIEW = "Review at least every 12 months, and after any hospital stay, ED visit or new diagnosis."

TEMPLATES: tuple[PlanTemplate, ...] = (
    PlanTemplate(
        key="hypertension",
        label="Hypertension",
        icd10_prefixes=("I10", "I11", "I12", "I13", "I15", "I16"),
        elements={
            "expected_outcome": "Blood pressure controlled at home below 135/85 within 3 months, "
            "lowering the risk of stroke, heart attack and kidney disease.",
            "symptom_management": "Check blood pressure at home each morning, seated after 5 "
            "minutes of rest. Call the care team for headache, vision changes, chest pain or "
            "readings in the alert range.",
            "medication_management": "Review antihypertensives and adherence at each monthly "
            "contact; reconcile after any visit elsewhere.",
            "review_schedule": REVIEW,
        },
        goals=(
            {
                "key": "home-bp",
                "what": "Home blood pressure",
                "target": "below 135/85",
                "unit": "mm[Hg]",
                "thresholds": [
                    {
                        "metric": "systolic",
                        "comparator": "above",
                        "warning": 135,
                        "critical": 180,
                        "unit": "mm[Hg]",
                    },
                    {
                        "metric": "diastolic",
                        "comparator": "above",
                        "warning": 85,
                        "critical": 110,
                        "unit": "mm[Hg]",
                    },
                ],
            },
            {
                "key": "sodium",
                "what": "Sodium intake",
                "target": "below 2,000",
                "unit": "mg/d",
                "thresholds": [],
            },
        ),
        interventions=(
            {
                "description": "Teach home blood-pressure technique; review readings weekly",
                "responsible": "Care coordinator (RN)",
            },
            {
                "description": "Adjust medicines when the monthly average stays above target",
                "responsible": "Billing practitioner",
            },
        ),
    ),
    PlanTemplate(
        key="type2_diabetes",
        label="Type 2 diabetes",
        icd10_prefixes=("E11",),
        elements={
            "expected_outcome": "HbA1c below 7% within 6 months without low-sugar episodes; "
            "slower progression of eye, kidney and nerve complications.",
            "symptom_management": "Check fasting glucose daily. Treat low sugar (below 70 mg/dL) "
            "with 15 g of fast sugar and recheck; call for repeated lows or highs above 300.",
            "medication_management": "Review glucose-lowering medicines, doses and timing with "
            "meals monthly; check supplies of strips and lancets.",
            "review_schedule": REVIEW,
        },
        goals=(
            {
                "key": "a1c",
                "what": "HbA1c",
                "target": "below 7",
                "unit": "%",
                "thresholds": [],
            },
            {
                "key": "fasting-glucose",
                "what": "Fasting glucose",
                "target": "below 140",
                "unit": "mg/dL",
                "thresholds": [
                    {
                        "metric": "glucose_fasting",
                        "comparator": "above",
                        "warning": 140,
                        "critical": 300,
                        "unit": "mg/dL",
                    },
                    {
                        "metric": "glucose_fasting",
                        "comparator": "below",
                        "warning": 70,
                        "critical": 54,
                        "unit": "mg/dL",
                    },
                ],
            },
        ),
        interventions=(
            {
                "description": "Diabetes self-management education and meal planning",
                "responsible": "Care coordinator (RN)",
            },
            {
                "description": "Yearly retinal exam and foot exam",
                "responsible": "Billing practitioner",
            },
        ),
    ),
    PlanTemplate(
        key="heart_failure",
        label="Heart failure",
        icd10_prefixes=("I50", "I11.0", "I13.0", "I13.2"),
        elements={
            "expected_outcome": "Stable weight and breathing at home, fewer hospital stays; "
            "chronic condition expected to need lifelong management.",
            "symptom_management": "Weigh every morning after using the bathroom, before eating. "
            "Call for a gain over 2 lb in a day or 5 lb in a week, new swelling, or more "
            "shortness of breath lying down.",
            "medication_management": "Review diuretic and heart medicines monthly; reconcile "
            "within 7 days of any discharge.",
            "review_schedule": REVIEW,
        },
        goals=(
            {
                "key": "weight",
                "what": "Daily weight",
                "target": "within 2 lb of dry weight",
                "unit": "[lb_av]",
                "thresholds": [
                    {
                        "metric": "weight_gain_24h",
                        "comparator": "above",
                        "warning": 2,
                        "critical": 3,
                        "unit": "[lb_av]",
                    },
                    {
                        "metric": "weight_gain_7d",
                        "comparator": "above",
                        "warning": 5,
                        "critical": 7,
                        "unit": "[lb_av]",
                    },
                ],
            },
            {
                "key": "fluid",
                "what": "Fluid intake",
                "target": "no more than 2",
                "unit": "L/d",
                "thresholds": [],
            },
        ),
        interventions=(
            {
                "description": "Review daily weights and symptoms; call on any alert",
                "responsible": "Care coordinator (RN)",
            },
            {
                "description": "Coordinate with cardiology after each visit",
                "responsible": "Care coordinator (RN)",
            },
        ),
    ),
    PlanTemplate(
        key="copd",
        label="COPD",
        icd10_prefixes=("J44", "J43"),
        elements={
            "expected_outcome": "Fewer flare-ups and hospital stays; keep walking and daily "
            "activities; chronic condition expected to need lifelong management.",
            "symptom_management": "Follow the written action plan: start rescue medicines for "
            "more breathlessness, cough or sputum; call when oxygen stays below 90%.",
            "medication_management": "Check inhaler technique and adherence; review rescue "
            "inhaler use monthly.",
            "review_schedule": REVIEW,
        },
        goals=(
            {
                "key": "spo2",
                "what": "Oxygen saturation at rest",
                "target": "at or above 92",
                "unit": "%",
                "thresholds": [
                    {
                        "metric": "spo2",
                        "comparator": "below",
                        "warning": 90,
                        "critical": 88,
                        "unit": "%",
                    }
                ],
            },
            {
                "key": "walking",
                "what": "Walking",
                "target": "30 minutes, 5 days a week",
                "unit": "",
                "thresholds": [],
            },
        ),
        interventions=(
            {
                "description": "Refer to pulmonary rehabilitation",
                "responsible": "Billing practitioner",
            },
            {
                "description": "Review the COPD action plan and vaccines",
                "responsible": "Care coordinator (RN)",
            },
        ),
    ),
)
TEMPLATE_BY_KEY: dict[str, PlanTemplate] = {t.key: t for t in TEMPLATES}


def matches(template: PlanTemplate, icd10_code: str) -> bool:
    """Tell whether a condition's code belongs to the template's problem."""
    code = icd10_code.upper()
    return any(code.startswith(prefix) for prefix in template.icd10_prefixes)


def template_content(
    template: PlanTemplate, conditions: list[tuple[int, str]], base: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Merge a template into a draft's JSON: link matching conditions, add its goals and steps.

    ``conditions`` are the patient's (id, ICD-10-CM code). Text the draft already has is kept;
    goals and interventions are added unless a goal with the same key is there.
    """
    draft: dict[str, Any] = {
        "elements": dict((base or {}).get("elements") or {}),
        "problems": list((base or {}).get("problems") or []),
        "goals": list((base or {}).get("goals") or []),
        "interventions": list((base or {}).get("interventions") or []),
    }
    linked = {int(p["condition_id"]) for p in draft["problems"]}
    for condition_id, code in conditions:
        if matches(template, code) and condition_id not in linked:
            draft["problems"].append({"condition_id": condition_id, "note": ""})
            linked.add(condition_id)
    for key, text in template.elements.items():
        current = draft["elements"].get(key) or {}
        if not (current.get("text") or "").strip():
            draft["elements"][key] = {"text": text, "not_applicable": False, "reason": ""}
    keys = {g.get("key") for g in draft["goals"]}
    for goal in template.goals:
        if goal["key"] not in keys:
            draft["goals"].append({**goal, "due_on": None})
    described = {i.get("description") for i in draft["interventions"]}
    for step in template.interventions:
        if step["description"] not in described:
            draft["interventions"].append({**step, "responsible_user_id": None})
    return draft


def shipped_content(template: PlanTemplate) -> dict[str, Any]:
    """Return a template as the JSON a practice's template version stores."""
    return {
        "icd10_prefixes": list(template.icd10_prefixes),
        "elements": dict(template.elements),
        "goals": copy.deepcopy(list(template.goals)),
        "interventions": copy.deepcopy(list(template.interventions)),
    }


def from_content(shipped: PlanTemplate, content: Mapping[str, Any]) -> PlanTemplate:
    """Return the template a practice's stored version describes (key and label are shipped)."""
    return PlanTemplate(
        key=shipped.key,
        label=shipped.label,
        icd10_prefixes=tuple(content.get("icd10_prefixes") or ()),
        elements=dict(content.get("elements") or {}),
        goals=tuple(copy.deepcopy(list(content.get("goals") or ()))),
        interventions=tuple(copy.deepcopy(list(content.get("interventions") or ()))),
    )

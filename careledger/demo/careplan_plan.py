"""Plan the demo's care plans as plain values: which patient has which plan, in which state.

Nothing here touches the database or the clock. States come from the patient's position, never
from chance, so for any ``patients >= 30`` Riverside's CCM panel holds every review state:
missing (no plan), unshared, due within 30 days, overdue, changed since publication (a hospital
stay recorded after it) and current. Every other plan is current and was shared before the
earliest demo month, so those months bill; a newcomer's plan follows its enrollment.

Dates are relative to the demo's ``today``. The coordinator drafts each version two days before
the practitioner publishes and signs it; the coordinator gives the patient a copy the same day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from careledger.careplans.plan_templates import TEMPLATES, matches, template_content
from careledger.careplans.review import State, add_months
from careledger.demo.data import RIVERSIDE
from careledger.demo.facts_plan import REVISION_REASON, is_complex, revision_on

COMPREHENSIVE = "comprehensive"  # careplans.models.Kind, for CCM and APCM (CCM-8, APCM-2)
DISEASE_SPECIFIC = "disease_specific"  # for PCM (PCM-1)
KIND_FOR_PROGRAM = {"CCM": COMPREHENSIVE, "APCM": COMPREHENSIVE, "PCM": DISEASE_SPECIFIC}

# Riverside's consented CCM patients whose plan is not current, by position in a cycle of forty
# (four cycles of ten; _RIVERSIDE_CYCLE puts consented CCM at positions 0, 1, 5 and 8 of ten).
# Position 0, the lowest-id CCM patient, is always current.
CYCLE = 40
RIVERSIDE_CCM_STATES: dict[int, str] = {
    1: State.MISSING,  # no plan at all: the month shows MISSING_CARE_PLAN
    8: State.UNSHARED,  # published and signed ten days ago, not given to the patient yet
    10: State.DUE_SOON,  # published about 11.5 months ago
    11: State.OVERDUE,  # published 13 months ago
    15: State.CHANGED,  # current, then a hospital stay this week
}
DRAFT_LEAD = timedelta(days=2)  # the coordinator's draft precedes publication
TWO_VERSIONS_AFTER = timedelta(days=180)  # an older plan was published, then reviewed
HOSPITAL = "Springfield Memorial Hospital"
FIRST_REASON = "First care plan after the initiating visit."
REVIEW_REASON = "Yearly review with the patient: goals, medicines and services reviewed."


@dataclass(frozen=True)
class VersionSpec:
    """One published version: drafted by the coordinator, signed by the practitioner."""

    drafted_on: date
    published_on: date
    reason: str
    shared_on: date | None  # None: never given to the patient
    channel: str = ""  # "print" or "portal"


@dataclass(frozen=True)
class HospitalStay:
    admitted_on: date
    discharged_on: date


@dataclass(frozen=True)
class CarePlanSpec:
    kind: str
    state: str  # the review state planned for the demo's today
    template: str  # the template the draft starts from
    versions: tuple[VersionSpec, ...]
    hospital_stay: HospitalStay | None = None
    variant: int = 0  # picks the wording of the narrative elements


def review_state(practice: str, index: int, program: str) -> str:
    """Return the review state planned for a consented enrollment's plan at this position."""
    if practice == RIVERSIDE and program == "CCM":
        return RIVERSIDE_CCM_STATES.get(index % CYCLE, State.CURRENT)
    return State.CURRENT


def first_published_on(state: str, today: date) -> date | None:
    """Return the fixed publication date of a state that needs one (due soon, overdue)."""
    if state == State.DUE_SOON:
        return add_months(today, -12) + timedelta(days=14)
    if state == State.OVERDUE:
        return add_months(today, -13)
    return None


def latest_start(state: str, today: date) -> date | None:
    """Return the latest enrollment start that leaves room for the state's plan, if bounded."""
    published = first_published_on(state, today)
    return None if published is None else published - timedelta(days=30)


def primary_template(codes: list[str]) -> str:
    """Return the key of the template matching the first condition that has one ("" if none)."""
    for code in codes:
        for template in TEMPLATES:
            if matches(template, code):
                return template.key
    return ""


def plan_care_plans(
    *,
    practice: str,
    index: int,
    enrollments: list[tuple[str, date, bool]],
    codes: list[str],
    today: date,
    first_month: date,
) -> tuple[CarePlanSpec, ...]:
    """Plan the patient's care plans from its (program, started_on, consented) enrollments."""
    plans: dict[str, CarePlanSpec] = {}
    for program, started_on, consented in enrollments:
        kind = KIND_FOR_PROGRAM.get(program)
        if kind is None or not consented or kind in plans:
            continue
        state = review_state(practice, index, program)
        if state == State.MISSING:
            continue
        versions = _versions(state, index, started_on, today, first_month)
        if program == "CCM" and state == State.CURRENT and is_complex(practice, index):
            # A complex month (CCM-2): the plan is substantially revised in the previous month.
            revised_on = revision_on(today)
            if versions[-1].published_on < revised_on - DRAFT_LEAD:
                versions = (*versions, _version(revised_on, REVISION_REASON, index))
        plans[kind] = CarePlanSpec(
            kind=kind,
            state=state,
            template=primary_template(codes),
            versions=versions,
            hospital_stay=(
                HospitalStay(today - timedelta(days=6), today - timedelta(days=3))
                if state == State.CHANGED
                else None
            ),
            variant=index,
        )
    return tuple(plans.values())


def _version(published_on: date, reason: str, index: int, shared: bool = True) -> VersionSpec:
    return VersionSpec(
        drafted_on=published_on - DRAFT_LEAD,
        published_on=published_on,
        reason=reason,
        shared_on=published_on if shared else None,
        channel=("print" if index % 2 == 0 else "portal") if shared else "",
    )


def _versions(
    state: str, index: int, started_on: date, today: date, first_month: date
) -> tuple[VersionSpec, ...]:
    fixed = first_published_on(state, today)
    if fixed is not None:
        return (_version(fixed, FIRST_REASON, index),)
    if state == State.UNSHARED:
        return (_version(today - timedelta(days=10), FIRST_REASON, index, shared=False),)
    # Current (or changed later): published inside the window that keeps it current from before
    # the earliest demo month until today, more than 30 days from its review date.
    yesterday = today - timedelta(days=1)
    first_possible = started_on + DRAFT_LEAD
    latest = first_month - timedelta(days=5)
    if first_possible > latest:
        # A newcomer, enrolled during the demo months: its plan follows the enrollment.
        return (_version(min(first_possible, yesterday), FIRST_REASON, index),)
    earliest = add_months(today, -11) + timedelta(days=5)
    span = max((latest - earliest).days, 0)
    chosen = max(latest - timedelta(days=(index * 29) % (span + 1)), first_possible)
    if chosen - first_possible > TWO_VERSIONS_AFTER:
        return (
            _version(first_possible, FIRST_REASON, index),
            _version(chosen, REVIEW_REASON, index),
        )
    return (_version(chosen, FIRST_REASON, index),)


# Narrative elements the templates leave to the care team (CCM-8), varied by position.
_NARRATIVE: dict[str, tuple[str, ...]] = {
    "cognitive_functional_assessment": (
        "Alert and oriented; independent in bathing, dressing and meals.",
        "Mild memory complaints; uses a pill organizer and phone reminders; independent in "
        "self-care.",
        "Walks with a cane outdoors; needs help with shopping and heavy housework.",
    ),
    "environmental_evaluation": (
        "Lives in a one-floor home; grab bars in the bathroom; no trip hazards reported.",
        "Second-floor apartment with an elevator; night lights added after a fall review.",
        "House with stairs to the bedroom; a stair rail was installed this year.",
    ),
    "caregiver_assessment": (
        "Daughter helps with appointments and groceries; no caregiver strain reported.",
        "Spouse manages medicines with the patient; offered the caregiver support line.",
    ),
    "community_services": (
        "Information on Meals on Wheels given; attends the senior center's exercise class.",
        "Referred to the Area Agency on Aging for transportation to appointments.",
        "Enrolled in the pharmacy's home-delivery program.",
    ),
    "outside_coordination": (
        "Cardiology and the community pharmacy receive a copy after each review.",
        "Coordinates with the endocrinology clinic and the home-health agency.",
        "Shares the plan with the pulmonology office and the medical-equipment supplier.",
    ),
    "expected_outcome": (
        "Stable chronic conditions managed at home; lifelong management expected.",
    ),
    "symptom_management": ("Call the care team for new or worse symptoms, day or night.",),
    "medication_management": ("Reconcile the medication list at each monthly contact.",),
    "review_schedule": (
        "Review at least every 12 months, and after any hospital stay, ED visit or new diagnosis.",
    ),
}
_NO_CAREGIVER = "Lives alone by choice and manages independently; no caregiver is involved."
_MONTHLY_CALL = {
    "description": "Monthly care-management call to review symptoms, readings and the plan",
    "responsible": "Care coordinator (RN)",
    "responsible_user_id": None,
}


def plan_content(
    *, kind: str, template: str, conditions: list[tuple[int, str]], index: int
) -> dict[str, Any]:
    """Return complete draft JSON for a patient's (condition id, ICD-10-CM code) conditions.

    A comprehensive plan merges every template that matches a condition and lists every
    condition; a disease-specific plan keeps to the primary template's problem.
    """
    chosen = [t for t in TEMPLATES if t.key == template]
    if kind == COMPREHENSIVE:
        chosen += [
            t
            for t in TEMPLATES
            if t.key != template and any(matches(t, code) for _, code in conditions)
        ]
    draft: dict[str, Any] = {}
    for item in chosen:
        draft = template_content(item, conditions, base=draft)
    draft.setdefault("elements", {})
    draft.setdefault("problems", [])
    draft.setdefault("goals", [])
    draft.setdefault("interventions", [])
    linked = {p["condition_id"] for p in draft["problems"]}
    if kind == COMPREHENSIVE:
        draft["problems"] += [
            {"condition_id": pk, "note": ""} for pk, _ in conditions if pk not in linked
        ]
    elif not draft["problems"] and conditions:
        draft["problems"].append({"condition_id": conditions[0][0], "note": ""})
    for key, texts in _NARRATIVE.items():
        if (draft["elements"].get(key) or {}).get("text"):
            continue
        if key == "caregiver_assessment" and index % 5 == 2:
            draft["elements"][key] = {"text": "", "not_applicable": True, "reason": _NO_CAREGIVER}
        else:
            draft["elements"][key] = {"text": texts[index % len(texts)]}
    if not draft["goals"]:
        draft["goals"].append(
            {"key": "symptoms", "what": "Days with symptoms limiting activity", "target": "none"}
        )
    draft["interventions"].append(dict(_MONTHLY_CALL))
    return draft


def reviewed_content(content: dict[str, Any], on: date) -> dict[str, Any]:
    """Return the draft after a yearly review on ``on``: same goals, the review noted."""
    elements = dict(content["elements"])
    medication = dict(elements["medication_management"])
    medication["text"] = (
        f"{medication.get('text', '')} Reviewed with the patient on {on.isoformat()}: no changes."
    ).strip()
    elements["medication_management"] = medication
    return {**content, "elements": elements}

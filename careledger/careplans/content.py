"""The content of a care plan as plain values: elements, problems, goals, thresholds, interventions.

Pure: standard library only. A draft and a published version's snapshot are both a
``PlanContent``; ``to_dict``/``parse_content`` are the one JSON shape, ``problems_of`` checks a
draft field by field and ``missing_elements`` says what publishing still needs (CCM-8).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

# CCM-8: the union of the CMS MLN909188 list and the CY2015 list, in the order a reader expects.
# Structured elements (problems, goals, interventions) are the plan itself: never not-applicable.
PROBLEM_LIST = "problem_list"
GOALS = "measurable_goals"
INTERVENTIONS = "planned_interventions"


@dataclass(frozen=True)
class ElementDef:
    key: str
    label: str
    plain_label: str  # the patient copy's words
    structured: bool = False


ELEMENTS: tuple[ElementDef, ...] = (
    ElementDef(PROBLEM_LIST, "Problem list", "Your health conditions", structured=True),
    ElementDef("expected_outcome", "Expected outcome and prognosis", "What we expect"),
    ElementDef(GOALS, "Measurable treatment goals", "Your goals", structured=True),
    ElementDef("symptom_management", "Symptom management", "Managing your symptoms"),
    ElementDef(
        INTERVENTIONS,
        "Planned interventions and who is responsible",
        "What we will do, and who does it",
        structured=True,
    ),
    ElementDef("medication_management", "Medication management", "Your medicines"),
    ElementDef(
        "cognitive_functional_assessment",
        "Cognitive and functional assessment",
        "Thinking, memory and daily activities",
    ),
    ElementDef("environmental_evaluation", "Environmental evaluation", "Your home and safety"),
    ElementDef("caregiver_assessment", "Caregiver assessment", "Family and caregivers"),
    ElementDef(
        "community_services",
        "Community and social services ordered",
        "Community services and support",
    ),
    ElementDef(
        "outside_coordination",
        "Coordination with outside practitioners and agencies",
        "Other doctors and agencies we work with",
    ),
    ElementDef("review_schedule", "Periodic review schedule", "When we review this plan"),
)
ELEMENT_BY_KEY: dict[str, ElementDef] = {e.key: e for e in ELEMENTS}
NARRATIVE_KEYS: tuple[str, ...] = tuple(e.key for e in ELEMENTS if not e.structured)

MAX_TEXT = 4000
MAX_SHORT = 200


# Monitoring thresholds: UCUM units per metric and the range a human body can show (a level
# outside it is a typing error, not a clinical choice). The devices issue alerts on these.
@dataclass(frozen=True)
class MetricDef:
    label: str
    units: Mapping[str, tuple[float, float]]  # UCUM unit -> (lowest, highest) possible level
    comparators: tuple[str, ...]  # "above": alert when a reading is above the level


METRICS: dict[str, MetricDef] = {
    "systolic": MetricDef("Systolic blood pressure", {"mm[Hg]": (60, 260)}, ("above", "below")),
    "diastolic": MetricDef("Diastolic blood pressure", {"mm[Hg]": (30, 160)}, ("above", "below")),
    "pulse": MetricDef("Pulse", {"/min": (25, 220)}, ("above", "below")),
    "glucose_fasting": MetricDef(
        "Fasting glucose", {"mg/dL": (20, 600), "mmol/L": (1.1, 33.3)}, ("above", "below")
    ),
    "weight_gain_24h": MetricDef(
        "Weight gain in 24 hours", {"[lb_av]": (0.5, 20), "kg": (0.2, 9)}, ("above",)
    ),
    "weight_gain_7d": MetricDef(
        "Weight gain in 7 days", {"[lb_av]": (0.5, 40), "kg": (0.2, 18)}, ("above",)
    ),
    "spo2": MetricDef("Oxygen saturation (SpO2)", {"%": (50, 100)}, ("below",)),
}
COMPARATORS = ("above", "below")
UNIT_WORDS = {"mm[Hg]": "mmHg", "[lb_av]": "lb", "/min": "beats a minute"}


@dataclass(frozen=True)
class Element:
    """One narrative element: its text, or not applicable with the reason."""

    text: str = ""
    not_applicable: bool = False
    reason: str = ""

    @property
    def filled(self) -> bool:
        return bool(self.text.strip()) or (self.not_applicable and bool(self.reason.strip()))


@dataclass(frozen=True)
class Problem:
    condition_id: int
    note: str = ""
    # Copied from the Condition when a version is published, so a snapshot reads on its own.
    icd10_code: str = ""
    description: str = ""


@dataclass(frozen=True)
class Threshold:
    """Alert when the metric is ``comparator`` the warning level; critical is more extreme."""

    metric: str
    comparator: str
    warning: float | None
    critical: float | None
    unit: str


@dataclass(frozen=True)
class Goal:
    key: str  # stable across drafts and versions, so a changed target can be noticed
    what: str
    target: str
    unit: str = ""
    due_on: date | None = None
    thresholds: tuple[Threshold, ...] = ()


@dataclass(frozen=True)
class Intervention:
    description: str
    responsible: str  # a person's name or a role ("care coordinator", "pharmacist")
    responsible_user_id: int | None = None


@dataclass(frozen=True)
class PlanContent:
    elements: Mapping[str, Element] = field(default_factory=dict)
    problems: tuple[Problem, ...] = ()
    goals: tuple[Goal, ...] = ()
    interventions: tuple[Intervention, ...] = ()

    def element(self, key: str) -> Element:
        return self.elements.get(key, Element())


# --- JSON shape -------------------------------------------------------------------------------


def _num(value: float | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if float(value).is_integer() else value


def to_dict(content: PlanContent) -> dict[str, Any]:
    """Return the JSON-ready form of ``content`` (every element present, in CCM-8 order)."""
    return {
        "elements": {
            key: {
                "text": content.element(key).text,
                "not_applicable": content.element(key).not_applicable,
                "reason": content.element(key).reason,
            }
            for key in NARRATIVE_KEYS
        },
        "problems": [
            {
                "condition_id": p.condition_id,
                "note": p.note,
                "icd10_code": p.icd10_code,
                "description": p.description,
            }
            for p in content.problems
        ],
        "goals": [
            {
                "key": g.key,
                "what": g.what,
                "target": g.target,
                "unit": g.unit,
                "due_on": g.due_on.isoformat() if g.due_on else None,
                "thresholds": [
                    {
                        "metric": t.metric,
                        "comparator": t.comparator,
                        "warning": _num(t.warning),
                        "critical": _num(t.critical),
                        "unit": t.unit,
                    }
                    for t in g.thresholds
                ],
            }
            for g in content.goals
        ],
        "interventions": [
            {
                "description": i.description,
                "responsible": i.responsible,
                "responsible_user_id": i.responsible_user_id,
            }
            for i in content.interventions
        ],
    }


class ContentErrors(Exception):
    """Problems with submitted content, each under the field it belongs to."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


class _Collector:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, where: str, message: str) -> None:
        self.errors.setdefault(where, []).append(message)


def _text(raw: Any, where: str, errors: _Collector, limit: int = MAX_TEXT) -> str:
    if raw is None:
        return ""
    if not isinstance(raw, str):
        errors.add(where, "Enter text.")
        return ""
    value = raw.strip()
    if len(value) > limit:
        errors.add(where, f"Keep this under {limit} characters.")
    return value


def _float(raw: Any, where: str, errors: _Collector) -> float | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, bool):
        errors.add(where, "Enter a number.")
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        errors.add(where, "Enter a number.")
        return None
    if value != value or value in (float("inf"), float("-inf")):
        errors.add(where, "Enter a number.")
        return None
    return value


def _date(raw: Any, where: str, errors: _Collector) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        errors.add(where, "Enter a date as YYYY-MM-DD.")
        return None


def _int(raw: Any, where: str, errors: _Collector) -> int | None:
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except (TypeError, ValueError):
        errors.add(where, "Choose from the list.")
        return None


def _threshold(raw: Mapping[str, Any], where: str, errors: _Collector) -> Threshold | None:
    before = sum(len(v) for v in errors.errors.values())
    metric = str(raw.get("metric") or "")
    comparator = str(raw.get("comparator") or "")
    unit = str(raw.get("unit") or "")
    warning = _float(raw.get("warning"), f"{where}.warning", errors)
    critical = _float(raw.get("critical"), f"{where}.critical", errors)
    definition = METRICS.get(metric)
    if definition is None:
        errors.add(f"{where}.metric", f"Choose a metric: {', '.join(METRICS)}.")
        return None
    if comparator not in definition.comparators:
        allowed = " or ".join(definition.comparators)
        errors.add(f"{where}.comparator", f"{definition.label} alerts only {allowed} a level.")
    if unit not in definition.units:
        allowed = ", ".join(definition.units)
        errors.add(f"{where}.unit", f"{definition.label} is measured in {allowed} (UCUM).")
    if warning is None and critical is None:
        errors.add(f"{where}.warning", "Give a warning level, a critical level or both.")
    if unit in definition.units:
        low, high = definition.units[unit]
        for name, level in (("warning", warning), ("critical", critical)):
            if level is not None and not low <= level <= high:
                errors.add(
                    f"{where}.{name}",
                    f"{level:g} {unit} is not a possible {definition.label.lower()}: "
                    f"use {low:g} to {high:g}.",
                )
    in_range = not any(k.startswith(f"{where}.") for k in errors.errors)
    if in_range and warning is not None and critical is not None and comparator in COMPARATORS:
        more_extreme = critical >= warning if comparator == "above" else critical <= warning
        if not more_extreme or critical == warning:
            word = "higher" if comparator == "above" else "lower"
            errors.add(f"{where}.critical", f"The critical level must be {word} than the warning.")
    if sum(len(v) for v in errors.errors.values()) > before:
        return None
    return Threshold(metric, comparator, warning, critical, unit)


def _items(raw: Any, where: str, errors: _Collector) -> Sequence[Mapping[str, Any]]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(x, Mapping) for x in raw):
        errors.add(where, "Send a list of objects.")
        return ()
    return raw


def parse_content(
    raw: Mapping[str, Any], *, goal_key: Any = None
) -> tuple[PlanContent, dict[str, list[str]]]:
    """Read content from its JSON shape; return it with every problem found, by field.

    ``goal_key`` makes keys for goals that have none (a callable taking the goal's index).
    Fields are named like ``goals[0].thresholds[1].warning``.
    """
    errors = _Collector()
    elements: dict[str, Element] = {}
    raw_elements = raw.get("elements") or {}
    if not isinstance(raw_elements, Mapping):
        errors.add("elements", "Send an object keyed by element.")
        raw_elements = {}
    for key in raw_elements:
        if key not in ELEMENT_BY_KEY or ELEMENT_BY_KEY[key].structured:
            errors.add(f"elements.{key}", "This is not a narrative care-plan element.")
    for key in NARRATIVE_KEYS:
        item = raw_elements.get(key) or {}
        if isinstance(item, str):
            item = {"text": item}
        if not isinstance(item, Mapping):
            errors.add(f"elements.{key}", "Send text, or not_applicable with a reason.")
            continue
        text = _text(item.get("text"), f"elements.{key}.text", errors)
        not_applicable = bool(item.get("not_applicable"))
        reason = _text(item.get("reason"), f"elements.{key}.reason", errors, MAX_SHORT * 2)
        if not_applicable and not reason:
            errors.add(f"elements.{key}.reason", "Say why this element does not apply.")
        elements[key] = Element(text=text, not_applicable=not_applicable, reason=reason)

    problems: list[Problem] = []
    seen_conditions: set[int] = set()
    for n, item in enumerate(_items(raw.get("problems"), "problems", errors)):
        where = f"problems[{n}]"
        condition_id = _int(item.get("condition_id"), f"{where}.condition_id", errors)
        if condition_id is None:
            errors.add(f"{where}.condition_id", "Choose one of the patient's conditions.")
            continue
        if condition_id in seen_conditions:
            errors.add(f"{where}.condition_id", "This condition is already on the list.")
            continue
        seen_conditions.add(condition_id)
        problems.append(
            Problem(
                condition_id=condition_id,
                note=_text(item.get("note"), f"{where}.note", errors, MAX_SHORT * 2),
                icd10_code=str(item.get("icd10_code") or ""),
                description=str(item.get("description") or ""),
            )
        )

    goals: list[Goal] = []
    for n, item in enumerate(_items(raw.get("goals"), "goals", errors)):
        where = f"goals[{n}]"
        what = _text(item.get("what"), f"{where}.what", errors, MAX_SHORT)
        target = _text(item.get("target"), f"{where}.target", errors, MAX_SHORT)
        if not what:
            errors.add(f"{where}.what", "Say what the goal measures.")
        if not target:
            errors.add(f"{where}.target", "Give the target to reach.")
        thresholds = tuple(
            t
            for k, t_raw in enumerate(_items(item.get("thresholds"), f"{where}.thresholds", errors))
            if (t := _threshold(t_raw, f"{where}.thresholds[{k}]", errors)) is not None
        )
        key = str(item.get("key") or "") or (goal_key(n) if goal_key else f"g{n + 1}")
        goals.append(
            Goal(
                key=key[:40],
                what=what,
                target=target,
                unit=_text(item.get("unit"), f"{where}.unit", errors, 40),
                due_on=_date(item.get("due_on"), f"{where}.due_on", errors),
                thresholds=thresholds,
            )
        )
    keys = [g.key for g in goals]
    if len(set(keys)) != len(keys):
        errors.add("goals", "Two goals share a key.")

    interventions: list[Intervention] = []
    for n, item in enumerate(_items(raw.get("interventions"), "interventions", errors)):
        where = f"interventions[{n}]"
        description = _text(item.get("description"), f"{where}.description", errors, MAX_SHORT * 2)
        responsible = _text(item.get("responsible"), f"{where}.responsible", errors, MAX_SHORT)
        user_id = _int(item.get("responsible_user_id"), f"{where}.responsible_user_id", errors)
        if not description:
            errors.add(f"{where}.description", "Describe the intervention.")
        if not responsible and user_id is None:
            errors.add(f"{where}.responsible", "Name the person or role responsible.")
        interventions.append(Intervention(description, responsible, user_id))

    content = PlanContent(
        elements=elements,
        problems=tuple(problems),
        goals=tuple(goals),
        interventions=tuple(interventions),
    )
    return content, errors.errors


# --- Completeness, changes and comparison -----------------------------------------------------


def missing_elements(content: PlanContent) -> list[tuple[str, str]]:
    """List every CCM-8 element still empty, as (key, message), in CCM-8 order."""
    missing: list[tuple[str, str]] = []
    for definition in ELEMENTS:
        if definition.key == PROBLEM_LIST:
            empty = not content.problems
            message = "Problem list: link at least one of the patient's conditions."
        elif definition.key == GOALS:
            empty = not content.goals
            message = "Measurable treatment goals: add at least one goal with its target."
        elif definition.key == INTERVENTIONS:
            empty = not content.interventions
            message = "Planned interventions: add at least one, with who is responsible."
        else:
            empty = not content.element(definition.key).filled
            message = f"{definition.label}: fill it in, or mark it not applicable with a reason."
        if empty:
            missing.append((definition.key, message))
    return missing


def goal_targets(content: PlanContent) -> dict[str, tuple[str, str, str]]:
    """Return each goal's (what, target, unit) by key: what a review compares."""
    return {g.key: (g.what.lower(), g.target.lower(), g.unit) for g in content.goals}


def goal_targets_changed(published: PlanContent, draft: PlanContent) -> list[str]:
    """Name the goals whose target a draft changed, added or dropped since ``published``."""
    before, after = goal_targets(published), goal_targets(draft)
    changed = [after[k][0] or k for k in after if before.get(k) != after[k]]
    changed += [before[k][0] or k for k in before if k not in after]
    return changed


def with_problem_details(
    content: PlanContent, details: Mapping[int, tuple[str, str]]
) -> PlanContent:
    """Copy each problem's ICD-10-CM code and description from ``details`` (condition id ->)."""
    problems = tuple(
        replace(p, icd10_code=details[p.condition_id][0], description=details[p.condition_id][1])
        if p.condition_id in details
        else p
        for p in content.problems
    )
    return replace(content, problems=problems)


def threshold_words(t: Threshold) -> str:
    """Say a threshold in plain words: 'above 135 mmHg (critical above 180)'."""
    unit = UNIT_WORDS.get(t.unit, t.unit)
    parts = []
    if t.warning is not None:
        parts.append(f"{t.comparator} {t.warning:g} {unit}")
    if t.critical is not None:
        parts.append(f"urgent {t.comparator} {t.critical:g} {unit}")
    return "; ".join(parts)


@dataclass(frozen=True)
class DiffRow:
    label: str
    left: tuple[str, ...]
    right: tuple[str, ...]

    @property
    def changed(self) -> bool:
        return self.left != self.right


def _lines(content: PlanContent, key: str) -> tuple[str, ...]:
    if key == PROBLEM_LIST:
        # The order of a problem list carries no meaning: sort it so a diff shows only changes.
        return tuple(
            sorted(
                f"{p.icd10_code} {p.description}".strip() + (f" — {p.note}" if p.note else "")
                for p in content.problems
            )
        )
    if key == GOALS:
        lines = []
        for g in content.goals:
            due = f", by {g.due_on.isoformat()}" if g.due_on else ""
            lines.append(f"{g.what}: {g.target} {g.unit}".rstrip() + due)
            lines.extend(
                f"  alert on {METRICS[t.metric].label.lower()} {threshold_words(t)}"
                for t in g.thresholds
            )
        return tuple(lines)
    if key == INTERVENTIONS:
        return tuple(f"{i.description} — {i.responsible}" for i in content.interventions)
    element = content.element(key)
    if element.not_applicable:
        return (f"Not applicable: {element.reason}",)
    return tuple(line for line in element.text.splitlines() if line.strip())


def diff(left: PlanContent, right: PlanContent) -> list[DiffRow]:
    """Compare two contents element by element, in CCM-8 order."""
    return [DiffRow(e.label, _lines(left, e.key), _lines(right, e.key)) for e in ELEMENTS]


def element_lines(content: PlanContent) -> list[tuple[ElementDef, tuple[str, ...]]]:
    """Return every element with its lines, for reading a plan."""
    return [(e, _lines(content, e.key)) for e in ELEMENTS]


_SAFE_KEY = re.compile(r"[^a-z0-9_-]")


def slug_key(text: str) -> str:
    """Make a goal key from words."""
    return _SAFE_KEY.sub("-", text.lower())[:40] or "goal"

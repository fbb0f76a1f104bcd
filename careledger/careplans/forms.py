"""The draft editor: turn posted fields into draft JSON and back into rows with their errors.

The editor posts every element, problem, goal, threshold and intervention as flat fields
(``goal-0-t1-warning``); blank rows are skipped. Service errors come back named by their JSON
path (``goals[0].thresholds[1].warning``) and are put on the row that produced them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.http import QueryDict

from careledger.careplans.content import ELEMENTS, METRICS, NARRATIVE_KEYS
from careledger.patients.models import Condition

BLANK_GOALS = 1
BLANK_THRESHOLDS = 1
BLANK_INTERVENTIONS = 2
MAX_ROWS = 40


@dataclass
class ElementRow:
    key: str
    label: str
    text: str = ""
    not_applicable: bool = False
    reason: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class ProblemRow:
    condition: Condition
    checked: bool = False
    note: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class ThresholdRow:
    prefix: str
    metric: str = ""
    comparator: str = ""
    warning: str = ""
    critical: str = ""
    unit: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class GoalRow:
    prefix: str
    key: str = ""
    what: str = ""
    target: str = ""
    unit: str = ""
    due_on: str = ""
    thresholds: list[ThresholdRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@dataclass
class InterventionRow:
    prefix: str
    description: str = ""
    responsible: str = ""
    responsible_user_id: str = ""
    errors: list[str] = field(default_factory=list)


@dataclass
class Editor:
    elements: list[ElementRow]
    problems: list[ProblemRow]
    goals: list[GoalRow]
    interventions: list[InterventionRow]
    other_errors: list[str] = field(default_factory=list)
    # JSON path of each posted row, so service errors land on the right row.
    paths: dict[str, Any] = field(default_factory=dict)

    def attach(self, errors: Mapping[str, list[str]]) -> None:
        """Put service errors on their rows; anything unplaced is shown at the top."""
        for path, messages in errors.items():
            row = self._row_for(path)
            label = path.rsplit(".", 1)[-1].replace("_", " ")
            for message in messages:
                if row is None:
                    self.other_errors.append(message)
                else:
                    row.errors.append(f"{label.capitalize()}: {message}")

    def _row_for(self, path: str) -> Any:
        best = None
        for prefix in self.paths:
            if (path == prefix or path.startswith(prefix + ".")) and (
                best is None or len(prefix) > len(best)
            ):
                best = prefix
        return self.paths[best] if best is not None else None


def _s(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def editor_from_draft(draft: Mapping[str, Any], conditions: list[Condition]) -> Editor:
    """Lay out a stored draft as editor rows, with blank rows to add more."""
    elements_raw = draft.get("elements") or {}
    elements = []
    for definition in ELEMENTS:
        if definition.key not in NARRATIVE_KEYS:
            continue
        item = elements_raw.get(definition.key) or {}
        elements.append(
            ElementRow(
                key=definition.key,
                label=definition.label,
                text=item.get("text", ""),
                not_applicable=bool(item.get("not_applicable")),
                reason=item.get("reason", ""),
            )
        )
    linked = {int(p["condition_id"]): p for p in draft.get("problems") or []}
    problems = [
        ProblemRow(
            condition=c,
            checked=c.pk in linked,
            note=(linked.get(c.pk) or {}).get("note", ""),
        )
        for c in conditions
    ]
    goals = []
    for n, g in enumerate([*(draft.get("goals") or []), *([{}] * BLANK_GOALS)]):
        thresholds = [
            ThresholdRow(
                prefix=f"goal-{n}-t{k}",
                metric=t.get("metric", ""),
                comparator=t.get("comparator", ""),
                warning=_s(t.get("warning")),
                critical=_s(t.get("critical")),
                unit=t.get("unit", ""),
            )
            for k, t in enumerate([*(g.get("thresholds") or []), *([{}] * BLANK_THRESHOLDS)])
        ]
        goals.append(
            GoalRow(
                prefix=f"goal-{n}",
                key=g.get("key", ""),
                what=g.get("what", ""),
                target=g.get("target", ""),
                unit=g.get("unit", ""),
                due_on=g.get("due_on") or "",
                thresholds=thresholds,
            )
        )
    interventions = [
        InterventionRow(
            prefix=f"int-{n}",
            description=i.get("description", ""),
            responsible=i.get("responsible", ""),
            responsible_user_id=_s(i.get("responsible_user_id")),
        )
        for n, i in enumerate([*(draft.get("interventions") or []), *([{}] * BLANK_INTERVENTIONS)])
    ]
    return Editor(elements, problems, goals, interventions)


def _count(post: QueryDict, prefix: str) -> int:
    n = 0
    while n < MAX_ROWS and any(key.startswith(f"{prefix}{n}-") for key in post):
        n += 1
    return n


def read_editor(post: QueryDict, conditions: list[Condition]) -> tuple[dict[str, Any], Editor]:
    """Read the posted editor: the draft JSON to save, and the rows to show again."""
    elements: dict[str, Any] = {}
    element_rows = []
    editor = Editor([], [], [], [])
    for definition in ELEMENTS:
        if definition.key not in NARRATIVE_KEYS:
            continue
        row = ElementRow(
            key=definition.key,
            label=definition.label,
            text=post.get(f"el-{definition.key}-text", ""),
            not_applicable=post.get(f"el-{definition.key}-na") == "on",
            reason=post.get(f"el-{definition.key}-reason", ""),
        )
        element_rows.append(row)
        elements[definition.key] = {
            "text": row.text,
            "not_applicable": row.not_applicable,
            "reason": row.reason,
        }
        editor.paths[f"elements.{definition.key}"] = row
    problems: list[dict[str, Any]] = []
    problem_rows = []
    for condition in conditions:
        row_p = ProblemRow(
            condition=condition,
            checked=post.get(f"problem-{condition.pk}") == "on",
            note=post.get(f"problem-{condition.pk}-note", ""),
        )
        problem_rows.append(row_p)
        if row_p.checked:
            editor.paths[f"problems[{len(problems)}]"] = row_p
            problems.append({"condition_id": condition.pk, "note": row_p.note})
    goals: list[dict[str, Any]] = []
    goal_rows = []
    for n in range(_count(post, "goal-")):
        p = f"goal-{n}"
        row_g = GoalRow(
            prefix=p,
            key=post.get(f"{p}-key", ""),
            what=post.get(f"{p}-what", ""),
            target=post.get(f"{p}-target", ""),
            unit=post.get(f"{p}-unit", ""),
            due_on=post.get(f"{p}-due_on", ""),
        )
        thresholds: list[dict[str, Any]] = []
        for k in range(_count(post, f"{p}-t")):
            t = f"{p}-t{k}"
            row_t = ThresholdRow(
                prefix=t,
                metric=post.get(f"{t}-metric", ""),
                comparator=post.get(f"{t}-comparator", ""),
                warning=post.get(f"{t}-warning", "").strip(),
                critical=post.get(f"{t}-critical", "").strip(),
                unit=post.get(f"{t}-unit", ""),
            )
            row_g.thresholds.append(row_t)
            if row_t.metric or row_t.warning or row_t.critical:
                editor.paths[f"goals[{len(goals)}].thresholds[{len(thresholds)}]"] = row_t
                thresholds.append(
                    {
                        "metric": row_t.metric,
                        "comparator": row_t.comparator,
                        "warning": row_t.warning or None,
                        "critical": row_t.critical or None,
                        "unit": row_t.unit,
                    }
                )
        if not row_g.thresholds or row_g.thresholds[-1].metric:
            row_g.thresholds.append(ThresholdRow(prefix=f"{p}-t{len(row_g.thresholds)}"))
        goal_rows.append(row_g)
        if row_g.what.strip() or row_g.target.strip() or thresholds:
            editor.paths[f"goals[{len(goals)}]"] = row_g
            goals.append(
                {
                    "key": row_g.key,
                    "what": row_g.what,
                    "target": row_g.target,
                    "unit": row_g.unit,
                    "due_on": row_g.due_on or None,
                    "thresholds": thresholds,
                }
            )
    if not goal_rows or goal_rows[-1].what:
        goal_rows.append(
            GoalRow(prefix=f"goal-{len(goal_rows)}", thresholds=[ThresholdRow(prefix="x")])
        )
        goal_rows[-1].thresholds[0].prefix = f"{goal_rows[-1].prefix}-t0"
    interventions: list[dict[str, Any]] = []
    intervention_rows = []
    for n in range(_count(post, "int-")):
        p = f"int-{n}"
        row_i = InterventionRow(
            prefix=p,
            description=post.get(f"{p}-description", ""),
            responsible=post.get(f"{p}-responsible", ""),
            responsible_user_id=post.get(f"{p}-user", ""),
        )
        intervention_rows.append(row_i)
        if row_i.description.strip() or row_i.responsible.strip():
            editor.paths[f"interventions[{len(interventions)}]"] = row_i
            interventions.append(
                {
                    "description": row_i.description,
                    "responsible": row_i.responsible,
                    "responsible_user_id": row_i.responsible_user_id or None,
                }
            )
    if not intervention_rows or intervention_rows[-1].description:
        intervention_rows.append(InterventionRow(prefix=f"int-{len(intervention_rows)}"))
    editor.elements = element_rows
    editor.problems = problem_rows
    editor.goals = goal_rows
    editor.interventions = intervention_rows
    draft = {
        "elements": elements,
        "problems": problems,
        "goals": goals,
        "interventions": interventions,
    }
    return draft, editor


METRIC_CHOICES = [(key, m.label) for key, m in METRICS.items()]
UNIT_CHOICES = sorted({u for m in METRICS.values() for u in m.units})

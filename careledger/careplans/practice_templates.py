"""A practice's own versions of the shipped templates: the one in force, saving, resetting.

The shipped templates (``plan_templates``) are where every practice starts. A practice's
clinical leads (practitioners, managers and admins: permission ``careplan.templates``) edit its
copy; nothing is edited in place: each save, and each reset to the shipped content, is the next
immutable ``TemplateVersion`` with who saved it, when and why, and an audit event written in the
same transaction. Content is checked like a care-plan draft (``content.parse_content``): goals
with a target, thresholds with a possible level and a UCUM unit, each problem named by its field
(``goals[0].thresholds[0].warning``). Starting a plan from a template uses the practice's latest
version, or the shipped template while the practice has none.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Practice
from careledger.audit.services import record_event
from careledger.careplans.content import NARRATIVE_KEYS, parse_content, to_dict
from careledger.careplans.models import TemplateVersion
from careledger.careplans.plan_templates import (
    TEMPLATE_BY_KEY,
    TEMPLATES,
    PlanTemplate,
    from_content,
    shipped_content,
)

PERMISSION = "careplan.templates"
RESET_REASON = "Reset to the shipped template."
MAX_REASON = 400
MAX_PREFIXES = 30
# An ICD-10-CM category (I10) or a code's beginning (I11.0, E11.65).
ICD10_PREFIX = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")


class TemplateConflict(Exception):
    """Someone saved the practice's template after the caller opened it; nothing was stored."""

    def __init__(self, *, latest: TemplateVersion | None, expected_number: int) -> None:
        self.latest = latest
        self.expected_number = expected_number
        self.current_number = latest.number if latest else 0
        if latest is not None:
            by = latest.saved_by.get_full_name() or latest.saved_by.get_username()
            self.message = (
                f"This template was saved by {by} (version {latest.number}) after you opened "
                f"version {expected_number}. Your changes were not saved; compare them with the "
                "saved template and save again."
            )
        else:
            self.message = "This template changed after you opened it; open it again."
        super().__init__(self.message)


def shipped(key: str) -> PlanTemplate:
    """Return the shipped template ``key``, or refuse the key naming the field."""
    try:
        return TEMPLATE_BY_KEY[key]
    except KeyError:
        raise ValidationError(
            {"template": [f"Choose a template: {', '.join(TEMPLATE_BY_KEY)}."]}
        ) from None


def latest_version(practice_id: int, key: str) -> TemplateVersion | None:
    return (
        TemplateVersion.objects.filter(practice_id=practice_id, template_key=key)
        .select_related("saved_by")
        .order_by("-number")
        .first()
    )


def template_for(practice_id: int, key: str) -> tuple[PlanTemplate, int]:
    """Return the template a practice starts plans from and its version number (0: shipped)."""
    template = shipped(key)
    latest = latest_version(practice_id, key)
    if latest is None:
        return template, 0
    return from_content(template, latest.content), latest.number


def history(practice: Practice, key: str) -> list[TemplateVersion]:
    """Every saved version of the practice's template, newest first."""
    return list(
        TemplateVersion.objects.filter(practice=practice, template_key=key)
        .select_related("saved_by")
        .order_by("-number")
    )


@dataclass(frozen=True)
class TemplateRow:
    """One template as the practice has it: shipped, or its latest saved version."""

    template: PlanTemplate
    latest: TemplateVersion | None
    versions: int

    @property
    def edited(self) -> bool:
        """Whether the practice's template differs from the shipped one."""
        return self.latest is not None and self.latest.content != normalized_shipped(self.template)

    @property
    def number(self) -> int:
        return self.latest.number if self.latest else 0


def template_rows(practice: Practice) -> list[TemplateRow]:
    """Every shipped template, with the practice's latest version of it when there is one."""
    latest: dict[str, TemplateVersion] = {}
    counts: dict[str, int] = {}
    for version in (
        TemplateVersion.objects.filter(practice=practice)
        .select_related("saved_by")
        .order_by("template_key", "number")
    ):
        latest[version.template_key] = version
        counts[version.template_key] = counts.get(version.template_key, 0) + 1
    return [
        TemplateRow(template=t, latest=latest.get(t.key), versions=counts.get(t.key, 0))
        for t in TEMPLATES
    ]


# --- Checking template content ----------------------------------------------------------------


def _prefixes(raw: Any, errors: dict[str, list[str]]) -> list[str]:
    if isinstance(raw, str):
        raw = re.split(r"[\s,;]+", raw)
    if raw is None:
        raw = []
    if not isinstance(raw, list | tuple):
        errors.setdefault("icd10_prefixes", []).append("Send a list of ICD-10-CM codes.")
        return []
    prefixes: list[str] = []
    for n, item in enumerate(raw):
        code = str(item or "").strip().upper()
        if not code:
            continue
        if not ICD10_PREFIX.match(code):
            errors.setdefault(f"icd10_prefixes[{n}]", []).append(
                f"{code[:20]} is not an ICD-10-CM code or category (like I10 or I11.0)."
            )
        elif code not in prefixes:
            prefixes.append(code)
    if not prefixes and not errors:
        errors.setdefault("icd10_prefixes", []).append(
            "Give at least one ICD-10-CM code or category the template links as a problem."
        )
    if len(prefixes) > MAX_PREFIXES:
        errors.setdefault("icd10_prefixes", []).append(f"Keep to {MAX_PREFIXES} codes.")
    return prefixes


def _list(raw: Any) -> list[Any]:
    return list(raw) if isinstance(raw, list | tuple) else []


def check_template(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Check template content as a care-plan draft is checked; return it as stored.

    Raises ValidationError with every problem under its field. A template holds the problems
    it links (ICD-10-CM codes), narrative text, goals with thresholds, and interventions with
    the role responsible; dates, people and not-applicable belong to a patient's plan.
    """
    errors: dict[str, list[str]] = {}
    prefixes = _prefixes(raw.get("icd10_prefixes"), errors)
    if raw.get("problems"):
        errors.setdefault("problems", []).append(
            "A template links conditions by ICD-10-CM code: use icd10_prefixes."
        )
    raw_elements = raw.get("elements") or {}
    elements: dict[str, Any] = {}
    if isinstance(raw_elements, Mapping):
        for key, item in raw_elements.items():
            if isinstance(item, Mapping):
                if item.get("not_applicable"):
                    errors.setdefault(f"elements.{key}.not_applicable", []).append(
                        "A template pre-fills text; mark an element not applicable on the "
                        "patient's plan."
                    )
                elements[key] = {"text": item.get("text")}
            else:
                elements[key] = item
    else:
        elements = raw_elements  # parse_content names the error
    for n, goal in enumerate(_list(raw.get("goals"))):
        if isinstance(goal, Mapping) and goal.get("due_on"):
            errors.setdefault(f"goals[{n}].due_on", []).append(
                "A template carries no dates: set by when on the patient's plan."
            )
    interventions = _list(raw.get("interventions"))
    for n, step in enumerate(interventions):
        if isinstance(step, Mapping) and step.get("responsible_user_id") not in (None, ""):
            errors.setdefault(f"interventions[{n}].responsible_user_id", []).append(
                "A template names a role; choose the person on the patient's plan."
            )
    content, parse_errors = parse_content(
        {
            "elements": elements,
            "goals": raw.get("goals"),
            "interventions": raw.get("interventions"),
        },
        goal_key=lambda _n: uuid.uuid4().hex[:10],
    )
    for where, messages in parse_errors.items():
        errors.setdefault(where, []).extend(messages)
    if errors:
        raise ValidationError(errors)
    stored = to_dict(content)
    return {
        "icd10_prefixes": prefixes,
        "elements": {
            key: stored["elements"][key]["text"]
            for key in NARRATIVE_KEYS
            if stored["elements"][key]["text"]
        },
        "goals": [
            {name: goal[name] for name in ("key", "what", "target", "unit", "thresholds")}
            for goal in stored["goals"]
        ],
        "interventions": [
            {"description": step["description"], "responsible": step["responsible"]}
            for step in stored["interventions"]
        ],
    }


def normalized_shipped(template: PlanTemplate) -> dict[str, Any]:
    """The shipped template as a practice's version stores it."""
    return check_template(shipped_content(template))


def as_draft(content: Mapping[str, Any]) -> dict[str, Any]:
    """Lay stored template content out as draft JSON (for the editor and for reading)."""
    return {
        "elements": {
            key: {"text": text, "not_applicable": False, "reason": ""}
            for key, text in (content.get("elements") or {}).items()
        },
        "problems": [],
        "goals": [{**g, "due_on": None} for g in content.get("goals") or []],
        "interventions": [
            {**i, "responsible_user_id": None} for i in content.get("interventions") or []
        ],
    }


# --- Saving -----------------------------------------------------------------------------------


def _require_lead(ctx: PracticeContext) -> None:
    if not ctx.may(PERMISSION):
        raise PermissionDenied(
            "Only the practice's practitioners, managers and admins edit its templates."
        )


def _reason(raw: str, default: str = "") -> str:
    reason = (raw or "").strip() or default
    if not reason:
        raise ValidationError({"reason": ["Say why the template changes."]})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": [f"Keep the reason under {MAX_REASON} characters."]})
    return reason


def _store(
    *,
    ctx: PracticeContext,
    key: str,
    content: dict[str, Any],
    action: str,
    reason: str,
    now: datetime,
    expected_number: int | None,
) -> TemplateVersion:
    event = (
        "careplan.template_reset"
        if action == TemplateVersion.Action.RESET
        else "careplan.template_saved"
    )
    with transaction.atomic():
        latest = latest_version(ctx.practice.pk, key)
        current = latest.number if latest else 0
        if expected_number is not None and expected_number != current:
            raise TemplateConflict(latest=latest, expected_number=expected_number)
        version = TemplateVersion(
            practice=ctx.practice,
            template_key=key,
            number=current + 1,
            content=content,
            action=action,
            reason=reason,
            saved_at=now,
            saved_by=ctx.user,
        )
        try:
            with transaction.atomic():
                version.save()
        except IntegrityError:
            # Someone else stored this number meanwhile: theirs stands, this save is refused.
            raise TemplateConflict(
                latest=latest_version(ctx.practice.pk, key), expected_number=current
            ) from None
        record_event(
            event,
            actor=ctx.user,
            practice=ctx.practice,
            obj=version,
            source_ip=ctx.source_ip,
            details={
                "template": key,
                "number": version.number,
                "action": action,
                "reason": reason[:200],
            },
            now=now,
        )
    return version


def save_template(
    *,
    ctx: PracticeContext,
    key: str,
    content: Mapping[str, Any],
    reason: str,
    now: datetime,
    expected_number: int | None = None,
) -> TemplateVersion:
    """Store the practice's edited template as its next version.

    ``expected_number`` is the version the edit started from (0: the shipped template); when
    someone saved since, ``TemplateConflict`` is raised and nothing is stored.
    """
    _require_lead(ctx)
    shipped(key)
    errors: dict[str, list[str]] = {}
    try:
        checked = check_template(content)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        checked = {}
    try:
        why = _reason(reason)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        why = ""
    if errors:
        raise ValidationError(errors)
    return _store(
        ctx=ctx,
        key=key,
        content=checked,
        action=TemplateVersion.Action.EDITED,
        reason=why,
        now=now,
        expected_number=expected_number,
    )


def reset_template(
    *,
    ctx: PracticeContext,
    key: str,
    now: datetime,
    reason: str = "",
    expected_number: int | None = None,
) -> TemplateVersion:
    """Store a new version equal to the shipped template; earlier versions stay on record."""
    _require_lead(ctx)
    template = shipped(key)
    return _store(
        ctx=ctx,
        key=key,
        content=normalized_shipped(template),
        action=TemplateVersion.Action.RESET,
        reason=_reason(reason, RESET_REASON),
        now=now,
        expected_number=expected_number,
    )

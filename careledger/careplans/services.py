"""Write care plans: start, save a draft, publish, sign, share; each write leaves an audit event.

Clinical staff may draft and revise; only a physician or qualified health professional with an
individual NPI signs (CCM-10). Drafts use optimistic concurrency: a save names the revision it
started from, and a stale save is refused with ``DraftConflict`` so nobody's work is overwritten.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, User
from careledger.accounts.roles import RuleClass
from careledger.audit.models import AuditEvent
from careledger.audit.services import record_event
from careledger.careplans.content import (
    PlanContent,
    missing_elements,
    parse_content,
    to_dict,
    with_problem_details,
)
from careledger.careplans.models import (
    AcuteEvent,
    CarePlan,
    CarePlanVersion,
    DraftRevision,
    Kind,
    MonitoringThreshold,
    Sharing,
)
from careledger.careplans.plan_templates import PlanTemplate, template_content
from careledger.careplans.practice_templates import template_for
from careledger.lib.localtime import local_today
from careledger.patients.models import Condition, Patient


class DraftConflict(Exception):
    """Someone saved the draft after the caller loaded it; the caller's save was not applied."""

    def __init__(self, *, plan: CarePlan, expected_revision: int) -> None:
        self.plan = plan
        self.expected_revision = expected_revision
        self.current_revision = plan.revision
        by = plan.draft_saved_by.get_full_name() or plan.draft_saved_by.get_username()
        self.saved_by = by
        self.saved_at = plan.draft_saved_at
        self.message = (
            f"This draft was saved by {by} (revision {plan.revision}) after you opened "
            f"revision {expected_revision}. Your changes were not saved; compare them with the "
            "saved draft and save again."
        )
        super().__init__(self.message)


class SignOffRefused(PermissionDenied):
    """Only a physician or qualified health professional with an NPI signs a plan (CCM-10)."""


def field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _new_goal_key(_index: int) -> str:
    return uuid.uuid4().hex[:10]


def check_content(*, ctx: PracticeContext, patient: Patient, raw: Mapping[str, Any]) -> PlanContent:
    """Validate draft JSON for this patient: every problem is raised under its field."""
    content, errors = parse_content(raw, goal_key=_new_goal_key)
    own_conditions = set(patient.conditions.values_list("id", flat=True))
    for n, problem in enumerate(content.problems):
        if problem.condition_id not in own_conditions:
            errors.setdefault(f"problems[{n}].condition_id", []).append(
                "Choose one of this patient's conditions."
            )
    members = set(
        Membership.objects.filter(practice=ctx.practice, is_active=True).values_list(
            "user_id", flat=True
        )
    )
    for n, step in enumerate(content.interventions):
        if step.responsible_user_id is not None and step.responsible_user_id not in members:
            errors.setdefault(f"interventions[{n}].responsible_user_id", []).append(
                "This person is not a member of the practice."
            )
    if errors:
        raise ValidationError(errors)
    return content


def _kind(kind: str) -> str:
    if kind not in Kind.values:
        raise field_error("kind", f"Choose {' or '.join(Kind.values)}.")
    return kind


def _audit(
    event: str,
    *,
    ctx: PracticeContext,
    patient_id: int,
    obj: Any,
    now: datetime,
    details: dict[str, Any] | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
) -> None:
    record_event(
        event,
        actor=ctx.user,
        practice=ctx.practice,
        patient_id=patient_id,
        obj=obj,
        source_ip=ctx.source_ip,
        details=details,
        outcome=outcome,
        now=now,
    )


def conditions_of(patient: Patient) -> list[tuple[int, str]]:
    return list(patient.conditions.order_by("id").values_list("id", "icd10_code"))


def start_plan(
    *, ctx: PracticeContext, patient: Patient, kind: str, now: datetime, template: str = ""
) -> CarePlan:
    """Start the patient's plan of ``kind``, empty or pre-filled from a template."""
    _kind(kind)
    # The practice's latest version of the template, or the shipped one (practice_templates).
    chosen: PlanTemplate | None = None
    template_version = 0
    if template:
        chosen, template_version = template_for(patient.practice_id, template)
    if CarePlan.objects.filter(patient=patient, kind=kind).exists():
        raise field_error("kind", "This patient already has a plan of this kind: edit its draft.")
    raw: dict[str, Any] = {}
    if chosen is not None:
        raw = template_content(chosen, conditions_of(patient))
    content = check_content(ctx=ctx, patient=patient, raw=raw)
    draft = to_dict(content)
    plan = CarePlan(
        patient=patient,
        kind=kind,
        revision=1,
        draft=draft,
        draft_saved_at=now,
        draft_saved_by=ctx.user,
        created_at=now,
        created_by=ctx.user,
        template=template,
    )
    with transaction.atomic():
        try:
            with transaction.atomic():
                plan.save()
        except IntegrityError:
            raise field_error("kind", "This patient already has a plan of this kind.") from None
        DraftRevision.objects.create(
            plan=plan, revision=1, content=draft, saved_at=now, saved_by=ctx.user
        )
        _audit(
            "careplan.started",
            ctx=ctx,
            patient_id=patient.pk,
            obj=plan,
            now=now,
            details={"kind": kind, "template": template, "template_version": template_version},
        )
    return plan


def save_draft(
    *,
    ctx: PracticeContext,
    plan: CarePlan,
    expected_revision: int,
    content: Mapping[str, Any],
    now: datetime,
    template: str = "",
) -> CarePlan:
    """Replace the draft's content if nobody saved it since ``expected_revision``.

    The compare-and-swap is one UPDATE guarded by the revision, so two saves racing on either
    database cannot both win. The loser gets ``DraftConflict`` and nothing of theirs is applied.
    """
    checked = check_content(ctx=ctx, patient=plan.patient, raw=content)
    draft = to_dict(checked)
    with transaction.atomic():
        changed = CarePlan.objects.filter(pk=plan.pk, revision=expected_revision).update(
            draft=draft,
            revision=F("revision") + 1,
            draft_saved_at=now,
            draft_saved_by=ctx.user,
        )
        if changed:
            DraftRevision.objects.create(
                plan_id=plan.pk,
                revision=expected_revision + 1,
                content=draft,
                saved_at=now,
                saved_by=ctx.user,
            )
            _audit(
                "careplan.draft_saved",
                ctx=ctx,
                patient_id=plan.patient_id,
                obj=plan,
                now=now,
                details={"revision": expected_revision + 1, "template": template},
            )
    plan.refresh_from_db()
    if not changed:
        _audit(
            "careplan.draft_conflict",
            ctx=ctx,
            patient_id=plan.patient_id,
            obj=plan,
            now=now,
            outcome=AuditEvent.Outcome.FAILURE,
            details={"expected_revision": expected_revision, "current_revision": plan.revision},
        )
        raise DraftConflict(plan=plan, expected_revision=expected_revision)
    return plan


def apply_template(
    *, ctx: PracticeContext, plan: CarePlan, template: str, expected_revision: int, now: datetime
) -> CarePlan:
    """Add a template's problems, goals and interventions to the draft; keep what is there.

    The practice's latest version of the template is used, or the shipped one.
    """
    chosen, _version = template_for(plan.patient.practice_id, template)
    merged = template_content(chosen, conditions_of(plan.patient), base=plan.draft)
    return save_draft(
        ctx=ctx,
        plan=plan,
        expected_revision=expected_revision,
        content=merged,
        now=now,
        template=template,
    )


def may_sign(membership: Membership) -> bool:
    """Tell whether a member may sign a care plan (CCM-10: the practitioner, with an NPI)."""
    return membership.rule_class == RuleClass.PHYSICIAN_QHP and bool(membership.npi)


def _refuse_sign_off(ctx: PracticeContext, patient_id: int, obj: Any, now: datetime) -> None:
    # The refusal is recorded on its own, outside any transaction that is about to roll back.
    _audit(
        "careplan.sign_refused",
        ctx=ctx,
        patient_id=patient_id,
        obj=obj,
        now=now,
        outcome=AuditEvent.Outcome.DENIED,
        details={"credential": ctx.membership.credential},
    )
    raise SignOffRefused(
        "Only a physician or qualified health professional with an individual NPI signs a "
        "care plan; clinical staff may draft and revise it (CCM-10)."
    )


def _sign(version: CarePlanVersion, ctx: PracticeContext, now: datetime) -> None:
    version.signed_by = ctx.user
    version.signed_by_npi = ctx.membership.npi
    version.signed_by_credential = ctx.membership.credential
    version.signed_at = now
    version.save(update_fields=sorted(CarePlanVersion.SIGN_OFF_FIELDS))


def publish_version(
    *,
    ctx: PracticeContext,
    plan: CarePlan,
    expected_revision: int,
    revision_reason: str,
    now: datetime,
    sign: bool = False,
) -> CarePlanVersion:
    """Publish the draft as the next immutable version; with ``sign``, sign it at once.

    Refuses, listing every missing CCM-8 element at once, when any element is empty and not
    marked not applicable with a reason.
    """
    if sign and not may_sign(ctx.membership):
        _refuse_sign_off(ctx, plan.patient_id, plan, now)
    reason = revision_reason.strip()
    try:
        with transaction.atomic():
            locked = (
                CarePlan.objects.select_for_update()
                .select_related("draft_saved_by")
                .get(pk=plan.pk)
            )
            if locked.revision != expected_revision:
                raise DraftConflict(plan=locked, expected_revision=expected_revision)
            content = check_content(ctx=ctx, patient=plan.patient, raw=locked.draft)
            missing = missing_elements(content)
            number = locked.versions.count() + 1
            if number == 1 and not reason:
                reason = "First care plan."
            errors: dict[str, list[str]] = {key: [message] for key, message in missing}
            if not reason:
                errors["revision_reason"] = ["Say why the plan is revised."]
            elif len(reason) > 400:
                errors["revision_reason"] = ["Keep the reason under 400 characters."]
            if errors:
                raise ValidationError(errors)
            conditions = {
                c.pk: c
                for c in Condition.objects.filter(
                    patient=plan.patient, pk__in=[p.condition_id for p in content.problems]
                )
            }
            content = with_problem_details(
                content, {pk: (c.icd10_code, c.description) for pk, c in conditions.items()}
            )
            version = CarePlanVersion.objects.create(
                plan=locked,
                number=number,
                published_at=now,
                published_on=local_today(ctx.practice, now),
                author=ctx.user,
                revision_reason=reason,
                draft_revision=locked.revision,
                content=to_dict(content),
            )
            version.conditions.set(conditions.values())
            MonitoringThreshold.objects.bulk_create(
                MonitoringThreshold(
                    version=version,
                    goal_key=goal.key,
                    metric=t.metric,
                    comparator=t.comparator,
                    warning=Decimal(str(t.warning)) if t.warning is not None else None,
                    critical=Decimal(str(t.critical)) if t.critical is not None else None,
                    unit=t.unit,
                )
                for goal in content.goals
                for t in goal.thresholds
            )
            _audit(
                "careplan.version_published",
                ctx=ctx,
                patient_id=plan.patient_id,
                obj=version,
                now=now,
                details={"number": number, "kind": locked.kind, "reason": reason[:200]},
            )
            if sign:
                _sign(version, ctx, now)
                _audit(
                    "careplan.version_signed",
                    ctx=ctx,
                    patient_id=plan.patient_id,
                    obj=version,
                    now=now,
                    details={"number": number, "npi": ctx.membership.npi},
                )
    except DraftConflict as conflict:
        # Case 20: a refused publish is audited like a refused save, after the rollback.
        _audit(
            "careplan.draft_conflict",
            ctx=ctx,
            patient_id=plan.patient_id,
            obj=plan,
            now=now,
            outcome=AuditEvent.Outcome.FAILURE,
            details={
                "expected_revision": expected_revision,
                "current_revision": conflict.current_revision,
                "action": "publish",
            },
        )
        raise
    return version


def sign_version(
    *, ctx: PracticeContext, version: CarePlanVersion, now: datetime
) -> CarePlanVersion:
    """Sign a published version as the practitioner (CCM-10); a version is signed once."""
    patient_id = version.plan.patient_id
    if not may_sign(ctx.membership):
        _refuse_sign_off(ctx, patient_id, version, now)
    with transaction.atomic():
        locked = CarePlanVersion.objects.select_for_update().get(pk=version.pk)
        if locked.signed:
            raise field_error("signed_by", "This version is already signed.")
        _sign(locked, ctx, now)
        _audit(
            "careplan.version_signed",
            ctx=ctx,
            patient_id=patient_id,
            obj=locked,
            now=now,
            details={"number": locked.number, "npi": ctx.membership.npi},
        )
    return locked


def record_sharing(
    *,
    ctx: PracticeContext,
    version: CarePlanVersion,
    shared_on: date,
    channel: str,
    now: datetime,
    recipient: str = "",
) -> Sharing:
    """Record that the patient (or caregiver) was given a copy of a signed version (CCM-9)."""
    if channel not in Sharing.Channel.values:
        raise field_error("channel", f"Choose {', '.join(Sharing.Channel.values)}.")
    if not version.signed:
        raise field_error("version", "Sign this version before giving it to the patient.")
    if shared_on > local_today(ctx.practice, now):
        raise field_error("shared_on", "A sharing cannot be recorded before it happens.")
    if shared_on < version.published_on:
        raise field_error("shared_on", "The version was not published yet on that date.")
    sharing = Sharing(
        version=version,
        shared_on=shared_on,
        channel=channel,
        shared_by=ctx.user,
        recipient=recipient.strip()[:100],
        recorded_at=now,
    )
    with transaction.atomic():
        sharing.save()
        _audit(
            "careplan.shared",
            ctx=ctx,
            patient_id=version.plan.patient_id,
            obj=sharing,
            now=now,
            details={
                "number": version.number,
                "channel": channel,
                "shared_on": shared_on.isoformat(),
            },
        )
    return sharing


def record_acute_event(
    *,
    ctx: PracticeContext,
    patient: Patient,
    kind: str,
    occurred_on: date,
    now: datetime,
    discharged_on: date | None = None,
    facility: str = "",
    note: str = "",
) -> AcuteEvent:
    """Record a hospital stay or ED visit: a significant change that calls for a plan review."""
    if kind not in AcuteEvent.Kind.values:
        raise field_error("kind", "Choose a hospital stay or an emergency department visit.")
    today = local_today(ctx.practice, now)
    if occurred_on > today:
        raise field_error("occurred_on", "This date is in the future.")
    if discharged_on is not None and not occurred_on <= discharged_on <= today:
        raise field_error("discharged_on", "Discharge falls between admission and today.")
    event = AcuteEvent(
        patient=patient,
        kind=kind,
        occurred_on=occurred_on,
        discharged_on=discharged_on,
        facility=facility.strip()[:200],
        note=note.strip()[:400],
        recorded_at=now,
        recorded_by=ctx.user,
    )
    with transaction.atomic():
        event.save()
        _audit(
            "careplan.acute_event_recorded",
            ctx=ctx,
            patient_id=patient.pk,
            obj=event,
            now=now,
            details={"kind": kind, "occurred_on": occurred_on.isoformat()},
        )
    return event


def record_read(
    event: str,
    *,
    ctx: PracticeContext,
    patient_id: int | None,
    obj: Any = None,
    now: datetime,
    details: dict[str, Any] | None = None,
) -> None:
    """Audit a read of a plan, a version, its copy for the patient, or an export."""
    record_event(
        event,
        actor=ctx.user,
        practice=ctx.practice,
        patient_id=patient_id,
        obj=obj,
        source_ip=ctx.source_ip,
        details=details,
        now=now,
    )


def user_label(user: User | None) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.get_username()

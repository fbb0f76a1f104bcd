"""Assign pre-close outreach and set the practice's fee estimates; each write leaves one event."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership, User
from careledger.accounts.roles import CLINICAL_WRITERS
from careledger.audit.services import record_event
from careledger.billing.months import LocalMonth
from careledger.patients.models import Patient, Program
from careledger.worklists.models import OutreachAssignment, PracticeFee
from careledger.worklists.queries import schedule_on


def may_manage(ctx: PracticeContext) -> bool:
    """Tell whether the caller may assign outreach and set fees (managers and admins)."""
    return ctx.may("worklist.assign")


def _require_manager(ctx: PracticeContext) -> None:
    if not may_manage(ctx):
        raise PermissionDenied("Only program managers and practice admins may do this.")


def assign_outreach(
    *,
    ctx: PracticeContext,
    patient: Patient,
    program: str,
    month: LocalMonth,
    assigned_to: User,
    now: datetime,
) -> OutreachAssignment:
    """Hand one worklist row to a member for outreach; a later assignment supersedes it."""
    _require_manager(ctx)
    if patient.practice_id != ctx.practice.pk:
        raise ValidationError({"patient": ["No such patient in this practice."]})
    if program not in Program.values:
        raise ValidationError({"program": [f"Choose one of: {', '.join(Program.values)}."]})
    member = Membership.objects.filter(
        practice=ctx.practice, user=assigned_to, is_active=True, role__in=CLINICAL_WRITERS
    ).first()
    if member is None:
        raise ValidationError(
            {"assigned_to": ["Choose an active member of the practice who logs time."]}
        )
    with transaction.atomic():
        assignment = OutreachAssignment.objects.create(
            practice=ctx.practice,
            month=month.label,
            patient=patient,
            program=program,
            assigned_to=assigned_to,
            assigned_by=ctx.user,
            assigned_at=now,
        )
        record_event(
            "worklist.assigned",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=patient.pk,
            obj=assignment,
            source_ip=ctx.source_ip,
            details={
                "month": month.label,
                "program": program,
                "assigned_to": assigned_to.get_username(),
            },
            now=now,
        )
    return assignment


def set_practice_fee(
    *,
    ctx: PracticeContext,
    code: str,
    amount: Decimal,
    effective_on: date,
    now: datetime,
) -> PracticeFee:
    """Add the practice's own amount for a code from a date on (rows are never edited)."""
    _require_manager(ctx)
    errors: dict[str, list[str]] = {}
    schedule = schedule_on(effective_on)
    if schedule is None or code not in schedule.amounts:
        errors["code"] = ["Choose a code from the fee table."]
    if amount < 0:
        errors["amount"] = ["An amount cannot be negative."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        fee = PracticeFee.objects.create(
            practice=ctx.practice,
            code=code,
            amount=amount,
            effective_on=effective_on,
            estimate=True,
            created_by=ctx.user,
            created_at=now,
        )
        record_event(
            "fee.updated",
            actor=ctx.user,
            practice=ctx.practice,
            obj=fee,
            source_ip=ctx.source_ip,
            details={
                "code": code,
                "amount": str(amount),
                "effective_on": effective_on.isoformat(),
            },
            now=now,
        )
    return fee

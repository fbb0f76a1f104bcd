"""A person's decisions on a closed month: approve, hold, edit, remove or add lines; approve it.

Each action writes its rows and its audit event in one transaction (STYLE 7). An approved month
is locked: these actions refuse it, and database triggers refuse any write that gets past them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from careledger.accounts.access import PracticeContext
from careledger.accounts.models import Membership
from careledger.audit.services import record_event
from careledger.billing.close import MonthAlreadyApproved
from careledger.billing.models import BillingLine, BillingMonth, PatientMonth
from careledger.locks.models import MonthLock
from careledger.patients.models import Patient
from careledger.rules.codes import BY_CODE

LINE_ACTIONS: dict[str, tuple[str, str]] = {
    "approve": (BillingLine.Status.APPROVED, "line.approved"),
    "hold": (BillingLine.Status.HELD, "line.held"),
    "remove": (BillingLine.Status.REMOVED, "line.removed"),
}


def _locked_month(pk: int) -> BillingMonth:
    billing_month = BillingMonth.objects.select_for_update().get(pk=pk)
    if billing_month.approved:
        raise MonthAlreadyApproved(f"{billing_month.month} is approved and locked.")
    return billing_month


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": ["Say why."]})
    return reason[:500]


def decide_line(
    *, ctx: PracticeContext, line: BillingLine, action: str, reason: str, now: datetime
) -> BillingLine:
    """Approve, hold or remove one line with a reason; a re-close keeps the decision."""
    if action not in LINE_ACTIONS:
        raise ValidationError({"action": [f"Choose one of: {', '.join(LINE_ACTIONS)}."]})
    status, event = LINE_ACTIONS[action]
    needed = action != "approve" or line.status == BillingLine.Status.NEEDS_REVIEW
    text = _reason(reason) if needed else reason.strip()[:500]
    with transaction.atomic():
        _locked_month(line.billing_month_id)
        before = line.status
        line.status = status
        line.decided_by = ctx.user
        line.decided_at = now
        line.decision_reason = text
        line.updated_at = now
        line.save()
        record_event(
            event,
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=line.patient_id,
            obj=line,
            source_ip=ctx.source_ip,
            details={"code": line.code, "from": before, "to": status, "reason": text},
            now=now,
        )
    return line


def edit_line(
    *, ctx: PracticeContext, line: BillingLine, units: int, reason: str, now: datetime
) -> BillingLine:
    """Change a line's units with a reason; the engine's units stay beside it."""
    text = _reason(reason)
    if units < 1:
        raise ValidationError({"units": ["Units must be at least 1; remove the line instead."]})
    with transaction.atomic():
        _locked_month(line.billing_month_id)
        before = line.units
        line.units = units
        line.status = BillingLine.Status.APPROVED
        line.decided_by = ctx.user
        line.decided_at = now
        line.decision_reason = text
        line.updated_at = now
        line.save()
        record_event(
            "line.edited",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=line.patient_id,
            obj=line,
            source_ip=ctx.source_ip,
            details={"code": line.code, "units_from": before, "units_to": units, "reason": text},
            now=now,
        )
    return line


@dataclass(frozen=True)
class ManualLine:
    patient: Patient
    code: str
    units: int
    dos: date
    reason: str
    practitioner_id: int | None = None


def add_line(
    *, ctx: PracticeContext, billing_month: BillingMonth, manual: ManualLine, now: datetime
) -> BillingLine:
    """Add a line by hand (a code the engine withheld, for example) with a reason."""
    text = _reason(manual.reason)
    known = BY_CODE.get(manual.code)
    errors: dict[str, list[str]] = {}
    if known is None:
        errors["code"] = ["Not a code careledger bills."]
    if manual.units < 1:
        errors["units"] = ["Units must be at least 1."]
    if manual.dos.strftime("%Y-%m") != billing_month.month:
        errors["dos"] = [f"The date of service must fall in {billing_month.month}."]
    if manual.patient.practice_id != billing_month.practice_id:
        errors["patient_id"] = ["No such patient."]
    patient_month = (
        PatientMonth.objects.filter(billing_month=billing_month, patient=manual.patient)
        .order_by("practitioner_id")
        .first()
    )
    practitioner_id = manual.practitioner_id or (
        patient_month.practitioner_id if patient_month else None
    )
    if practitioner_id is None:
        errors["practitioner_id"] = ["Name the billing practitioner."]
    if errors:
        raise ValidationError(errors)
    assert known is not None and practitioner_id is not None
    practice = ctx.practice
    npi = (
        Membership.objects.filter(practice=practice, user_id=practitioner_id)
        .values_list("npi", flat=True)
        .first()
    )
    diagnoses = (
        BillingLine.objects.filter(billing_month=billing_month, patient=manual.patient)
        .values_list("diagnoses", flat=True)
        .first()
    ) or list(manual.patient.conditions.order_by("id").values_list("icd10_code", flat=True)[:12])
    with transaction.atomic():
        billing_month = _locked_month(billing_month.pk)
        line = BillingLine.objects.create(
            billing_month=billing_month,
            patient=manual.patient,
            practitioner_id=practitioner_id,
            program=known.program,
            code=manual.code,
            units=manual.units,
            dos=manual.dos,
            billing_npi=practice.billing_npi,
            rendering_npi=npi or "",
            place_of_service=practice.default_place_of_service,
            diagnoses=list(diagnoses),
            rule_set=patient_month.rule_set if patient_month else "",
            status=BillingLine.Status.APPROVED,
            source=BillingLine.Source.MANUAL,
            decided_by=ctx.user,
            decided_at=now,
            decision_reason=text,
            engine_agrees=False,
            created_at=now,
            updated_at=now,
        )
        record_event(
            "line.added",
            actor=ctx.user,
            practice=practice,
            patient_id=manual.patient.pk,
            obj=line,
            source_ip=ctx.source_ip,
            details={"code": line.code, "units": line.units, "reason": text},
            now=now,
        )
    return line


@dataclass(frozen=True)
class Approval:
    billing_month: BillingMonth
    approved: int
    held: list[BillingLine]

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.billing_month.month,
            "status": self.billing_month.status,
            "locked": True,
            "approved": self.approved,
            "held": [
                {
                    "line_id": line.pk,
                    "patient_id": line.patient_id,
                    "program": line.program,
                    "code": line.code,
                    "reasons": line.review_reasons,
                }
                for line in self.held
            ],
        }


HELD_AT_APPROVAL = "Still needed review when the month was approved."


def approve_month(*, ctx: PracticeContext, billing_month: BillingMonth, now: datetime) -> Approval:
    """Approve every line that needs no review, hold the rest, and lock the month."""
    with transaction.atomic():
        billing_month = _locked_month(billing_month.pk)
        lines = list(billing_month.lines.filter(batch=0).order_by("patient_id", "code", "id"))
        approved = 0
        held: list[BillingLine] = []
        for line in lines:
            if line.status == BillingLine.Status.PROPOSED:
                line.status = BillingLine.Status.APPROVED
                approved += 1
            elif line.status == BillingLine.Status.NEEDS_REVIEW:
                line.status = BillingLine.Status.HELD
                line.decision_reason = HELD_AT_APPROVAL
                held.append(line)
            else:
                approved += int(line.status == BillingLine.Status.APPROVED)
                continue
            line.updated_at = now
            line.save()
        # Lines first, then the month: once it says approved, the triggers refuse line writes.
        billing_month.status = BillingMonth.Status.APPROVED
        billing_month.approved_at = now
        billing_month.approved_by = ctx.user
        billing_month.save()
        MonthLock.objects.get_or_create(
            practice=ctx.practice,
            month=billing_month.month,
            defaults={"locked_at": now, "locked_by": ctx.user},
        )
        record_event(
            "month.approved",
            actor=ctx.user,
            practice=ctx.practice,
            obj=billing_month,
            source_ip=ctx.source_ip,
            details={
                "month": billing_month.month,
                "approved": approved,
                "held": [line.pk for line in held],
            },
            now=now,
        )
    return Approval(billing_month=billing_month, approved=approved, held=held)

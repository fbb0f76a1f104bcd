"""Changes reaching a locked month: pending amendments, accepted into a supplementary batch.

A locked month never changes silently. Whatever changes a patient's facts after the close — a late
time entry (which needs a reason and is marked late), an amended or voided one, an entry that
raced the approval — makes the patient's facts hash differ from the one stored with the month;
the patient is then listed with the entries behind the change and its effect on billing (lines
gained or lost). A manager accepts it into a new supplementary batch; the approved lines stay.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max, Q

from careledger.accounts.access import PracticeContext
from careledger.audit.services import record_event
from careledger.billing.close import Decision, decide_month
from careledger.billing.decide import ProposedLine, facts_sha256
from careledger.billing.models import Amendment, BillingLine, BillingMonth
from careledger.billing.months import parse_month
from careledger.patients.models import Patient
from careledger.timelog.models import TimeEntry

LineKey = tuple[int, str, str, str]  # practitioner, program, code, dos


def signature(hashes: list[str]) -> str:
    """Combine a patient's per-practitioner facts hashes into one."""
    return hashlib.sha256(",".join(sorted(hashes)).encode()).hexdigest()


def _key(practitioner_id: int, program: str, code: str, dos: str) -> LineKey:
    return (practitioner_id, program, code, dos)


@dataclass(frozen=True)
class PendingAmendment:
    patient_id: int
    facts_sha256: str
    entries: list[dict[str, Any]]
    gained: list[dict[str, Any]]
    lost: list[dict[str, Any]]
    proposals: tuple[ProposedLine, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "patient_id": self.patient_id,
            "entries": self.entries,
            "gained": self.gained,
            "lost": self.lost,
        }


def _baseline(billing_month: BillingMonth) -> tuple[dict[int, str], dict[int, dict[LineKey, Any]]]:
    """Return each patient's accepted facts signature and the lines billed or decided for them."""
    hashes: dict[int, list[str]] = defaultdict(list)
    for pm in billing_month.patient_months.all():
        hashes[pm.patient_id].append(pm.facts_sha256)
    accepted = {pid: signature(h) for pid, h in hashes.items()}
    lines: dict[int, dict[LineKey, Any]] = defaultdict(dict)
    approved = BillingLine.Status.APPROVED
    for line in billing_month.lines.order_by("batch", "id"):
        key = _key(line.practitioner_id, line.program, line.code, line.dos.isoformat())
        current = lines[line.patient_id].get(key)
        if line.status == approved:
            # Supplementary lines carry the units they add.
            before = current[0] if current and current[1] == approved else 0
            lines[line.patient_id][key] = (before + line.units, approved)
        elif current is None:
            lines[line.patient_id][key] = (line.units, line.status)
    for amendment in billing_month.amendments.order_by("batch"):
        accepted[amendment.patient_id] = amendment.facts_sha256
        for lost in amendment.lost:
            key = _key(lost["practitioner_id"], lost["program"], lost["code"], lost["dos"])
            units, status = lines[amendment.patient_id].get(key, (0, "lost"))
            left = units - lost["units"]
            lines[amendment.patient_id][key] = (left, status) if left > 0 else (0, "lost")
    return accepted, lines


def _effect(
    proposals: tuple[ProposedLine, ...], billed: dict[LineKey, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    now_lines = {
        _key(p.practitioner_id, p.line.program, p.line.code, p.line.dos.isoformat()): p
        for p in proposals
    }
    gained = []
    for key, proposal in sorted(now_lines.items()):
        before = billed.get(key)
        billed_units = before[0] if before and before[1] == BillingLine.Status.APPROVED else 0
        if before is None or (
            before[1] in (BillingLine.Status.APPROVED, "lost")
            and proposal.line.units > billed_units
        ):
            gained.append(_line_dict(key, proposal.line.units - billed_units))
    lost = []
    for key, (units, status) in sorted(billed.items()):
        if status != BillingLine.Status.APPROVED:
            continue
        still = now_lines.get(key)
        if still is None:
            lost.append(_line_dict(key, units))
        elif still.line.units < units:
            lost.append(_line_dict(key, units - still.line.units))
    return gained, lost


def _line_dict(key: LineKey, units: int) -> dict[str, Any]:
    practitioner_id, program, code, dos = key
    return {
        "practitioner_id": practitioner_id,
        "program": program,
        "code": code,
        "dos": dos,
        "units": units,
    }


def _late_entries(
    billing_month: BillingMonth, patient_ids: list[int], since: datetime
) -> dict[int, list[dict[str, Any]]]:
    month = parse_month(billing_month.month, billing_month.practice.timezone)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for entry in (
        TimeEntry.objects.filter(
            patient_id__in=patient_ids,
            started_at__lt=month.ends_at,
            ended_at__gt=month.starts_at,
        )
        .filter(Q(created_at__gt=since) | Q(updated_at__gt=since))
        .order_by("started_at", "id")
    ):
        out[entry.patient_id].append(
            {
                "id": entry.pk,
                "program": entry.program,
                "started_at": entry.started_at.isoformat(),
                "minutes": entry.minutes,
                "late": entry.late,
                "reason": entry.late_reason,
                "countable": entry.countable,
                "voided": entry.voided,
                "version": entry.version,
            }
        )
    return out


def pending_amendments(
    billing_month: BillingMonth, *, patient_ids: list[int] | None = None
) -> list[PendingAmendment]:
    """List the patients of a locked month whose facts changed since it was closed.

    ``patient_ids`` narrows the look to those patients (an evidence packet's one patient).
    """
    if not billing_month.approved:
        return []
    month = parse_month(billing_month.month, billing_month.practice.timezone)
    decided = decide_month(practice=billing_month.practice, month=month, patient_ids=patient_ids)
    accepted, billed = _baseline(billing_month)
    changed: list[tuple[int, str, list[Decision]]] = []
    candidates = set(decided) | set(accepted)
    if patient_ids is not None:
        candidates &= set(patient_ids)
    for pid in sorted(candidates):
        decisions = decided.get(pid, [])
        now_signature = signature([facts_sha256([d.built.facts]) for d in decisions])
        if accepted.get(pid) != now_signature:
            changed.append((pid, now_signature, decisions))
    since = billing_month.closed_at or billing_month.created_at
    entries = _late_entries(billing_month, [pid for pid, _, _ in changed], since)
    out = []
    for pid, now_signature, decisions in changed:
        proposals = tuple(p for d in decisions for p in d.proposals)
        gained, lost = _effect(proposals, billed.get(pid, {}))
        out.append(
            PendingAmendment(
                patient_id=pid,
                facts_sha256=now_signature,
                entries=entries.get(pid, []),
                gained=gained,
                lost=lost,
                proposals=proposals,
            )
        )
    return out


def accept_amendment(
    *,
    ctx: PracticeContext,
    billing_month: BillingMonth,
    patient: Patient,
    reason: str,
    now: datetime,
) -> Amendment:
    """Accept a patient's pending amendment: gained lines go into a new supplementary batch."""
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the amendment is accepted."]})
    with transaction.atomic():
        billing_month = BillingMonth.objects.select_for_update().get(pk=billing_month.pk)
        pending = next(
            (p for p in pending_amendments(billing_month) if p.patient_id == patient.pk), None
        )
        if pending is None:
            raise ValidationError({"patient_id": ["This patient has no pending amendment."]})
        batch = (billing_month.amendments.aggregate(n=Max("batch"))["n"] or 0) + 1
        by_key = {
            _key(p.practitioner_id, p.line.program, p.line.code, p.line.dos.isoformat()): p
            for p in pending.proposals
        }
        for gained in pending.gained:
            key = _key(gained["practitioner_id"], gained["program"], gained["code"], gained["dos"])
            proposal = by_key[key]
            BillingLine.objects.create(
                billing_month=billing_month,
                patient=patient,
                practitioner_id=proposal.practitioner_id,
                program=proposal.line.program,
                code=proposal.line.code,
                units=gained["units"],
                dos=proposal.line.dos,
                billing_npi=billing_month.practice.billing_npi,
                rendering_npi=proposal.rendering_npi,
                place_of_service=billing_month.practice.default_place_of_service,
                diagnoses=list(proposal.diagnoses),
                rule_set=proposal.rule_set,
                evidence=list(proposal.line.evidence),
                flags=list(proposal.flags),
                review_reasons=list(proposal.review_reasons),
                status=BillingLine.Status.APPROVED,
                source=BillingLine.Source.AMENDMENT,
                batch=batch,
                decided_by=ctx.user,
                decided_at=now,
                decision_reason=reason.strip()[:500],
                engine_units=proposal.line.units,
                created_at=now,
                updated_at=now,
            )
        amendment = Amendment.objects.create(
            billing_month=billing_month,
            patient=patient,
            batch=batch,
            facts_sha256=pending.facts_sha256,
            entry_ids=[e["id"] for e in pending.entries],
            gained=pending.gained,
            lost=pending.lost,
            reason=reason.strip()[:500],
            accepted_by=ctx.user,
            accepted_at=now,
        )
        record_event(
            "amendment.accepted",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=patient.pk,
            obj=amendment,
            source_ip=ctx.source_ip,
            details={
                "month": billing_month.month,
                "batch": batch,
                "gained": pending.gained,
                "lost": pending.lost,
                "entries": amendment.entry_ids,
                "reason": amendment.reason,
            },
            now=now,
        )
    return amendment

"""Load one patient for a caller, auditing the read or the refusal (case 1: 404, never 403)."""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone

from careledger.accounts.access import PracticeContext
from careledger.audit.models import AuditEvent
from careledger.audit.services import record_event
from careledger.patients.models import Patient
from careledger.patients.selectors import patient_in_practice


def patient_for(ctx: PracticeContext, patient_id: int, *, audit_view: bool = True) -> Patient:
    """Return the caller's patient and record ``patient.viewed``; raise Http404 otherwise.

    A patient of another practice, or no patient at all, gives the same answer; the attempt is
    recorded as a denied event without naming the other practice's patient.
    """
    try:
        patient = patient_in_practice(practice=ctx.practice, patient_id=patient_id)
    except Patient.DoesNotExist:
        record_event(
            "patient.access_denied",
            actor=ctx.user,
            practice=ctx.practice,
            outcome=AuditEvent.Outcome.DENIED,
            source_ip=ctx.source_ip,
            details={"requested_id": str(patient_id)[:20]},
        )
        raise Http404("No such patient.") from None
    if audit_view:
        record_event(
            "patient.viewed",
            actor=ctx.user,
            practice=ctx.practice,
            patient_id=patient.pk,
            obj=patient,
            source_ip=ctx.source_ip,
            now=timezone.now(),
        )
    return patient

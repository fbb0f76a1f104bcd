"""Disclose a patient's record to a right-of-access request, audited as a disclosure."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from django.db import transaction

from careledger.accounts.access import PracticeContext
from careledger.audit.models import AuditEvent
from careledger.audit.services import record_event
from careledger.patients.models import Patient
from careledger.records.fhir import record_bundle
from careledger.records.pdf import render_pdf
from careledger.records.selectors import patient_record

Format = Literal["pdf", "fhir"]

CONTENT_TYPES: dict[str, str] = {"pdf": "application/pdf", "fhir": "application/fhir+json"}


@dataclass(frozen=True)
class Disclosure:
    body: bytes
    content_type: str
    filename: str


def disclose_record(
    *, ctx: PracticeContext, patient: Patient, format: Format, via: str, now: datetime
) -> Disclosure:
    """Build the patient's whole record in ``format`` and record one ``patient.record_disclosed``.

    The event names the actor, the patient, the format and the outcome; a record that could not
    be built is recorded as a failure before the error goes on (ONC 170.315(d)(10)).
    """
    try:
        with transaction.atomic():
            record = patient_record(patient=patient, as_of=now)
            if format == "pdf":
                body = render_pdf(record)
            else:
                body = json.dumps(record_bundle(record), indent=1).encode()
            sections = {s.key: len(s.items) for s in record.sections}
            _record(ctx, patient, format, via, now, AuditEvent.Outcome.SUCCESS, sections)
    except Exception:
        with transaction.atomic():
            _record(ctx, patient, format, via, now, AuditEvent.Outcome.FAILURE, {})
        raise
    extension = "pdf" if format == "pdf" else "fhir.json"
    return Disclosure(
        body=body,
        content_type=CONTENT_TYPES[format],
        filename=f"record-{patient.pk}-{now.date().isoformat()}.{extension}",
    )


def _record(
    ctx: PracticeContext,
    patient: Patient,
    format: str,
    via: str,
    now: datetime,
    outcome: str,
    sections: dict[str, int],
) -> None:
    record_event(
        "patient.record_disclosed",
        actor=ctx.user,
        practice=ctx.practice,
        patient_id=patient.pk,
        obj=patient,
        outcome=outcome,
        source_ip=ctx.source_ip,
        details={"format": format, "via": via, "records": sections},
        now=now,
    )

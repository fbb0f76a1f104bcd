"""The shared shape of an exported line, from which CSV and JSON are written."""

from __future__ import annotations

from typing import Any

from careledger.billing.models import BillingLine, BillingMonth
from careledger.billing.selectors import line_flag_codes


def export_status(line: BillingLine, billing_month: BillingMonth) -> str:
    """Return the status an export shows: nothing is approved before the month is (API.md)."""
    if not billing_month.approved and line.status == BillingLine.Status.APPROVED:
        return BillingLine.Status.PROPOSED
    return line.status


def line_row(line: BillingLine, billing_month: BillingMonth) -> dict[str, Any]:
    """Return one line as the columns of billing.csv (API.md), in order."""
    patient = line.patient
    return {
        "patient_id": patient.pk,
        "mrn": patient.mrn,
        "patient_name": patient.name,
        "mbi": patient.mbi,
        "program": line.program,
        "code": line.code,
        "units": line.units,
        "dos": line.dos.isoformat(),
        "billing_npi": line.billing_npi,
        "rendering_npi": line.rendering_npi,
        "pos": line.place_of_service,
        "diagnoses": ";".join(line.diagnoses),
        # As of the month (lines_of annotates it), the status the engine decided on.
        "qmb": "true" if getattr(line, "qmb_then", patient.qmb) else "false",
        "status": export_status(line, billing_month),
        "flags": ";".join(line_flag_codes(line)),
        "line_id": line.pk,
    }

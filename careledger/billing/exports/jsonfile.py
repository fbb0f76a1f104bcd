"""billing.json: the month, every line with its reasons and evidence, and the review list."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from careledger.billing.exports.rows import line_row
from careledger.billing.models import BillingLine, BillingMonth, PatientMonth


def billing_document(
    billing_month: BillingMonth,
    lines: Iterable[BillingLine],
    review: Iterable[PatientMonth],
) -> dict[str, Any]:
    """Return the month as a JSON-able dict (no clock: the same month gives the same document)."""
    items = []
    for line in lines:
        row = line_row(line, billing_month)
        row.update(
            {
                "id": line.pk,
                "diagnoses": list(line.diagnoses),
                "flags": list(line.flags),
                "review_reasons": list(line.review_reasons),
                "evidence": list(line.evidence),
                "rule_set": line.rule_set,
                "source": line.source,
                "batch": line.batch,
                "decision": {
                    "status": line.status,
                    "by": line.decided_by.get_username() if line.decided_by else None,
                    "at": line.decided_at.isoformat() if line.decided_at else None,
                    "reason": line.decision_reason,
                },
                "engine_units": line.engine_units,
                "engine_agrees": line.engine_agrees,
                "practitioner": line.practitioner.get_username(),
            }
        )
        items.append(row)
    return {
        "practice": billing_month.practice.slug,
        "month": billing_month.month,
        "status": billing_month.status,
        "draft": not billing_month.approved,
        "rule_sets": [r for r in billing_month.rule_sets.split(",") if r],
        "facts_sha256": billing_month.facts_sha256,
        "close_count": billing_month.close_count,
        "closed_at": billing_month.closed_at.isoformat() if billing_month.closed_at else None,
        "approved_at": (
            billing_month.approved_at.isoformat() if billing_month.approved_at else None
        ),
        "items": items,
        "count": len(items),
        "review_list": [
            {
                "patient_id": pm.patient_id,
                "practitioner": pm.practitioner.get_username(),
                "flags": list(pm.flags),
            }
            for pm in review
        ],
    }


def billing_json(document: dict[str, Any]) -> bytes:
    """Serialise deterministically (sorted keys)."""
    return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")

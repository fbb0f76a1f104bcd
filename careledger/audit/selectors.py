"""Read the audit log for a practice, with the filters and orderings auditors use."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from careledger.audit.models import AuditEvent

if TYPE_CHECKING:
    from careledger.accounts.models import Practice

# ONC 170.315(d)(3): the report sorts by every field.
ORDERINGS = {
    "occurred_at": "occurred_at",
    "event": "event",
    "actor": "actor_username",
    "practice": "practice_id",
    "patient_id": "patient_id",
    "object": "object_type",
    "outcome": "outcome",
    "source_ip": "source_ip",
    "action": "action",
    "id": "id",
}


def audit_events_for(
    *,
    practice: Practice,
    since: datetime | None = None,
    until: datetime | None = None,
    user: str | None = None,
    patient_id: int | None = None,
    event: str | None = None,
    ordering: str | None = None,
) -> QuerySet[AuditEvent]:
    """Return the practice's events, newest first unless another known column is named."""
    qs = AuditEvent.objects.filter(practice=practice)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    if user:
        qs = qs.filter(actor_username=user)
    if patient_id is not None:
        qs = qs.filter(patient_id=patient_id)
    if event:
        qs = qs.filter(event__startswith=event) if event.endswith(".") else qs.filter(event=event)
    field = (ordering or "-occurred_at").strip()
    descending = field.startswith("-")
    column = ORDERINGS.get(field.lstrip("-"))
    if column is None:
        raise ValueError(f"cannot order by {field!r}; choose one of {', '.join(ORDERINGS)}")
    prefix = "-" if descending else ""
    return qs.order_by(f"{prefix}{column}", f"{prefix}id")

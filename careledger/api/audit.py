"""GET /audit-events: the practice's audit log, for auditors and admins."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Query, Router, Schema
from pydantic import Field

from careledger.accounts.access import ctx_of
from careledger.api.auth import api_permission
from careledger.api.patients import ERRORS
from careledger.audit.models import AuditEvent
from careledger.audit.selectors import ORDERINGS, audit_events_for
from careledger.audit.services import record_event

router = Router(tags=["audit"])
MAX_ITEMS = 1000


class AuditEventOut(Schema):
    id: int
    event: str
    action: str
    occurred_at: datetime
    actor: str | None
    practice: str | None
    patient_id: int | None
    object: str
    outcome: str
    source_ip: str | None
    details: dict[str, Any]

    @staticmethod
    def resolve_actor(obj: AuditEvent) -> str | None:
        return obj.actor_username or None

    @staticmethod
    def resolve_practice(obj: AuditEvent) -> str | None:
        return obj.practice.slug if obj.practice else None


class AuditEventList(Schema):
    items: list[AuditEventOut]
    count: int


class AuditFilters(Schema):
    since: datetime | None = None
    until: datetime | None = None
    # Case 7: PostgreSQL refuses NUL in a string literal; refuse it here as bad input (422).
    user: str | None = Field(None, max_length=150, pattern=r"^[^\x00]*$")
    patient_id: int | None = None
    event: str | None = Field(None, max_length=64, pattern=r"^[^\x00]*$")
    ordering: str | None = Field(
        None, max_length=20, description=f"one of {', '.join(ORDERINGS)}, `-` for descending"
    )
    limit: int = Field(100, ge=1, le=MAX_ITEMS)
    offset: int = Field(0, ge=0)


@router.get("", response={200: AuditEventList, **ERRORS})
@api_permission("audit.view")
def list_audit_events(request: HttpRequest, filters: Query[AuditFilters]) -> dict[str, Any]:
    """List audit events, newest first; `count` is the total before `limit`/`offset`."""
    ctx = ctx_of(request)
    for name, value in (("since", filters.since), ("until", filters.until)):
        if value is not None and value.tzinfo is None:
            raise ValidationError({name: ["Give a UTC offset, e.g. 2026-11-01T00:00:00Z."]})
    try:
        qs = audit_events_for(
            practice=ctx.practice,
            since=filters.since,
            until=filters.until,
            user=filters.user,
            patient_id=filters.patient_id,
            event=filters.event,
            ordering=filters.ordering,
        )
    except ValueError as exc:
        raise ValidationError({"ordering": [str(exc)]}) from None
    count = qs.count()
    items = list(qs.select_related("practice")[filters.offset : filters.offset + filters.limit])
    record_event(
        "audit.viewed",
        actor=ctx.user,
        practice=ctx.practice,
        source_ip=ctx.source_ip,
        details={"count": count, "via": "api"},
        now=timezone.now(),
    )
    return {"items": items, "count": count}

"""Write audit events: the only way a row enters the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import models
from django.http import HttpRequest
from django.utils import timezone

from careledger.audit.events import event_type
from careledger.audit.models import AuditEvent

if TYPE_CHECKING:
    from careledger.accounts.models import Practice, User


def client_ip(request: HttpRequest | None) -> str | None:
    """Return the client's address as the server saw it (proxies set REMOTE_ADDR via gunicorn)."""
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None


def record_event(
    event: str,
    *,
    actor: User | None,
    practice: Practice | None = None,
    patient_id: int | None = None,
    obj: models.Model | None = None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
    source_ip: str | None = None,
    details: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditEvent:
    """Append one event to the audit log; call it inside the transaction of the change."""
    kind = event_type(event)
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        occurred_at=now or timezone.now(),
        event=event,
        action=kind.action,
        outcome=outcome,
        actor=user,
        actor_username=user.get_username() if user else "",
        practice=practice,
        patient_id=patient_id,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        source_ip=source_ip,
        details=details or {},
    )

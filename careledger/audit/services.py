"""Write audit events: the only way a row enters the audit log."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import connection, models, transaction
from django.db.models import Max
from django.http import HttpRequest
from django.utils import timezone

from careledger.audit import chain
from careledger.audit.events import event_type
from careledger.audit.models import AuditChainHead, AuditEvent

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
    """Append one event to the audit log; call it inside the transaction of the change.

    The chain head is locked until the caller's transaction commits, so events are appended
    one transaction at a time and each row is hashed onto the row committed before it.
    """
    kind = event_type(event)
    user = actor if actor is not None and actor.is_authenticated else None
    event_row = AuditEvent(
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
        # Hash what the database will hand back: normalised addresses, JSON-native details.
        source_ip=_stored_ip(source_ip),
        details=json.loads(json.dumps(details or {})),
    )
    with transaction.atomic(savepoint=False):
        event_row.pk, event_row.prev_hash = _lock_chain_head()
        event_row.row_hash = chain.row_hash(
            event_row.prev_hash, {name: getattr(event_row, name) for name in chain.FIELDS}
        )
        event_row.save(force_insert=True)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {HEAD} SET last_event_id = %s, last_hash = %s WHERE id = 1",
                [event_row.pk, event_row.row_hash],
            )
    return event_row


HEAD = AuditChainHead._meta.db_table
EVENTS = AuditEvent._meta.db_table


def _stored_ip(source_ip: str | None) -> str | None:
    field = AuditEvent._meta.get_field("source_ip")
    value = field.get_prep_value(source_ip) if source_ip else None
    return str(value) if value else None


def _lock_chain_head() -> tuple[int, str]:
    """Lock the chain head until commit; return the new row's id and the hash it chains to.

    The id is taken before the insert because it is part of the row's hash: the sequence's
    next value on PostgreSQL; on SQLite, whose IMMEDIATE transaction already holds the write
    lock, the one after the head's.
    """
    postgres = connection.vendor == "postgresql"
    if postgres:
        # Django's foreign keys are checked at COMMIT, which would then wait on rows other
        # transactions hold while this one holds the chain head: a deadlock (a close locking the
        # practice row and waiting for the head, say). Check them now, before taking the head,
        # exactly as Django's check_constraints() does, and defer again for the rest.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    query = (
        f"SELECT last_event_id, last_hash, nextval(pg_get_serial_sequence('{EVENTS}', 'id')) "
        f"FROM {HEAD} WHERE id = 1 FOR UPDATE"
        if postgres
        else f"SELECT last_event_id, last_hash, last_event_id + 1 FROM {HEAD} WHERE id = 1"
    )
    with connection.cursor() as cursor:
        cursor.execute(query)
        found = cursor.fetchone()
    if found is None:  # no head yet (a database made without migrations): start one
        last_id = AuditEvent.objects.aggregate(largest=Max("id"))["largest"]
        AuditChainHead.objects.get_or_create(
            pk=1, defaults={"last_event_id": last_id, "last_hash": chain.GENESIS}
        )
        return _lock_chain_head()
    return int(found[2] or 1), str(found[1])

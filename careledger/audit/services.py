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
    row = _event_row(
        event,
        actor=actor,
        practice=practice,
        patient_id=patient_id,
        obj=obj,
        outcome=outcome,
        source_ip=source_ip,
        details=details,
        now=now,
    )
    return _append([row])[0]


def record_events(
    event: str,
    *,
    actor: User | None,
    practice: Practice | None = None,
    obj: models.Model | None = None,
    source_ip: str | None = None,
    now: datetime | None = None,
    each: list[tuple[int | None, dict[str, Any]]],
) -> list[AuditEvent]:
    """Append one ``event`` per (patient id, details) of ``each``, in that order, at once.

    The same rows, hashes and chain as that many ``record_event`` calls, with the chain head
    locked once and the rows inserted in one statement: a batch of readings for 200 patients
    writes 200 events, which one at a time cost most of the request.
    """
    rows = [
        _event_row(
            event,
            actor=actor,
            practice=practice,
            patient_id=patient_id,
            obj=obj,
            source_ip=source_ip,
            details=details,
            now=now,
        )
        for patient_id, details in each
    ]
    return _append(rows) if rows else []


def _event_row(
    event: str,
    *,
    actor: User | None,
    practice: Practice | None,
    patient_id: int | None,
    obj: models.Model | None,
    source_ip: str | None,
    details: dict[str, Any] | None,
    now: datetime | None,
    outcome: str = AuditEvent.Outcome.SUCCESS,
) -> AuditEvent:
    kind = event_type(event)
    user = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent(
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


def _append(rows: list[AuditEvent]) -> list[AuditEvent]:
    """Hash the rows onto the chain, in order, and insert them; the head moves to the last."""
    with transaction.atomic(savepoint=False):
        ids, prev_hash = _lock_chain_head(len(rows))
        for row, pk in zip(rows, ids, strict=True):
            row.pk, row.prev_hash = pk, prev_hash
            row.row_hash = chain.row_hash(
                prev_hash, {name: getattr(row, name) for name in chain.FIELDS}
            )
            prev_hash = row.row_hash
        if len(rows) == 1:
            rows[0].save(force_insert=True)
        else:
            AuditEvent.objects.bulk_create(rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {HEAD} SET last_event_id = %s, last_hash = %s WHERE id = 1",
                [rows[-1].pk, rows[-1].row_hash],
            )
    return rows


HEAD = AuditChainHead._meta.db_table
EVENTS = AuditEvent._meta.db_table


def _stored_ip(source_ip: str | None) -> str | None:
    field = AuditEvent._meta.get_field("source_ip")
    value = field.get_prep_value(source_ip) if source_ip else None
    return str(value) if value else None


def _lock_chain_head(count: int = 1) -> tuple[list[int], str]:
    """Lock the chain head until commit; return the new rows' ids and the hash they chain to.

    The ids are taken before the insert because they are part of the rows' hashes: the
    sequence's next values on PostgreSQL; on SQLite, whose IMMEDIATE transaction already holds
    the write lock, the ones after the head's.
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
    more: list[int] = []
    with connection.cursor() as cursor:
        cursor.execute(query)
        found = cursor.fetchone()
        if found is not None and count > 1:
            if postgres:
                # The head is ours until commit: nobody else takes ids meanwhile.
                cursor.execute(
                    f"SELECT nextval(pg_get_serial_sequence('{EVENTS}', 'id')) "
                    "FROM generate_series(2, %s)",
                    [count],
                )
                more = sorted(int(n) for (n,) in cursor.fetchall())
            else:
                more = [int(found[2] or 1) + n for n in range(1, count)]
    if found is None:  # no head yet (a database made without migrations): start one
        last_id = AuditEvent.objects.aggregate(largest=Max("id"))["largest"]
        AuditChainHead.objects.get_or_create(
            pk=1, defaults={"last_event_id": last_id, "last_hash": chain.GENESIS}
        )
        return _lock_chain_head(count)
    first = int(found[2] or 1)
    return [first, *more], str(found[1])

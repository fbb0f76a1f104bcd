"""The hash chain over the audit log: how a row's hash is computed and how the chain is checked.

Each row stores ``prev_hash`` (the previous row's ``row_hash``; 64 zeros for the first row) and
``row_hash = sha256(prev_hash + canonical(row))``. ``canonical`` is a JSON array of the row's
fields in a fixed order (UTC ISO time, ``details`` with sorted keys), so the same row always
gives the same bytes on SQLite and PostgreSQL. Editing a row breaks its own hash; deleting or
re-ordering rows breaks the next row's link; deleting rows at the end is caught against
:class:`~careledger.audit.models.AuditChainHead`, which always names the last row.

This module is plain Python over plain values: the backfill migration uses it as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import QuerySet

GENESIS = "0" * 64

# The fields hashed, in this order. ``actor_id`` and ``practice_id`` are the raw column values.
FIELDS = (
    "id",
    "occurred_at",
    "event",
    "action",
    "outcome",
    "actor_id",
    "actor_username",
    "practice_id",
    "patient_id",
    "object_type",
    "object_id",
    "source_ip",
    "details",
)


def canonical(row: Mapping[str, Any]) -> str:
    """Serialise one row's hashed fields; ``row`` maps each name in FIELDS to its value."""
    occurred_at: datetime = row["occurred_at"]
    if occurred_at.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    values = [
        int(row["id"]),
        occurred_at.astimezone(UTC).isoformat(),
        row["event"],
        row["action"],
        row["outcome"],
        row["actor_id"],
        row["actor_username"],
        row["practice_id"],
        row["patient_id"],
        row["object_type"],
        row["object_id"],
        row["source_ip"] or None,
        row["details"],
    ]
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def row_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """Return the hash of ``row`` chained to ``prev_hash``."""
    return hashlib.sha256((prev_hash + canonical(row)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Break:
    """The first broken link: the row where the chain stops holding, and why."""

    event_id: int
    reason: str

    def __str__(self) -> str:
        return f"audit chain broken at event {self.event_id}: {self.reason}"


@dataclass(frozen=True)
class ChainReport:
    checked: int
    first_id: int | None
    last_id: int | None
    head_hash: str
    broken: Break | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None

    def summary(self, scope: str = "") -> str:
        if self.broken is not None:
            return str(self.broken)
        where = f" for {scope}" if scope else ""
        if not self.checked:
            return f"audit chain intact{where}: no events yet"
        return (
            f"audit chain intact{where}: {self.checked} events checked "
            f"(ids {self.first_id}-{self.last_id}), last hash {self.head_hash[:16]}"
        )


def check_links(
    rows: Iterable[Mapping[str, Any]], *, whole_chain: bool = True
) -> tuple[int, int | None, int | None, str, Break | None]:
    """Walk ``rows`` in id order; each row also carries ``prev_hash``, ``row_hash`` and, when
    ``whole_chain`` is false, ``before_id``/``before_hash`` (its predecessor in the whole chain).

    Returns (rows checked, first id, last id, last row hash, first break or None).
    """
    checked, first_id, last_id, last_hash = 0, None, None, GENESIS
    for row in rows:
        event_id = int(row["id"])
        if whole_chain:
            before_id, before_hash = last_id, last_hash
        else:
            before_id, before_hash = row["before_id"], row["before_hash"] or GENESIS
        if row["prev_hash"] != before_hash:
            after = f"event {before_id}" if before_id is not None else "the start of the log"
            if before_id is not None and event_id != before_id + 1:
                gap = f"ids {before_id + 1}-{event_id - 1} are missing; "
            else:
                gap = ""
            reason = (
                f"its previous hash does not match {after} ({gap}a row was deleted, "
                f"re-ordered or re-hashed before it)"
            )
            return checked, first_id, last_id, last_hash, Break(event_id, reason)
        if row_hash(row["prev_hash"], row) != row["row_hash"]:
            reason = "its contents do not match its hash (the row was changed)"
            return checked, first_id, last_id, last_hash, Break(event_id, reason)
        checked += 1
        first_id = event_id if first_id is None else first_id
        last_id, last_hash = event_id, row["row_hash"]
    return checked, first_id, last_id, last_hash, None


def verify_chain(*, practice_id: int | None = None, chunk: int = 2000) -> ChainReport:
    """Check the whole chain (or one practice's rows and their links) against the head."""
    from django.db.models import OuterRef, Subquery

    from careledger.audit.models import AuditChainHead, AuditEvent

    columns = (*FIELDS, "prev_hash", "row_hash")
    qs: QuerySet[AuditEvent, dict[str, Any]]
    if practice_id is None:
        qs = AuditEvent.objects.order_by("id").values(*columns)
    else:
        # The chain runs through every practice's rows: each of this practice's rows is checked
        # against its predecessor in the whole log, whichever practice that row belongs to.
        before = AuditEvent.objects.filter(id__lt=OuterRef("id")).order_by("-id")
        qs = (
            AuditEvent.objects.filter(practice_id=practice_id)
            .annotate(
                before_id=Subquery(before.values("id")[:1]),
                before_hash=Subquery(before.values("row_hash")[:1]),
            )
            .order_by("id")
            .values(*columns, "before_id", "before_hash")
        )
    checked, first_id, last_id, last_hash, broken = check_links(
        qs.iterator(chunk_size=chunk), whole_chain=practice_id is None
    )
    if broken is None and practice_id is None:
        broken = _check_head(last_id, last_hash, AuditChainHead.objects.filter(pk=1).first())
    elif broken is None:
        # The rows after this practice's last one may have been cut off: the head still knows.
        head = AuditChainHead.objects.filter(pk=1).first()
        tail = AuditEvent.objects.order_by("-id").values("id", "row_hash").first()
        broken = _check_head(
            tail["id"] if tail else None, tail["row_hash"] if tail else GENESIS, head
        )
    return ChainReport(checked, first_id, last_id, last_hash, broken)


def _check_head(last_id: int | None, last_hash: str, head: Any) -> Break | None:
    head_id = head.last_event_id if head is not None else None
    head_hash = head.last_hash if head is not None else GENESIS
    if head_id == last_id and head_hash == last_hash:
        return None
    if last_id is None:
        return Break(head_id or 0, f"the log is empty but the chain head names event {head_id}")
    if head is None:
        return Break(last_id, "the chain head is missing")
    return Break(
        last_id,
        f"the chain head names event {head_id}, but the log ends at event {last_id} "
        f"(rows at the end were deleted or changed)",
    )

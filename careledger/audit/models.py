"""The append-only audit log (HIPAA 164.312(b), ONC 170.315(d)(2))."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditEvent(models.Model):
    """One thing that happened: who, where, to which patient and object, with what outcome.

    Rows are never changed or deleted: database triggers (migration 0002) refuse UPDATE,
    DELETE and TRUNCATE on SQLite and PostgreSQL alike. Each row also carries a SHA-256 hash
    chained to the row before it (``careledger.audit.chain``), so a change made with the
    triggers dropped is still found by ``careledger verify-audit-chain`` (case 38).
    """

    class Outcome(models.TextChoices):
        SUCCESS = "success", "Success"
        DENIED = "denied", "Denied"
        FAILURE = "failure", "Failure"

    occurred_at = models.DateTimeField(db_index=True)
    event = models.CharField(max_length=64, db_index=True)
    action = models.CharField(max_length=1)
    outcome = models.CharField(max_length=10, choices=Outcome.choices, default=Outcome.SUCCESS)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    actor_username = models.CharField(max_length=150, blank=True)
    practice = models.ForeignKey(
        "accounts.Practice",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,
    )
    # A plain id, not a foreign key: the log outlives and never constrains the records it names.
    patient_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    source_ip = models.GenericIPAddressField(null=True, blank=True)
    details = models.JSONField(default=dict, blank=True)
    prev_hash = models.CharField(max_length=64, default="", editable=False)
    row_hash = models.CharField(max_length=64, default="", editable=False)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["practice", "-occurred_at"], name="audit_practice_time")]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M:%S} {self.event} by {self.actor_username or '-'}"

    @property
    def object(self) -> str:
        return f"{self.object_type}:{self.object_id}" if self.object_type else ""


class AuditChainHead(models.Model):
    """The one row naming the chain's last event; ``record_event`` locks it to append.

    Holding this row's lock until commit is what keeps two transactions from chaining to the
    same previous row on PostgreSQL (SQLite's IMMEDIATE transactions serialise writers anyway).
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_event_id = models.BigIntegerField(null=True, blank=True)
    last_hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"audit chain head: event {self.last_event_id} {self.last_hash[:16]}"

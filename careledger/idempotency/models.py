"""The first answer to a request sent with an ``Idempotency-Key``, kept to replay it.

A technical row, not a clinical record: it expires after ``EXPIRES_AFTER`` and the
``expire-idempotency-keys`` command removes it (docs/operations.md, Retention).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models

EXPIRES_AFTER = timedelta(hours=24)


class IdempotencyKey(models.Model):
    """One key of one user: the request it was first used for and the answer given."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="idempotency_keys"
    )
    key = models.CharField(max_length=255)
    method = models.CharField(max_length=10)
    path = models.CharField(max_length=2048)
    body_sha256 = models.CharField(max_length=64)
    # None while the first request is still running.
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    headers = models.JSONField(default=dict)
    body = models.BinaryField(default=b"")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_once_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.method} {self.path} ({self.status or 'running'})"

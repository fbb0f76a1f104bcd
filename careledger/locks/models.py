"""Locked billing months: once a manager approves a month, its records change only by amendment."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from careledger.accounts.models import Practice


class MonthLock(models.Model):
    """A practice's approved month (YYYY-MM, in the practice's zone); month close creates it."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    month = models.CharField(max_length=7)
    locked_at = models.DateTimeField()
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "month"], name="one_lock_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.month} locked"


def month_is_locked(*, practice: Practice, month: str) -> bool:
    """Tell whether ``month`` (YYYY-MM) has been approved and locked for ``practice``."""
    return MonthLock.objects.filter(practice=practice, month=month).exists()

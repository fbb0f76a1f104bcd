"""Remove idempotency keys past their 24 hours (technical rows, never records)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone

from careledger.idempotency.models import EXPIRES_AFTER, IdempotencyKey


class Command(BaseCommand):
    help = "Remove idempotency keys older than 24 hours (run daily from cron)."

    def handle(self, *args: Any, **options: Any) -> None:
        cutoff = timezone.now() - EXPIRES_AFTER
        removed, _ = IdempotencyKey.objects.filter(created_at__lte=cutoff).delete()
        self.stdout.write(f"{removed} expired idempotency keys removed")

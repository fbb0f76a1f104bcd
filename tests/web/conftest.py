"""Helpers for page tests: counting audit events and dates in the practice's zone."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from careledger.accounts.models import Practice
from careledger.audit.models import AuditEvent
from careledger.lib.localtime import local_today


def events(name: str, **filters: object) -> int:
    """Count audit events named ``name`` matching ``filters``."""
    return AuditEvent.objects.filter(event=name, **filters).count()


def today_in(practice: Practice) -> date:
    return local_today(practice, timezone.now())

"""Create practices and add people to them; each write leaves one audit event."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from careledger.accounts.models import Membership, Practice, User
from careledger.audit.services import record_event

PRACTICE_FIELDS = {f.name for f in Practice._meta.get_fields() if f.concrete} - {"id", "created_at"}


def create_practice(*, actor: User | None, data: dict[str, Any], now: datetime) -> Practice:
    """Create a practice after validating its NPI, time zone and slug."""
    unknown = set(data) - PRACTICE_FIELDS
    if unknown:
        raise ValidationError({sorted(unknown)[0]: ["This field is not accepted."]})
    practice = Practice(**data)
    practice.full_clean()
    with transaction.atomic():
        practice.save()
        record_event(
            "practice.created",
            actor=actor,
            practice=practice,
            obj=practice,
            details={"slug": practice.slug},
            now=now,
        )
    return practice


def add_member(
    *,
    actor: User | None,
    practice: Practice,
    user: User,
    role: str,
    credential: str,
    now: datetime,
    npi: str = "",
    bh_care_manager: bool = False,
    rule_class: str = "",
) -> Membership:
    """Give a user a role and credential in a practice."""
    membership = Membership(
        practice=practice,
        user=user,
        role=role,
        credential=credential,
        npi=npi,
        bh_care_manager=bh_care_manager,
        rule_class=rule_class,
    )
    membership.full_clean(exclude=["practice", "user", "rule_class"])
    if Membership.objects.filter(practice=practice, user=user).exists():
        raise ValidationError({"user": ["This person is already a member of the practice."]})
    with transaction.atomic():
        membership.save()
        record_event(
            "membership.created",
            actor=actor,
            practice=practice,
            obj=membership,
            details={"user": user.get_username(), "role": role, "credential": credential},
            now=now,
        )
    return membership

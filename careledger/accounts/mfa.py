"""Multi-factor authentication: who needs it, checking a code, enrolling and removing it.

Built on allauth.mfa's internals (its Authenticator model, TOTP validation with replay protection,
recovery codes); sign-in stays our own LoginView with a second step (web/views/auth.py).
HIPAA 164.312(d), ASVS 2.7/2.8: required for the privileged roles when settings.REQUIRE_MFA.
"""

from __future__ import annotations

from datetime import datetime

from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret, validate_totp_code
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest

from careledger.accounts.access import (
    PRACTICE_SESSION_KEY,
    active_memberships,
    break_glass_in_force,
)
from careledger.accounts.models import BreakGlassGrant, Membership, User
from careledger.accounts.roles import Role
from careledger.audit.models import AuditEvent
from careledger.audit.services import record_event

# Roles that see a whole practice's patients or its billing and audit trail (issue 11).
PRIVILEGED_ROLES = frozenset({Role.ADMIN, Role.MANAGER, Role.BILLER, Role.AUDITOR})


def new_totp_secret() -> str:
    """Return a fresh base32 TOTP secret for an enrolment in progress."""
    return generate_totp_secret()


def is_enrolled(user: User) -> bool:
    """Tell whether the user has an authenticator app enrolled."""
    return Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def role_needs_mfa(role: str) -> bool:
    """Tell whether MFA is required for acting in ``role`` under the current settings."""
    return bool(settings.REQUIRE_MFA) and role in PRIVILEGED_ROLES


def needs_enrolment(user: User, membership: Membership | None, *, now: datetime) -> bool:
    """Tell whether the user must enrol before acting in the membership's practice.

    A break-glass grant in force at ``now`` counts: its role is acted in too, so a
    coordinator granted ``manager`` needs MFA exactly as a manager does.
    """
    if membership is None or not settings.REQUIRE_MFA:
        return False
    roles = {membership.role}
    grant = break_glass_in_force(user, membership.practice, now=now)
    if grant is not None:
        roles.add(grant.role)
    if not any(role_needs_mfa(role) for role in roles):
        return False
    return not is_enrolled(user)


def required_for_user(user: User, *, now: datetime) -> bool:
    """Tell whether MFA is required for the user in any practice (a token covers them all).

    A privileged role held through a break-glass grant in force at ``now`` counts too.
    """
    if not settings.REQUIRE_MFA:
        return False
    privileged = sorted(PRIVILEGED_ROLES)
    if Membership.objects.filter(user=user, is_active=True, role__in=privileged).exists():
        return True
    return BreakGlassGrant.objects.in_force(now).filter(user=user, role__in=privileged).exists()


def verify_code(user: User, code: str) -> bool:
    """Check a TOTP code (each accepted once) or an unused recovery code, using it up."""
    code = (code or "").strip().replace(" ", "")
    if not code:
        return False
    for authenticator in Authenticator.objects.filter(user=user).order_by("type"):
        if authenticator.type == Authenticator.Type.TOTP:
            accepted = TOTP(authenticator).validate_code(code)
        elif authenticator.type == Authenticator.Type.RECOVERY_CODES:
            accepted = RecoveryCodes(authenticator).validate_code(code)
        else:
            accepted = False
        if accepted:
            return True
    return False


def recovery_codes(user: User) -> list[str]:
    """Return the user's unused recovery codes (empty when not enrolled)."""
    found = Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).first()
    return RecoveryCodes(found).get_unused_codes() if found else []


def enrol_totp(
    *, user: User, secret: str, code: str, source_ip: str | None, now: datetime
) -> list[str]:
    """Enrol an authenticator app once the user proves it with a code; return recovery codes."""
    if is_enrolled(user):
        raise ValidationError({"code": ["An authenticator app is already enrolled."]})
    if not secret or not validate_totp_code(secret, (code or "").strip()):
        raise ValidationError({"code": ["That code is not correct. Enter the current code."]})
    with transaction.atomic():
        totp = TOTP.activate(user, secret)
        # The code that proved the app is spent: it cannot sign in as well.
        totp._mark_code_used(code.strip())
        codes = RecoveryCodes.activate(user)
        record_event(
            "auth.mfa_enrolled",
            actor=user,
            obj=totp.instance,
            source_ip=source_ip,
            details={"type": "totp"},
            now=now,
        )
    return codes.get_unused_codes()


def regenerate_recovery_codes(*, user: User, source_ip: str | None, now: datetime) -> list[str]:
    """Replace the user's recovery codes with a fresh set; the old ones stop working."""
    if not is_enrolled(user):
        raise ValidationError({"code": ["Enrol an authenticator app first."]})
    with transaction.atomic():
        # allauth keeps one recovery-code authenticator per user; a new seed means new codes.
        Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).delete()
        codes = RecoveryCodes.activate(user)
        record_event(
            "auth.recovery_codes_regenerated",
            actor=user,
            obj=codes.instance,
            source_ip=source_ip,
            now=now,
        )
    return codes.get_unused_codes()


def remove_mfa(*, user: User, password: str, source_ip: str | None, now: datetime) -> None:
    """Remove the user's authenticators after they re-enter their password."""
    if not user.check_password(password or ""):
        raise ValidationError({"password": ["The password is not correct."]})
    with transaction.atomic():
        removed = list(
            Authenticator.objects.filter(user=user).values_list("type", flat=True).order_by("type")
        )
        # allauth's model has no "revoked" state; the audit event keeps the record of removal.
        Authenticator.objects.filter(user=user).delete()
        record_event(
            "auth.mfa_removed",
            actor=user,
            source_ip=source_ip,
            details={"types": removed},
            now=now,
        )


def record_second_step_failed(
    *, user: User, source_ip: str | None, now: datetime, channel: str = "web"
) -> None:
    """Audit a wrong, missing or replayed second-factor code."""
    record_event(
        "auth.mfa_failed",
        actor=None,
        outcome=AuditEvent.Outcome.FAILURE,
        source_ip=source_ip,
        details={"username": user.get_username(), "channel": channel},
        now=now,
    )


def membership_in_use(request: HttpRequest, user: User) -> Membership | None:
    """Return the membership a page request acts in, as ``requires`` picks it; None if untold.

    Read-only: ``?practice=``, then the practice chosen in the session, then the only one.
    """
    memberships = active_memberships(user)
    slug = request.GET.get("practice")
    if slug:
        return next((m for m in memberships if m.practice.slug == slug), None)
    chosen = request.session.get(PRACTICE_SESSION_KEY) if hasattr(request, "session") else None
    if chosen is not None:
        found = next((m for m in memberships if m.practice_id == chosen), None)
        if found is not None:
            return found
    return memberships[0] if len(memberships) == 1 else None
